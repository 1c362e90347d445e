"""Training of :class:`~potentials.model.EquivariantPotential` on labelled structures.

``train(config)`` takes a dict (or the path of a TOML file, as ``mts train CONFIG`` does) with
the sections ``[model]`` (:class:`~potentials.model.ModelConfig` fields plus ``dtype``),
``[[datasets]]`` (``name``, ``path`` relative to the TOML file, ``format``, ``labels``,
``validation_fraction``, ``weight``), ``[training]`` (see :data:`TRAINING_DEFAULTS`) and an
optional ``[phonons]`` section that makes force constants and κ of the model validation metrics
(see :mod:`potentials.phonon_validation`), and an optional ``[bulk_modulus]`` section that holds
the model's E(V) curvature to a target (:class:`potentials.bulk_modulus.BulkModulusConstraint`).

Loss = w_E <((E - E_ref)/N)^2> + w_F <|F - F_ref|^2>/3 + w_S <(sigma - sigma_ref)^2>, in
(eV/atom)^2, (eV/Å)^2 and (eV/Å^3)^2, each sample's terms multiplied by its dataset weight.
A dataset that is a phono3py displacement set (``phono3py_yaml`` in its entry) adds
w_fc2 <Y2^2> + w_fc3 <Y3^2>: the fc2 and fc3 combinations of its residual forces (eV/Å^2,
eV/Å^3; see :mod:`potentials.fc_loss`), which weight force-constant errors on their own scale.
With ``fc2_shell_balance`` > 0 the fc2 rows of each neighbour shell of the displaced atom are
scaled to the nearest shell's size (:func:`potentials.fc_loss.balance_shells`), so that the
relative error of every shell counts alike, not only the nearest shell's.
The validation metrics are RMSEs in meV/atom, meV/Å and meV/Å^3 (meV/Å^2 and meV/Å^3 for the
fc2/fc3 combinations) evaluated with the EMA weights.

Two phases: ``epochs`` of Adam on mini-batches (with an EMA of the weights), then
``lbfgs_epochs`` of full-batch L-BFGS (strong-Wolfe line search, ``lbfgs_iterations`` per epoch)
started from the EMA weights.  Adam's gradient noise leaves the small forces of a displacement
set (tens of meV/Å, which force constants are made of) fitted only to a few per cent; the
deterministic second phase takes the force error down by about half again at the same model
size.  A model with a long-range term (``long_range_cutoff`` > 0) has its linear weights solved
for instead of stepped (:class:`LongRangeFit`: after every ``long_range_every`` Adam epochs,
after the last one and after every L-BFGS epoch), which fits the small far force constants that
κ depends on exactly; the shipped silicon model needs no L-BFGS phase with it.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from potentials.bulk_modulus import BulkModulusConstraint
from potentials.bulk_modulus import read_section as read_bulk_modulus_section
from potentials.datasets import DatasetError, Sample, read_dataset, split_indices
from potentials.fc_loss import ForceConstantTerm, balance_shells, displacement_terms
from potentials.model import EquivariantPotential, ModelConfig
from potentials.model_files import save_model
from potentials.neighbours import Graph, collate, structure_graph

TRAINING_DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "epochs": 100,
    "batch_atoms": 512,          # atoms per optimisation step (whole structures)
    "learning_rate": 5e-3,
    "min_learning_rate": 5e-5,
    "schedule": "cosine",        # "cosine" (to min_learning_rate at the last epoch) or "plateau"
    "plateau_factor": 0.5,
    "plateau_patience": 10,
    "energy_weight": 1.0,
    "forces_weight": 100.0,
    "stress_weight": 0.0,
    "fc2_weight": 0.0,           # fc2 combinations of a phono3py displacement set, (eV/Å^2)^-2
    "fc3_weight": 0.0,           # fc3 combinations of its pair supercells, (eV/Å^3)^-2
    "fc2_shell_balance": 0.0,    # > 0: each neighbour shell's fc2 relative error counts alike,
                                 # shell weights capped at this (fc_loss.balance_shells)
    "ema_decay": 0.99,
    "lbfgs_epochs": 0,           # full-batch L-BFGS epochs after the Adam epochs (0: none)
    "lbfgs_iterations": 20,      # L-BFGS iterations per such epoch
    "lbfgs_history": 50,
    "long_range_every": 10,      # epochs between least-squares fits of the long-range weights
                                 # (also after the last Adam epoch and every L-BFGS epoch)
    "patience": 50,              # early stopping: epochs without improvement of the selection metric
    "selection_metric": "loss",  # "loss" (validation loss) or a phonon metric: "fc3_error", "kappa_error"
    "output": "model",           # model file (.pt + .json), relative to the config file
    "checkpoint": "",            # checkpoint file ("" = OUTPUT.ckpt)
    "resume": True,
    "threads": 0,                # torch threads (0 = leave torch's default)
    "progress": True,
}


FITTED_LABELS = ("energy", "forces", "stress", "fc2", "fc3")


@dataclass
class LabelledGraph:
    """A batch graph with its labels as tensors (float64, CPU) and masks of present labels."""

    graph: Graph
    energy: torch.Tensor          # [G] eV (0 where missing)
    has_energy: torch.Tensor      # [G] bool
    forces: torch.Tensor          # [N, 3] eV/Å
    has_forces: torch.Tensor      # [N] bool
    stress: torch.Tensor          # [G, 3, 3] eV/Å^3
    has_stress: torch.Tensor      # [G] bool
    weight: torch.Tensor          # [G] dataset weight
    num_atoms: torch.Tensor       # [G]
    fc_terms: list[BatchTerm] = dataclasses.field(default_factory=list)


@dataclass
class BatchTerm:
    """A :class:`~potentials.fc_loss.ForceConstantTerm` of one structure of a batch.

    Before collation the node indices count from 0 within the structure (``self_nodes``) and
    within each reference (``references`` are the items whose forces the term combines);
    after collation they index the batch.
    """

    term: ForceConstantTerm
    matrix: torch.Tensor                   # [3n, 3n * n_references]
    weight: float
    references: list[LabelledGraph]
    self_nodes: torch.Tensor | None = None
    reference_nodes: torch.Tensor | None = None


def labelled_graph(sample: Sample, model_config: ModelConfig, weight: float) -> LabelledGraph:
    graph = structure_graph(sample.atoms, model_config.species, model_config.graph_cutoff)
    n = len(sample.atoms)
    return LabelledGraph(
        graph=graph,
        energy=torch.tensor([sample.energy or 0.0]),
        has_energy=torch.tensor([sample.energy is not None]),
        forces=torch.from_numpy(sample.forces if sample.forces is not None else np.zeros((n, 3))),
        has_forces=torch.full((n,), sample.forces is not None),
        stress=torch.from_numpy(sample.stress if sample.stress is not None
                                else np.zeros((3, 3))).unsqueeze(0),
        has_stress=torch.tensor([sample.stress is not None]),
        weight=torch.tensor([float(weight)]),
        num_atoms=torch.tensor([n], dtype=torch.float64))


def attach_force_constant_terms(items: list[LabelledGraph], references: list[LabelledGraph],
                                terms: list[ForceConstantTerm | None], weight: float) -> None:
    """Give each item its force-constant term (in place); ``references`` in the terms' order."""
    for item, term in zip(items, terms):
        item.fc_terms = [] if term is None else [
            BatchTerm(term, torch.from_numpy(term.references_matrix), weight, references)]


