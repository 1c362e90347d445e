"""The ``[phonons]`` validation of training (fc2/fc3 errors and κ of a model during training)."""
from __future__ import annotations

import copy
import tomllib

import numpy as np
import pytest
import torch
from potentials_refdata import DATA, KAPPA_DFT_RTA_300K_11

from potentials.model_files import load_model
from potentials.phonon_validation import PhononValidation


@pytest.fixture(scope="module")
def validation() -> PhononValidation:
    section = tomllib.loads((DATA / "si_train.toml").read_text())["phonons"]
    return PhononValidation(section, DATA)


def test_reference_force_constants_score_zero_and_give_the_dft_kappa(validation):
    """The reference fc2/fc3 it compares models with are phono3py's DFT ones: κ = 108.98 W/mK."""
    values = validation.force_constant_metrics(validation.fc2_ref, validation.fc3_ref)
    assert values["fc2_error"] == values["fc2_far_error"] == values["fc3_error"] == 0.0
    assert values["kappa"] == pytest.approx(KAPPA_DFT_RTA_300K_11, rel=1e-3)
    assert values["kappa_error"] < 1e-3


def test_fc2_errors_split_at_the_third_shell(validation):
    """fc2_error covers the atom itself and the 4 + 12 + 12 neighbours of the first three
    diamond shells (2.35, 3.84, 4.50 Å < 4.6 Å); fc2_far_error the other 35 atoms of the
    64-atom supercell, whatever happens within the shells."""
    assert validation.mask2.sum(axis=1).tolist() == [29, 29]
    fc2 = validation.fc2_ref.copy()
    fc2[validation.mask2] *= 0.95
    fc2[~validation.mask2] *= 1.1
    values = validation.force_constant_metrics(fc2, validation.fc3_ref)
    assert values["fc2_error"] == pytest.approx(0.05, rel=1e-9)
    assert values["fc2_far_error"] == pytest.approx(0.1, rel=1e-9)
    assert values["fc3_error"] == 0.0


def test_force_constants_of_another_supercell_are_refused(validation):
    """Force constants of another shape (here full instead of compact fc2) are a clear error,
    not a broadcasting accident in the masks."""
    with pytest.raises(ValueError, match=r"fc2: shape \(64, 64, 3, 3\).*phono3py_disp.yaml.*"
                                         r"\(2, 64, 3, 3\)"):
        validation.force_constant_metrics(np.zeros((64, 64, 3, 3)), validation.fc3_ref)


def test_float32_training_model_is_validated_in_float64(validation):
    """A float32 model (``dtype = "float32"`` training) gets the metrics of its float64 copy,
    the precision the shipped model runs in, and is left in float32."""
    model32 = load_model("si").to(torch.float32)
    model64 = copy.deepcopy(model32).to(torch.float64)   # the same (float32-rounded) weights
    metrics32 = validation.metrics(model32)
    metrics64 = validation.metrics(model64)
    assert next(model32.parameters()).dtype == torch.float32
    for key in ("fc2_error", "fc2_far_error", "fc3_error", "kappa"):
        assert metrics32[key] == pytest.approx(metrics64[key], rel=1e-9), key
    assert metrics64["kappa_error"] == pytest.approx(
        abs(metrics64["kappa"] / KAPPA_DFT_RTA_300K_11 - 1.0), rel=1e-12)
