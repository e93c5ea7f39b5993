"""The report's figures as dated snapshots, validated on load.

Each file in ``calibration/observations/`` is one status report: a ``[snapshot]`` table with
its "as at" date, ``[[group]]`` tables (size, distinct parties, start date) and
``[[figure]]`` tables (name, value, paragraph, definition, optionally ``group``,
``part_of``, ``alternatives``, ``at_least``, ``at_most`` and ``note``), and ``[[sum]]`` tables
for figures that split a total between them.  Adding a later report is adding a file.  A
figure's *readings* are its value and alternatives; calibration and the backtest score a figure
as the range they span, open-ended above for an ``at_least`` figure unless ``at_most`` bounds it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from workbench.core.errors import InputError, read_toml
from workbench.core.paths import OBSERVATIONS_DIR
from workbench.core.timeline import EPOCH, today
from workbench.inputs.report_categories import CUMULATIVE, KNOWN_FIGURES, MAX_FIGURE, SPLITS

DEFAULT_DIR = OBSERVATIONS_DIR

_FIGURE_KEYS = {
    "name",
    "value",
    "paragraph",
    "definition",
    "group",
    "part_of",
    "alternatives",
    "at_least",
    "at_most",
    "note",
    "started_between",
}
_GROUP_KEYS = {"number", "reviews", "parties", "start", "paragraph"}
_INCONSISTENCY_KEYS = {"figures", "paragraph", "description", "treatment"}
_SUM_KEYS = {"total", "parts", "paragraph"}


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    paragraph: str
    definition: str
    group: int | None = None
    part_of: str | None = None
    alternatives: tuple[float, ...] = ()
    note: str = ""
    started_between: tuple[dt.date, dt.date] | None = None  # when the counted work began, if known
    at_least: bool = False  # the source gives a lower bound only (e.g. five meetings, so at least five redraws)
    at_most: float | None = None  # and, where its words bound it above too, the most it can be ("some" parties, ¶7)

    @property
    def range(self) -> tuple[float, float]:
        """The lowest and highest reading: the interval any count inside of matches the source."""
        readings = (self.value, *self.alternatives)
        if self.at_most is not None:
            return float(min(readings)), float(self.at_most)
        return float(min(readings)), (float("inf") if self.at_least else float(max(readings)))


@dataclass(frozen=True)
class Group:
    number: int
    reviews: int
    parties: int
    start: dt.date
    paragraph: str


@dataclass(frozen=True)
class Snapshot:
    """One status report: its date and its figures, keyed by (name, group or None)."""

    as_at: dt.date
    source: str
    path: Path
    groups: dict[int, Group]
    figures: dict[tuple[str, int | None], Figure]
    inconsistencies: list[dict] = field(default_factory=list)

    def value(self, name: str, group: int | None = None) -> float:
        try:
            return self.figures[(name, group)].value
        except KeyError:
            raise InputError(self.path, name, f"no figure for group {group}" if group else "no such figure") from None

    def has(self, name: str, group: int | None = None) -> bool:
        return (name, group) in self.figures


def _table_list(doc: dict, key: str, path: Path) -> list[dict]:
    items = doc.get(key, [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InputError(path, key, "must be an array of tables", f"[[{key}]] entries")
    return items


def _require(entry: dict, key: str, kinds: tuple[type, ...], path: Path, where: str, allowed: str) -> Any:
    if key not in entry:
        raise InputError(path, f"{where}.{key}", "missing field", allowed)
    value = entry[key]
    # TOML's date-times are Python datetimes, which are dates too: a date field takes a date only.
    a_datetime_for_a_date = isinstance(value, dt.datetime) and dt.date in kinds and dt.datetime not in kinds
    if isinstance(value, bool) or not isinstance(value, kinds) or a_datetime_for_a_date:
        raise InputError(path, f"{where}.{key}", f"wrong type {type(value).__name__} ({value!r})", allowed)
    return value


def _check_unknown(entry: dict, known: set[str], path: Path, where: str) -> None:
    for key in entry:
        if key not in known:
            raise InputError(path, f"{where}.{key}", "unknown field", ", ".join(sorted(known)))


def load_snapshot(path: str | Path) -> Snapshot:
    """Read and validate one observations file: its header, the groups, every figure, the
    totals figures are part of, and the inconsistencies it records."""
    path = Path(path)
    doc = read_toml(path, "observations")
    as_at, source = _header(doc, path)
    groups = _groups(doc, path, as_at)
    figures = _figures(doc, path, as_at)
    _check_parts_within_totals(figures, path)
    inconsistencies = _inconsistencies(doc, path, figures)
    _check_sums(doc, path, figures)
    _check_splits(path, figures)
    return Snapshot(as_at, source, path, groups, figures, inconsistencies)


def _header(doc: dict, path: Path) -> tuple[dt.date, str]:
    """The ``[snapshot]`` table: its date and source; and no unknown table anywhere."""
    header = doc.get("snapshot")
    if not isinstance(header, dict):
        raise InputError(path, "snapshot", "missing [snapshot] table", "[snapshot] with as_at and source")
    as_at = _require(header, "as_at", (dt.date,), path, "snapshot", "a date such as 2024-05-21")
    if isinstance(as_at, dt.datetime):
        raise InputError(path, "snapshot.as_at", "a date-time, not a date", "a date such as 2024-05-21")
    if not EPOCH <= as_at <= today():
        raise InputError(path, "snapshot.as_at", f"{as_at} is outside the Mechanism's life", f"a date from {EPOCH} (¶22) to today")
    source = _require(header, "source", (str,), path, "snapshot", "text naming the report")
    for key in doc:
        if key not in {"snapshot", "group", "figure", "inconsistency", "sum"}:
            raise InputError(path, key, "unknown table", "snapshot, group, figure, inconsistency, sum")
    return as_at, source


def _groups(doc: dict, path: Path, as_at: dt.date) -> dict[int, Group]:
    """The ``[[group]]`` tables: size, distinct parties and start date of each group (¶7, ¶22)."""
    groups: dict[int, Group] = {}
    for i, entry in enumerate(_table_list(doc, "group", path)):
        where = f"group[{i}]"
        _check_unknown(entry, _GROUP_KEYS, path, where)
        number = _require(entry, "number", (int,), path, where, "1, 2 or 3")
        if number not in (1, 2, 3):
            raise InputError(path, f"{where}.number", f"{number} is not a group", "1, 2 or 3")
        if number in groups:
            raise InputError(path, f"{where}.number", f"group {number} given twice", "each group once")
        reviews = _require(entry, "reviews", (int,), path, where, "a positive whole number")
        parties = _require(entry, "parties", (int,), path, where, "a whole number >= reviews")
        start = _require(entry, "start", (dt.date,), path, where, "a date")
        paragraph = _require(entry, "paragraph", (str,), path, where, "the report's paragraph numbers")
        if reviews <= 0 or parties < reviews:
            raise InputError(
                path,
                f"{where}.parties",
                f"{parties} parties for {reviews} reviews",
                "reviews > 0 and parties >= reviews (each review involves its party under review)",
            )
        if start > as_at:
            raise InputError(path, f"{where}.start", f"{start} is after the snapshot date {as_at}", f"on or before {as_at}")
        groups[number] = Group(number, reviews, parties, start, paragraph)
    return groups


def _figures(doc: dict, path: Path, as_at: dt.date) -> dict[tuple[str, int | None], Figure]:
    """The ``[[figure]]`` tables, one per reported figure (and group), with their paragraph and definition."""
    figures: dict[tuple[str, int | None], Figure] = {}
    for i, entry in enumerate(_table_list(doc, "figure", path)):
        where = f"figure[{i}]"
        _check_unknown(entry, _FIGURE_KEYS, path, where)
        name = _require(entry, "name", (str,), path, where, "a snake_case name")
        where = f"figure[{i}] ({name})"
        if name not in KNOWN_FIGURES:
            raise InputError(
                path,
                f"{where}.name",
                f"{name!r} is not a figure the workbench knows (misspelt?)",
                "a figure name of calibration/observations/2024-05-21.toml (the report's categories)",
            )
        value = _require(entry, "value", (int, float), path, where, f"a number from 0 to {MAX_FIGURE:,}")
        if not 0 <= value <= MAX_FIGURE:  # NaN and infinity fail too
            raise InputError(path, f"{where}.value", f"{value} is not a count", f"a number from 0 to {MAX_FIGURE:,}")
        paragraph = _require(entry, "paragraph", (str,), path, where, 'the report\'s paragraph numbers, e.g. "15"')
        if not paragraph.strip():
            raise InputError(path, f"{where}.paragraph", "empty", "the report's paragraph numbers")
        definition = _require(entry, "definition", (str,), path, where, "one line saying what is counted")
        group = entry.get("group")
        if group is not None and (isinstance(group, bool) or group not in (1, 2, 3)):
            raise InputError(path, f"{where}.group", f"{group!r} is not a group", "1, 2 or 3")
        alternatives = entry.get("alternatives", [])
        if not isinstance(alternatives, list) or any(
            isinstance(a, bool) or not isinstance(a, (int, float)) or not 0 <= a <= MAX_FIGURE for a in alternatives
        ):
            raise InputError(path, f"{where}.alternatives", "must be a list of counts", f"e.g. [23], each from 0 to {MAX_FIGURE:,}")
        part_of = entry.get("part_of")
        if part_of is not None and not isinstance(part_of, str):
            raise InputError(path, f"{where}.part_of", "must be a figure name", "the name of another figure")
        at_least = entry.get("at_least", False)
        if not isinstance(at_least, bool):
            raise InputError(path, f"{where}.at_least", f"{at_least!r} is not true or false", "true or false")
        if at_least and alternatives:
            raise InputError(path, f"{where}.at_least", "a lower bound cannot also have alternative readings", "one of the two")
        at_most = entry.get("at_most")
        if at_most is not None:
            if isinstance(at_most, bool) or not isinstance(at_most, (int, float)) or not value <= at_most <= MAX_FIGURE:
                raise InputError(
                    path,
                    f"{where}.at_most",
                    f"{at_most!r} is not an upper bound of {value:g}",
                    f"a number from {value:g} to {MAX_FIGURE:,}",
                )
            if not at_least:
                raise InputError(
                    path, f"{where}.at_most", "an upper bound needs `at_least = true` (the value is then the lower one)", "both, or neither"
                )
        note = entry.get("note", "")
        if not isinstance(note, str):
            raise InputError(path, f"{where}.note", "must be text", "a string")
        window = entry.get("started_between")
        if window is not None:
            if (
                not isinstance(window, list)
                or len(window) != 2
                or not all(isinstance(d, dt.date) and not isinstance(d, dt.datetime) for d in window)
                or window[0] > window[1]
                or window[1] > as_at
            ):
                raise InputError(
                    path,
                    f"{where}.started_between",
                    f"{window!r} is not a date window",
                    f"[earliest, latest] dates, earliest <= latest <= {as_at}",
                )
            window = (window[0], window[1])
        key = (name, group)
        if key in figures:
            raise InputError(path, where, "figure given twice" + (f" for group {group}" if group else ""), "each figure once per group")
        figures[key] = Figure(name, value, paragraph, definition, group, part_of, tuple(alternatives), note, window, at_least, at_most)
    return figures


def _check_parts_within_totals(figures: dict[tuple[str, int | None], Figure], path: Path) -> None:
    """A count may not exceed the total it is part of (each of its readings)."""
    for (name, group), fig in figures.items():
        if fig.part_of is None:
            continue
        # A group's figure that is part of the same-named figure is part of its all-groups total,
        # never of itself.
        same_group = (fig.part_of, group) if group is not None and fig.part_of != name else None
        total = figures.get(same_group) if same_group else None
        total = total or figures.get((fig.part_of, None))
        if total is None:
            raise InputError(
                path, f"{name}.part_of", f"names {fig.part_of!r}, which is not a figure here", "the name of a figure in this file"
            )
        for candidate in (fig.value, *fig.alternatives):
            if candidate > total.value:
                raise InputError(
                    path, f"{name}.value", f"{candidate} exceeds its total {fig.part_of} = {total.value}", f"at most {total.value}"
                )


def _check_sums(doc: dict, path: Path, figures: dict[tuple[str, int | None], Figure]) -> None:
    """The ``[[sum]]`` tables: figures that split a total between them (stages of the reviews
    advancing, lateness buckets of the SAQs submitted) may not add up to more than it.  Each
    part counts at its lowest reading and the total at its highest, so that a contradiction the
    file records as alternatives (¶15 against ¶29) is not mistaken for an error."""
    for i, entry in enumerate(_table_list(doc, "sum", path)):
        where = f"sum[{i}]"
        _check_unknown(entry, _SUM_KEYS, path, where)
        total_name = _require(entry, "total", (str,), path, where, "the name of the figure the parts add up to")
        parts = _require(entry, "parts", (list,), path, where, "a list of figure names")
        _require(entry, "paragraph", (str,), path, where, "the report's paragraph numbers")
        named = [total_name, *parts]
        if not all(isinstance(n, str) for n in parts) or not parts:
            raise InputError(path, f"{where}.parts", f"{parts!r} is not a list of figure names", 'e.g. ["reviews_saq_in_preparation"]')
        missing = [n for n in named if (n, None) not in figures]
        if missing:
            raise InputError(path, where, f"names {', '.join(missing)}, not a figure here", "names of figures in this file")
        total = figures[(total_name, None)].range[1]
        added = sum(figures[(n, None)].range[0] for n in parts)
        if added > total:
            raise InputError(
                path, f"{where}.parts", f"{' + '.join(parts)} = {added:g} exceeds {total_name} = {total:g}", f"a sum of at most {total:g}"
            )


def _check_splits(path: Path, figures: dict[tuple[str, int | None], Figure]) -> None:
    """The report's own splits (:data:`SPLITS`), checked on every file whether it declares them or
    not, per group as in all: the parts present, at their lowest readings, within the total's highest."""
    for group in {g for _, g in figures}:
        for total_name, parts in SPLITS:
            total = figures.get((total_name, group))
            present = [figures[(n, group)] for n in parts if (n, group) in figures]
            if total is None or not present:
                continue
            added = sum(f.range[0] for f in present)
            if added > total.range[1]:
                names = " + ".join(f.name for f in present)
                where = f"{total_name}" + (f" (group {group})" if group else "")
                raise InputError(
                    path,
                    where,
                    f"{names} = {added:g} exceeds {total_name} = {total.range[1]:g}",
                    f"parts adding up to at most {total.range[1]:g}",
                )


