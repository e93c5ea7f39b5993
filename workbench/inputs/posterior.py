"""The fitted posterior: load it, draw one parameter set per replication, say where it came from.

Forecasting meets calibration only here: this module reads the exported table of weighted
particles (``calibration/posterior/particles.csv``) and its provenance, and needs no ABC
library.  Replication *i* draws its particle from its own seed, so the draw is the same
whatever the number of replications or workers, and the same in a scenario as in the
baseline (common random numbers extend to parameter uncertainty).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.core.counters import POSTERIOR_DRAW, replication_key, stream_seed, uniform_at
from workbench.core.errors import InputError
from workbench.core.paths import POSTERIOR_DIR
from workbench.inputs.parameters import Parameters

DEFAULT_POSTERIOR = POSTERIOR_DIR


@dataclass(frozen=True)
class Posterior:
    names: tuple[str, ...]
    values: np.ndarray  # (n_particles, n_parameters)
    weights: np.ndarray  # (n_particles,), sums to 1
    provenance: dict
    path: Path
    structures: np.ndarray | None = None  # (n_particles,) the model structure of each particle, if several were fitted
    only: str | None = None  # the structure this posterior was restricted to, if any

    @property
    def label(self) -> str:
        p = self.provenance
        which = f"structure {self.only}, " if self.only else ("model average, " if self.structure_names() else "")
        return (
            f"posterior {self.path.name}/ ({which}ABC-SMC, {len(self.weights)} particles, generation "
            f"{p.get('generations_run', '?')}, seed {p.get('seed', '?')}, {p.get('created', '?')[:10]})"
        )

    def draw_index(self, seed: np.random.SeedSequence) -> int:
        """The particle a replication draws, with probability equal to its weight, from its own seed."""
        u = uniform_at(np.uint64(stream_seed(replication_key(seed), POSTERIOR_DRAW, 0)), 0)
        cumulative, total = self._cumulative_weights
        return min(int(np.searchsorted(cumulative, u * total, side="right")), len(self.weights) - 1)

    @functools.cached_property
    def _cumulative_weights(self) -> tuple[np.ndarray, float]:
        """The weights' running sum and total, computed once rather than in every draw."""
        return np.cumsum(self.weights), self.weights.sum()

    def particle(self, index: int) -> dict[str, float]:
        """The parameter values of particle ``index``."""
        return {name: float(v) for name, v in zip(self.names, self.values[index])}

    def structure_names(self) -> list[str]:
        """The structures present, most probable first (empty for a single-structure posterior)."""
        if self.structures is None:
            return []
        probabilities = self.structure_probabilities()
        return sorted(probabilities, key=lambda k: -probabilities[k])

    def structure_probabilities(self) -> dict[str, float]:
        """Posterior probability of each structure: the total weight of its particles."""
        if self.structures is None:
            return {}
        return {str(k): float(self.weights[self.structures == k].sum()) for k in np.unique(self.structures)}

    def restricted(self, structure: str) -> Posterior:
        """The posterior of one structure alone (its particles, weights renormalized)."""
        if self.structures is None or structure not in set(self.structures):
            present = ", ".join(self.structure_names()) or "none (a single-structure posterior)"
            raise InputError(self.path / "particles.csv", "structure", f"no particles of structure {structure!r}", present)
        keep = self.structures == structure
        w = self.weights[keep]
        return Posterior(self.names, self.values[keep], w / w.sum(), self.provenance, self.path, self.structures[keep], structure)

    def mean(self) -> dict[str, float]:
        return {name: float(np.sum(self.weights * self.values[:, j])) for j, name in enumerate(self.names)}

    def sd(self) -> dict[str, float]:
        """Each parameter's weighted standard deviation."""
        mean = self.mean()
        spread = {name: float(np.sum(self.weights * (self.values[:, j] - mean[name]) ** 2)) for j, name in enumerate(self.names)}
        return {name: math.sqrt(max(variance, 0.0)) for name, variance in spread.items()}

    def table(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.values, columns=list(self.names))
        frame.insert(0, "weight", self.weights)
        return frame


