"""Numba's cached machine code, kept only while the code it was compiled from is unchanged.

Numba keys a cached function on its own source file.  But compiled code also freezes in the
module globals it reads (the parameter and lever indices, the stage table, the report's
buckets, days per month) and the machine code of the functions it calls from other files (the
engine holds the rules'), so an edit to any of those leaves a cache that looks fresh and is
wrong.  The workbench's compiled functions are therefore cached with a stamp that adds a
fingerprint of every source file compiled code can depend on (:data:`COMPILED_SOURCES`): after
any edit there, each function is compiled afresh and its cache overwritten; nothing is deleted.

:func:`fingerprint_caches` puts the stamp in place; ``workbench/__init__.py`` calls it before any
compiled function is defined (Numba picks a function's cache locator when it is decorated).
Functions outside the workbench keep Numba's own locators.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from numba.core import caching

PACKAGE = Path(__file__).resolve().parent.parent

#: The sources compiled code is made from, or reads frozen values from, relative to the package.
COMPILED_SOURCES = (
    "core/counters.py",
    "core/timeline.py",
    "inputs/parameters.py",
    "inputs/levers.py",
    "inputs/parties.py",
    "inputs/report_categories.py",
    "simulation/*.py",
    "observation/*.py",
)


@functools.cache
def code_fingerprint() -> str:
    """A hash of every file of :data:`COMPILED_SOURCES` (names and contents)."""
    digest = hashlib.sha256()
    for pattern in COMPILED_SOURCES:
        for source in sorted(PACKAGE.glob(pattern)):
            digest.update(source.relative_to(PACKAGE).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


class FingerprintedLocator(caching._CacheLocator):
    """The locator Numba would choose for a workbench function, with the code fingerprint in its stamp."""

    def __init__(self, inner: Any):
        self._inner = inner
        self._py_file = getattr(inner, "_py_file", None)  # Numba's messages name the source file

    def ensure_cache_path(self) -> None:
        self._inner.ensure_cache_path()

    def get_cache_path(self) -> str:
        return self._inner.get_cache_path()

    def get_source_stamp(self) -> Any:
        return (self._inner.get_source_stamp(), code_fingerprint())

    def get_disambiguator(self) -> str:
        return self._inner.get_disambiguator()

    @classmethod
    def from_function(cls, py_func: Any, py_file: str) -> FingerprintedLocator | None:
        if not Path(py_file).resolve().is_relative_to(PACKAGE):
            return None
        for numba_locator in _NUMBA_LOCATORS:
            inner = numba_locator.from_function(py_func, py_file)
            if inner is not None:
                return cls(inner)
        return None


_NUMBA_LOCATORS: tuple[Any, ...] = tuple(caching.CacheImpl._locator_classes)


def fingerprint_caches() -> None:
    """Cache the workbench's compiled functions under :class:`FingerprintedLocator` (once)."""
    if caching.CacheImpl._locator_classes[0] is not FingerprintedLocator:
        caching.CacheImpl._locator_classes.insert(0, FingerprintedLocator)  # type: ignore[arg-type]
