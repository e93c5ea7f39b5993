"""Scenario files: levers with start dates and effect sizes, against the baseline.

A scenario is TOML::

    [scenario]
    name = "Redraw silent reviewers"
    description = "Reviewing States without a focal point after two years are redrawn."
    extends = "baseline.toml"        # optional, relative to this file
    allow_past = false               # true for a hindcast: levers may start before today

    [levers.redraw]                  # any lever of workbench.inputs.levers.LEVER_TYPES
    start = "earliest"               # the month after the forecast's date, "earliest + 6 months",
                                     # or a date on or after the forecast's
    target = "all"                   # or "group 1", [1, 2], {parties = ["..."]}
    after_months = 24                # effect sizes, each with its allowed range
    delay_months = 3

    [condition]                      # the Conference changes the completion condition (¶25)
    share = 0.5
    decided_at = 2028                # a Conference session still to come, or a date

    [parameters]                     # absolute changes to model parameters (rarely needed)
    secretariat_officers = 3

Every key is checked: an unknown table, lever or key, a value out of its range, a start
or a decision before today, is an error naming the file, the key and what is allowed.  A
planner's option starts from now (:func:`workbench.core.timeline.today`, the forecast's date):
what could have been done in 2025 is a hindcast, which a file must ask for with
``allow_past = true`` (its levers may then start from the snapshot date, 21 May 2024).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w

from workbench.core.errors import InputError, read_toml
from workbench.core.paths import SCENARIOS_DIR
from workbench.core.timeline import CONFERENCE_SESSIONS, today
from workbench.inputs.levers import (
    LEVER_TYPES,
    NO_LEVERS,
    SNAPSHOT_BOUND,
    Condition,
    Levers,
    StartBound,
    Target,
    check_staffing,
    parse_condition,
    parse_levers,
)
from workbench.inputs.parameters import Parameters

SCENARIO_DIR = SCENARIOS_DIR

#: What a file starting an option in the past may do instead of moving its start.
HINDCAST_HINT = "; or allow_past = true in [scenario] for a hindcast"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    path: Path | None
    changes: dict = field(default_factory=dict)  # parameter name -> value, after inheritance
    levers: Levers = NO_LEVERS
    condition: Condition = field(default_factory=Condition)
    allow_past: bool = False  # a hindcast: its levers may start before the forecast's date
    names: dict = field(default_factory=dict)  # language code -> the name in that language (``names.fr``)

    def apply(self, params: Parameters) -> Parameters:
        return params.updated(self.changes, source=str(self.path or self.name))

    def name_in(self, language: str) -> str:
        """The scenario's name in ``language`` ("fr"), or its own name where the file gives none."""
        return self.names.get(language, self.name)


BASELINE = Scenario("baseline", "The Mechanism as it works today.", None, {})


#: How many files a chain of ``extends`` may hold: a scenario builds on a few others, and a chain
#: of 1,500 once ended in Python's recursion limit rather than a message.
MAX_EXTENDS = 20


def _extended_file(path: Path, target: object, seen: tuple[Path, ...]) -> Path:
    """The file ``scenario.extends`` of ``path`` names, checked here so that a bad one is reported
    as this file's field, not as a path the reader never wrote."""
    allowed = "a scenario file's name, relative to this file (e.g. baseline.toml)"
    if not isinstance(target, str) or not target.strip() or "\x00" in target:
        raise InputError(path, "scenario.extends", f"{target!r} is not a file name", allowed)
    if len(seen) + 1 >= MAX_EXTENDS:
        raise InputError(path, "scenario.extends", f"the chain of extended files is longer than {MAX_EXTENDS}", "a shorter chain")
    candidate = path.parent / target
    try:
        regular = candidate.is_file() and candidate.stat().st_size > 0
    except OSError as err:
        raise InputError(path, "scenario.extends", f"{target!r} is not a usable path ({err.strerror})", allowed) from None
    if not regular:
        what = "is a folder" if candidate.is_dir() else "is empty" if candidate.is_file() else "does not exist or is not a regular file"
        hint = " (~ is not expanded: give the path relative to this file)" if target.startswith("~") else ""
        raise InputError(path, "scenario.extends", f"{target!r} {what}{hint}", allowed)
    return candidate