def _unlabelled(item: LabelledGraph) -> LabelledGraph:
    """A copy whose labels count in no loss term (a reference added to a batch for its forces)."""
    return dataclasses.replace(item, has_energy=torch.zeros_like(item.has_energy),
                               has_forces=torch.zeros_like(item.has_forces),
                               has_stress=torch.zeros_like(item.has_stress), fc_terms=[])


def collate_labelled(items: list[LabelledGraph], dtype: torch.dtype) -> LabelledGraph:
    """One batch of ``items``; references of their force-constant terms that are not among the
    items join the batch unlabelled (their forces enter the terms, not the force loss)."""
    offsets, start = {}, 0
    for item in items:
        offsets[id(item)] = start
        start += len(item.graph.species)
    members = list(items)
    for item in items:
        for fc_term in item.fc_terms:
            for reference in fc_term.references:
                if id(reference) not in offsets:
                    offsets[id(reference)] = start
                    start += len(reference.graph.species)
                    members.append(_unlabelled(reference))

    def nodes(item: LabelledGraph) -> torch.Tensor:
        return torch.arange(len(item.graph.species)) + offsets[id(item)]

    terms = [dataclasses.replace(fc_term, matrix=fc_term.matrix.to(dtype), self_nodes=nodes(item),
                                 reference_nodes=torch.cat([nodes(r) for r in fc_term.references]))
             for item in items for fc_term in item.fc_terms]

    def cat(name: str) -> torch.Tensor:
        tensors = [getattr(item, name) for item in members]
        out = torch.cat(tensors)
        return out.to(dtype) if out.is_floating_point() else out

    return LabelledGraph(collate([item.graph for item in members]),
                         cat("energy"), cat("has_energy"), cat("forces"), cat("has_forces"),
                         cat("stress"), cat("has_stress"), cat("weight"), cat("num_atoms"), terms)