def _check_cumulative(snapshots: list[Snapshot]) -> None:
    """A count that only grows (:data:`CUMULATIVE`) may not fall from one report to the next: each
    later file's highest reading at least the earlier's lowest."""
    seen: dict[tuple[str, int | None], tuple[float, Snapshot]] = {}
    for snapshot in sorted(snapshots, key=lambda s: s.as_at):
        for key, fig in snapshot.figures.items():
            if fig.name not in CUMULATIVE:
                continue
            if key in seen and fig.range[1] < seen[key][0]:
                earlier = seen[key][1]
                raise InputError(
                    snapshot.path,
                    fig.name + (f" (group {fig.group})" if fig.group else ""),
                    f"{fig.range[1]:g} is fewer than the {seen[key][0]:g} of {earlier.path.name}, but the count only grows",
                    f"at least {seen[key][0]:g}",
                )
            seen[key] = (fig.range[0], snapshot)


def _inconsistencies(doc: dict, path: Path, figures: dict[tuple[str, int | None], Figure]) -> list[dict]:
    """The ``[[inconsistency]]`` tables: where the report contradicts itself, and how it is treated."""
    inconsistencies = _table_list(doc, "inconsistency", path)
    for i, entry in enumerate(inconsistencies):
        _check_unknown(entry, _INCONSISTENCY_KEYS, path, f"inconsistency[{i}]")
        names = entry.get("figures", [])
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InputError(path, f"inconsistency[{i}].figures", f"{names!r} is not a list of figure names", 'e.g. ["reviews_total"]')
        for name in names:
            if not any(k[0] == name for k in figures):
                raise InputError(path, f"inconsistency[{i}].figures", f"names {name!r}, which is not a figure here", "figure names")
    return inconsistencies


