"""PYXAID-style Ham_<k>_re / Ham_<k>_im files: round trip, units and bad files."""
from __future__ import annotations

import numpy as np
import pytest

from nad.hopping import NADInputError, VibronicHamiltonian
from nad.pyxaid_io import RYDBERG, read_hamiltonians, write_hamiltonians


def small_hamiltonian(nsteps: int = 5, n: int = 3) -> VibronicHamiltonian:
    rng = np.random.default_rng(0)
    e = np.sort(rng.normal(size=(nsteps, n)), axis=1)
    d = rng.normal(scale=0.01, size=(nsteps, n, n))
    d = d - np.transpose(d, (0, 2, 1))
    return VibronicHamiltonian.from_nac(e, d, 0.5, ["a", "b", "c"])


@pytest.mark.parametrize("units", ["Ry", "eV"])
def test_round_trip(tmp_path, units):
    ham = small_hamiltonian()
    written = write_hamiltonians(ham, tmp_path, units=units)
    assert len(written) == 10 and (tmp_path / "Ham_4_im").exists()
    back = read_hamiltonians(tmp_path, dt=0.5, units=units)
    assert np.allclose(back.energies, ham.energies) and np.allclose(back.nac, ham.nac)
    sub = read_hamiltonians(tmp_path, dt=0.5, units=units, states=[0, 2])
    assert np.allclose(sub.nac[:, 0, 1], ham.nac[:, 0, 2])


def test_rydberg_files_hold_rydberg(tmp_path):
    ham = small_hamiltonian()
    write_hamiltonians(ham, tmp_path)
    re0 = np.loadtxt(tmp_path / "Ham_0_re")
    assert np.allclose(np.diag(re0) * RYDBERG, ham.energies[0])
    im0 = np.loadtxt(tmp_path / "Ham_0_im")
    assert np.allclose(im0 * RYDBERG, -0.6582119569 * ham.nac[0])      # Im H = -ħ d


def test_bad_files_name_the_file(tmp_path):
    ham = small_hamiltonian()
    write_hamiltonians(ham, tmp_path)
    (tmp_path / "Ham_2_im").unlink()
    with pytest.raises(NADInputError, match="Ham_2_im: missing"):
        read_hamiltonians(tmp_path, dt=0.5)
    write_hamiltonians(ham, tmp_path)
    np.savetxt(tmp_path / "Ham_3_re", np.eye(2))
    with pytest.raises(NADInputError, match="Ham_3_re: 2 states.*inconsistent state counts"):
        read_hamiltonians(tmp_path, dt=0.5)
    write_hamiltonians(ham, tmp_path)
    im = np.loadtxt(tmp_path / "Ham_1_im")
    im[0, 1] = im[1, 0]                                 # symmetric imaginary part
    np.savetxt(tmp_path / "Ham_1_im", im)
    with pytest.raises(NADInputError, match="Ham_1_re / .*Ham_1_im: hamiltonian not Hermitian"):
        read_hamiltonians(tmp_path, dt=0.5)
    with pytest.raises(NADInputError, match="units"):
        read_hamiltonians(tmp_path, dt=0.5, units="hartree")
    with pytest.raises(NADInputError, match="no Nothing_<k>_re files"):
        read_hamiltonians(tmp_path / "..", dt=0.5, prefix="Nothing_")
