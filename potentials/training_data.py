"""Training data: the ``[[datasets]]`` entries read and split (:func:`prepare_datasets`), their
structures as labelled graphs (:class:`LabelledGraph`, float64 tensors on the CPU: energy eV,
forces eV/Å, stress eV/Å^3) with the force-constant terms of a phono3py displacement set, and
the batches the optimisers step on (:func:`batches`, :func:`collate_labelled`).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from mtscore import Section
from potentials.datasets import FORMATS, DatasetError, Sample, read_dataset, split_indices
from potentials.fc_loss import ForceConstantTerm, balance_shells, displacement_terms
from potentials.model import ModelConfig
from potentials.neighbours import Graph, collate, structure_graph

if TYPE_CHECKING:
    from potentials.training_config import TrainingConfig


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
    """One structure as a graph of ``model_config``'s species and cutoff, with its labels."""
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


def batches(items: list[LabelledGraph], batch_atoms: int,
            order: np.ndarray) -> list[list[LabelledGraph]]:
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


@dataclass(frozen=True)
class DatasetEntry:
    """One ``[[datasets]]`` entry: ``path`` (relative to the config's folder), ``name``,
    ``format`` (one of :data:`potentials.datasets.FORMATS`; auto detects it), ``forces`` (the
    FORCES_FC3/FORCES_FC2 file of a phono3py yaml, relative to the config's folder; default: the
    yaml's own forces or the FORCES files next to it), ``labels`` fitted, ``prefix`` of the
    extxyz label keys,
    ``validation_fraction`` held out, ``split_seed`` (None: the ``[training]`` seed),
    ``weight`` multiplying its samples' loss terms and ``phono3py_yaml`` (the displacement
    set it is, for the fc2/fc3 loss terms; relative to the config's folder)."""

    path: str
    name: str
    file_format: str = "auto"
    labels: tuple[str, ...] = ("energy", "forces")
    prefix: str = "REF_"
    validation_fraction: float = 0.1
    split_seed: int | None = None
    weight: float = 1.0
    phono3py_yaml: str | None = None
    forces: str | None = None

    @classmethod
    def read(cls, data: dict, number: int, source: str | Path | None = None) -> DatasetEntry:
        """Entry ``number`` (from 0) of ``[[datasets]]``; :class:`DatasetError` naming
        ``source`` and the key for a bad or unknown key."""
        section = Section(data, f"datasets[{number}]", source, DatasetError)
        labels = data.get("labels", cls.labels)
        section.used.add("labels")
        if (not isinstance(labels, (list, tuple))
                or not all(isinstance(label, str) for label in labels)):
            raise section.fail("labels", f"expected a list of label names, got {labels!r}")
        entry = cls(
            path=section.get("path", str, required=True),
            name=section.get("name", str, f"dataset{number}"),
            file_format=section.get("format", str, "auto",
                                    choices=FORMATS),
            labels=tuple(labels), prefix=section.get("prefix", str, "REF_"),
            validation_fraction=section.get("validation_fraction", (int, float), 0.1,
                                            minimum=0.0),
            split_seed=section.get("split_seed", int, None, minimum=0),
            weight=float(section.get("weight", (int, float), 1.0, minimum=0.0)),
            phono3py_yaml=section.get("phono3py_yaml", str),
            forces=section.get("forces", str))
        section.check_unknown()
        return entry


def prepare_datasets(config: dict, root: Path, seed: int, fc_orders: tuple[int, ...] = (),
                     shell_balance: float = 0.0, species: Sequence[str] | None = None,
                     source: str | Path | None = None) -> dict[str, DatasetSplit]:
    """Read every ``[[datasets]]`` entry of ``config`` and split it (name ->
    :class:`DatasetSplit`).

    ``fc_orders``: the force-constant terms (2, 3) to build for entries with a ``phono3py_yaml``;
    their first-displacement supercells then always go to the training split.  ``species``: the
    model's chemical symbols; a structure with another one is a :class:`DatasetError` naming
    the dataset file and the structure.  ``source``: the config file named in the errors of
    bad entries (:meth:`DatasetEntry.read`).
    """
    entries = config.get("datasets") or []
    if not entries:
        raise DatasetError("training config has no [[datasets]] entries", source)
    result = {}
    for number, data in enumerate(entries):
        entry = DatasetEntry.read(data, number, source)
        path = root / entry.path
        samples = read_dataset(path, entry.labels, entry.file_format, entry.prefix,
                               None if entry.forces is None else root / entry.forces)
        if species is not None:
            check_species(samples, species, path)
        train_idx, val_idx = split_indices(len(samples), entry.validation_fraction,
                                           seed if entry.split_seed is None else entry.split_seed)
        if not (fc_orders and entry.phono3py_yaml):
            result[entry.name] = DatasetSplit([samples[i] for i in train_idx],
                                              [samples[i] for i in val_idx], entry.weight)
            continue
        references, terms = displacement_terms(root / entry.phono3py_yaml,
                                               [s.atoms.positions for s in samples])
        val_idx = [i for i in val_idx if i not in references]
        train_idx = sorted(set(train_idx) | set(references))
        terms = [term if term.order in fc_orders else None for term in terms]
        if shell_balance > 0:
            forces = np.concatenate([samples[i].forces.reshape(-1) for i in references])
            terms = [balance_shells(term, forces, shell_balance)
                     if term is not None and term.order == 2 else term for term in terms]
        result[entry.name] = DatasetSplit([samples[i] for i in train_idx],
                                          [samples[i] for i in val_idx], entry.weight,
                                          [terms[i] for i in train_idx],
                                          [terms[i] for i in val_idx],
                                          [train_idx.index(i) for i in references])
    return result


