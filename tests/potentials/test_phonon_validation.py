"""The ``[phonons]`` validation of training (fc2/fc3 errors and κ of a model during training)."""
from __future__ import annotations

import copy
import tomllib

import pytest
import torch

from potentials.model_files import load_model
from potentials.phonon_validation import PhononValidation, kappa_rta

from potentials_refdata import DATA, KAPPA_DFT_RTA_300K_11


@pytest.fixture(scope="module")
def validation() -> PhononValidation:
    section = tomllib.loads((DATA / "si_train.toml").read_text())["phonons"]
    return PhononValidation(section, DATA)


def test_reference_force_constants_give_the_dft_kappa(validation):
    """The reference fc2/fc3 it compares models with are phono3py's DFT ones: κ = 108.98 W/mK."""
    kappa = kappa_rta(validation.phono3py, validation.fc2_ref, validation.fc3_ref,
                      [11, 11, 11], 300.0)
    assert kappa == pytest.approx(KAPPA_DFT_RTA_300K_11, rel=1e-3)


def test_float32_training_model_is_validated_in_float64(validation):
    """A float32 model (``dtype = "float32"`` training) gets the metrics of its float64 copy,
    the precision the shipped model runs in, and is left in float32."""
    model32 = load_model("si").to(torch.float32)
    model64 = copy.deepcopy(model32).to(torch.float64)   # the same (float32-rounded) weights
    metrics32 = validation.metrics(model32)
    metrics64 = validation.metrics(model64)
    assert next(model32.parameters()).dtype == torch.float32
    for key in ("fc2_error", "fc3_error", "kappa"):
        assert metrics32[key] == pytest.approx(metrics64[key], rel=1e-9), key
    assert metrics64["kappa_error"] == pytest.approx(
        abs(metrics64["kappa"] / KAPPA_DFT_RTA_300K_11 - 1.0), rel=1e-12)