def batches(items: list[LabelledGraph], batch_atoms: int, order: np.ndarray) -> list[list[LabelledGraph]]:
    """Group items (in ``order``) into batches of about ``batch_atoms`` atoms."""
    groups, current, count = [], [], 0
    for index in order:
        item = items[index]
        current.append(item)
        count += len(item.graph.species)
        if count >= batch_atoms:
            groups.append(current)
            current, count = [], 0
    if current:
        groups.append(current)
    return groups


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
    """Weighted sums of squared errors and their counts (energy per atom, force components, stress)."""
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
        counts[f"fc{fc.term.order}_n"] = counts[f"fc{fc.term.order}_n"] + fc.weight * fc.matrix.shape[0]
    return counts


def combine_loss(terms: dict[str, torch.Tensor], options: dict) -> torch.Tensor:
    loss = torch.zeros((), dtype=terms["forces"].dtype)
    for label in FITTED_LABELS:
        weight = options[f"{label}_weight"]
        if weight > 0 and label in terms and terms[f"{label}_n"] > 0:
            loss = loss + weight * terms[label] / terms[f"{label}_n"]
    return loss


def full_batch_loss(model: EquivariantPotential, chunks: list[LabelledGraph], options: dict,
                    stress: bool, backward: bool = False) -> torch.Tensor:
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

    def __init__(self, model: EquivariantPotential, chunks: list[LabelledGraph], options: dict,
                 stress: bool, items: list[LabelledGraph], damping: float = 1e-9,
                 normal_atoms: int = 128, bulk_modulus: BulkModulusConstraint | None = None):
        term = model.long_range
        if term is None:
            raise ValueError("the model has no long-range term (long_range_cutoff = 0)")
        self.chunks, self.options, self.stress, self.damping = chunks, options, stress, damping
        self.bulk_modulus = bulk_modulus
        per_chunk = [weighted_counts(chunk) for chunk in chunks]
        self.counts = {key: sum(c[key] for c in per_chunk) for key in per_chunk[0]}
        counts = {key: float(value) for key, value in self.counts.items()}
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
                factor = options.get(f"{label}_weight", 0.0)
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