def load_posterior(path: str | Path = DEFAULT_POSTERIOR) -> Posterior:
    """Read and validate an exported posterior folder (particles.csv + provenance.json)."""
    path = Path(path)
    particles, provenance = path / "particles.csv", path / "provenance.json"
    for f in (particles, provenance):
        if not f.is_file():
            raise InputError(f, "(file)", "posterior file not found", "a folder written by `workbench calibrate`")
    try:
        frame = pd.read_csv(particles)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise InputError(particles, "(file)", f"not a readable CSV: {err}", "CSV with weight and parameter columns") from None
    try:
        meta = json.loads(provenance.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(provenance, "(file)", f"not valid JSON: {err}", "the provenance written by calibrate") from None
    if "weight" not in frame.columns:
        raise InputError(particles, "weight", "missing column", "weight plus one column per parameter")
    names = tuple(c for c in frame.columns if c not in ("weight", "generation", "structure"))
    known = set(Parameters.names())
    for name in names:
        if name not in known:
            raise InputError(particles, name, "unknown parameter column", "parameter names (`workbench parameters`)")
    if not names or frame.empty:
        raise InputError(particles, "(rows)", "no particles", "at least one particle")
    for column in ("weight", *names):
        numeric = pd.to_numeric(frame[column], errors="coerce")
        if numeric.isna().any():
            row = int(numeric.isna().to_numpy().nonzero()[0][0]) + 2
            raise InputError(particles, f"{column} (line {row})", "not a number", "numbers in every particle row")
        frame[column] = numeric
    weights = frame["weight"].to_numpy(dtype=float)
    if not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.max() <= 0:
        raise InputError(particles, "weight", "weights must be finite, non-negative and not all zero", "weights >= 0")
    # Relative weights are what count: scaled by the largest first, so that weights near 1e308 do
    # not overflow their sum (which once made every replication draw the last particle).
    weights = weights / weights.max()
    weights = weights / weights.sum()
    values = frame[list(names)].to_numpy(dtype=float)
    spec = Parameters.describe()
    for j, name in enumerate(names):
        col = values[:, j]
        if not np.all(np.isfinite(col)) or col.min() < spec[name]["low"] or col.max() > spec[name]["high"]:
            raise InputError(
                particles, name, "values outside the parameter's range", f"{spec[name]['low']} to {spec[name]['high']} {spec[name]['unit']}"
            )
    if not isinstance(meta, dict):
        raise InputError(provenance, "(file)", f"a JSON {type(meta).__name__}, not an object", "the provenance written by calibrate")
    _check_calibrated_columns(names, meta, particles)
    structures = None
    if "structure" in frame.columns:
        structures = frame["structure"].astype(str).to_numpy()
        if (frame["structure"].isna()).any():
            row = int(frame["structure"].isna().to_numpy().nonzero()[0][0]) + 2
            raise InputError(particles, f"structure (line {row})", "empty", "the name of the particle's model structure")
    return Posterior(names, values, weights / weights.sum(), meta, path, structures)


def _check_calibrated_columns(names: tuple[str, ...], meta: dict, particles: Path) -> None:
    """Every parameter the run calibrated (its priors file, as the provenance records it) has a column."""
    from workbench.core.provenance import resolve
    from workbench.inputs.priors import load_priors

    record = meta.get("priors")
    if not isinstance(record, dict) or not isinstance(record.get("file"), str):
        return  # a posterior built elsewhere: its columns are all there is to check
    path = resolve(record["file"])
    if not path.is_file():
        return
    missing = [name for name in load_priors(path).names if name not in names]
    if missing:
        raise InputError(
            particles, ", ".join(missing), "missing column of a calibrated parameter", f"one column per prior in {record['file']}"
        )


def shipped_posterior() -> Posterior | None:
    """The committed posterior, or None where none has been shipped yet."""
    if (DEFAULT_POSTERIOR / "particles.csv").is_file():
        return load_posterior(DEFAULT_POSTERIOR)
    return None
