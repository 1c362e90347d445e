"""Checkpoints of a running BTE solve: the iteration state written atomically every few
iterations, so a killed run resumes where it stopped and gives the uninterrupted answer.

A checkpoint is one ``.npz`` file holding the state arrays plus a fingerprint of the problem
and solver settings; resuming from a checkpoint of another problem is refused.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np

from mtscore import atomic_path

from .problem import BTEInputError


def fingerprint(*parts) -> str:
    """SHA-256 of the given arrays and scalars (what a checkpoint must match to be resumed)."""
    digest = hashlib.sha256()
    for part in parts:
        array = np.ascontiguousarray(part)
        digest.update(str((array.dtype.str, array.shape)).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def save_state(path: str | Path, key: str, **state: np.ndarray) -> None:
    """Write ``state`` and the fingerprint ``key`` to ``path`` atomically (a kill during the
    write leaves the previous checkpoint intact)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, fingerprint=np.array(key), **state)


def load_state(path: str | Path, key: str) -> dict[str, np.ndarray] | None:
    """The state saved at ``path``, or None when there is no checkpoint.  Raises BTEInputError
    when the checkpoint belongs to another problem or other solver settings."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            state = {name: data[name] for name in data.files}
    except (OSError, ValueError) as exc:
        raise BTEInputError(f"unreadable checkpoint ({exc}); delete it to start afresh", path,
                            None, "checkpoint") from None
    if str(state.pop("fingerprint", "")) != key:
        raise BTEInputError("the checkpoint belongs to another problem or other solver "
                            "settings; delete it to start afresh", path, None, "checkpoint")
    return state


class Checkpointer:
    """The checkpoint of one run, for both solvers: ``path`` (None: no checkpoints) holding the
    state every ``every`` iterations or steps, under the fingerprint ``key`` of the problem and
    settings.  Under MPI (``rank`` of ``size`` > 1) each rank keeps its own share of the state in
    ``<path stem>.rank<r>.npz``.  fingerprint_parts: what a checkpoint must match (see
    :func:`fingerprint`).  The wall time of the run before a resume is saved with the state, so
    :meth:`wall_time` counts the whole run, not only its resumed part."""

    def __init__(self, path: str | Path | None, every: int, *fingerprint_parts, rank: int = 0,
                 size: int = 1, started: float | None = None):
        self.started = time.perf_counter() if started is None else started  # perf_counter s
        self.earlier_s = 0.0              # s of the run before the checkpoint resumed
        if path is not None and size > 1:
            path = Path(path).with_suffix(f".rank{rank}.npz")
        self.path = None if path is None else Path(path)
        self.every = every
        self.key = "" if path is None else fingerprint(*fingerprint_parts)

    def resume(self) -> dict[str, np.ndarray] | None:
        """The saved state, or None (no checkpoint, or checkpoints off)."""
        state = None if self.path is None else load_state(self.path, self.key)
        if state is not None:
            self.earlier_s = float(state.pop("wall_s", 0.0))
        return state

    def wall_time(self) -> float:
        """Seconds of the whole run: since ``started`` plus those before the resume."""
        return self.earlier_s + time.perf_counter() - self.started

    def due(self, step: int) -> bool:
        """Whether iteration/step ``step`` is to be saved."""
        return self.path is not None and step % self.every == 0

    def save(self, **state: np.ndarray) -> None:
        """Write ``state`` (see save_state) with the run's wall time so far."""
        save_state(self.path, self.key, wall_s=np.array(self.wall_time()), **state)
