"""One progress protocol for both solvers: ``Monitor.iteration(step, time, err_T, err_q)`` after
every steady iteration (time None) or transient step (time in s), with GiftBTE's convergence
measures err_T, err_q (bte.discretisation.residuals).

The solvers' older ``callback`` arguments (steady: callback(iteration, err_T, err_q); transient:
callback(step, t, err_T, err_q)) are adapted to it by :func:`monitor_of`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["Monitor", "monitor_of"]


@runtime_checkable
class Monitor(Protocol):
    """Told about every iteration (steady, ``time`` None) or time step (``time`` in s)."""

    def iteration(self, step: int, time: float | None, err_t: float, err_q: float) -> None:
        ...


class _Callback:
    """A Monitor calling an old-style callback with or without the time argument."""

    def __init__(self, callback: Callable[..., None], with_time: bool):
        self.callback = callback
        self.with_time = with_time

    def iteration(self, step: int, time: float | None, err_t: float, err_q: float) -> None:
        if self.with_time:
            self.callback(step, time, err_t, err_q)
        else:
            self.callback(step, err_t, err_q)


class _Silent:
    def iteration(self, step: int, time: float | None, err_t: float, err_q: float) -> None:
        pass


def monitor_of(monitor: Monitor | None = None, callback: Callable[..., None] | None = None, *,
               transient: bool) -> Monitor:
    """The Monitor a solver reports to: ``monitor``, or ``callback`` in the solver's old
    signature (with the time argument when ``transient``), or one that ignores everything."""
    if monitor is not None and callback is not None:
        raise ValueError("give a monitor or a callback, not both")
    if monitor is not None:
        return monitor
    if callback is not None:
        return _Callback(callback, with_time=transient)
    return _Silent()
