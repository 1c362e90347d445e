"""The GiftBTE file format: the reader of input folders (CONTROL, GEOMETRY, PHONON and the files
they name; bte.giftbte.reader) and the writers of those files and of COMSOL/1D meshes
(bte.giftbte.writer), in one place.  Importing the package loads neither (the reader needs numba,
the writers only numpy)."""
from __future__ import annotations

from pathlib import Path


def read_input_folder(path: str | Path, **kwargs):
    """Read a GiftBTE run directory; see :func:`bte.giftbte.reader.read_input_folder`."""
    from .reader import read_input_folder as _read
    return _read(path, **kwargs)


__all__ = ["read_input_folder"]
