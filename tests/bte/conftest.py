"""Fixtures of the bte tests; the case builders live in bte_cases.py (a module name no other
test directory uses, so the phonons tests can load it too)."""
from __future__ import annotations

import pytest
from bte_cases import make_case


@pytest.fixture
def case_factory(tmp_path):
    """make_case bound to this test's tmp_path: case_factory(src, name, **changes) -> run dir."""
    def factory(src, name, **kwargs):
        return make_case(tmp_path, src, name, **kwargs)
    return factory
