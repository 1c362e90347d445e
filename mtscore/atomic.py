"""Atomic writing: nothing half-written is ever left where a finished file belongs.

Every temporary file or folder of the suite is named by :func:`temporary_name` (a leading dot,
the owner's pid and a random suffix), so that :func:`remove_stale_temporaries` can later tell
the leftovers of a killed run from the work of a live one.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

TMP_PREFIX = ".mts-tmp-"
_OWNER = re.compile(r"[.-](\d+)-[0-9a-f]{8}(?:\.|$)")
STALE_DEAD_OWNER_S = 600.0          # a dead owner's leftovers older than this are removed
STALE_ANY_OWNER_S = 7 * 86400.0     # anything older than this is removed (owner on another host)


def temporary_name(path: str | Path, suffix: str = "") -> Path:
    """A unique hidden sibling of ``path``: ``.NAME.PID-XXXXXXXX`` + ``suffix``.  Two processes
    writing the same file never share a temporary."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; on success it replaces ``path`` in one
    ``os.replace`` (after an fsync for a file), on any failure it is removed and ``path`` is left
    as it was.  ``suffix`` is kept at the end of the temporary name (numpy's ``savez`` wants
    ``.npz``).  Works for a file or a directory written at the yielded path."""
    path = Path(path)
    tmp = temporary_name(path, suffix)
    try:
        yield tmp
        if tmp.is_file():
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _make_dirs(directory: Path) -> list[Path]:
    """mkdir -p; return the directories that were created (outermost first)."""
    missing: list[Path] = []
    p = directory
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    directory.mkdir(parents=True, exist_ok=True)
    return missing[::-1]


def _backup(dest: Path, backup_dir: Path) -> Path | None:
    """Keep the previous ``dest`` (hard link, else copy) so that a failed move can be undone."""
    if not dest.exists():
        return None
    backup_dir.mkdir(exist_ok=True)
    bak = backup_dir / dest.name
    try:
        os.link(dest, bak)
    except OSError:
        shutil.copy2(dest, bak)
    return bak


def _install(staged: list[tuple[Path, Path]], tmp: Path) -> None:
    """Move staged files into place with os.replace; on failure restore the previous state."""
    backup_dir = tmp / ".previous"
    done: list[tuple[Path, Path | None]] = []
    try:
        for src, dest in staged:
            bak = _backup(dest, backup_dir)
            os.replace(src, dest)
            done.append((dest, bak))
    except BaseException:
        for dest, bak in reversed(done):
            try:
                if bak is None:
                    dest.unlink()
                else:
                    os.replace(bak, dest)
            except OSError:
                pass
        raise


def write_files_atomically(directory: str | Path,
                           writers: list[tuple[str, Callable[[Path], None]]]) -> list[Path]:
    """Run each (name, writer(path)) into a temporary directory inside ``directory`` (created
    if missing), then move all files into place; on any failure nothing new is left behind
    and previous files are restored.  Returns the final paths in the order given."""
    directory = Path(directory)
    created = _make_dirs(directory)
    tmp = directory / f"{TMP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        for name, writer in writers:
            writer(tmp / name)
        staged = [(tmp / name, directory / name) for name, _ in writers]
        for src, _ in staged:
            if not src.is_file():
                raise RuntimeError(f"output {src.name} was not written")
        _install(staged, tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        for d in reversed(created):
            try:
                d.rmdir()
            except OSError:
                break
        raise
    shutil.rmtree(tmp, ignore_errors=True)
    return [directory / name for name, _ in writers]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(directory: str | Path, *, now: float | None = None,
                             dead_owner_s: float = STALE_DEAD_OWNER_S,
                             any_owner_s: float = STALE_ANY_OWNER_S) -> list[Path]:
    """Remove the hidden temporaries (named by :func:`temporary_name` or
    :func:`write_files_atomically`) that killed runs left in ``directory``: those whose owner
    pid no longer runs on this machine and that are older than ``dead_owner_s`` seconds, and any
    older than ``any_owner_s`` (an owner on another host of a cluster).  Returns what was
    removed; a missing directory is not an error."""
    directory = Path(directory)
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(directory.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = _OWNER.search(entry.name)
        if not entry.name.startswith(".") or match is None:
            continue
        try:
            age = now - entry.lstat().st_mtime
        except OSError:
            continue
        pid = int(match.group(1))
        if age > any_owner_s or (age > dead_owner_s and pid != os.getpid() and not _alive(pid)):
            _remove(entry)
            removed.append(entry)
    return removed
