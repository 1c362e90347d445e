"""Training of :class:`~potentials.model.EquivariantPotential` on labelled structures.

``train(config)`` takes the path of a TOML file (as ``mts train CONFIG`` does) or a dict of the
same tables (:mod:`potentials.training_config`), builds the objects of a run
(:func:`build_run`: data, model, optimisers, validators) and steps through the epochs:

* data: :mod:`potentials.training_data` (datasets, labelled graphs, batches);
* loss and validation metrics: :mod:`potentials.training_loss`;
* optimisation: :mod:`potentials.training_optim`.  Two phases: ``epochs`` of Adam on
  mini-batches (with an EMA of the weights), then ``lbfgs_epochs`` of full-batch L-BFGS started
  from the best weights.  A model with a long-range term (``long_range_cutoff`` > 0) has its
  linear weights solved for instead of stepped (:class:`LongRangeFit`: after every
  ``long_range_every`` Adam epochs, after the last one and after every L-BFGS epoch);
* an optional ``[phonons]`` section makes force constants and κ of the model validation
  metrics (:mod:`potentials.phonon_validation`), an optional ``[bulk_modulus]`` section holds
  the model's E(V) curvature to a target (:class:`potentials.bulk_modulus.BulkModulusConstraint`).

Writes the model file ``output`` (.pt + .json, metrics in the JSON metadata), a checkpoint after
every epoch (resumed from when ``resume`` is true) and ``OUTPUT.log.jsonl`` with one line of
metrics per epoch.
"""
from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mtscore import atomic_path
from potentials.bulk_modulus import BulkModulusConstraint
from potentials.bulk_modulus import read_section as read_bulk_modulus_section
from potentials.model import EquivariantPotential
from potentials.model_files import load_weights, save_model
from potentials.training_config import (  # noqa: F401  (re-exported)
                                        TRAINING_DEFAULTS,
                                        TrainingConfig,
                                        TrainingConfigError,
                                        TrainingOptions,
)
from potentials.training_data import (  # noqa: F401  (re-exported)
                                      BatchTerm,
                                      DatasetSplit,
                                      LabelledGraph,
                                      TrainingData,
                                      attach_force_constant_terms,
                                      batches,
                                      build_training_data,
                                      collate_labelled,
                                      data_statistics,
                                      labelled_graph,
                                      prepare_datasets,
)
from potentials.training_loss import (  # noqa: F401  (re-exported)
                                      FITTED_LABELS,
                                      combine_loss,
                                      evaluate,
                                      full_batch_loss,
                                      loss_terms,
                                      residual_rows,
                                      weighted_counts,
)
from potentials.training_optim import (  # noqa: F401  (re-exported)
                                       ExponentialMovingAverage,
                                       LongRangeFit,
                                       adam_epoch,
                                       lbfgs_epoch,
                                       learning_rate,
                                       make_adam,
                                       make_lbfgs,
                                       plateau_step,
)


@dataclass
class TrainingRun:
    """The objects of one training run (:func:`build_run`) and its progress.  ``model`` is
    stepped by the optimisers, ``eval_model`` holds the weights validated and saved (the EMA
    in the Adam phase); ``state`` (epoch, best metric and epoch, learning rate, elapsed s),
    ``best_state`` and ``log_lines`` go into the checkpoint."""

    config: TrainingConfig
    data: TrainingData
    model: EquivariantPotential
    stepped: list[torch.nn.Parameter]
    optimizer: torch.optim.Optimizer
    ema: ExponentialMovingAverage
    phonons: Any | None
    bulk: BulkModulusConstraint | None
    state: dict[str, Any]
    best_state: dict[str, torch.Tensor]
    log_lines: list[str]
    saved_lbfgs: dict | None = None
    eval_model: EquivariantPotential | None = None
    lbfgs: torch.optim.LBFGS | None = None
    full_batch: list[LabelledGraph] = field(default_factory=list)
    long_range_fit: LongRangeFit | None = None
    start_time: float = 0.0

    @property
    def stress(self) -> bool:
        """Whether the loss fits stresses."""
        return self.config.training.stress_weight > 0


def train(config: dict | str | Path, overrides: dict | None = None) -> EquivariantPotential:
    """Train a model as ``config`` describes (TOML path or dict); returns the best model.

    ``overrides`` replaces entries of the ``[training]`` section (e.g. ``{"resume": False}``).
    Bad settings raise :class:`TrainingConfigError` (an :class:`mtscore.InputError`), bad data
    :class:`potentials.DatasetError`.
    """
    run = build_run(TrainingConfig.read(config, overrides))
    while run.state["epoch"] < run.config.training.total_epochs:
        epoch = run.state["epoch"]
        train_loss = optimisation_epoch(run, epoch)
        finish_epoch(run, epoch, validation_metrics(run, epoch, train_loss))
    return save_best_model(run)


