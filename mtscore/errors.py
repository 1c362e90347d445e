"""One base class for every input error of the suite.

Each package's own input errors (``bte.BTEInputError``, ``workflows.config.ConfigError``,
``potentials.DatasetError``, ``nad.NADInputError``, ...) derive from :class:`InputError`, so a
caller (the ``mts`` command above all) can catch bad input in one place and print one line
``file:line: key: message``.
"""
from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input.  ``file`` is the file at fault (None when the input came from Python), ``line``
    its 1-based line (None when unknown), ``key`` the setting, keyword or field at fault."""

    def __init__(self, message: str, file: str | Path | None = None, line: int | None = None,
                 key: str | None = None):
        self.message = str(message)
        self.file = None if file is None else str(file)
        self.line = line
        self.key = key
        super().__init__(str(self))

    @property
    def field(self) -> str | None:
        """The key at fault (GiftBTE calls its settings fields)."""
        return self.key

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        what = f"{self.key}: " if self.key else ""
        return f"{where}{what}{self.message}"

    def located(self, file: str | Path | None = None, line: int | None = None) -> InputError:
        """The same error with ``file`` and ``line`` filled in where they were unknown: a reader
        that calls a Python-level builder adds where in its file the setting came from."""
        return type(self)(self.message, self.file if self.file is not None else file,
                          self.line if self.line is not None else line, self.key)
