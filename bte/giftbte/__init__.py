"""The GiftBTE file format: the reader of input folders (CONTROL, GEOMETRY, PHONON and the files
they name) and the writers of those files and of COMSOL/1D meshes, in one place."""
from .reader import read_input_folder

__all__ = ["read_input_folder"]