def build_run(config: TrainingConfig) -> TrainingRun:
    """Data, model, optimiser, EMA and validators of ``config``, resumed from its checkpoint
    when there is one and ``resume`` is set."""
    options = config.training
    if options.threads:
        torch.set_num_threads(int(options.threads))
    bulk_section = (None if config.bulk_modulus is None
                    else read_bulk_modulus_section(config.bulk_modulus, config.root))
    data = build_training_data(config)
    torch.manual_seed(options.seed)
    model = EquivariantPotential(data.model_config).to(config.dtype)
    # the long-range weights are solved for (LongRangeFit), not stepped by the optimisers
    stepped = [p for name, p in model.named_parameters() if not name.startswith("long_range.")]
    optimizer = make_adam(stepped, options)
    ema = ExponentialMovingAverage(model, options.ema_decay)
    phonons = None
    if config.phonons:
        from potentials.phonon_validation import PhononValidation
        phonons = PhononValidation(config.phonons, config.root, config.source)
    bulk = None if bulk_section is None else BulkModulusConstraint(
        *bulk_section, data.model_config.species, data.model_config.graph_cutoff)
    state = {"epoch": 0, "best": float("inf"), "best_epoch": -1, "lr": options.learning_rate,
             "plateau_best": float("inf"), "plateau_count": 0, "elapsed": 0.0}
    run = TrainingRun(config, data, model, stepped, optimizer, ema, phonons, bulk, state,
                      copy.deepcopy(ema.shadow), [])
    if options.resume and config.checkpoint.is_file():
        saved = load_weights(config.checkpoint)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        ema.shadow = saved["ema"]
        run.saved_lbfgs, run.best_state = saved.get("lbfgs"), saved["best_model"]
        run.state, run.log_lines = saved["state"], list(saved["log"])
    run.start_time = time.perf_counter() - run.state["elapsed"]
    run.eval_model = EquivariantPotential(data.model_config).to(config.dtype)
    return run


def fit_long_range(run: TrainingRun, target: EquivariantPotential) -> None:
    """Solve ``target``'s long-range weights (the normal matrix is built on first use)."""
    if run.long_range_fit is None:
        run.long_range_fit = LongRangeFit(target, run.full_batch, run.config.training,
                                          run.stress, run.data.train, bulk_modulus=run.bulk)
    run.long_range_fit(target)


def optimisation_epoch(run: TrainingRun, epoch: int) -> float:
    """One Adam or L-BFGS epoch (with the long-range fits due after it); ``run.eval_model``
    then holds the weights to validate.  Returns the training loss."""
    options, model, dtype = run.config.training, run.model, run.config.dtype
    if not run.full_batch and (epoch >= options.epochs or model.long_range is not None):
        run.full_batch = [collate_labelled(group, dtype) for group in
                          batches(run.data.train, 4 * options.batch_atoms,
                                  np.arange(len(run.data.train)))]
    if epoch < options.epochs:
        train_loss = adam_epoch(model, run.optimizer, run.ema, run.data.train, options,
                                run.state, epoch, dtype, run.stress)
        run.ema.copy_to(run.eval_model).eval()
        every = options.long_range_every
        if model.long_range is not None and (
                epoch + 1 == options.epochs or (every and (epoch + 1) % every == 0)):
            fit_long_range(run, run.eval_model)
            fitted = run.eval_model.long_range.weights.detach()
            with torch.no_grad():
                model.long_range.weights.copy_(fitted)
            run.ema.shadow["long_range.weights"].copy_(fitted)
        return train_loss
    if run.lbfgs is None:
        if run.saved_lbfgs is None:    # entering the phase, not resuming it
            model.load_state_dict(run.best_state)
        run.lbfgs = make_lbfgs(run.stepped, options)
        if run.saved_lbfgs is not None:
            run.lbfgs.load_state_dict(run.saved_lbfgs)
    train_loss = lbfgs_epoch(model, run.lbfgs, run.full_batch, options, epoch,
                             options.total_epochs, run.stress)
    if model.long_range is not None:
        fit_long_range(run, model)
    run.eval_model.load_state_dict(model.state_dict())
    run.eval_model.eval()
    return train_loss


