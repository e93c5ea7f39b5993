"""What each lever costs: the effort model of planning (``scenarios/planning/effort.toml``).

The report says what the Secretariat does but never what it costs, so every number here is a
planner's assumption, kept in one documented file.  A lever is used at an *intensity* from 0
(no change) to 1 (the most a plan may ask); each of its effects moves on a straight line
between its values at those two ends.  Its effort is a one-off set-up plus a yearly effort
proportional to the intensity, to the share of reviews it reaches, and to the years it runs.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import InputError, read_toml
from workbench.core.paths import EFFORT_FILE
from workbench.core.timeline import DAYS_PER_YEAR
from workbench.inputs.levers import LEVER_TYPES
from workbench.inputs.parties import REPORTED_GROUPS

#: Whom a planned lever may be aimed at, and the share of the 189 reviews each reaches (¶7).
TARGET_REACH = {"all": 1.0, "group 1": REPORTED_GROUPS[1][0] / sum(n for n, _ in REPORTED_GROUPS.values())}


@dataclass(frozen=True)
class LeverEffort:
    """One lever's effects along its intensity, and what it costs."""

    lever: str
    effects: dict[str, tuple[float, float]]  # effect field -> (value at intensity 0, value at intensity 1)
    per_year: float
    setup: float
    targets: tuple[str, ...]
    reasoning: str

    def effect_values(self, intensity: float) -> dict[str, float | int]:
        """Each effect's value at ``intensity`` (whole numbers stay whole: officers)."""
        _, ranges = LEVER_TYPES[self.lever]
        values: dict[str, float | int] = {}
        for name, (at_zero, at_one) in self.effects.items():
            value = at_zero + intensity * (at_one - at_zero)
            low, high, _ = ranges[name]
            if isinstance(low, int) and isinstance(high, int):
                values[name] = int(round(value))
            else:
                values[name] = round(float(value), 4)  # a scenario file shows 0.86, not 0.8599999999999999
        return values

    def effort(self, intensity: float, target: str, start: dt.date, until: dt.date) -> float:
        """Set-up plus the yearly effort for the years from ``start`` to ``until``; 0 when unused."""
        if intensity <= 0:
            return 0.0
        years = max(0.0, (until - start).days / DAYS_PER_YEAR)
        return self.setup + self.per_year * intensity * TARGET_REACH[target] * years


@dataclass(frozen=True)
class EffortModel:
    unit: str
    levers: dict[str, LeverEffort]
    path: Path | None = None


#: The most one lever may cost a year (or to set up), in the file's unit: a thousand times the
#: Secretariat's whole staff, so any real figure passes and a typo does not.
MAX_EFFORT = 1e6


def load_effort(path: str | Path = EFFORT_FILE) -> EffortModel:
    """Read and check an effort file: every lever known, every effect within its lever's range."""
    path = Path(path)
    doc = read_toml(path, "effort")
    for key in doc:
        if key not in ("effort", "levers"):
            raise InputError(path, key, "unknown table", "[effort] and [levers.NAME]")
    head = doc.get("effort", {})
    unit = head.get("unit") if isinstance(head, dict) else None
    if not isinstance(unit, str) or not unit:
        raise InputError(path, "effort.unit", f"expected the unit's name, got {unit!r}", 'text, e.g. "officer-months"')
    table = doc.get("levers")
    if not isinstance(table, dict) or not table:
        raise InputError(path, "levers", "no lever costed", f"one [levers.NAME] table per lever a plan may use: {', '.join(LEVER_TYPES)}")
    return EffortModel(unit, {name: _lever_effort(path, name, spec) for name, spec in table.items()}, path)


def _lever_effort(path: Path, name: str, spec: object) -> LeverEffort:
    where = f"levers.{name}"
    if name not in LEVER_TYPES:
        raise InputError(path, where, "unknown lever", ", ".join(LEVER_TYPES))
    if not isinstance(spec, dict):
        raise InputError(path, where, "must be a table", "effects, per_year, setup, targets, reasoning")
    for key in spec:
        if key not in ("effects", "per_year", "setup", "targets", "reasoning"):
            raise InputError(path, f"{where}.{key}", "unknown key", "effects, per_year, setup, targets, reasoning")
    _, ranges = LEVER_TYPES[name]
    effects = spec.get("effects")
    if not isinstance(effects, dict) or not effects:
        raise InputError(path, f"{where}.effects", "no effect given", f"a table of {', '.join(ranges)} = [at intensity 0, at intensity 1]")
    parsed: dict[str, tuple[float, float]] = {}
    for field, ends in effects.items():
        if field not in ranges:
            raise InputError(path, f"{where}.effects.{field}", "unknown effect", ", ".join(ranges))
        low, high, unit = ranges[field]
        if (
            not isinstance(ends, list)
            or len(ends) != 2
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and low <= v <= high for v in ends)
        ):
            raise InputError(
                path, f"{where}.effects.{field}", f"{ends!r}", f"[value at intensity 0, value at intensity 1], each {low} to {high} {unit}"
            )
        parsed[field] = (float(ends[0]), float(ends[1]))
    numbers = {}
    for key in ("per_year", "setup"):
        value = spec.get(key, 0.0)
        # Bounded: effort is summed over levers and years, and 1e308 once overflowed to infinity.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= MAX_EFFORT:
            raise InputError(path, f"{where}.{key}", f"{value!r}", f"a number from 0 to {MAX_EFFORT:g}, in the file's unit")
        numbers[key] = float(value)
    targets = spec.get("targets", ["all"])
    if not isinstance(targets, list) or not targets or not all(t in TARGET_REACH for t in targets):
        raise InputError(path, f"{where}.targets", f"{targets!r}", f"a list of {', '.join(repr(t) for t in TARGET_REACH)}")
    reasoning = spec.get("reasoning", "")
    if not isinstance(reasoning, str):
        raise InputError(path, f"{where}.reasoning", f"{reasoning!r}", "text")
    return LeverEffort(name, parsed, numbers["per_year"], numbers["setup"], tuple(dict.fromkeys(targets)), reasoning)