def load_config(config: dict | str | Path) -> tuple[dict, Path]:
    """The config dict and the folder relative paths are resolved against."""
    if isinstance(config, (str, Path)):
        path = Path(config)
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except OSError as exc:
            raise DatasetError(f"{path}: cannot read training config: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise DatasetError(f"{path}: invalid TOML: {exc}") from exc
        return data, path.resolve().parent
    return copy.deepcopy(config), Path.cwd()


def learning_rate(options: dict, epoch: int) -> float:
    """Cosine schedule from learning_rate to min_learning_rate over the epochs."""
    lr0, lr1, epochs = options["learning_rate"], options["min_learning_rate"], options["epochs"]
    return lr1 + 0.5 * (lr0 - lr1) * (1.0 + math.cos(math.pi * min(epoch / max(epochs - 1, 1), 1.0)))


@dataclass
class DatasetSplit:
    """One ``[[datasets]]`` entry, read and split into training and validation samples.

    For a phono3py displacement set whose force-constant terms are used, ``*_terms`` hold each
    sample's term (None where its order is not fitted) and ``references`` the positions in
    ``train`` of the first-displacement supercells the terms combine.
    """

    train: list[Sample]
    validation: list[Sample]
    weight: float
    train_terms: list[ForceConstantTerm | None] | None = None
    validation_terms: list[ForceConstantTerm | None] | None = None
    references: list[int] | None = None


def prepare_datasets(config: dict, root: Path, seed: int, fc_orders: tuple[int, ...] = (),
                     shell_balance: float = 0.0) -> dict[str, DatasetSplit]:
    """Read every ``[[datasets]]`` entry and split it (name -> :class:`DatasetSplit`).

    ``fc_orders``: the force-constant terms (2, 3) to build for entries with a ``phono3py_yaml``;
    their first-displacement supercells then always go to the training split.
    """
    entries = config.get("datasets") or []
    if not entries:
        raise DatasetError("training config has no [[datasets]] entries")
    result = {}
    for number, entry in enumerate(entries):
        if "path" not in entry:
            raise DatasetError(f"dataset entry {number} has no 'path'")
        name = entry.get("name", f"dataset{number}")
        samples = read_dataset(root / entry["path"], entry.get("labels", ("energy", "forces")),
                               entry.get("format", "auto"), entry.get("prefix", "REF_"))
        train_idx, val_idx = split_indices(len(samples), entry.get("validation_fraction", 0.1),
                                           entry.get("split_seed", seed))
        if not (fc_orders and entry.get("phono3py_yaml")):
            result[name] = DatasetSplit([samples[i] for i in train_idx],
                                        [samples[i] for i in val_idx], float(entry.get("weight", 1.0)))
            continue
        references, terms = displacement_terms(root / entry["phono3py_yaml"],
                                               [s.atoms.positions for s in samples])
        val_idx = [i for i in val_idx if i not in references]
        train_idx = sorted(set(train_idx) | set(references))
        terms = [term if term.order in fc_orders else None for term in terms]
        if shell_balance > 0:
            forces = np.concatenate([samples[i].forces.reshape(-1) for i in references])
            terms = [balance_shells(term, forces, shell_balance)
                     if term is not None and term.order == 2 else term for term in terms]
        result[name] = DatasetSplit([samples[i] for i in train_idx], [samples[i] for i in val_idx],
                                    float(entry.get("weight", 1.0)), [terms[i] for i in train_idx],
                                    [terms[i] for i in val_idx],
                                    [train_idx.index(i) for i in references])
    return result


def data_statistics(samples: list[Sample], model_config: dict) -> dict:
    """Per-species energy shift (eV/atom, least squares), force-RMS scale (eV) and mean neighbour count."""
    species = list(model_config["species"])
    with_energy = [s for s in samples if s.energy is not None]
    if with_energy:
        counts = np.array([[np.sum(np.array(s.atoms.get_chemical_symbols()) == x) for x in species]
                           for s in with_energy], dtype=np.float64)
        energies = np.array([s.energy for s in with_energy])
        shifts = np.linalg.lstsq(counts, energies, rcond=None)[0].tolist()
    else:
        shifts = [0.0] * len(species)
    forces = np.concatenate([s.forces for s in samples if s.forces is not None])
    scale = float(np.sqrt(np.mean(forces ** 2)))
    return {"energy_shifts": shifts, "energy_scales": [scale] * len(species)}


def evaluate(model: EquivariantPotential, items: list[LabelledGraph], options: dict,
             dtype: torch.dtype, stress: bool) -> dict[str, float]:
    """Validation loss and RMSEs (meV/atom, meV/Å, meV/Å^3) of ``items``."""
    totals: dict[str, float] = {}
    for group in batches(items, options["batch_atoms"] * 4, np.arange(len(items))):
        terms = loss_terms(model, collate_labelled(group, dtype), training=False, stress=stress)
        for key, value in terms.items():
            totals[key] = totals.get(key, 0.0) + float(value.detach())
    metrics = {"loss": float(combine_loss({k: torch.tensor(v) for k, v in totals.items()}, options))}
    for label in FITTED_LABELS:  # meV/atom, meV/Å, meV/Å^3, meV/Å^2, meV/Å^3
        if totals.get(f"{label}_count", 0) > 0:
            metrics[f"{label}_rmse"] = 1000.0 * math.sqrt(totals[f"{label}_sse"] / totals[f"{label}_count"])
    return metrics


def adam_epoch(model: EquivariantPotential, optimizer: torch.optim.Optimizer,
               ema: ExponentialMovingAverage, items: list[LabelledGraph], options: dict,
               state: dict, epoch: int, dtype: torch.dtype, stress: bool) -> float:
    """One epoch of Adam over shuffled mini-batches (EMA updated per step); mean batch loss."""
    from tqdm import tqdm

    if options["schedule"] == "cosine":
        state["lr"] = learning_rate(options, epoch)
    for group in optimizer.param_groups:
        group["lr"] = state["lr"]
    order = np.random.default_rng([int(options["seed"]), epoch]).permutation(len(items))
    groups = batches(items, options["batch_atoms"], order)
    model.train()
    bar = tqdm(groups, desc=f"epoch {epoch + 1}/{options['epochs']}", leave=False,
               disable=not options["progress"], unit="batch", mininterval=2.0)
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
                chunks: list[LabelledGraph], options: dict, epoch: int, total_epochs: int,
                stress: bool) -> float:
    """One L-BFGS step (``lbfgs_iterations`` iterations) on the full training set; final loss."""
    from tqdm import tqdm

    model.train()
    bar = tqdm(desc=f"L-BFGS epoch {epoch + 1}/{total_epochs}", leave=False, unit="eval",
               disable=not options["progress"], mininterval=2.0)

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=False)
        loss = full_batch_loss(model, chunks, options, stress, backward=True)
        bar.update()
        bar.set_postfix(loss=f"{float(loss):.4g}")
        return loss

    optimizer.step(closure)
    bar.close()
    return float(full_batch_loss(model, chunks, options, stress))


