"""A training config: the ``[training]`` options (:class:`TrainingOptions`, validated) and the
whole TOML file (:class:`TrainingConfig`): ``[model]`` (:class:`~potentials.model.ModelConfig`
fields plus ``dtype``), ``[[datasets]]``, ``[training]``, optional ``[phonons]``
(:mod:`potentials.phonon_validation`) and ``[bulk_modulus]`` (:mod:`potentials.bulk_modulus`).

Errors are :class:`TrainingConfigError` (an :class:`mtscore.InputError`) naming the file and the
key at fault.
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from mtscore import InputError, Section, read_toml

DTYPES = {"float64": torch.float64, "float32": torch.float32}
SECTIONS = ("model", "datasets", "training", "phonons", "bulk_modulus")


class TrainingConfigError(InputError):
    """A training config that cannot be read or has a bad setting."""


@dataclass(frozen=True)
class TrainingOptions:
    """The ``[training]`` section.  Loss weights multiply the mean squared errors of energy per
    atom ((eV/atom)^-2), force components ((eV/Å)^-2), stress components ((eV/Å^3)^-2) and the
    fc2/fc3 combinations of a phono3py displacement set ((eV/Å^2)^-2, (eV/Å^3)^-2)."""

    seed: int = 0
    epochs: int = 100                   # Adam epochs
    batch_atoms: int = 512              # atoms per optimisation step (whole structures)
    learning_rate: float = 5e-3
    min_learning_rate: float = 5e-5
    schedule: str = "cosine"            # "cosine" (to min_learning_rate at the last epoch) or
    plateau_factor: float = 0.5         # "plateau" (times plateau_factor after
    plateau_patience: int = 10          # plateau_patience epochs without improvement)
    energy_weight: float = 1.0
    forces_weight: float = 100.0
    stress_weight: float = 0.0
    fc2_weight: float = 0.0
    fc3_weight: float = 0.0
    fc2_shell_balance: float = 0.0      # > 0: each neighbour shell's fc2 relative error counts
                                        # alike, shell weights capped at this (fc_loss)
    ema_decay: float = 0.99
    lbfgs_epochs: int = 0               # full-batch L-BFGS epochs after the Adam epochs
    lbfgs_iterations: int = 20          # L-BFGS iterations per such epoch
    lbfgs_history: int = 50
    long_range_every: int = 10          # epochs between least-squares fits of the long-range
                                        # weights (also after the last Adam and every L-BFGS epoch)
    patience: int = 50                  # early stopping: epochs without a better selection metric
    selection_metric: str = "loss"      # "loss" (validation loss) or a logged metric such as
                                        # "fc3_error", "kappa_error"
    output: str = "model"               # model file (.pt + .json), relative to the config file
    checkpoint: str = ""                # checkpoint file ("" = OUTPUT.ckpt)
    resume: bool = True
    threads: int = 0                    # torch threads (0 = leave torch's default)
    progress: bool = True

    @property
    def total_epochs(self) -> int:
        """Adam and L-BFGS epochs together."""
        return self.epochs + self.lbfgs_epochs

    @property
    def fc_orders(self) -> tuple[int, ...]:
        """The force-constant orders (2, 3) that the loss fits."""
        return tuple(order for order in (2, 3) if getattr(self, f"fc{order}_weight") > 0)

    @classmethod
    def from_section(cls, section: Section) -> TrainingOptions:
        """The options of a ``[training]`` :class:`~mtscore.Section` (absent keys: defaults)."""
        unknown = sorted(set(section.data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise section.error(f"unknown [training] options: {', '.join(unknown)}",
                                section.source)
        for key, least in (("lbfgs_epochs", 0), ("lbfgs_iterations", 1), ("lbfgs_history", 1),
                           ("long_range_every", 0)):
            value = section.data.get(key, getattr(cls, key))
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise section.error(f"[training] {key} must be an integer >= {least}, got "
                                    f"{value!r}", section.source)
        balance = section.data.get("fc2_shell_balance", 0.0)
        if isinstance(balance, bool) or not isinstance(balance, (int, float)) or balance < 0:
            raise section.error(f"[training] fc2_shell_balance must be a number >= 0, got "
                                f"{balance!r}", section.source)
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            kind = {"int": int, "float": (int, float), "str": str, "bool": bool}[spec.type]
            limits = _LIMITS.get(spec.name, {})
            value = section.get(spec.name, kind, spec.default, **limits)
            values[spec.name] = float(value) if spec.type == "float" else value
        options = cls(**values)
        if options.fc2_shell_balance > 0 and options.fc2_weight <= 0:
            raise section.error("[training] fc2_shell_balance weights the fc2 loss term, which "
                                "fc2_weight = 0 switches off", section.source)
        return options


_LIMITS: dict[str, dict[str, Any]] = {
    "seed": {"minimum": 0}, "epochs": {"minimum": 0}, "batch_atoms": {"minimum": 1},
    "learning_rate": {"positive": True}, "min_learning_rate": {"positive": True},
    "schedule": {"choices": ("cosine", "plateau")},
    "plateau_factor": {"positive": True, "maximum": 1.0}, "plateau_patience": {"minimum": 0},
    "energy_weight": {"minimum": 0}, "forces_weight": {"minimum": 0},
    "stress_weight": {"minimum": 0}, "fc2_weight": {"minimum": 0}, "fc3_weight": {"minimum": 0},
    "ema_decay": {"minimum": 0, "maximum": 1.0}, "patience": {"minimum": 0},
    "threads": {"minimum": 0},
}

#: The ``[training]`` defaults as a dict (the fields of :class:`TrainingOptions`).
TRAINING_DEFAULTS: dict[str, Any] = dataclasses.asdict(TrainingOptions())


@dataclass
class TrainingConfig:
    """A whole training config.  ``model``: the ``[model]`` table without ``dtype`` (given to
    :meth:`~potentials.model.ModelConfig.from_dict` once the data statistics are known);
    ``datasets``: the ``[[datasets]]`` entries (read by
    :func:`potentials.training_data.prepare_datasets`); ``phonons`` / ``bulk_modulus``: those
    tables or None; ``root``: the folder relative paths start from; ``source``: the file (None
    for a config given as a dict)."""

    model: dict
    dtype: torch.dtype
    datasets: list[dict]
    training: TrainingOptions
    root: Path
    source: Path | None = None
    phonons: dict | None = None
    bulk_modulus: dict | None = None

    @property
    def output(self) -> Path:
        """The model file (.pt, .json beside it)."""
        return self.root / self.training.output

    @property
    def checkpoint(self) -> Path:
        return self.root / (self.training.checkpoint
                            or str(Path(self.training.output).with_suffix(".ckpt")))

    @property
    def log(self) -> Path:
        """One JSON line of metrics per epoch."""
        return self.output.with_suffix(".log.jsonl")

    @classmethod
    def read(cls, config: dict | str | Path, overrides: dict | None = None) -> TrainingConfig:
        """The config of a TOML file (relative paths from its folder) or of a dict (relative
        paths from the working directory); ``overrides`` replace ``[training]`` entries."""
        if isinstance(config, (str, Path)):
            source: Path | None = Path(config)
            data, root = read_toml(source, TrainingConfigError), source.resolve().parent
        else:
            source, data, root = None, copy.deepcopy(config), Path.cwd()
        top = Section(data, "", source, TrainingConfigError)
        model = dict(top.get("model", dict, {}))
        datasets = top.data.get("datasets", [])
        top.used.add("datasets")
        if not isinstance(datasets, list) or not all(isinstance(e, dict) for e in datasets):
            raise top.fail("datasets", "expected a list of tables ([[datasets]] entries)")
        training = dict(top.get("training", dict, {}))
        phonons = top.get("phonons", dict) or None
        bulk_modulus = top.get("bulk_modulus", dict) or None
        top.check_unknown()
        training.update(overrides or {})
        options = TrainingOptions.from_section(
            Section(training, "training", source, TrainingConfigError))
        model_section = Section({"dtype": model.pop("dtype", "float64")}, "model", source,
                                TrainingConfigError)
        dtype = DTYPES[model_section.get("dtype", str, choices=tuple(DTYPES))]
        if bulk_modulus is not None and not model.get("long_range_cutoff"):
            raise TrainingConfigError("[bulk_modulus] is held by the long-range weights, and "
                                      "the model has none (long_range_cutoff = 0)", source)
        return cls(model, dtype, datasets, options, root, source, phonons, bulk_modulus)
