"""Priors of the calibrated parameters, read from ``calibration/priors.toml`` and validated."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import InputError, read_toml
from workbench.core.paths import PRIORS_FILE
from workbench.inputs.parameters import Parameters

DEFAULT_PRIORS = PRIORS_FILE
DISTRIBUTIONS = ("uniform", "loguniform")


@dataclass(frozen=True)
class Prior:
    name: str
    distribution: str
    low: float
    high: float
    why: str

    def sd(self) -> float:
        """Standard deviation of the prior (on the parameter's own scale)."""
        if self.distribution == "uniform":
            return (self.high - self.low) / math.sqrt(12)
        a, b = math.log(self.low), math.log(self.high)
        mean = (self.high - self.low) / (b - a)
        second = (self.high**2 - self.low**2) / (2 * (b - a))
        return math.sqrt(max(second - mean**2, 0.0))


@dataclass(frozen=True)
class Priors:
    priors: tuple[Prior, ...]
    path: Path
    sha256: str

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.priors]

    def __getitem__(self, name: str) -> Prior:
        return next(p for p in self.priors if p.name == name)


def load_priors(path: str | Path = DEFAULT_PRIORS) -> Priors:
    path = Path(path)
    doc = read_toml(path, "priors")
    raw = path.read_bytes()
    for key in doc:
        if key != "prior":
            raise InputError(path, key, "unknown table", "[[prior]] entries")
    entries = doc.get("prior")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise InputError(path, "prior", "no [[prior]] entries", "one [[prior]] table per calibrated parameter")
    spec = Parameters.describe()
    priors, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"prior[{i}]"
        for key in entry:
            if key not in ("name", "distribution", "low", "high", "why"):
                raise InputError(path, f"{where}.{key}", "unknown field", "name, distribution, low, high, why")
        name = entry.get("name")
        if not isinstance(name, str) or name not in spec:
            raise InputError(path, f"{where}.name", f"{name!r} is not a parameter", "a name listed by `workbench parameters`")
        where = f"prior[{i}] ({name})"
        if name in seen:
            raise InputError(path, where, "parameter given twice", "one prior per parameter")
        if spec[name]["integer"]:
            raise InputError(path, where, "whole-number parameters cannot be calibrated here", "a continuous parameter")
        seen.add(name)
        dist = entry.get("distribution")
        if dist not in DISTRIBUTIONS:
            raise InputError(path, f"{where}.distribution", f"{dist!r} is not supported", ", ".join(DISTRIBUTIONS))
        bounds = []
        for key in ("low", "high"):
            value = entry.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(path, f"{where}.{key}", f"expected a finite number, got {value!r}", "a number")
            bounds.append(float(value))
        low, high = bounds
        allowed = f"{spec[name]['low']} <= low < high <= {spec[name]['high']}"
        if not (spec[name]["low"] <= low < high <= spec[name]["high"]):
            raise InputError(path, f"{where}.low/high", f"[{low}, {high}] is not inside the parameter's range", allowed)
        if dist == "loguniform" and low <= 0:
            raise InputError(path, f"{where}.low", "a log-uniform prior needs low > 0", "low > 0")
        why = entry.get("why")
        if not isinstance(why, str) or not why.strip():
            raise InputError(path, f"{where}.why", "missing the reasoning", "one line saying what motivates the prior")
        priors.append(Prior(name, dist, low, high, why))
    return Priors(tuple(priors), path, hashlib.sha256(raw).hexdigest())