def train(config: dict | str | Path, overrides: dict | None = None) -> EquivariantPotential:
    """Train a model as ``config`` describes (dict or TOML path); returns the best EMA model.

    ``overrides`` replaces entries of the ``[training]`` section (e.g. ``{"resume": False}``).

    Writes the model file ``output`` (.pt + .json, metrics in the JSON metadata), a checkpoint
    after every epoch (resumed from when ``resume`` is true) and ``OUTPUT.log.jsonl`` with one
    line of metrics per epoch.
    """
    config, root = load_config(config)
    options = {**TRAINING_DEFAULTS, **config.get("training", {}), **(overrides or {})}
    unknown = set(options) - set(TRAINING_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown [training] options: {', '.join(sorted(unknown))}")
    if options["schedule"] not in ("cosine", "plateau"):
        raise ValueError(f"unknown schedule {options['schedule']!r} (cosine or plateau)")
    for key, least in (("lbfgs_epochs", 0), ("lbfgs_iterations", 1), ("lbfgs_history", 1),
                       ("long_range_every", 0)):
        value = options[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"[training] {key} must be an integer >= {least}, got {value!r}")
    balance = options["fc2_shell_balance"]
    if isinstance(balance, bool) or not isinstance(balance, (int, float)) or balance < 0:
        raise ValueError(f"[training] fc2_shell_balance must be a number >= 0, got {balance!r}")
    if balance > 0 and options["fc2_weight"] <= 0:
        raise ValueError("[training] fc2_shell_balance weights the fc2 loss term, which "
                         "fc2_weight = 0 switches off")
    if options["threads"]:
        torch.set_num_threads(int(options["threads"]))
    model_section = dict(config.get("model", {}))
    bulk_section = None
    if config.get("bulk_modulus"):
        if not model_section.get("long_range_cutoff"):
            raise ValueError("[bulk_modulus] is held by the long-range weights, and the model "
                             "has none (long_range_cutoff = 0)")
        bulk_section = read_bulk_modulus_section(config["bulk_modulus"], root)
    dtype = {"float64": torch.float64, "float32": torch.float32}[model_section.pop("dtype", "float64")]
    seed = int(options["seed"])
    output = root / options["output"]
    checkpoint_path = root / (options["checkpoint"] or str(Path(options["output"]).with_suffix(".ckpt")))
    log_path = output.with_suffix(".log.jsonl")

    fc_orders = tuple(order for order in (2, 3) if options[f"fc{order}_weight"] > 0)
    datasets = prepare_datasets(config, root, seed, fc_orders,
                                float(options["fc2_shell_balance"]))
    all_train = [s for split in datasets.values() for s in split.train]
    model_section.update({k: v for k, v in data_statistics(all_train, model_section).items()
                          if k not in model_section})
    model_config = ModelConfig.from_dict(model_section)
    train_sets = {name: [labelled_graph(s, model_config, split.weight) for s in split.train]
                  for name, split in datasets.items()}
    validation_sets = {name: [labelled_graph(s, model_config, split.weight) for s in split.validation]
                       for name, split in datasets.items() if split.validation}
    for name, split in datasets.items():
        if split.references is not None:
            references = [train_sets[name][i] for i in split.references]
            attach_force_constant_terms(train_sets[name], references, split.train_terms, split.weight)
            attach_force_constant_terms(validation_sets.get(name, []), references,
                                        split.validation_terms, split.weight)
    train_items = [item for items in train_sets.values() for item in items]
    if "avg_num_neighbors" not in model_section:   # of the message passing's shorter cutoff
        edges = sum(int((item.graph.edge_vectors().norm(dim=-1) < model_config.cutoff).sum())
                    for item in train_items)
        atoms = sum(len(item.graph.species) for item in train_items)
        model_config.avg_num_neighbors = edges / atoms
    use_stress = options["stress_weight"] > 0

    torch.manual_seed(seed)
    model = EquivariantPotential(model_config).to(dtype)
    # the long-range weights are solved for (LongRangeFit), not stepped by the optimisers
    stepped = [p for name, p in model.named_parameters() if not name.startswith("long_range.")]
    optimizer = torch.optim.Adam(stepped, lr=options["learning_rate"], amsgrad=True)
    ema = ExponentialMovingAverage(model, options["ema_decay"])
    phonons = None
    if config.get("phonons"):
        from potentials.phonon_validation import PhononValidation
        phonons = PhononValidation(config["phonons"], root)
    bulk = None if bulk_section is None else BulkModulusConstraint(
        *bulk_section, model_config.species, model_config.graph_cutoff)

    state = {"epoch": 0, "best": math.inf, "best_epoch": -1, "lr": options["learning_rate"],
             "plateau_best": math.inf, "plateau_count": 0, "elapsed": 0.0}
    best_state = copy.deepcopy(ema.shadow)
    if options["resume"] and checkpoint_path.is_file():
        saved = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        saved_lbfgs = saved.get("lbfgs")
        ema.shadow = saved["ema"]
        best_state = saved["best_model"]
        state = saved["state"]
        log_lines = list(saved["log"])
    else:
        log_lines, saved_lbfgs = [], None

    from tqdm import tqdm

    start_time = time.perf_counter() - state["elapsed"]
    eval_model = EquivariantPotential(model_config).to(dtype)
    adam_epochs, total_epochs = options["epochs"], options["epochs"] + options["lbfgs_epochs"]
    lbfgs, full_batch, long_range_fit = None, [], None

    def fit_long_range(target: EquivariantPotential) -> None:
        """Solve ``target``'s long-range weights (the normal matrix is built on first use)."""
        nonlocal long_range_fit
        if long_range_fit is None:
            long_range_fit = LongRangeFit(target, full_batch, options, use_stress, train_items,
                                          bulk_modulus=bulk)
        long_range_fit(target)

    while state["epoch"] < total_epochs:
        epoch = state["epoch"]
        if not full_batch and (epoch >= adam_epochs or model.long_range is not None):
            full_batch = [collate_labelled(group, dtype) for group in
                          batches(train_items, 4 * options["batch_atoms"],
                                  np.arange(len(train_items)))]
        if epoch < adam_epochs:
            train_loss = adam_epoch(model, optimizer, ema, train_items, options, state, epoch,
                                    dtype, use_stress)
            ema.copy_to(eval_model).eval()
            every = options["long_range_every"]
            if model.long_range is not None and (
                    epoch + 1 == adam_epochs or (every and (epoch + 1) % every == 0)):
                fit_long_range(eval_model)
                fitted = eval_model.long_range.weights.detach()
                with torch.no_grad():
                    model.long_range.weights.copy_(fitted)
                ema.shadow["long_range.weights"].copy_(fitted)
        else:
            if lbfgs is None:
                if saved_lbfgs is None:    # entering the phase, not resuming it
                    model.load_state_dict(best_state)
                lbfgs = torch.optim.LBFGS(stepped, lr=1.0,
                                          max_iter=int(options["lbfgs_iterations"]),
                                          history_size=int(options["lbfgs_history"]),
                                          tolerance_grad=0.0, tolerance_change=0.0,
                                          line_search_fn="strong_wolfe")
                if saved_lbfgs is not None:
                    lbfgs.load_state_dict(saved_lbfgs)
            train_loss = lbfgs_epoch(model, lbfgs, full_batch, options, epoch, total_epochs,
                                     use_stress)
            if model.long_range is not None:
                fit_long_range(model)
            eval_model.load_state_dict(model.state_dict())
            eval_model.eval()
        metrics: dict[str, Any] = {"epoch": epoch + 1, "lr": state["lr"], "train_loss": train_loss}
        validation_loss = 0.0
        for name, items in validation_sets.items():
            values = evaluate(eval_model, items, options, dtype,
                              stress=any(bool(item.has_stress.any()) for item in items))
            validation_loss += values.pop("loss")
            metrics.update({f"{name}/{k}": v for k, v in values.items()})
        metrics["val_loss"] = validation_loss
        if bulk is not None:
            metrics["bulk_modulus"] = bulk.bulk_modulus(eval_model)
        if phonons is not None and phonons.due(epoch + 1, total_epochs):
            metrics.update(phonons.metrics(eval_model))
        state["elapsed"] = time.perf_counter() - start_time
        metrics["time_s"] = state["elapsed"]

        selection_key = "val_loss" if options["selection_metric"] == "loss" else options["selection_metric"]
        if selection_key in metrics and metrics[selection_key] < state["best"]:
            state["best"], state["best_epoch"] = metrics[selection_key], epoch + 1
            best_state = copy.deepcopy(eval_model.state_dict())
        if options["schedule"] == "plateau" and epoch < adam_epochs:
            if validation_loss < state["plateau_best"]:
                state["plateau_best"], state["plateau_count"] = validation_loss, 0
            else:
                state["plateau_count"] += 1
                if state["plateau_count"] > options["plateau_patience"]:
                    state["lr"] = max(state["lr"] * options["plateau_factor"],
                                      options["min_learning_rate"])
                    state["plateau_count"] = 0
        log_lines.append(json.dumps(metrics))
        summary = " ".join(f"{k.split('/')[0][:5]}/{k.split('/')[-1]}={v:.4g}" if "/" in k
                           else f"{k}={v:.4g}" for k, v in metrics.items()
                           if k not in ("epoch", "time_s") and isinstance(v, float))
        if options["progress"]:
            tqdm.write(f"epoch {epoch + 1:4d} {summary}")
        state["epoch"] = state["epochs_run"] = epoch + 1
        # early stopping ends the current phase (Adam, then L-BFGS from the best weights)
        phase_start, phase_end = ((adam_epochs, total_epochs) if state["epoch"] > adam_epochs
                                  else (0, adam_epochs))
        if (state["best_epoch"] > 0
                and state["epoch"] - max(state["best_epoch"], phase_start) >= options["patience"]):
            state["epoch"] = phase_end
        optimizers = {"optimizer": optimizer.state_dict()}
        if lbfgs is not None:
            optimizers["lbfgs"] = lbfgs.state_dict()
        checkpoint_path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"model_config": model_config.to_dict(), "model": model.state_dict(),
                    **optimizers, "ema": ema.shadow, "best_model": best_state, "state": state,
                    "log": log_lines}, checkpoint_path)
        log_path.write_text("\n".join(log_lines) + "\n")

    eval_model.load_state_dict(best_state)
    eval_model.eval()
    final = json.loads(log_lines[state["best_epoch"] - 1]) if state["best_epoch"] > 0 else {}
    written = save_model(eval_model, output, metadata={
        "best_epoch": state["best_epoch"], "epochs_run": state.get("epochs_run", 0),
        "training_time_s": round(state["elapsed"], 1), "validation": final,
        "datasets": [entry.get("path") for entry in config.get("datasets", [])]})
    if options["progress"]:
        tqdm.write(f"model written to {written} (+ .json); best epoch {state['best_epoch']}")
    return eval_model


def main(argv: list[str] | None = None) -> int:
    """``python -m potentials.training CONFIG.toml``: train and report where the model went."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m potentials.training",
                                     description="Train an equivariant potential from a TOML config.")
    parser.add_argument("config", help="training config (TOML)")
    args = parser.parse_args(argv)
    train(args.config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
