"""Model files: ``NAME.pt`` (a plain state dict) beside ``NAME.json`` (the model config).

Loading uses ``torch.load(..., weights_only=True)``, so a model file can never execute code: one
that holds code is refused (:class:`ModelFileError`).
Shipped models are looked up by name (``"si"``) in this package's ``data/`` folder.
"""
from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import torch

from mtscore import InputError
from potentials.model import EquivariantPotential, ModelConfig

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_MODELS = {"si": DATA_DIR / "si_model.pt"}


class ModelFileError(InputError):
    """A model weights or checkpoint file that is refused or cannot be read."""


def load_weights(path: str | Path) -> Any:
    """The tensors saved in ``path`` (a state dict or a training checkpoint), loaded with
    ``weights_only=True``: a file that holds pickled code (objects other than tensors and plain
    containers) is refused with a :class:`ModelFileError`, never executed."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's own message suggests loading it with weights_only=False, which would run the
        # code: that advice is not passed on
        raise ModelFileError("the file holds code (pickled Python objects, not only tensors) "
                             "and was refused: model and checkpoint files must hold tensors "
                             "only; write them with potentials.save_model", path) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise ModelFileError(f"cannot read as a torch weights file: {exc}", path) from None


def save_model(model: EquivariantPotential, path: str | Path, metadata: dict | None = None) -> Path:
    """Write ``path`` (.pt state dict) and the config beside it (.json); return the .pt path."""
    path = Path(path).with_suffix(".pt")
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    torch.save(state, path)
    document = {"model": model.config.to_dict(), "metadata": metadata or {}}
    path.with_suffix(".json").write_text(json.dumps(document, indent=2) + "\n")
    return path


def resolve_model_path(path_or_name: str | Path) -> Path:
    """The .pt file of a shipped model name or of a user path (with or without suffix)."""
    key = str(path_or_name)
    if key.lower() in SHIPPED_MODELS:
        return SHIPPED_MODELS[key.lower()]
    path = Path(path_or_name)
    if path.suffix != ".pt":
        path = path.with_suffix(".pt")
    if not path.is_file():
        raise FileNotFoundError(
            f"no model file {path} (and {key!r} is not a shipped model: "
            f"{', '.join(SHIPPED_MODELS)})")
    if not path.with_suffix(".json").is_file():
        raise FileNotFoundError(f"model config {path.with_suffix('.json')} missing beside {path}")
    return path


def load_model(path_or_name: str | Path = "si") -> EquivariantPotential:
    """Load a model (float64, CPU, eval mode) from a .pt/.json pair or a shipped name such as
    ``"si"``; :class:`ModelFileError` for a weights file that holds code."""
    path = resolve_model_path(path_or_name)
    document = json.loads(path.with_suffix(".json").read_text())
    model = EquivariantPotential(ModelConfig.from_dict(document["model"])).to(torch.float64)
    model.load_state_dict(load_weights(path))
    model.metadata = document.get("metadata", {})
    return model.eval()
