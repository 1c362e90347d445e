"""Checkpoints of a running BTE solve: the iteration state written atomically every few
iterations, so a killed run resumes where it stopped and gives the uninterrupted answer.

A checkpoint is one ``.npz`` file holding the state arrays plus a fingerprint of the problem
and solver settings; resuming from a checkpoint of another problem is refused.
"""
from __future__ import annotations

import hashlib
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
