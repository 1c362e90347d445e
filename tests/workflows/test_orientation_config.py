"""Orientation of the study's geometries: ``normal`` / ``transport`` in ``[[geometry]]``, the
default for cubic crystals, the error for a non-cubic crystal without one, and the
``input/ORIENTATION`` file a case gets.  Rotations are checked against ones written by hand."""
from __future__ import annotations

import numpy as np
import pytest

from bte import BTEInputError
from bte.orientation import read_orientation_file
from workflows.config import ConfigError, load_config
from workflows.geometries import prepare_folder_case, write_case

SQ3 = np.sqrt(3.0)
C_PLANE = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])    # x = a1, y = c


def _gan(tmp_path):
    """Wurtzite GaN (a = 3.19 Å, c = 5.19 Å) as an extended-XYZ unit cell."""
    from ase import Atoms
    from ase.io import write

    a, c, u = 3.19, 5.19, 0.377
    cell = [[a, 0, 0], [-a / 2, a * SQ3 / 2, 0], [0, 0, c]]
    frac = [[1 / 3, 2 / 3, 0], [2 / 3, 1 / 3, 0.5], [1 / 3, 2 / 3, u], [2 / 3, 1 / 3, 0.5 + u]]
    path = tmp_path / "gan.extxyz"
    write(path, Atoms("Ga2N2", scaled_positions=frac, cell=cell, pbc=True))
    return path


def _study(tmp_path, structure, orientation=""):
    path = tmp_path / "study.toml"
    path.write_text(f"""
output = "{tmp_path / 'out'}"
[material]
structure = "{structure}"
[potential]
calculator = "tersoff"
[[geometry]]
kind = "in-plane"
thickness_nm = [10]
{orientation}
""")
    return path


def test_cubic_crystal_needs_no_orientation(tmp_path):
    (g,) = load_config(_study(tmp_path, "builtin:si")).geometries
    assert g.normal is None and g.rotation is None


def test_cubic_crystal_takes_an_orientation(tmp_path):
    """Silicon with normal [001], transport [110]: x = [110]/√2, y = [001], z = x × y."""
    (g,) = load_config(_study(tmp_path, "builtin:si", "normal = [0, 0, 1]\n"
                                                      "transport = [1, 1, 0]")).geometries
    by_hand = np.array([[1 / np.sqrt(2), 1 / np.sqrt(2), 0.0], [0.0, 0.0, 1.0],
                        [1 / np.sqrt(2), -1 / np.sqrt(2), 0.0]])
    np.testing.assert_allclose(g.rotation, by_hand, atol=1e-14)


def test_hexagonal_crystal_without_orientation_is_an_error(tmp_path):
    path = _study(tmp_path, _gan(tmp_path))
    with pytest.raises(ConfigError, match="not cubic") as info:
        load_config(path)
    assert info.value.key == "geometry[0].normal" and info.value.file == str(path)


def test_c_plane_gan(tmp_path):
    (g,) = load_config(_study(tmp_path, _gan(tmp_path), "normal = [0, 0, 0, 1]\n"
                                                        "transport = [2, -1, -1, 0]")).geometries
    assert g.normal == (0, 0, 0, 1) and g.transport == (2, -1, -1, 0)
    np.testing.assert_allclose(g.rotation, C_PLANE, atol=1e-12)


@pytest.mark.parametrize("orientation,key,message", [
    ("normal = [0, 0, 0, 1]\ntransport = [1, 0, -1, 1]", "geometry[0].transport",
     "not orthogonal"),
    ("normal = [0, 0, 0, 1]", "geometry[0].transport", "needs both"),
    ("normal = [0, 0, 0, 1, 0]\ntransport = [1, 0, 0]", "geometry[0].normal", "4 Miller"),
    ("normal = [1, 1, 1, 0]\ntransport = [0, 0, 1]", "geometry[0].normal", "U \\+ V \\+ T")])
def test_bad_orientation_is_one_line_naming_file_and_key(tmp_path, orientation, key, message):
    path = _study(tmp_path, _gan(tmp_path), orientation)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert info.value.key == key and info.value.file == str(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_case_carries_its_orientation(tmp_path):
    """write_case writes input/ORIENTATION, read back exactly; without a rotation none."""
    table = tmp_path / "t.dat"
    table.write_text("1000 1e-11 1e6 1 1\n")
    write_case(tmp_path / "plain", "in-plane", 1e-8, [table], 1, n_cells=4)
    assert not (tmp_path / "plain" / "input" / "ORIENTATION").exists()
    write_case(tmp_path / "oriented", "in-plane", 1e-8, [table], 1, n_cells=4,
               rotation=C_PLANE, normal=(0, 0, 0, 1), transport=(2, -1, -1, 0))
    path = tmp_path / "oriented" / "input" / "ORIENTATION"
    np.testing.assert_array_equal(read_orientation_file(path), C_PLANE)
    assert "Normal=\n0 0 0 1" in path.read_text()
    prepare_folder_case(tmp_path / "plain", tmp_path / "folder", table, 1, rotation=C_PLANE)
    np.testing.assert_array_equal(
        read_orientation_file(tmp_path / "folder" / "input" / "ORIENTATION"), C_PLANE)


def test_bad_orientation_file(tmp_path):
    path = tmp_path / "ORIENTATION"
    path.write_text("Rotation=\n1 0 0\n0 1 0\n0 1 0\n")
    with pytest.raises(BTEInputError, match="orthonormal") as info:
        read_orientation_file(path)
    assert info.value.line == 2 and info.value.field == "Rotation"
    path.write_text("Rotation=\n1 0 0\n0 1\n")
    with pytest.raises(BTEInputError, match="3 rows") as info:
        read_orientation_file(path)
    assert info.value.line == 3
