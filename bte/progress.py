"""A live one-line progress display for iterative solvers.

    with ProgressLine() as progress:
        result = solve(problem, callback=progress.update)

On a terminal the line is rewritten in place (carriage return); in a log file or CI (stderr not a
TTY) at most one plain line is printed every ``interval`` seconds, and the last state is printed
on :meth:`ProgressLine.close` so the log always shows the final iteration.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Callable, TextIO


def format_elapsed(seconds: float) -> str:
    """Elapsed time in s as ``MM:SS.s`` (``H:MM:SS`` from one hour on)."""
    if not math.isfinite(seconds) or seconds < 0:
        seconds = 0.0
    if seconds >= 3600:
        s = int(seconds)
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    tenths = int(round(seconds * 10))
    minutes, rest = divmod(tenths, 600)
    return f"{minutes:02d}:{rest // 10:02d}.{rest % 10}"


def _fmt_err(value: float | None) -> str:
    if value is None:
        return "   -   "
    try:
        return f"{float(value):.1e}"
    except (TypeError, ValueError):
        return str(value)


class ProgressLine:
    """Live progress of an iterative solve, written to ``stream`` (stderr by default).

    update(iteration, err_t, err_q, extra="") records a new iterate (err_T and err_q are the
    solver's normalised, dimensionless residuals); close(message="") ends the line and prints
    ``message`` on its own line.  ``enabled=False`` silences everything.  ``tty`` overrides the
    terminal detection; ``interval`` (s) is the minimum time between plain lines when not on a
    terminal, ``tty_interval`` (s) the minimum time between in-place rewrites on a terminal.
    """

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True,
                 tty: bool | None = None, interval: float = 2.0, tty_interval: float = 0.1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.enabled = enabled
        self.interval = float(interval)
        self.tty_interval = float(tty_interval)
        self._clock = clock
        self._tty = tty
        self._start = clock()
        self._last_print: float | None = None
        self._pending: str | None = None      # latest line not yet shown
        self._shown_width = 0                 # width of the line currently on the terminal
        self._closed = False

    # -- helpers ---------------------------------------------------------------------------
    @property
    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stderr

    @property
    def is_tty(self) -> bool:
        """Whether the line is rewritten in place (stream is a terminal, unless overridden)."""
        if self._tty is not None:
            return self._tty
        try:
            return bool(self._out.isatty())
        except (AttributeError, ValueError):
            return False

    @property
    def elapsed(self) -> float:
        """Seconds since the ProgressLine was created."""
        return self._clock() - self._start

    def format(self, iteration: int, err_t: float | None, err_q: float | None,
               extra: str = "") -> str:
        """The progress text, e.g. ``iter   12  err_T 3.1e-07  err_q 2.2e-03  elapsed 00:04.2``."""
        text = (f"iter {int(iteration):4d}  err_T {_fmt_err(err_t)}  err_q {_fmt_err(err_q)}"
                f"  elapsed {format_elapsed(self.elapsed)}")
        return f"{text}  {extra}" if extra else text

    def _emit(self, line: str) -> None:
        out = self._out
        if self.is_tty:
            pad = max(0, self._shown_width - len(line))
            out.write("\r" + line + " " * pad)
            self._shown_width = len(line)
        else:
            out.write(line + "\n")
        out.flush()
        self._pending = None
        self._last_print = self._clock()

    # -- API -------------------------------------------------------------------------------
    def update(self, iteration: int, err_t: float, err_q: float, extra: str = "") -> None:
        """Record iterate ``iteration`` with residuals err_T, err_q; show it if due."""
        if not self.enabled or self._closed:
            return
        line = self.format(iteration, err_t, err_q, extra)
        now = self._clock()
        gap = self.tty_interval if self.is_tty else self.interval
        if self._last_print is None or now - self._last_print >= gap:
            self._emit(line)
        else:
            self._pending = line

    __call__ = update

    def iteration(self, step: int, time: float | None, err_t: float, err_q: float) -> None:
        """bte.monitor.Monitor: show a steady iteration, or a time step with its time (s)."""
        extra = "" if time is None else f"step {step}  t {time:.4e} s"
        self.update(step, err_t, err_q, extra=extra)

    def close(self, message: str = "") -> None:
        """Show the last iterate if it was not shown yet, end the line, print ``message``."""
        if self._closed:
            return
        self._closed = True
        if not self.enabled:
            return
        out = self._out
        if self._pending is not None:
            self._emit(self._pending)
        if self.is_tty and self._shown_width:
            out.write("\n")
        if message:
            out.write(message.rstrip("\n") + "\n")
        out.flush()

    def __enter__(self) -> "ProgressLine":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()


__all__ = ["ProgressLine", "format_elapsed"]
