"""The input error of the NA-MD code (one class, shared by every ``nad`` module)."""
from __future__ import annotations

from mtscore import InputError


class NADInputError(InputError):
    """Inconsistent or unphysical input to the NA-MD code; the message names the field."""
