"""The small common core every package may use: the input-error base class, the TOML/section
reader, atomic file writing and the diagnostics logger.  Standard library and numpy only, so
``bte`` and ``nad`` stay light to import."""
from .atomic import (
                     TMP_PREFIX,
                     atomic_path,
                     remove_stale_temporaries,
                     temporary_name,
                     write_files_atomically,
)
from .errors import InputError
from .log import configure_logging, get_logger
from .settings import Section, read_toml

__all__ = ["InputError", "Section", "read_toml", "atomic_path", "temporary_name",
           "write_files_atomically", "remove_stale_temporaries", "TMP_PREFIX", "get_logger",
           "configure_logging"]
