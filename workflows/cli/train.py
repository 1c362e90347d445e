"""``mts train CONFIG``: fit an equivariant potential (imports torch only when it runs)."""
from __future__ import annotations

import argparse
from pathlib import Path

from mtscore import InputError
from workflows.cli.common import EXIT_OK, Interrupted


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
        raise InputError("no such config file", path)

    import potentials

    overrides = {"resume": False} if args.no_resume else None
    try:
        potentials.train(path, overrides=overrides)
    except InputError:
        raise
    except ValueError as exc:          # a bad [model]/[training] setting of the config
        raise InputError(str(exc), path) from None
    except KeyboardInterrupt:
        raise Interrupted("run again to resume from the checkpoint") from None
    return EXIT_OK
