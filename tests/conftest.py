"""Session-wide settings.  Under pytest-xdist (``-n N``, as the README's test command runs)
each worker gets its share of the cores for numba, OpenMP (phono3py), BLAS and torch, set
before any of them is imported, so that N workers do not oversubscribe the machine."""
from __future__ import annotations

import os

if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    _threads = str(max(1, (_cores or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    for _name in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                  "MKL_NUM_THREADS"):
        os.environ[_name] = _threads
