"""The optimisation steps of training: Adam epochs on mini-batches with an exponential moving
average of the weights (:func:`adam_epoch`, :class:`ExponentialMovingAverage`,
:func:`learning_rate`), full-batch L-BFGS epochs (:func:`lbfgs_epoch`) and the exact
least-squares fit of a model's long-range weights (:class:`LongRangeFit`).  Learning rates are
per unit of the loss gradient (the loss in the units of :mod:`potentials.training_loss`).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from potentials.bulk_modulus import BulkModulusConstraint
from potentials.model import EquivariantPotential
from potentials.training_data import LabelledGraph, batches, collate_labelled
from potentials.training_loss import (
                                      combine_loss,
                                      full_batch_loss,
                                      loss_terms,
                                      loss_weights,
                                      residual_rows,
                                      weighted_counts,
)

if TYPE_CHECKING:
    from potentials.training_config import TrainingOptions


class LongRangeFit:
    """Exact least-squares fits of the weights of a model's
    :class:`~potentials.model.LongRangeTerm` to the training loss over fixed ``chunks``, the
    rest of the model held fixed.

    The energy is linear in these weights, so every residual row of the loss is too, and the
    loss is quadratic in them with a Hessian 2 J^T W J that depends on the structures and loss
    weights only (J: the rows of :func:`residual_rows` applied to the
    :meth:`~potentials.model.LongRangeTerm.unit_outputs`, W: the weights of
    :func:`combine_loss`).  It is built once, in float64; each fit then takes one full-batch
    gradient and one Newton step, which lands on the minimum (a damping of ``damping`` times
    the diagonal keeps the solve well posed).  A ``bulk_modulus`` constraint adds its term
    weight · (B / target - 1)^2, also quadratic in these weights.
    """

    def __init__(self, model: EquivariantPotential, chunks: list[LabelledGraph],
                 options: TrainingOptions | Mapping[str, Any], stress: bool,
                 items: list[LabelledGraph], damping: float = 1e-9,
                 normal_atoms: int = 128, bulk_modulus: BulkModulusConstraint | None = None):
        term = model.long_range
        if term is None:
            raise ValueError("the model has no long-range term (long_range_cutoff = 0)")
        self.chunks, self.options, self.stress, self.damping = chunks, options, stress, damping
        self.bulk_modulus = bulk_modulus
        per_chunk = [weighted_counts(chunk) for chunk in chunks]
        self.counts = {key: sum(c[key] for c in per_chunk) for key in per_chunk[0]}
        counts = {key: float(value) for key, value in self.counts.items()}
        factors = loss_weights(options)
        size = term.weights.numel()
        self.normal = torch.zeros(size, size, dtype=torch.float64)
        # the unit outputs are [atoms x weights] arrays: small batches keep them in memory
        dtype = chunks[0].forces.dtype
        for group in batches(items, normal_atoms, np.arange(len(items))):
            chunk = collate_labelled(group, dtype)
            units = term.unit_outputs(chunk.graph, stress)
            rows = residual_rows(chunk, units["energy"], units["forces"], units.get("stress"),
                                 labels=False)
            for label, (columns, weights) in rows.items():
                factor = factors[label]
                if factor > 0 and counts[f"{label}_n"] > 0 and len(weights):
                    columns = columns.reshape(len(weights), -1)
                    self.normal += columns.T @ (columns * (factor / counts[f"{label}_n"]
                                                           * weights.double()).unsqueeze(-1))
        if bulk_modulus is not None:
            self.bulk_columns = bulk_modulus.columns(term)
            self.normal += bulk_modulus.weight * torch.outer(self.bulk_columns, self.bulk_columns)

    def __call__(self, model: EquivariantPotential) -> None:
        """Set ``model``'s long-range weights to the minimum of the loss (in place)."""
        weights = model.long_range.weights
        gradient = torch.zeros(weights.numel(), dtype=torch.float64)
        for chunk in self.chunks:
            terms = loss_terms(model, chunk, training=True, stress=self.stress)
            loss = combine_loss({**terms, **self.counts}, self.options)
            gradient += torch.autograd.grad(loss, weights)[0].double().reshape(-1)
        if self.bulk_modulus is not None:
            relative = self.bulk_modulus.bulk_modulus(model) / self.bulk_modulus.target - 1.0
            gradient += 2.0 * self.bulk_modulus.weight * relative * self.bulk_columns
        scale = torch.diagonal(self.normal).clamp_min(1e-300).sqrt()
        system = (self.normal / torch.outer(scale, scale)
                  + self.damping * torch.eye(len(scale), dtype=torch.float64))
        step = torch.linalg.solve(system, -0.5 * gradient / scale) / scale
        with torch.no_grad():
            weights.add_(step.reshape(weights.shape).to(weights.dtype))


