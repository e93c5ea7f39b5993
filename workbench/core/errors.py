"""One error type for every bad input the workbench reads.

A planner who mistypes a field must learn *which file*, *which field* and *what is
allowed*, never see a traceback from deep inside pandas or SimPy.  Every loader raises
:class:`InputError`; the command line turns it into one line on stderr and exit status 2.
"""

from __future__ import annotations

import tomllib
from pathlib import Path


class InputError(ValueError):
    """A file or value the workbench cannot accept.

    ``source`` is the file (or "parameters" for values given in code), ``field`` the key,
    column or row at fault, ``problem`` what is wrong and ``allowed`` what would be accepted.
    """

    def __init__(self, source: str | Path, field: str, problem: str, allowed: str | None = None):
        self.source = str(source)
        self.field = field
        self.problem = problem
        self.allowed = allowed
        message = f"{self.source}: {field}: {problem}"
        if allowed:
            message += f" (allowed: {allowed})"
        super().__init__(message)

    def __reduce__(self) -> tuple:
        # Rebuilt from its four parts, so that an error raised in a worker process crosses back
        # to the parent intact (the default pickles only the message and fails to rebuild).
        return (type(self), (self.source, self.field, self.problem, self.allowed))


def read_toml(path: Path, what: str) -> dict:
    """Parse a TOML input file; a missing, non-UTF-8 or malformed file is an InputError naming it."""
    if not path.is_file():
        raise InputError(path, "(file)", f"{what} file not found", "an existing .toml file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(path, "(file)", f"not valid TOML: {err}", "TOML 1.0") from None
