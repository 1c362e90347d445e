"""GiftBTE input-folder reader (bte.giftbte): every shipped example folder loads unchanged, and
synthetic folders written into tmp_path exercise the keyword rules, fallbacks and errors."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from bte.giftbte import read_input_folder
from bte.problem import BoundaryKind, BTEInputError

GIFT = Path(__file__).resolve().parents[2] / "examples" / "giftbte"
EXAMPLES = GIFT / "examples"


def load(path, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_input_folder(path, **kwargs)


def kinds(problem) -> dict[int, int]:
    return {index: bc.kind for index, bc in problem.boundary_conditions.items()}


# -- every shipped example -----------------------------------------------------------------------

ALL_CASES = sorted(str(p.parent.parent.relative_to(EXAMPLES))
                   for p in EXAMPLES.glob("**/input/CONTROL"))


def test_all_example_folders_are_covered():
    assert len(ALL_CASES) == 27       # 6 examples x 3 cases + 7 TTG + TDTR + template
    assert set(ALL_CASES) == {c for c in CASE_CHECKS}


def check_cross_plane(p, length):
    assert p.n_bands == 15 and p.geometry.n_cells == 10000
    assert kinds(p) == {1: 3, 2: 1, 3: 1, 4: 3}
    assert p.boundary_conditions[2].value == 301 and p.boundary_conditions[3].value == 300
    assert p.mesh.scale == (length, length, 1.0)
    assert p.mesh.points[:, :2].max() == pytest.approx(length)
    assert p.materials[0].kappa_bulk() == pytest.approx(151.8, abs=0.05)
    assert p.control.iterative_scheme == "Synthetic" and p.control.residual_temp == 1e-8
    assert p.control.residual_flux == 1e-2 and p.control.max_num_iter == 100000
    assert (p.ntheta, p.nphi, p.angle_method, p.material_dimension) == (4, 4, 2, 3)


def check_in_plane(p, length):
    assert p.n_bands == 15 and p.geometry.n_cells == 10000
    assert kinds(p) == {1: -1, 2: 2, 3: 2, 4: -1}
    bc1, bc4 = p.boundary_conditions[1], p.boundary_conditions[4]
    assert (bc1.partner, bc1.value, bc4.partner, bc4.value) == (4, 1.0, 1, 0.0)
    assert p.mesh.scale[:2] == (length, length)
    linked = p.geometry.bface_partner[np.isin(p.geometry.bface_index, [1, 4])]
    assert len(linked) == 200 and (linked >= 0).all()


def check_heat_generation(p, length):
    assert p.n_bands == 1 and p.geometry.n_cells == 10000
    assert kinds(p) == {1: 3, 2: 1, 3: 1, 4: 3}
    assert p.boundary_conditions[2].value == 0
    np.testing.assert_array_equal(p.heat_source, 1e15)
    assert p.mesh.scale[:2] == (length, length)


def check_interface(p, length):
    assert p.n_bands == 134 and p.geometry.n_cells == 800 and len(p.materials) == 2
    assert p.region_material.tolist() == [0, 1]
    assert kinds(p) == {1: 3, 2: 1, 3: 3, 4: 5, 5: 1, 6: 3, 7: 3}
    t = p.boundary_conditions[4].transmissivity
    assert sorted(t) == [0, 1] and t[0].shape == (134,)
    assert t[0][0] == pytest.approx(0.10405592) and t[1][0] == pytest.approx(0.89594408)
    # the internal interface (boundary 4) is split into 20 + 20 partnered faces
    faces = np.flatnonzero(p.geometry.bface_index == 4)
    assert len(faces) == 40
    assert set(p.geometry.bface_partner[faces]) == set(faces)
    assert p.materials[0].kappa_bulk() == pytest.approx(70.3, abs=0.05)
    assert p.materials[1].kappa_bulk() == pytest.approx(149.3, abs=0.05)
    assert any("Ge_ran.dat" in w and "heat-ratio" in w for w in p.warnings)
    assert p.mesh.scale[:2] == pytest.approx((length, length), rel=1e-15)


def check_nanoporous(p, length):
    assert p.n_bands == 12 and p.geometry.n_cells == 2467
    assert kinds(p) == {1: -1, 2: 3, 3: 2, 4: 3, 5: -1, 6: 3, 7: 2, 8: 3, 9: 2, 10: 2, 11: 2}
    assert p.boundary_conditions[1].partner == 5 and p.boundary_conditions[5].value == 1
    assert p.control.iterative_scheme == "Sequential" and p.control.order == "2"
    assert (p.ntheta, p.nphi) == (8, 8)
    assert p.mesh.scale[:2] == (length, length)
    assert p.materials[0].kappa_bulk() == pytest.approx(143.29, abs=0.01)


def check_finfet(p, length):
    assert p.geometry_dimension == 3 and p.n_bands == 15
    assert p.geometry.n_cells == 14442 and p.mesh.n_regions == 3
    assert p.region_material.tolist() == [0, 0, 0]
    assert len(p.boundary_conditions) == 18
    assert not {7, 13, 17} & set(p.boundary_conditions)       # internal, unlisted
    assert not np.isin(p.geometry.bface_index, [7, 13, 17]).any()
    assert {i for i, k in kinds(p).items() if k == 1} == {3, 8, 12, 16, 18, 19}
    # heatfile.dat: region 3 only, 1e15 W/m^3 at 1e-7 (1e17 at 1e-8, 1e19 at 1e-9)
    np.testing.assert_allclose(np.unique(p.heat_source[p.mesh.cell_region == 2]),
                               [1e15 * (1e-7 / length) ** 2], rtol=1e-12)
    assert not p.heat_source[p.mesh.cell_region != 2].any()
    assert p.mesh.scale == (length, length, length)
    assert (p.ntheta, p.nphi) == (2, 4)


def check_ttg(p, n_cells):
    assert p.control.state == "Transient" and p.n_bands == 1
    assert p.geometry.n_cells == n_cells and p.geometry_dimension == 1
    assert kinds(p) == {1: -1, 2: -1}
    assert p.boundary_conditions[1].partner == 2 and p.boundary_conditions[2].partner == 1
    assert p.control.time_step > 0 and p.control.total_time == 3e-5
    assert p.control.initial_temperature_file.name == "initial_temperature.txt"
    length = p.mesh.scale[0]
    x = p.geometry.centroid[:, 0] / length
    # the file holds cos(2 pi x) at 500 (or 1000) points: mapped to cells it stays close
    assert np.abs(p.initial_temperature - np.cos(2 * np.pi * x)).max() < 2e-3 * (500 / n_cells
                                                                                   + 1)


def check_tdtr(p, _):
    assert p.control.state == "Transient" and p.control.is_tdtr
    assert (p.control.time_step, p.control.total_time) == (1e-12, 1e-7)
    assert p.control.repetition_frequency == 80 and p.control.modulation_frequency == 10
    assert p.control.radius_probe == 3.8e-6 and p.control.t_ref == 0
    assert p.geometry.n_cells == 28595 and p.n_bands == 15 and p.mesh.n_regions == 2
    assert kinds(p) == {1: 3, 2: 3, 3: 2, 4: 3, 5: 3, 7: 1, 8: 2, 9: 1, 10: 1}
    assert p.mesh.scale == (5e-5, 5e-5, 5e-5)
    assert not p.heat_source.any()
    assert any("TDTR_3d_heatfile.txt" in w and "UniformHeat" in w for w in p.warnings)


def check_template(p, _):
    assert p.control.state == "Steady" and p.control.t_ref == 0
    assert p.control.iterative_scheme == "Sequential" and p.control.residual_flux == 1e-3
    assert p.geometry.n_cells == 500 and p.n_bands == 1
    assert p.mesh.scale == (1e-6, 0.0, 0.0)
    assert kinds(p) == {1: 1, 2: 1}
    np.testing.assert_array_equal(p.initial_temperature, 0.0)
    np.testing.assert_array_equal(p.heat_source, 0.0)


CASE_CHECKS = {
    **{f"cross-plane/{L}": (check_cross_plane, float(L)) for L in ("1e-6", "1e-7", "1e-8")},
    **{f"in-plane/{L}": (check_in_plane, float(L)) for L in ("1e-6", "1e-7", "1e-8")},
    **{f"heat-generation/{L}": (check_heat_generation, float(L))
       for L in ("1e-5", "1e-6", "2e-7")},
    **{f"interface/{n}nm": (check_interface, float(n) * 1e-9) for n in ("20", "50", "220")},
    **{f"nanoporous/{n}": (check_nanoporous, 1e-8 * float(n)) for n in ("50", "500", "5000")},
    **{f"FinFET/{L}": (check_finfet, float(L)) for L in ("1e-7", "1e-8", "1e-9")},
    **{f"TTG/2pikn={k}": (check_ttg, n) for k, n in
       (("0001", 1000), ("025", 1000), ("05", 500), ("1", 500), ("2", 500), ("5", 500),
        ("100", 100))},
    "TDTR": (check_tdtr, None),
    "template": (check_template, None),
}


@pytest.mark.parametrize("case", ALL_CASES)
def test_example_loads(case):
    problem = load(EXAMPLES / case)
    assert problem.root == EXAMPLES / case
    assert problem.heat_source.shape == (problem.geometry.n_cells,)
    assert problem.region_material.shape == (problem.mesh.n_regions,)
    assert set(np.unique(problem.geometry.bface_index)) <= set(problem.boundary_conditions)
    check, arg = CASE_CHECKS[case]
    check(problem, arg)


def test_default_input_set():
    p = load(GIFT)
    assert p.root == GIFT
    assert p.geometry.n_cells == 10 and p.n_bands == 20 and p.mesh.scale[0] == 0.5e-7
    assert p.materials[0].name == "GaN"
    assert kinds(p) == {1: 1, 2: 1}
    assert p.control.residual_temp == 1e-8 and p.control.max_num_iter == 100000
    assert any("input/materials/GaN/ShengBTEFile" in w for w in p.warnings)
    # the input/ directory itself is accepted too
    q = load(GIFT / "input")
    assert q.root == GIFT and q.geometry.n_cells == 10


def test_binning_option_keeps_kappa():
    a = load(EXAMPLES / "nanoporous" / "50")
    b = load(EXAMPLES / "nanoporous" / "50", binning="frequency")
    assert b.materials[0].kappa_bulk() == pytest.approx(a.materials[0].kappa_bulk(), rel=1e-12)
    assert not np.allclose(a.materials[0].velocity, b.materials[0].velocity)
    with pytest.raises(BTEInputError, match="binning"):
        read_input_folder(EXAMPLES / "nanoporous" / "50", binning="sorted")


# -- synthetic folders ---------------------------------------------------------------------------

CONTROL = "State=\nSteady\n"
GEOMETRY = ("GeometryDimension=\n1\nScaleX=\n1e-7\nBCFile=\ninput/bc.dat\nMeshType=\n1D\n"
            "MeshFile=\ninput/mesh.dat\n")
GRAY = "2677 39.9E-12 1.627E6 1 1"
PHONON = (f"MaterialNumber=\n1\nBandNumber=\n1\nMaterialFile 1=\n{GRAY}\n"
          "GeometryMaterialType=\n1 1\n2 1\n")
MESH = "Number_GEO=\n2\ndistribution=\n1 0.5 5\n2 1 5\n"   # 10 cells, boundary 2 at x = L/2
BC = "2 #Number of boundaries\n\nBoundaryIndex BoundaryType BoundaryValue\n1 1 301\n3 1 300\n"


def make_case(root: Path, control=CONTROL, geometry=GEOMETRY, phonon=PHONON, crlf=False,
              **files: str) -> Path:
    """Write a run directory root/input/... ; files: name -> text (name 'bc' -> bc.dat etc.)."""
    texts = {"CONTROL": control, "GEOMETRY": geometry, "PHONON": phonon, "mesh.dat": MESH,
             "bc.dat": BC}
    texts.update({name.replace("_", "."): text for name, text in files.items()})
    (root / "input").mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        if text is not None:
            (root / "input" / name).write_bytes(
                (text.replace("\n", "\r\n") if crlf else text).encode())
    return root


def raises(root, match=None) -> BTEInputError:
    with pytest.raises(BTEInputError, match=match) as err:
        load(root)
    return err.value


def test_synthetic_case_and_defaults(tmp_path):
    p = load(make_case(tmp_path, crlf=True))
    c = p.control
    assert (c.state, c.order, c.iterative_scheme, c.matrix_solver) == ("Steady", "2",
                                                                      "Sequential", "LU")
    assert (c.max_num_iter, c.residual_temp, c.residual_flux, c.t_ref) == (10000, 1e-6, 1e-4,
                                                                           300.0)
    assert c.time_step is None and c.initial_temperature_file is None and not c.is_tdtr
    assert (p.ntheta, p.nphi, p.angle_method, p.material_dimension) == (4, 4, 2, 3)
    assert p.geometry.n_cells == 10 and p.region_material.tolist() == [0, 0]
    assert p.mesh.scale == (1e-7, 1.0, 1.0)
    assert p.materials[0].velocity[0] == 2677
    # unlisted internal boundary 2 stays an ordinary interior face
    assert sorted(p.geometry.bface_index.tolist()) == [1, 3]
    assert p.boundary_conditions[1].source.endswith("bc.dat:4")
    np.testing.assert_array_equal(p.heat_source, 0.0)
    assert p.warnings == [] and p.initial_temperature is None


def test_keyword_matching_rules(tmp_path):
    control = ("State= //Steady or Transient\nSteady\n"
               "ResidualTemp= // Order of magnitude, not the Order keyword\n1e-5\n"
               "Order=//1=first order; 2=second order\n1\n"
               "!MaxNumIter=\n!7\n"
               "MaxNumIter:\n\n   50   \n"
               "Tref=\n200\nTref=\n250\n"
               "IterativeScheme=\nSynthetic\n")
    geometry = GEOMETRY.replace("ScaleX=\n1e-7\n", "ScaleX=\n2e-7\nScaleY=\n3\n")
    phonon = PHONON + "MaterialDimension=\n2\nNtheta=\n6\nNphi:\n3\nAngle_method=\n1\n"
    with pytest.warns(UserWarning, match="Tref: given 2 times"):
        p = read_input_folder(make_case(tmp_path, control, geometry, phonon, crlf=True))
    c = p.control
    assert c.order == "1" and c.residual_temp == 1e-5 and c.max_num_iter == 50
    assert c.t_ref == 250 and c.iterative_scheme == "Synthetic"
    assert p.mesh.scale == (2e-7, 3.0, 1.0)
    assert (p.material_dimension, p.ntheta, p.nphi, p.angle_method) == (2, 6, 3, 1)


def test_unknown_keywords_warn_with_suggestion(tmp_path):
    control = CONTROL + "Residualtemp=\n1e-3\nScaleX=\n5\n"
    with pytest.warns(UserWarning) as record:
        p = read_input_folder(make_case(tmp_path, control))
    messages = [str(r.message) for r in record]
    for text in messages:
        assert text in p.warnings
    assert any("CONTROL:3: Residualtemp: unknown keyword" in m and "ResidualTemp" in m
               for m in messages)
    assert any("CONTROL:5: ScaleX" in m and "belongs in GEOMETRY" in m for m in messages)
    assert p.control.residual_temp == 1e-6          # the misspelt keyword is not used


def test_missing_input_files(tmp_path):
    root = make_case(tmp_path / "a", control=None)
    err = raises(root, "missing input file")
    assert err.file.endswith("CONTROL")
    err = raises(make_case(tmp_path / "b", bc_dat=None))
    assert err.file.endswith("GEOMETRY") and err.line == 6 and err.field == "BCFile"
    assert "input/bc.dat" in err.message
    err = raises(make_case(tmp_path / "c", mesh_dat=None))
    assert err.field == "MeshFile" and err.line == 10
    with pytest.raises(BTEInputError, match="run directory"):
        load(tmp_path / "nothing")


def test_path_fallback_relative_to_input(tmp_path):
    root = make_case(tmp_path, geometry=GEOMETRY.replace("input/bc.dat", "bc.dat"))
    with pytest.warns(UserWarning, match="using .*input/bc.dat"):
        p = read_input_folder(root)
    assert kinds(p) == {1: 1, 3: 1} and len(p.warnings) == 1
    p = load(root / "input")                 # the input/ directory itself
    assert p.root == root


@pytest.mark.parametrize("drop, field", [("GeometryDimension=\n1\n", "GeometryDimension"),
                                         ("MeshType=\n1D\n", "MeshType"),
                                         ("BCFile=\ninput/bc.dat\n", "BCFile")])
def test_missing_mandatory_geometry_keyword(tmp_path, drop, field):
    err = raises(make_case(tmp_path, geometry=GEOMETRY.replace(drop, "")), "mandatory")
    assert err.field == field and err.file.endswith("GEOMETRY")


def test_missing_mandatory_phonon_keywords(tmp_path):
    err = raises(make_case(tmp_path / "a", phonon=PHONON.replace("BandNumber=\n1\n", "")))
    assert err.field == "BandNumber"
    err = raises(make_case(tmp_path / "b", phonon=PHONON.replace("MaterialNumber=\n1\n",
                                                                 "MaterialNumber=\n2\n")))
    assert err.field == "MaterialFile" and "only 1" in err.message
    err = raises(make_case(tmp_path / "c", phonon=PHONON.split("GeometryMaterialType")[0]))
    assert err.field == "GeometryMaterialType"


def test_unparsable_number_names_token(tmp_path):
    err = raises(make_case(tmp_path, geometry=GEOMETRY.replace("1e-7", "1e-7x")))
    assert err.file.endswith("GEOMETRY") and err.line == 4 and err.field == "ScaleX"
    assert "'1e-7x'" in err.message
    assert str(err).startswith(err.file + ":4: ScaleX: ")


def test_keyword_without_value(tmp_path):
    err = raises(make_case(tmp_path, control="State=\nOrder=\n2\n"), "no value")
    assert err.line == 1 and err.field == "State"


def test_invalid_choices(tmp_path):
    err = raises(make_case(tmp_path / "a", control="Order=\n3\n"))
    assert err.field == "Order" and err.line == 2
    err = raises(make_case(tmp_path / "b", geometry=GEOMETRY.replace("\n1D\n", "\nVTK\n")))
    assert err.field == "MeshType" and "'VTK'" in err.message


def test_transient_needs_time_step(tmp_path):
    control = "State=\nTransient\nTotalTime=\n1e-9\n"
    err = raises(make_case(tmp_path / "a", control), "mandatory")
    assert err.field == "TimeStep"
    p = load(make_case(tmp_path / "b", control + "TimeStep=\n1e-12\n"))
    assert p.control.state == "Transient" and p.control.time_step == 1e-12


def test_inline_table_ratio_error_and_band_count(tmp_path):
    bad = PHONON.replace(GRAY, "2677 39.9E-12 1.627E6 0.9 1")
    err = raises(make_case(tmp_path / "a", phonon=bad), "lattice-ratio")
    assert err.file.endswith("PHONON") and err.line == 6
    # DATABASE file: the error names the material file
    database = (PHONON.replace("MaterialFile 1=\n" + GRAY, "MaterialFile 1= DATABASE\nmat.dat")
                .replace("BandNumber=\n1", "BandNumber=\n2"))
    root = make_case(tmp_path / "b", phonon=database)
    (root / "mat.dat").write_text(f"{GRAY}\n100 1e-12 1 0.5 0\n")
    err = raises(root, "lattice-ratio")
    assert err.file.endswith("mat.dat")
    (root / "mat.dat").write_text(f"{GRAY}\n")
    err = raises(root, "1 bands but BandNumber is 2")
    assert err.file.endswith("mat.dat") and err.field == "BandNumber"


def test_region_without_material(tmp_path):
    err = raises(make_case(tmp_path, phonon=PHONON.replace("2 1\n", "")), "region 2")
    assert err.field == "GeometryMaterialType" and err.line == 7


def test_region_material_index_out_of_range(tmp_path):
    err = raises(make_case(tmp_path, phonon=PHONON.replace("2 1\n", "2 2\n")))
    assert err.field == "GeometryMaterialType" and err.line == 9


def test_geometry_material_first_column_ignored(tmp_path):
    two = (PHONON.replace("MaterialNumber=\n1", "MaterialNumber=\n2")
           .replace("GeometryMaterialType=\n1 1\n2 1\n",
                    f"MaterialFile 2=\n{GRAY}\nGeometryMaterialType=\n2 2\n1 1\n"))
    p = load(make_case(tmp_path, phonon=two))
    assert p.region_material.tolist() == [1, 0]
    assert sum("GeometryMaterialType: first column" in w for w in p.warnings) == 2


def test_unlisted_external_boundary(tmp_path):
    err = raises(make_case(tmp_path, bc_dat="1 #n\n\ntitle\n1 1 301\n"), "boundary 3")
    assert err.file.endswith("bc.dat") and err.field == "BoundaryIndex"


def test_bc_file_entries(tmp_path):
    err = raises(make_case(tmp_path / "a", bc_dat="3 #n\n\ntitle\n1 1 301\n3 1 300\n"),
                 "3 boundaries announced")
    assert err.line == 1
    err = raises(make_case(tmp_path / "b", bc_dat="2\n\ntitle\n1 1 301\n3 x 300\n"), "'x'")
    assert err.line == 5 and err.field == "BoundaryType"
    err = raises(make_case(tmp_path / "c", bc_dat="2\n\ntitle\n1 8 301\n3 1 300\n"))
    assert err.line == 4 and "unknown boundary type 8" in err.message


def test_periodic_partners(tmp_path):
    err = raises(make_case(tmp_path / "a", bc_dat="2\n\nt\n1 -4 0\n3 1 300\n"), "partner")
    assert err.file.endswith("bc.dat") and err.line == 4
    err = raises(make_case(tmp_path / "b", bc_dat="2\n\nt\n1 -3 0\n3 2 0\n"), "point back")
    assert err.line == 4
    p = load(make_case(tmp_path / "c", bc_dat="2\n\nt\n1 -3 1\n3 -1 0\n"))
    bc = p.boundary_conditions[1]
    assert (bc.kind, bc.partner, bc.value) == (BoundaryKind.PERIODIC, 3, 1.0)
    assert (p.geometry.bface_partner >= 0).all()


def test_mesh_dimension_mismatch(tmp_path):
    err = raises(make_case(tmp_path / "a", geometry=GEOMETRY.replace("Dimension=\n1",
                                                                     "Dimension=\n2")))
    assert err.field == "GeometryDimension"
    geometry = (GEOMETRY.replace("\n1D\n", "\nCOMSOL\n").replace("mesh.dat", "sq.mphtxt"))
    root = make_case(tmp_path / "b", geometry=geometry)
    shutil.copy(GIFT / "input" / "2D_20_20.mphtxt", root / "input" / "sq.mphtxt")
    err = raises(root)
    assert err.field == "GeometryDimension" and "GeometryDimension = 1" in err.message


INTERFACE = "0 # matter index\n0.3\n\n1 # matter\n0.7\n"


def two_material_case(root: Path, bc_line: str, **files) -> Path:
    phonon = (PHONON.replace("MaterialNumber=\n1", "MaterialNumber=\n2")
              .replace("GeometryMaterialType=\n1 1\n2 1\n",
                       "MaterialFile 2= DATABASE\n../../materials/DATABASE/Si/Si_1.dat\n"
                       "GeometryMaterialType=\n1 1\n2 2\n"))
    root = make_case(root, phonon=phonon, bc_dat=f"3\n\nt\n1 1 301\n{bc_line}\n3 1 300\n", **files)
    database = root.parent.parent / "materials" / "DATABASE" / "Si"
    database.mkdir(parents=True, exist_ok=True)
    shutil.copy(GIFT / "materials" / "DATABASE" / "Si" / "Si_1.dat", database)
    return root


def test_interface_boundary(tmp_path):
    root = two_material_case(tmp_path / "a" / "case", "2 5 0 input/iface.dat",
                             iface_dat=INTERFACE)
    p = load(root)
    bc = p.boundary_conditions[2]
    assert bc.kind == BoundaryKind.INTERFACE and bc.transmissivity[0].tolist() == [0.3]
    assert bc.transmissivity[1].tolist() == [0.7]
    faces = np.flatnonzero(p.geometry.bface_index == 2)
    assert len(faces) == 2 and set(p.geometry.bface_partner[faces]) == set(faces)
    assert p.region_material.tolist() == [0, 1] and p.materials[1].name == "Si_1"


def test_interface_without_file(tmp_path):
    err = raises(two_material_case(tmp_path / "a" / "case", "2 5 0"), "4th token")
    assert err.file.endswith("bc.dat") and err.line == 5
    err = raises(two_material_case(tmp_path / "b" / "case", "2 5 0 input/none.dat"))
    assert err.field == "interface file" and err.line == 5
    err = raises(two_material_case(tmp_path / "c" / "case", "2 5 0 input/iface.dat",
                                   iface_dat="0 # matter\n0.3\n0.5\n"), "2 transmissivities")


def test_heat_region_file_and_uniform_fallback(tmp_path):
    geometry = GEOMETRY + "HeatType=\nREGION\nHeatFile=\ninput/heat.dat\n"
    p = load(make_case(tmp_path / "a", geometry=geometry,
                       heat_dat="2 #regions\n7 5e14\n9 1e15"))
    np.testing.assert_array_equal(p.heat_source, [5e14] * 5 + [1e15] * 5)
    root = make_case(tmp_path / "b", geometry=geometry + "UniformHeat=\n3e14\n")
    with pytest.warns(UserWarning, match="cannot open 'input/heat.dat'"):
        p = read_input_folder(root)
    np.testing.assert_array_equal(p.heat_source, 3e14)
    p = load(make_case(tmp_path / "c", geometry=GEOMETRY + "UniformHeat=\n2e14\n"))
    np.testing.assert_array_equal(p.heat_source, 2e14)
    err = raises(make_case(tmp_path / "d", geometry=geometry.replace("REGION", "POINTS"),
                           heat_dat="2\n1 1\n2 2\n"))
    assert err.field == "HeatType"


def test_heat_coordinate_exact_and_inverse_distance(tmp_path):
    geometry = GEOMETRY + "HeatType=\nCOORDINATE\nHeatFile=\ninput/heat.dat\n"
    # exact match at the 11 vertices x_k = k/10: Q = 10 x -> cell k has (k + k+1)/2
    exact = "% Nodes: 11\n" + "".join(f"{k / 10}\t{k}\n" for k in range(11))
    p = load(make_case(tmp_path / "a", geometry=geometry, heat_dat=exact))
    np.testing.assert_allclose(p.heat_source, np.arange(10) + 0.5, rtol=1e-12)
    # points at the cell centres (k + 0.5)/10 with Q = k: vertex 0 (distances 0.05, 0.15 from
    # points 0 and 1) -> (0/0.05 + 1/0.15)/(1/0.05 + 1/0.15) = 0.25; vertex 1 (0.05, 0.05)
    # -> 0.5; so cell 0 = 0.375
    centres = "% Model\n% Nodes:  10\n" + "".join(f"{(k + 0.5) / 10} {k}\n" for k in range(10))
    p = load(make_case(tmp_path / "b", geometry=geometry, heat_dat=centres))
    assert p.heat_source[0] == pytest.approx(0.375)
    assert p.heat_source[4] == pytest.approx(4.0)


def test_initial_temperature_file(tmp_path):
    control = "State=\nTransient\nTimeStep=\n1e-12\nTotalTime=\n1e-9\n" \
              "InitialTemperatureFile=\ninput/t0.txt\n"
    t0 = "% Nodes: 11\n" + "".join(f"{k / 10} {300 + k}\n" for k in range(11))
    p = load(make_case(tmp_path / "a", control, t0_txt=t0))
    np.testing.assert_allclose(p.initial_temperature, 300.5 + np.arange(10), rtol=1e-12)
    assert p.control.initial_temperature_file == tmp_path / "a" / "input" / "t0.txt"
    err = raises(make_case(tmp_path / "b", control))
    assert err.field == "InitialTemperatureFile" and err.line == 8
    err = raises(make_case(tmp_path / "c", control, t0_txt="% Nodes: 3\n0 1\n0.5 2\n"), "3 points")
    assert err.file.endswith("t0.txt")