class ExponentialMovingAverage:
    """EMA of a model's parameters: ema <- decay * ema + (1 - decay) * current."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        for key, value in model.state_dict().items():
            if value.is_floating_point():
                self.shadow[key].mul_(self.decay).add_(value.detach(), alpha=1.0 - self.decay)
            else:
                self.shadow[key].copy_(value)

    def copy_to(self, model: torch.nn.Module) -> torch.nn.Module:
        model.load_state_dict(self.shadow)
        return model



def learning_rate(options: TrainingOptions, epoch: int) -> float:
    """Cosine schedule from learning_rate to min_learning_rate over the epochs."""
    lr0, lr1, epochs = options.learning_rate, options.min_learning_rate, options.epochs
    progress = min(epoch / max(epochs - 1, 1), 1.0)
    return lr1 + 0.5 * (lr0 - lr1) * (1.0 + math.cos(math.pi * progress))



def adam_epoch(model: EquivariantPotential, optimizer: torch.optim.Optimizer,
               ema: ExponentialMovingAverage, items: list[LabelledGraph], options: TrainingOptions,
               state: dict, epoch: int, dtype: torch.dtype, stress: bool) -> float:
    """One epoch of Adam over shuffled mini-batches (EMA updated per step); mean batch loss."""
    from tqdm import tqdm

    if options.schedule == "cosine":
        state["lr"] = learning_rate(options, epoch)
    for group in optimizer.param_groups:
        group["lr"] = state["lr"]
    order = np.random.default_rng([int(options.seed), epoch]).permutation(len(items))
    groups = batches(items, options.batch_atoms, order)
    model.train()
    bar = tqdm(groups, desc=f"epoch {epoch + 1}/{options.epochs}", leave=False,
               disable=not options.progress, unit="batch", mininterval=2.0)
    train_loss = 0.0
    for group in bar:
        batch = collate_labelled(group, dtype)
        optimizer.zero_grad(set_to_none=True)
        loss = combine_loss(loss_terms(model, batch, training=True, stress=stress), options)
        loss.backward()
        optimizer.step()
        ema.update(model)
        train_loss += float(loss.detach()) / len(groups)
        bar.set_postfix(loss=f"{float(loss.detach()):.3g}")
    bar.close()
    return train_loss


def lbfgs_epoch(model: EquivariantPotential, optimizer: torch.optim.LBFGS,
                chunks: list[LabelledGraph], options: TrainingOptions, epoch: int,
                total_epochs: int,
                stress: bool) -> float:
    """One L-BFGS step (``lbfgs_iterations`` iterations) on the full training set; final loss."""
    from tqdm import tqdm

    model.train()
    bar = tqdm(desc=f"L-BFGS epoch {epoch + 1}/{total_epochs}", leave=False, unit="eval",
               disable=not options.progress, mininterval=2.0)

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=False)
        loss = full_batch_loss(model, chunks, options, stress, backward=True)
        bar.update()
        bar.set_postfix(loss=f"{float(loss):.4g}")
        return loss

    optimizer.step(closure)
    bar.close()
    return float(full_batch_loss(model, chunks, options, stress))




def make_adam(parameters: list[torch.nn.Parameter], options: TrainingOptions) -> torch.optim.Adam:
    """The Adam (AMSGrad) optimiser of the first phase."""
    return torch.optim.Adam(parameters, lr=options.learning_rate, amsgrad=True)


def make_lbfgs(parameters: list[torch.nn.Parameter],
               options: TrainingOptions) -> torch.optim.LBFGS:
    """The full-batch L-BFGS optimiser of the second phase (strong-Wolfe line search, no
    tolerance stop: ``lbfgs_iterations`` per epoch)."""
    return torch.optim.LBFGS(parameters, lr=1.0, max_iter=int(options.lbfgs_iterations),
                             history_size=int(options.lbfgs_history), tolerance_grad=0.0,
                             tolerance_change=0.0, line_search_fn="strong_wolfe")


def plateau_step(state: dict, validation_loss: float, options: TrainingOptions) -> None:
    """The "plateau" schedule after an Adam epoch: ``state["lr"]`` times ``plateau_factor``
    (not below ``min_learning_rate``) after ``plateau_patience`` epochs without a lower
    validation loss (in place)."""
    if validation_loss < state["plateau_best"]:
        state["plateau_best"], state["plateau_count"] = validation_loss, 0
        return
    state["plateau_count"] += 1
    if state["plateau_count"] > options.plateau_patience:
        state["lr"] = max(state["lr"] * options.plateau_factor, options.min_learning_rate)
        state["plateau_count"] = 0