def validation_metrics(run: TrainingRun, epoch: int, train_loss: float) -> dict[str, Any]:
    """The log line of an epoch: learning rate, losses, the RMSEs of every validation set
    (:func:`evaluate`), B (GPa) and the phonon metrics when due, elapsed time (s)."""
    options = run.config.training
    metrics: dict[str, Any] = {"epoch": epoch + 1, "lr": run.state["lr"],
                               "train_loss": train_loss}
    validation_loss = 0.0
    for name, items in run.data.validation.items():
        values = evaluate(run.eval_model, items, options, run.config.dtype,
                          stress=any(bool(item.has_stress.any()) for item in items))
        validation_loss += values.pop("loss")
        metrics.update({f"{name}/{k}": v for k, v in values.items()})
    metrics["val_loss"] = validation_loss
    if run.bulk is not None:
        metrics["bulk_modulus"] = run.bulk.bulk_modulus(run.eval_model)
    if run.phonons is not None and run.phonons.due(epoch + 1, options.total_epochs):
        metrics.update(run.phonons.metrics(run.eval_model))
    run.state["elapsed"] = time.perf_counter() - run.start_time
    metrics["time_s"] = run.state["elapsed"]
    return metrics


def finish_epoch(run: TrainingRun, epoch: int, metrics: dict[str, Any]) -> None:
    """Keep the best weights, step the plateau schedule, log, stop the phase early when the
    selection metric stalled for ``patience`` epochs, and write the checkpoint."""
    from tqdm import tqdm

    options, state = run.config.training, run.state
    selection_key = ("val_loss" if options.selection_metric == "loss"
                     else options.selection_metric)
    if selection_key in metrics and metrics[selection_key] < state["best"]:
        state["best"], state["best_epoch"] = metrics[selection_key], epoch + 1
        run.best_state = copy.deepcopy(run.eval_model.state_dict())
    if options.schedule == "plateau" and epoch < options.epochs:
        plateau_step(state, metrics["val_loss"], options)
    run.log_lines.append(json.dumps(metrics))
    if options.progress:
        tqdm.write(f"epoch {epoch + 1:4d} {summary(metrics)}")
    state["epoch"] = state["epochs_run"] = epoch + 1
    # early stopping ends the current phase (Adam, then L-BFGS from the best weights)
    phase_start, phase_end = ((options.epochs, options.total_epochs)
                              if state["epoch"] > options.epochs else (0, options.epochs))
    if (state["best_epoch"] > 0
            and state["epoch"] - max(state["best_epoch"], phase_start) >= options.patience):
        state["epoch"] = phase_end
    save_checkpoint(run)


def summary(metrics: dict[str, Any]) -> str:
    """One line of an epoch's float metrics, dataset names shortened to 5 characters."""
    return " ".join(f"{k.split('/')[0][:5]}/{k.split('/')[-1]}={v:.4g}" if "/" in k
                    else f"{k}={v:.4g}" for k, v in metrics.items()
                    if k not in ("epoch", "time_s") and isinstance(v, float))


def save_checkpoint(run: TrainingRun) -> None:
    """The checkpoint (weights, optimiser states, EMA, best weights, state, log) and the log
    file, each replaced atomically."""
    optimizers = {"optimizer": run.optimizer.state_dict()}
    if run.lbfgs is not None:
        optimizers["lbfgs"] = run.lbfgs.state_dict()
    checkpoint = run.config.checkpoint
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(checkpoint) as temporary:
        torch.save({"model_config": run.data.model_config.to_dict(),
                    "model": run.model.state_dict(), **optimizers, "ema": run.ema.shadow,
                    "best_model": run.best_state, "state": run.state, "log": run.log_lines},
                   temporary)
    run.config.output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(run.config.log) as temporary:
        temporary.write_text("\n".join(run.log_lines) + "\n")


def save_best_model(run: TrainingRun) -> EquivariantPotential:
    """Write the best weights as the model file (metrics of their epoch in its metadata) and
    return them as a model in eval mode."""
    state, model = run.state, run.eval_model
    model.load_state_dict(run.best_state)
    model.eval()
    final = json.loads(run.log_lines[state["best_epoch"] - 1]) if state["best_epoch"] > 0 else {}
    written = save_model(model, run.config.output, metadata={
        "best_epoch": state["best_epoch"], "epochs_run": state.get("epochs_run", 0),
        "training_time_s": round(state["elapsed"], 1), "validation": final,
        "datasets": [entry.get("path") for entry in run.config.datasets]})
    if run.config.training.progress:
        from tqdm import tqdm
        tqdm.write(f"model written to {written} (+ .json); best epoch {state['best_epoch']}")
    return model


def main(argv: list[str] | None = None) -> int:
    """``python -m potentials.training CONFIG.toml``: train and report where the model went."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m potentials.training",
                                     description="Train an equivariant potential from a TOML "
                                                 "config.")
    parser.add_argument("config", help="training config (TOML)")
    args = parser.parse_args(argv)
    train(args.config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
