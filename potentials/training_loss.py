"""The training loss and the validation metrics.

Loss = w_E <((E - E_ref)/N)^2> + w_F <|F - F_ref|^2>/3 + w_S <(sigma - sigma_ref)^2>, in
(eV/atom)^2, (eV/Å)^2 and (eV/Å^3)^2, each sample's terms multiplied by its dataset weight.
A dataset that is a phono3py displacement set adds w_fc2 <Y2^2> + w_fc3 <Y3^2>: the fc2 and
fc3 combinations of its residual forces (eV/Å^2, eV/Å^3; see :mod:`potentials.fc_loss`).  The
weights w are the ``*_weight`` training options.  The validation metrics are RMSEs in meV/atom,
meV/Å and meV/Å^3 (meV/Å^2 and meV/Å^3 for the fc2/fc3 combinations).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from potentials.model import EquivariantPotential
from potentials.training_data import LabelledGraph, batches, collate_labelled

if TYPE_CHECKING:
    from potentials.training_config import TrainingOptions

FITTED_LABELS = ("energy", "forces", "stress", "fc2", "fc3")


def loss_weights(options: TrainingOptions | Mapping[str, Any]) -> dict[str, float]:
    """The loss weight of each fitted label: the ``{label}_weight`` entries of training
    options (:class:`~potentials.training_config.TrainingOptions` or a dict of its fields;
    absent: 0)."""
    if isinstance(options, Mapping):
        return {label: options.get(f"{label}_weight", 0.0) for label in FITTED_LABELS}
    return {label: getattr(options, f"{label}_weight") for label in FITTED_LABELS}


def residual_rows(batch: LabelledGraph, energy: torch.Tensor, forces: torch.Tensor,
                  stress: torch.Tensor | None, labels: bool = True
                  ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The residual rows of every fitted label present in ``batch`` and each row's dataset weight.

    ``energy`` [G, ...] eV, ``forces`` [N, 3, ...] eV/Å, ``stress`` [G, 3, 3, ...] eV/Å^3 (None:
    not fitted); trailing dimensions pass through.  Rows: energy per atom (eV), force components
    (eV/Å), stress components (eV/Å^3), and the fc2/fc3 combinations of the force residuals
    (eV/Å^2, eV/Å^3; :mod:`potentials.fc_loss`).  With ``labels=False`` the reference labels are
    not subtracted: every row is then a linear image of the given outputs, which is how
    :class:`LongRangeFit` maps the outputs of each long-range basis function onto the loss.
    """
    def minus(values: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        if not labels:
            return values
        return values - reference.view(reference.shape + (1,) * (values.dim() - reference.dim()))

    rows = {}
    has = batch.has_energy
    per_atom = minus(energy, batch.energy)[has] / batch.num_atoms[has].view(
        (-1,) + (1,) * (energy.dim() - 1))
    rows["energy"] = (per_atom, batch.weight[has])
    force_residual = minus(forces, batch.forces)
    has = batch.has_forces
    w_atom = batch.weight[batch.graph.node_graph]
    rows["forces"] = (force_residual[has].flatten(0, 1), w_atom[has].repeat_interleave(3))
    if stress is not None:
        has = batch.has_stress
        rows["stress"] = (minus(stress, batch.stress)[has].flatten(0, 2),
                          batch.weight[has].repeat_interleave(9))
    for fc in batch.fc_terms:
        label = f"fc{fc.term.order}"
        combination = torch.tensordot(fc.matrix.to(force_residual.dtype),
                                      force_residual[fc.reference_nodes].flatten(0, 1), dims=1)
        if fc.term.self_coefficient:
            combination = (fc.term.self_coefficient * force_residual[fc.self_nodes].flatten(0, 1)
                           - combination)
        combination = fc.term.scale * combination
        weights = combination.new_full((combination.shape[0],), fc.weight)
        if label in rows:
            combination = torch.cat([rows[label][0], combination])
            weights = torch.cat([rows[label][1], weights])
        rows[label] = (combination, weights)
    return rows


def loss_terms(model: EquivariantPotential, batch: LabelledGraph, training: bool,
               stress: bool) -> dict[str, torch.Tensor]:
    """Weighted sums of squared errors and their counts (energy per atom, force components,
    stress, fc2/fc3 combinations)."""
    out = model(batch.graph, forces=True, stress=stress, training=training)
    terms = weighted_counts(batch)
    for label, (rows, weights) in residual_rows(batch, out["energy"], out["forces"],
                                                out["stress"] if stress else None).items():
        squared = rows.pow(2)
        terms.update({label: (weights * squared).sum(), f"{label}_sse": squared.sum(),
                      f"{label}_count": torch.tensor(rows.numel())})
    return terms


def weighted_counts(batch: LabelledGraph) -> dict[str, torch.Tensor]:
    """Dataset-weighted numbers of loss terms (``energy_n``, ``forces_n``, ``stress_n``): the
    normalisation of each label's mean in :func:`combine_loss`."""
    w_atom = batch.weight[batch.graph.node_graph]
    counts = {"energy_n": (batch.weight * batch.has_energy).sum(),
              "forces_n": 3 * (w_atom * batch.has_forces).sum(),
              "stress_n": 9 * (batch.weight * batch.has_stress).sum(),
              "fc2_n": torch.zeros((), dtype=torch.float64),
              "fc3_n": torch.zeros((), dtype=torch.float64)}
    for fc in batch.fc_terms:
        key = f"fc{fc.term.order}_n"
        counts[key] = counts[key] + fc.weight * fc.matrix.shape[0]
    return counts


def combine_loss(terms: dict[str, torch.Tensor],
                 options: TrainingOptions | Mapping[str, Any]) -> torch.Tensor:
    """The loss: each label's weighted sum of squares over its weighted count, times its loss
    weight (:func:`loss_weights`)."""
    loss = torch.zeros((), dtype=terms["forces"].dtype)
    for label, weight in loss_weights(options).items():
        if weight > 0 and label in terms and terms[f"{label}_n"] > 0:
            loss = loss + weight * terms[label] / terms[f"{label}_n"]
    return loss


def full_batch_loss(model: EquivariantPotential, chunks: list[LabelledGraph],
                    options: TrainingOptions | Mapping[str, Any], stress: bool,
                    backward: bool = False) -> torch.Tensor:
    """The loss over all ``chunks`` (normalised by the whole set's counts, as if one batch);
    ``backward``: accumulate its gradient into the parameters' ``.grad`` too."""
    per_chunk = [weighted_counts(chunk) for chunk in chunks]
    counts = {key: sum(c[key] for c in per_chunk) for key in per_chunk[0]}
    total = torch.zeros((), dtype=torch.float64)
    for chunk in chunks:
        terms = loss_terms(model, chunk, training=backward, stress=stress)
        loss = combine_loss({**terms, **counts}, options)
        if backward:
            loss.backward()
        total += float(loss.detach())
    return total



def evaluate(model: EquivariantPotential, items: list[LabelledGraph], options: TrainingOptions,
             dtype: torch.dtype, stress: bool) -> dict[str, float]:
    """Validation loss and RMSEs (meV/atom, meV/Å, meV/Å^3) of ``items``."""
    totals: dict[str, float] = {}
    for group in batches(items, options.batch_atoms * 4, np.arange(len(items))):
        terms = loss_terms(model, collate_labelled(group, dtype), training=False, stress=stress)
        for key, value in terms.items():
            totals[key] = totals.get(key, 0.0) + float(value.detach())
    metrics = {"loss": float(combine_loss({k: torch.tensor(v) for k, v in totals.items()},
                                          options))}
    for label in FITTED_LABELS:  # meV/atom, meV/Å, meV/Å^3, meV/Å^2, meV/Å^3
        if totals.get(f"{label}_count", 0) > 0:
            metrics[f"{label}_rmse"] = 1000.0 * math.sqrt(totals[f"{label}_sse"]
                                                          / totals[f"{label}_count"])
    return metrics


