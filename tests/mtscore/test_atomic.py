"""mtscore.atomic: nothing half-written is kept, and a killed run's leftovers are cleaned."""
import os
import subprocess
import sys
import time

import pytest

from mtscore import atomic_path, remove_stale_temporaries, temporary_name, write_files_atomically


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "fc3.hdf5"
    target.write_text("previous")
    with pytest.raises(OSError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise OSError(28, "No space left on device")
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["fc3.hdf5"]
    with atomic_path(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["fc3.hdf5"]


def test_atomic_path_keeps_suffix_for_numpy(tmp_path):
    import numpy as np
    with atomic_path(tmp_path / "a.npz", ".npz") as tmp:
        np.savez(tmp, x=np.arange(3))
    assert np.load(tmp_path / "a.npz")["x"].tolist() == [0, 1, 2]


def test_write_files_atomically_rolls_back(tmp_path):
    (tmp_path / "a.dat").write_text("old a")

    def broken(path):
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_files_atomically(tmp_path, [("a.dat", lambda p: p.write_text("new a")),
                                          ("b.dat", broken)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dat"]
    assert (tmp_path / "a.dat").read_text() == "old a"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporaries_of_dead_owners_are_removed(tmp_path):
    dead = _dead_pid()
    old = time.time() - 3600
    stale_dir = tmp_path / f".fc-0123456789abcdef.{dead}-0badc0de"
    stale_dir.mkdir()
    (stale_dir / "fc3.hdf5").write_text("truncated")
    stale_out = tmp_path / f".mts-tmp-{dead}-deadbeef"
    stale_out.mkdir()
    live = temporary_name(tmp_path / "modes")          # this process: alive
    live.mkdir()
    fresh_dead = tmp_path / f".bte-x.{dead}-12345678"   # dead owner, but just written
    fresh_dead.mkdir()
    finished = tmp_path / "fc-0123456789abcdef"
    finished.mkdir()
    for p in (stale_dir, stale_out, live, finished):
        os.utime(p, (old, old))
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted([stale_dir, stale_out])
    assert live.exists() and fresh_dead.exists() and finished.exists()


def test_missing_directory_is_not_an_error(tmp_path):
    assert remove_stale_temporaries(tmp_path / "nothing") == []