def check_species(samples: Sequence[Sample], species: Sequence[str], path: Path) -> None:
    """:class:`DatasetError` naming ``path`` and the first structure with a chemical symbol
    that is not among the model's ``species``."""
    known = set(species)
    for index, sample in enumerate(samples):
        unknown = sorted(set(sample.atoms.get_chemical_symbols()) - known)
        if unknown:
            raise DatasetError(f"structure {index} has species {', '.join(unknown)}, which the "
                               f"model does not know ([model] species = {', '.join(species)})",
                               path)


def data_statistics(samples: list[Sample], model_config: dict) -> dict:
    """Per-species energy shift (eV/atom, least squares) and force-RMS scale (eV/Å)."""
    species = list(model_config["species"])
    with_energy = [s for s in samples if s.energy is not None]
    if with_energy:
        counts = np.array([[np.sum(np.array(s.atoms.get_chemical_symbols()) == x)
                            for x in species] for s in with_energy], dtype=np.float64)
        energies = np.array([s.energy for s in with_energy])
        shifts = np.linalg.lstsq(counts, energies, rcond=None)[0].tolist()
    else:
        shifts = [0.0] * len(species)
    forces = np.concatenate([s.forces for s in samples if s.forces is not None])
    scale = float(np.sqrt(np.mean(forces ** 2)))
    return {"energy_shifts": shifts, "energy_scales": [scale] * len(species)}




@dataclass
class TrainingData:
    """What the optimisers work on: the training structures as labelled graphs (force-constant
    terms attached), the validation structures of each dataset, and the model config completed
    by the statistics of the training data."""

    model_config: ModelConfig
    train: list[LabelledGraph]
    validation: dict[str, list[LabelledGraph]]


def build_training_data(config: TrainingConfig) -> TrainingData:
    """Read and split the datasets of ``config``, complete its ``[model]`` table with the data
    statistics (:func:`data_statistics`; the mean neighbour count within the message-passing
    cutoff) and turn the structures into labelled graphs."""
    from potentials.training_config import TrainingConfigError

    options = config.training
    if "species" not in config.model:
        raise TrainingConfigError("missing (required)", config.source, None, "model.species")
    datasets = prepare_datasets({"datasets": config.datasets}, config.root, options.seed,
                                options.fc_orders, options.fc2_shell_balance,
                                species=config.model["species"], source=config.source)
    model_section = dict(config.model)
    all_train = [s for split in datasets.values() for s in split.train]
    model_section.update({k: v for k, v in data_statistics(all_train, model_section).items()
                          if k not in model_section})
    try:
        model_config = ModelConfig.from_dict(model_section)
    except (ValueError, TypeError) as exc:
        raise TrainingConfigError(str(exc), config.source, None, "model") from None
    train_sets = {name: [labelled_graph(s, model_config, split.weight) for s in split.train]
                  for name, split in datasets.items()}
    validation_sets = {name: [labelled_graph(s, model_config, split.weight)
                              for s in split.validation]
                       for name, split in datasets.items() if split.validation}
    for name, split in datasets.items():
        if split.references is not None:
            references = [train_sets[name][i] for i in split.references]
            attach_force_constant_terms(train_sets[name], references, split.train_terms,
                                        split.weight)
            attach_force_constant_terms(validation_sets.get(name, []), references,
                                        split.validation_terms, split.weight)
    train_items = [item for items in train_sets.values() for item in items]
    if "avg_num_neighbors" not in model_section:   # of the message passing's shorter cutoff
        edges = sum(int((item.graph.edge_vectors().norm(dim=-1) < model_config.cutoff).sum())
                    for item in train_items)
        atoms = sum(len(item.graph.species) for item in train_items)
        model_config.avg_num_neighbors = edges / atoms
    return TrainingData(model_config, train_items, validation_sets)
