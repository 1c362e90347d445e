"""One reader for TOML settings files (study files, training recipes, batch files): parse a file,
then take typed values from its tables with errors that name the file and the key.

Every number read through :class:`Section` is finite: TOML allows ``inf`` and ``nan``, no
setting of the suite does.
"""
from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from .errors import InputError

_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
          dict: "a table", list: "a list"}


def read_toml(path: str | Path, error: type[InputError] = InputError) -> dict:
    """The parsed TOML file at ``path``; ``error`` naming the file when it cannot be read, is not
    text, or is not valid TOML."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise error("not a text file (TOML expected)", path) from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"invalid TOML: {exc}", path) from None


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds:
        kinds = tuple(k for k in kinds if k is not int)     # an integer is a number too
    return " or ".join(_NAMES.get(k, k.__name__) for k in kinds)


def _is_kind(item: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(item, bool) and bool not in kinds:
        return False                       # TOML true is not the number 1
    return isinstance(item, kinds)


class Section:
    """Typed access to one table of a settings file.

    ``where`` is the table's dotted name ("" for the top level), ``source`` the file name used in
    messages and ``error`` the :class:`InputError` subclass raised.  Call :meth:`check_unknown`
    after the last :meth:`get` to reject misspelt keys.
    """

    def __init__(self, data: Any, where: str, source: str | Path | None,
                 error: type[InputError] = InputError):
        self.where, self.source, self.error = where, None if source is None else str(source), error
        if not isinstance(data, dict):
            raise error("expected a table", self.source, None, f"[{where}]")
        self.data = data
        self.used: set[str] = set()

    def name(self, key: str) -> str:
        """The dotted name of ``key`` in messages."""
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, problem: str) -> InputError:
        """The error for ``key`` (to raise)."""
        return self.error(problem, self.source, None, self.name(key))

    def table(self, key: str, required: bool = False) -> Section:
        """The sub-table ``key`` as a Section (empty when absent and not required)."""
        return Section(self.get(key, dict, {}, required=required), self.name(key), self.source,
                       self.error)

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None, *,
            required: bool = False, length: int | None = None, positive: bool = False,
            minimum: float | None = None, maximum: float | None = None,
            choices: tuple[str, ...] | None = None) -> Any:
        """The value of ``key`` checked to be ``kind`` (a list of ``kind`` of ``length`` items
        when ``length`` is given; any length when ``kind`` is ``list``).  Numbers must be finite,
        > 0 with ``positive``, within [``minimum``, ``maximum``] when given.  Lists come back
        as tuples; an absent key gives ``default`` (or an error when ``required``)."""
        self.used.add(key)
        if key not in self.data:
            if required:
                raise self.fail(key, "missing (required)")
            return default
        value = self.data[key]
        is_list = length is not None or kind is list
        if is_list:
            if not isinstance(value, list) or (length is not None and len(value) != length):
                raise self.fail(key, f"expected a list of {length or 'some'} "
                                     f"{'numbers' if kind is list else _type_name(kind)}, "
                                     f"got {value!r}")
            kind = (int, float) if kind is list else kind
        for item in (value if is_list else [value]):
            if not _is_kind(item, kind):
                raise self.fail(key, f"expected {_type_name(kind)}, got {item!r}")
            self._check_number(key, item, positive, minimum, maximum)
        if choices is not None and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return tuple(value) if isinstance(value, list) else value

    def _check_number(self, key: str, item: Any, positive: bool, minimum: float | None,
                      maximum: float | None) -> None:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            return
        if not math.isfinite(item):
            raise self.fail(key, f"must be a finite number, got {item!r}")
        if positive and not item > 0:
            raise self.fail(key, f"must be positive, got {item!r}")
        if minimum is not None and item < minimum:
            raise self.fail(key, f"must be at least {minimum:g}, got {item!r}")
        if maximum is not None and item > maximum:
            raise self.fail(key, f"must be at most {maximum:g}, got {item:g}")

    def check_unknown(self) -> None:
        """Raise for the first key that no :meth:`get` asked for (a misspelling)."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise self.fail(unknown[0], "unknown key")
