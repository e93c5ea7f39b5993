"""The outside view: how fast sister review mechanisms went (``calibration/reference-class.toml``).

Each mechanism is a list of dated points, "so many of so many reviews finished", from the public
sources of ``shared/reference-class.md``; the UNTOC Mechanism's own plan (two years a review) and
what is known of it so far sit beside them.  Read as shares against years since launch, they are
a plausibility check for the forecast (a chart beside it), never an observation of this
Mechanism: the calibration does not read this file, and every face that shows it also says how
the mechanisms differ (:attr:`ReferenceClass.differences`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from workbench.core.errors import InputError, read_toml
from workbench.core.paths import CALIBRATION_DIR
from workbench.core.timeline import DAYS_PER_YEAR, EPOCH, today

REFERENCE_CLASS_FILE = CALIBRATION_DIR / "reference-class.toml"

#: The earliest launch the file may name (UNCAC's review mechanism was the first of its kind, 2010).
EARLIEST_LAUNCH = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class Point:
    """``finished`` of ``of`` reviews finished on ``as_at``, as ``source`` says."""

    as_at: dt.date
    finished: int
    of: int
    source: str

    @property
    def share(self) -> float:
        return self.finished / self.of


@dataclass(frozen=True)
class Mechanism:
    name: str
    launched: dt.date
    counts: str
    points: tuple[Point, ...]

    def years(self, point: Point) -> float:
        """Years from the launch to ``point``."""
        return (point.as_at - self.launched).days / DAYS_PER_YEAR


@dataclass(frozen=True)
class ReferenceClass:
    title: str
    source: str
    differences: tuple[str, ...]
    mechanisms: tuple[Mechanism, ...]
    plan_years_per_review: float  # the UNTOC Mechanism's own plan for one review (group 1 from its launch)
    plan_source: str
    untoc: Mechanism  # what is known of UNTOC's group 1 (launched 1 December 2020, ¶22)
    path: Path


def load_reference_class(path: str | Path = REFERENCE_CLASS_FILE) -> ReferenceClass:
    """Read and check the reference-class file: every point dated after its launch and not after
    today, with 0 <= finished <= of, and its source named."""
    path = Path(path)
    doc = read_toml(path, "reference-class")
    _known(doc, {"reference", "mechanism", "plan", "untoc"}, path, "(top level)")
    head = _table(doc, "reference", path)
    _known(head, {"title", "source", "differences"}, path, "reference")
    differences = head.get("differences")
    if not isinstance(differences, list) or not differences or not all(isinstance(d, str) and d.strip() for d in differences):
        raise InputError(path, "reference.differences", "must list how the mechanisms differ", "a list of sentences, at least one")
    mechanisms = doc.get("mechanism")
    if not isinstance(mechanisms, list) or not mechanisms:
        raise InputError(path, "mechanism", "no [[mechanism]] table", "at least one [[mechanism]] with its [[mechanism.point]]s")
    plan = _table(doc, "plan", path)
    _known(plan, {"name", "launched", "years_per_review", "source"}, path, "plan")
    years = plan.get("years_per_review")
    if isinstance(years, bool) or not isinstance(years, (int, float)) or not 0.5 <= years <= 20:
        raise InputError(path, "plan.years_per_review", f"{years!r}", "a number of years from 0.5 to 20")
    untoc_launch = _date(plan, "launched", path, "plan")
    if untoc_launch != EPOCH:
        raise InputError(path, "plan.launched", f"{untoc_launch}", f"{EPOCH}, when group 1 started (¶22)")
    untoc = Mechanism("UNTOC group 1 so far", untoc_launch, "reviews of group 1 completed (¶24)", _points(doc, "untoc", untoc_launch, path))
    return ReferenceClass(
        title=_text(head, "title", path, "reference"),
        source=_text(head, "source", path, "reference"),
        differences=tuple(differences),
        mechanisms=tuple(_mechanism(m, i, path) for i, m in enumerate(mechanisms)),
        plan_years_per_review=float(years),
        plan_source=_text(plan, "source", path, "plan"),
        untoc=untoc,
        path=path,
    )


def _mechanism(entry: object, i: int, path: Path) -> Mechanism:
    where = f"mechanism[{i}]"
    if not isinstance(entry, dict):
        raise InputError(path, where, "must be a table", "[[mechanism]] with name, launched, counts and [[mechanism.point]]s")
    _known(entry, {"name", "launched", "counts", "point"}, path, where)
    launched = _date(entry, "launched", path, where)
    points = _points(entry, "point", launched, path, where)
    if not points:
        raise InputError(path, f"{where}.point", "no points", "at least one [[mechanism.point]]")
    return Mechanism(_text(entry, "name", path, where), launched, _text(entry, "counts", path, where), points)


def _points(table: dict, key: str, launched: dt.date, path: Path, where: str = "") -> tuple[Point, ...]:
    entries = table.get(key, [])
    prefix = f"{where}.{key}" if where else key
    if not isinstance(entries, list):
        raise InputError(path, prefix, "must be a list of tables", f"[[{prefix}]] tables")
    points = []
    for i, entry in enumerate(entries):
        at = f"{prefix}[{i}]"
        if not isinstance(entry, dict):
            raise InputError(path, at, "must be a table", "as_at, finished, of, source")
        _known(entry, {"as_at", "finished", "of", "source"}, path, at)
        as_at = _date(entry, "as_at", path, at)
        if not launched < as_at <= today():
            raise InputError(path, f"{at}.as_at", f"{as_at}", f"a date after the launch ({launched}) and not after today")
        finished, of = entry.get("finished"), entry.get("of")
        whole = all(isinstance(c, int) and not isinstance(c, bool) for c in (finished, of))
        if not whole or not 0 <= finished <= of or not 1 <= of <= 1000:  # type: ignore[operator]
            raise InputError(path, f"{at}.finished", f"{finished!r} of {of!r}", "whole numbers, 0 <= finished <= of <= 1000")
        points.append(Point(as_at, int(finished), int(of), _text(entry, "source", path, at)))  # type: ignore[arg-type]
    return tuple(sorted(points, key=lambda p: p.as_at))


def _table(doc: dict, key: str, path: Path) -> dict:
    table = doc.get(key)
    if not isinstance(table, dict):
        raise InputError(path, key, "missing or not a table", f"a [{key}] table")
    return table


def _known(table: dict, keys: set[str], path: Path, where: str) -> None:
    for key in table:
        if key not in keys:
            raise InputError(path, f"{where}.{key}", "unknown key", ", ".join(sorted(keys)))


def _text(table: dict, key: str, path: Path, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(path, f"{where}.{key}", "missing or empty", "a text")
    return value


def _date(table: dict, key: str, path: Path, where: str) -> dt.date:
    value = table.get(key)
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime) or not EARLIEST_LAUNCH <= value <= today():
        raise InputError(path, f"{where}.{key}", f"{value!r}", f"a date from {EARLIEST_LAUNCH} to today, e.g. 2010-07-01")
    return value
