"""``mts pipeline STUDY.toml`` and ``mts batch CONFIG.toml [--scheduler ADDRESS]``.

The pipeline (workflows.pipeline) and batch (workflows.batch) modules, and with them phonopy,
are imported only inside the handlers.  The whole study file is checked (the calculator name
included) before the first stage.  Exit codes: 0 success; 1 a stage or a job failed or a BTE
case did not converge; 2 bad input (one ``mts: error: ...`` line naming the file, key and
problem).
"""
from __future__ import annotations

import argparse
import sys

from workflows.cli.common import EXIT_FAILED, EXIT_OK, PROG, positive_int


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mts pipeline`` and ``mts batch``."""
    pipeline = subparsers.add_parser(
        "pipeline", help="potential -> force constants -> modes -> band table -> BTE films",
        description="Run a study TOML file (see workflows/config.py and "
                    "examples/silicon/pipeline.toml); finished stages are reused.")
    pipeline.add_argument("config", metavar="STUDY.toml", help="study file")
    pipeline.add_argument("--quiet", "-q", action="store_true",
                          help="no progress bars (the summary is still printed)")
    pipeline.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    pipeline.set_defaults(func=_cmd_pipeline)

    batch = subparsers.add_parser(
        "batch", help="a grid of kappa jobs on Dask (LocalCluster or a scheduler)",
        description="Expand materials x sizes x temperatures x strains into jobs and run them "
                    "on Dask distributed; finished jobs are skipped on a rerun.")
    batch.add_argument("config", metavar="BATCH.toml", help="batch file (see workflows/batch.py)")
    batch.add_argument("--scheduler", metavar="ADDRESS",
                       help="address of a running Dask scheduler (default: a LocalCluster)")
    batch.add_argument("--workers", type=positive_int, default=2, metavar="N",
                       help="LocalCluster workers (default 2)")
    batch.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    batch.set_defaults(func=_cmd_batch)


def _cmd_pipeline(args: argparse.Namespace) -> int:
    from workflows.config import load_config
    from workflows.pipeline import run_pipeline

    config = load_config(args.config)
    result = run_pipeline(config, progress=not args.quiet, plots=not args.no_plots,
                          summary=True)
    if not all(r.converged for r in result.rows):
        print(f"{PROG}: some BTE cases did not converge (see results.csv)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _cmd_batch(args: argparse.Namespace) -> int:
    from workflows.batch import load_batch_config, run_batch

    config = load_batch_config(args.config)
    table = run_batch(config, scheduler=args.scheduler, n_workers=args.workers,
                      progress=not args.quiet)
    failed = [row for row in table if row.error]
    for row in failed:
        print(f"{PROG}: job {row.job_id} failed: {row.error}", file=sys.stderr)
    return EXIT_FAILED if failed else EXIT_OK