def load_observations(directory: str | Path = DEFAULT_DIR) -> list[Snapshot]:
    """Every snapshot in a directory, oldest first (each file one status report)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(directory, "(directory)", "observations directory not found", "a directory of .toml files")
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise InputError(directory, "(directory)", "no observations files", "at least one .toml snapshot")
    snapshots = [load_snapshot(f) for f in files]
    dates = [s.as_at for s in snapshots]
    if len(set(dates)) != len(dates):
        raise InputError(directory, "snapshot.as_at", "two files describe the same date", "one file per date")
    _check_cumulative(snapshots)
    return sorted(snapshots, key=lambda s: s.as_at)


def groups_report(snapshots: list[Snapshot]) -> Snapshot:
    """The latest snapshot that lists the groups (sizes, parties, start dates): the one a run from
    2020 is built on.  Other snapshots may hold a few figures of an earlier date only."""
    listing = [s for s in sorted(snapshots, key=lambda s: s.as_at) if s.groups]
    if not listing:
        where = snapshots[-1].path if snapshots else "observations"
        raise InputError(where, "group", "no observations file lists the groups", "[[group]] tables in at least one file")
    return listing[-1]


def latest_snapshot(directory: str | Path = DEFAULT_DIR) -> Snapshot:
    """The latest full status report (one that lists the groups): where forecasts start."""
    return groups_report(load_observations(directory))


def figures_table(snapshot: Snapshot) -> pd.DataFrame:
    """The snapshot's figures as a tidy DataFrame (one row per figure and group)."""
    import pandas as pd

    rows = [
        {
            "as_at": snapshot.as_at,
            "name": f.name,
            "group": f.group,
            "value": f.value,
            "paragraph": f.paragraph,
            "alternatives": ", ".join(str(a) for a in f.alternatives),
            "at_least": f.at_least,
            "definition": f.definition,
            "note": f.note,
        }
        for f in snapshot.figures.values()
    ]
    return pd.DataFrame(rows)
