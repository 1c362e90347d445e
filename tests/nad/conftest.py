"""Shared settings of the nad tests: single-threaded BLAS (small dense eigensolves and kernel
matrices are slower with threads on the shared 2-core machine)."""
from __future__ import annotations

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas():
    with threadpool_limits(limits=1):
        yield
