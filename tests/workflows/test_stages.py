"""The stage cache under concurrency and failure: a stage is published whole or not at all,
and two workers building the same stage (as batch runs do) never turn into an error."""
from __future__ import annotations

import json
import os

import pytest

from workflows import stages
from workflows.stages import MARKER, run_stage


def _build(value: str):
    def build(directory):
        (directory / "result.txt").write_text(value)
        return {"value": value}
    return build


def test_stage_is_built_once_then_read_from_cache(tmp_path):
    first = run_stage(tmp_path, "demo", {"x": 1}, _build("a"))
    again = run_stage(tmp_path, "demo", {"x": 1}, _build("never built"))
    assert (first.cached, again.cached) == (False, True)
    assert again.summary == {"value": "a"} and again.directory == first.directory
    assert (again.directory / "result.txt").read_text() == "a"
    assert [p.name for p in tmp_path.iterdir()] == [first.directory.name]


def test_failing_build_leaves_nothing_behind(tmp_path):
    def build(directory):
        (directory / "partial.txt").write_text("half")
        raise RuntimeError("calculator crashed")
    with pytest.raises(RuntimeError, match="calculator crashed"):
        run_stage(tmp_path, "demo", {"x": 1}, build)
    assert list(tmp_path.iterdir()) == []


def test_stage_published_by_another_worker_during_our_rename_is_taken(tmp_path, monkeypatch):
    """The race a killed-worker batch run hit: the other worker renames its finished stage into
    place after we checked and before our own rename, which then finds a non-empty directory."""
    real_replace = os.replace
    raced: list[str] = []

    def other_worker_first(src, dst):
        if not raced:
            raced.append(str(dst))
            other = tmp_path / ".demo-other-worker"
            other.mkdir()
            (other / "result.txt").write_text("other")
            (other / MARKER).write_text(json.dumps({"summary": {"value": "other"}}))
            real_replace(other, dst)
        real_replace(src, dst)

    monkeypatch.setattr(stages.os, "replace", other_worker_first)
    stage = run_stage(tmp_path, "demo", {"x": 1}, _build("ours"))
    assert raced == [str(stage.directory)]
    assert stage.cached and stage.summary == {"value": "other"}
    assert (stage.directory / "result.txt").read_text() == "other"
    assert [p.name for p in tmp_path.iterdir()] == [stage.directory.name]   # our copy removed
