"""Born charges and the dielectric tensor (non-analytic correction) of polar crystals: reading
them (BORN, the yaml's nac_params, arrays), the error for a polar material without them, and
their round trip through the written force constants.  Data: phono3py's AlN-LDA example."""
from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
from ase.calculators.emt import EMT
from ase.io import read
from phonons_refdata import ALN, DATA

import phonons
from mtscore import InputError
from phonons import NacParams, PolarMaterialError
from phonons.nac import polar_species

# BORN of the AlN-LDA example: ε∞ and Z* of Al (N: -Z*), written out by hand from the file
EPSILON = np.diag([4.4350090, 4.4350090, 4.6532690])
Z_AL = np.diag([2.5126475, 2.5126475, 2.6735300])


@pytest.fixture(scope="module")
def aln_fc():
    """3x3x2 fc2/fc3 from the DFT forces; Born charges picked up from the BORN beside the yaml."""
    return phonons.load_force_constants(ALN / "phono3py_disp.yaml", ALN / "FORCES_FC3.xz")


def test_born_file_beside_the_yaml_is_used(aln_fc):
    born = aln_fc.nac.born
    assert born.shape == (4, 3, 3)
    symbols = aln_fc.to_phonopy().primitive.symbols
    for z, symbol in zip(born, symbols):
        np.testing.assert_allclose(z, Z_AL if symbol == "Al" else -Z_AL, atol=1e-12)
    np.testing.assert_allclose(aln_fc.nac.dielectric, EPSILON, atol=1e-12)
    # phonopy's factor for eV/Å: Hartree·Bohr = e²/(4π ε0 Å) = 14.39965 eV·Å
    assert aln_fc.to_phonopy().nac_params["factor"] == pytest.approx(14.39965, rel=1e-6)


def test_polar_material_without_born_charges_is_an_error(tmp_path):
    shutil.copy(ALN / "phono3py_disp.yaml", tmp_path)         # no BORN beside it
    with pytest.raises(PolarMaterialError, match="Al-N") as error:
        phonons.load_force_constants(tmp_path / "phono3py_disp.yaml", ALN / "FORCES_FC3.xz")
    assert isinstance(error.value, InputError)
    assert error.value.file == str(tmp_path / "phono3py_disp.yaml") and error.value.key == "born"
    assert "\n" not in str(error.value)
    atoms = read(ALN / "POSCAR-unitcell", format="vasp")
    with pytest.raises(PolarMaterialError, match="--no-nac"):   # before any force is computed
        phonons.compute_force_constants(atoms, EMT(), (1, 1, 1))
    with pytest.raises(PolarMaterialError, match="nac=True"):
        phonons.load_force_constants(DATA / "phono3py_disp.yaml", DATA / "FORCES_FC3", nac=True)


def test_unused_born_file_is_named(tmp_path):
    from phonons.nac import check_polar
    with pytest.raises(PolarMaterialError, match="BORN"):
        check_polar(["Si"], file=tmp_path / "x.yaml", unused_born=tmp_path / "BORN")


def test_nac_off_on_purpose_and_explicit_born(tmp_path, aln_fc):
    shutil.copy(ALN / "phono3py_disp.yaml", tmp_path)
    off = phonons.load_force_constants(tmp_path / "phono3py_disp.yaml", ALN / "FORCES_FC3.xz",
                                       nac=False)
    assert off.nac is None
    np.testing.assert_array_equal(off.fc2, aln_fc.fc2)
    given = phonons.load_force_constants(tmp_path / "phono3py_disp.yaml", ALN / "FORCES_FC3.xz",
                                         born=ALN / "BORN")
    np.testing.assert_allclose(given.nac.born, aln_fc.nac.born)
    arrays = NacParams(aln_fc.nac.born.tolist(), EPSILON)          # plain arrays from Python
    from_arrays = phonons.load_force_constants(tmp_path / "phono3py_disp.yaml",
                                               ALN / "FORCES_FC3.xz", born=arrays)
    q = [[0.0, 0.0, 1e-4]]
    np.testing.assert_allclose(phonons.harmonic_frequencies(from_arrays, q),
                               phonons.harmonic_frequencies(aln_fc, q), atol=1e-8)
    with pytest.raises(InputError, match="nac=False"):
        phonons.load_force_constants(tmp_path / "phono3py_disp.yaml", ALN / "FORCES_FC3.xz",
                                     born=ALN / "BORN", nac=False)


def test_written_force_constants_keep_the_born_charges(tmp_path, aln_fc):
    aln_fc.write(tmp_path)
    (tmp_path / "BORN").unlink(missing_ok=True)
    loaded = phonons.load_force_constants(tmp_path / "phono3py_disp.yaml")   # nac_params
    np.testing.assert_allclose(loaded.nac.born, aln_fc.nac.born, atol=1e-12)
    np.testing.assert_allclose(loaded.nac.dielectric, EPSILON, atol=1e-12)
    q = [[1e-4, 0.0, 0.0], [0.0, 0.0, 1e-4], [0.5, 0.0, 0.0]]
    np.testing.assert_allclose(phonons.harmonic_frequencies(loaded, q),
                               phonons.harmonic_frequencies(aln_fc, q), atol=1e-8)


def test_nac_raises_the_lo_mode_near_gamma(aln_fc):
    """Near Γ (|q| = 1e-4; phonopy treats a shorter q as Γ without a direction) the highest
    mode with NAC lies more than 1 THz above the one without it (AlN: 26.2 vs 21.5 THz)."""
    off = replace(aln_fc, nac=None)
    near = [[0.0, 0.0, 1e-4]]
    assert (phonons.harmonic_frequencies(aln_fc, near)[0, -1]
            - phonons.harmonic_frequencies(off, near)[0, -1]) > 1.0          # THz


def test_bad_born_arrays_and_species():
    with pytest.raises(InputError, match="shape"):
        NacParams(np.zeros((4, 3)), np.eye(3))
    with pytest.raises(InputError, match="finite"):
        NacParams(np.full((2, 3, 3), np.nan), np.eye(3))
    assert polar_species(["Si", "Si"]) is None
    assert polar_species(["Si", "Ge"]) is None                     # |1.90 - 2.01| < 0.4
    assert polar_species(["Al", "N", "N"])[:2] == ("Al", "N")
    assert polar_species(["Ga", "N"]) is not None


def test_separate_fc2_set_from_another_yaml(aln_fc):
    """fc2 from the 5x5x3 set: given through its own yaml, or as the fc2 part of one yaml."""
    split = phonons.load_force_constants(
        ALN / "phono3py_disp.yaml", ALN / "FORCES_FC3.xz", forces_fc2=ALN / "FORCES_FC2",
        phono3py_yaml_fc2=ALN / "phono3py_disp_dimfc2.yaml")
    joined = phonons.load_force_constants(ALN / "phono3py_disp_dimfc2.yaml",
                                          ALN / "FORCES_FC3.xz", forces_fc2=ALN / "FORCES_FC2")
    np.testing.assert_array_equal(split.phonon_supercell_matrix, np.diag([5, 5, 3]))
    assert split.fc2.shape == (4, 300, 3, 3)
    np.testing.assert_allclose(split.fc2, joined.fc2, atol=1e-12)
    np.testing.assert_allclose(split.fc3, aln_fc.fc3, atol=1e-12)
    assert split.nac is not None and joined.nac is not None
