"""Scenario files: a named set of parameter changes against the baseline.

A scenario is TOML::

    [scenario]
    name = "Redraw silent reviewers"
    description = "Reviewing States without a focal point after two years are redrawn."
    extends = "baseline.toml"        # optional, relative to this file

    [parameters]
    redraw_after_months = 24

Every key is checked: an unknown table or key, an unknown parameter or a value out of its
range is an error naming the file, the key and what is allowed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .parameters import Parameters

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    path: Path | None
    changes: dict = field(default_factory=dict)  # parameter name -> value, after inheritance

    def apply(self, params: Parameters) -> Parameters:
        return params.updated(self.changes, source=str(self.path or self.name))


BASELINE = Scenario("baseline", "The Mechanism as it works today.", None, {})


def load_scenario(path: str | Path, _seen: tuple[Path, ...] = ()) -> Scenario:
    path = Path(path).resolve()
    if path in _seen:
        raise InputError(path, "scenario.extends", "scenarios extend each other in a loop", "a chain that ends")
    if not path.is_file():
        raise InputError(path, "(file)", "scenario file not found", "an existing .toml file")
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError(path, "(file)", f"not valid TOML: {err}", "TOML 1.0") from None
    for key in doc:
        if key not in ("scenario", "parameters"):
            raise InputError(path, key, "unknown table", "[scenario], [parameters]")
    head = doc.get("scenario", {})
    if not isinstance(head, dict):
        raise InputError(path, "scenario", "must be a table", "[scenario] with name, description, extends")
    for key in head:
        if key not in ("name", "description", "extends"):
            raise InputError(path, f"scenario.{key}", "unknown key", "name, description, extends")
    name = head.get("name", path.stem)
    description = head.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str):
            raise InputError(path, f"scenario.{key}", f"expected text, got {value!r}", "a string")
    changes: dict = {}
    if "extends" in head:
        if not isinstance(head["extends"], str):
            raise InputError(path, "scenario.extends", "expected a file name", "a path relative to this file")
        changes.update(load_scenario(path.parent / head["extends"], _seen + (path,)).changes)
    params = doc.get("parameters", {})
    if not isinstance(params, dict):
        raise InputError(path, "parameters", "must be a table", "[parameters] with parameter = value lines")
    changes.update(params)
    scenario = Scenario(name, description, path, changes)
    scenario.apply(Parameters())  # validate now, naming the file
    return scenario