def load_scenario(path: str | Path, made_on: dt.date | None = None, _seen: tuple[Path, ...] = ()) -> Scenario:
    """Read and check a scenario file for a forecast made on ``made_on`` (default: today)."""
    made_on = today() if made_on is None else made_on
    try:
        path = Path(path).resolve()
        path.is_file()  # a name too long for the file system fails here, not later
    except OSError as err:
        raise InputError(
            str(path)[:80] + ("..." if len(str(path)) > 80 else ""), "(file)", f"not a usable path ({err.strerror})", "a scenario file"
        ) from None
    if path in _seen:
        raise InputError(path, "scenario.extends", "scenarios extend each other in a loop", "a chain that ends")
    doc = read_toml(path, "scenario")
    for key in doc:
        if key not in ("scenario", "parameters", "levers", "condition"):
            raise InputError(path, key, "unknown table", "[scenario], [levers.NAME], [condition], [parameters]")
    head = doc.get("scenario", {})
    if not isinstance(head, dict):
        raise InputError(path, "scenario", "must be a table", "[scenario] with name, names, description, extends, allow_past")
    for key in head:
        if key not in ("name", "names", "description", "extends", "allow_past"):
            raise InputError(path, f"scenario.{key}", "unknown key", "name, names, description, extends, allow_past")
    name = head.get("name", path.stem)
    description = head.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str):
            raise InputError(path, f"scenario.{key}", f"expected text, got {value!r}", "a string")
    names = _names(head.get("names", {}), path)
    allow_past = head.get("allow_past", False)
    if not isinstance(allow_past, bool):
        raise InputError(path, "scenario.allow_past", f"expected true or false, got {allow_past!r}", "true (a hindcast) or false")
    earliest = SNAPSHOT_BOUND if allow_past else StartBound(made_on, "today, the forecast's date", HINDCAST_HINT)
    changes: dict = {}
    levers, condition = NO_LEVERS, Condition()
    if "extends" in head:
        parent = load_scenario(_extended_file(path, head["extends"], _seen), made_on, _seen + (path,))
        changes.update(parent.changes)
        levers, condition = parent.levers, parent.condition
    params = doc.get("parameters", {})
    if not isinstance(params, dict):
        raise InputError(path, "parameters", "must be a table", "[parameters] with parameter = value lines")
    changes.update(params)
    if "levers" in doc:
        levers = levers.merged(parse_levers(doc["levers"], str(path), earliest))
    if "condition" in doc:
        condition = parse_condition(doc["condition"], str(path), earliest)
    scenario = Scenario(name, description, path, changes, levers, condition, allow_past, names)
    params = scenario.apply(Parameters())  # validate now, naming the file
    check_staffing(params.secretariat_officers, scenario.levers, str(path))  # here, not inside the replications
    return scenario


def _names(names: object, path: Path) -> dict[str, str]:
    """``[scenario] names = { fr = "...", es = "..." }``: the name in other languages, for the brief
    and the explorer (a language without one shows the scenario's own name)."""
    if not isinstance(names, dict):
        raise InputError(path, "scenario.names", "must be a table", 'e.g. names = { fr = "formation", es = "capacitación" }')
    for code, text in names.items():
        if not (isinstance(code, str) and code.isalpha() and code.islower() and 2 <= len(code) <= 3):
            raise InputError(path, f"scenario.names.{code}", "is not a language code", "a two- or three-letter code, e.g. fr, es, ar")
        if not isinstance(text, str) or not text.strip() or len(text) > 200:
            raise InputError(path, f"scenario.names.{code}", f"{text!r}", "a name of 1 to 200 characters")
    return dict(names)


# --- writing a scenario file -----------------------------------------------------------------
def scenario_table(scenario: Scenario) -> dict:
    """The scenario as the tables of a scenario file: what :func:`load_scenario` reads back."""
    table: dict = {"scenario": {"name": scenario.name, "description": scenario.description}}
    if scenario.names:
        table["scenario"]["names"] = dict(scenario.names)
    if scenario.allow_past:
        table["scenario"]["allow_past"] = True
    if scenario.changes:
        table["parameters"] = {k: plain_value(v) for k, v in scenario.changes.items()}
    levers = {}
    for name, lever in scenario.levers.active().items():
        spec: dict = {"start": lever.start}
        target = _target_value(lever.target)
        if target != "all":
            spec["target"] = target
        spec.update({key: plain_value(getattr(lever, key)) for key in LEVER_TYPES[name][1]})
        levers[name] = spec
    if levers:
        table["levers"] = levers
    c = scenario.condition
    if not c.is_default or c.decided is not None:
        condition: dict = {"share": plain_value(c.share), "groups": list(c.groups), "counted_stage": c.counted_stage}
        if c.decided is not None:
            session = next((year for year, day in CONFERENCE_SESSIONS.items() if day == c.decided), None)
            condition["decided_at"] = session if session is not None else c.decided
        table["condition"] = condition
    return table


def scenario_text(table: dict, comment: str = "") -> str:
    """A scenario file's text from its tables (:func:`scenario_table`), after ``comment`` lines."""
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    return header + tomli_w.dumps(table)


def plain_value(value: object) -> object:
    """A value as a scenario file holds it: floats to six decimals (0.9, not the 0.8999999999999999
    a slider step or a product leaves)."""
    return round(value, 6) if isinstance(value, float) else value


def _target_value(target: Target) -> object:
    if target.parties:
        return {"parties": list(target.parties)}
    if target.groups == (1, 2, 3):
        return "all"
    if len(target.groups) == 1:
        return f"group {target.groups[0]}"
    return list(target.groups)
