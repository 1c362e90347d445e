"""Compatibility name: the GiftBTE reader lives in :mod:`bte.giftbte.reader`."""
from .giftbte.reader import read_input_folder

__all__ = ["read_input_folder"]
