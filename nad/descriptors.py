"""Local structural descriptors (SOAP or ACSF from ``dscribe``) of the atoms around a defect.

Descriptors are evaluated on a finite cluster cut out around the defect (minimum-image positions
relative to the defect centre), so their cost does not grow with the cell size: this is what lets
models trained on small cells run on large ones.  Units: length Å; descriptors dimensionless
(time derivatives of descriptors in 1/fs).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms


def minimum_image(vectors: np.ndarray, cell: np.ndarray, pbc: np.ndarray) -> np.ndarray:
    """Wrap displacement vectors (..., 3) in Å to their minimum image along periodic directions."""
    frac = vectors @ np.linalg.inv(cell)
    frac -= np.where(pbc, np.round(frac), 0.0)
    return frac @ cell


def make_descriptor(kind: str = "soap", species: tuple[str, ...] = ("Mo", "S"),
                    r_cut: float = 4.5, n_max: int = 4, l_max: int = 4, sigma: float = 0.4,
                    periodic: bool = False):
    """A dscribe SOAP (``kind="soap"``) or ACSF (``kind="acsf"``) descriptor object (r_cut Å).

    n_max sets the radial resolution (SOAP radial functions; ACSF radial widths), l_max and sigma
    (Å) apply to SOAP only.
    """
    if kind == "soap":
        from dscribe.descriptors import SOAP
        return SOAP(species=list(species), r_cut=r_cut, n_max=n_max, l_max=l_max, sigma=sigma,
                    periodic=periodic)
    if kind == "acsf":
        from dscribe.descriptors import ACSF
        etas = np.geomspace(0.3, 8.0, n_max + 2)
        g2 = [[eta, shift] for eta in etas for shift in (0.0, 2.0, 3.2)]
        g4 = [[0.05, zeta, lam] for zeta in (1.0, 4.0) for lam in (-1.0, 1.0)]
        return ACSF(species=list(species), r_cut=r_cut, g2_params=g2, g4_params=g4,
                    periodic=periodic)
    raise ValueError(f"kind: unknown descriptor {kind!r} (soap, acsf)")


@dataclass
class DefectEnvironment:
    """The atoms around one vacancy of a fixed structure (indices into the full structure).

    ``center_atoms``: the atoms whose centroid defines the defect centre (the nearest shell);
    ``local``: the atoms whose descriptors enter the models, sorted by distance; ``cluster``: all
    atoms within the local radius plus the descriptor cutoff (what the descriptor sees).
    """

    site: np.ndarray
    center_atoms: np.ndarray
    local: np.ndarray
    cluster: np.ndarray

    @classmethod
    def around(cls, atoms: Atoms, site: np.ndarray, r_local: float = 4.0,
               r_cut: float = 4.5, shell: float = 2.2) -> "DefectEnvironment":
        """Environment of the vacancy at ``site`` (Å) in ``atoms``; radii in Å."""
        cell, pbc = np.array(atoms.cell), np.array(atoms.pbc)
        r = np.linalg.norm(minimum_image(atoms.positions - site, cell, pbc), axis=1)
        order = np.argsort(r, kind="stable")
        center = order[r[order] < shell]
        if center.size == 0:
            raise ValueError("site: no atom within the first shell of the vacancy site")
        return cls(np.asarray(site, float), center, order[r[order] < r_local],
                   order[r[order] < r_local + r_cut + 0.5])

    def centre(self, positions: np.ndarray, cell: np.ndarray, pbc: np.ndarray) -> np.ndarray:
        """Current defect centre (Å): the site moved with the mean displacement of its shell."""
        ref = positions[self.center_atoms[0]]
        rel = minimum_image(positions[self.center_atoms] - ref, cell, pbc)
        return ref + rel.mean(axis=0)


def local_descriptors(descriptor, symbols: np.ndarray, positions: np.ndarray, cell: np.ndarray,
                      pbc: np.ndarray, env: DefectEnvironment) -> np.ndarray:
    """Descriptors (n_local, dim) of ``env.local`` computed on the cut-out cluster.

    positions: (natoms, 3) Å of the full structure, ``symbols`` its chemical symbols.
    """
    centre = env.centre(positions, cell, pbc)
    rel = minimum_image(positions[env.cluster] - centre, cell, pbc)
    cluster = Atoms(list(symbols[env.cluster]), positions=rel)
    where = {atom: k for k, atom in enumerate(env.cluster)}
    return np.asarray(descriptor.create(cluster, centers=[where[a] for a in env.local]))


def descriptor_series(descriptor, symbols: np.ndarray, positions: np.ndarray, cell: np.ndarray,
                      pbc: np.ndarray, env: DefectEnvironment) -> np.ndarray:
    """Descriptors (nframes, n_local, dim) of the local atoms along a trajectory
    (nframes, natoms, 3)."""
    return np.stack([local_descriptors(descriptor, symbols, p, cell, pbc, env)
                     for p in positions])


def descriptors(atoms: Atoms, centers: list[int] | np.ndarray, kind: str = "soap",
                **options) -> np.ndarray:
    """Descriptors (len(centers), dim) of the given atoms of a (periodic) structure.

    A convenience wrapper of dscribe on the whole structure; ``options`` go to
    :func:`make_descriptor`.
    """
    desc = make_descriptor(kind, periodic=bool(any(atoms.pbc)), **options)
    return np.asarray(desc.create(atoms, centers=list(centers)))
