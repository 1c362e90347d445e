"""``mts train CONFIG``: fit an equivariant potential (imports torch only when it runs)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workflows.command_common import EXIT_INTERRUPTED, EXIT_OK
from workflows.command_common import report_error as _error


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mts train CONFIG``."""
    parser = subparsers.add_parser(
        "train", help="train an equivariant ML potential from a TOML config",
        description="Train an equivariant interatomic potential (potentials package) as the TOML "
                    "CONFIG describes ([model], [[datasets]], [training], optional [phonons]); "
                    "writes the model (.pt + .json), a checkpoint and a per-epoch log.")
    parser.add_argument("config", metavar="CONFIG", help="training config (TOML)")
    parser.add_argument("--no-resume", action="store_true",
                        help="start from scratch even if a checkpoint exists")
    parser.set_defaults(func=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    path = Path(args.config)
    if not path.is_file():
        return _error(f"{path}: no such config file")

    import potentials

    overrides = {"resume": False} if args.no_resume else None
    try:
        potentials.train(path, overrides=overrides)
    except (potentials.DatasetError, potentials.StructureError) as exc:
        return _error(str(exc))
    except ValueError as exc:          # a bad [model]/[training] setting of the config
        return _error(f"{path}: {exc}")
    except KeyboardInterrupt:
        print("mts: interrupted (run again to resume from the checkpoint)", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK
