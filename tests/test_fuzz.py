"""Fuzzing the parsers: whatever the input, a loader either succeeds or raises InputError.

Each fuzzer mutates a valid file (delete, duplicate or insert a line, replace a value by
a random TOML value, truncate) or writes random bytes, and feeds the result to the loader.
Any exception other than InputError (a KeyError, a TypeError, a crash deep in pandas) is
a failure.  The number of inputs per fuzzer is FUZZ_EXAMPLES: 250 in the suite, and whatever
WORKBENCH_FUZZ_EXAMPLES says in the long mode (`make fuzz`: 10,000 per loader).
"""

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.errors import InputError
from workbench.inputs.effort import EFFORT_FILE, load_effort
from workbench.inputs.observations import DEFAULT_DIR, load_snapshot
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import load_pairings, synthetic_pairings
from workbench.inputs.posterior import load_posterior
from workbench.inputs.priors import DEFAULT_PRIORS, load_priors
from workbench.inputs.scenarios import SCENARIO_DIR, load_scenario

FUZZ_EXAMPLES = int(os.environ.get("WORKBENCH_FUZZ_EXAMPLES", "250"))
# The same examples in every run (a test suite that finds a new case by chance would fail at
# random); WORKBENCH_FUZZ_EXPLORE=1 lets hypothesis explore afresh, as when hunting for cases.
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=os.environ.get("WORKBENCH_FUZZ_EXPLORE") != "1",
    database=None,
)

toml_values = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: "nan" if math.isnan(f) else ("inf" if f == math.inf else ("-inf" if f == -math.inf else repr(f)))
    ),
    st.text(max_size=20).map(lambda t: json.dumps(t)),
    st.sampled_from(
        ["true", "false", "2024-05-21", "1999-12-31", "2024-05-21T10:00:00", "[]", "[1, 2]", '["a"]', "{}", "[2020-01-01, 2021-01-01]"]
    ),
    st.text(max_size=15),  # not TOML at all
)


@st.composite
def mutated(draw, text: str):
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "value", "insert", "truncate"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "value" and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {draw(toml_values)}"
        elif op == "insert":
            key = draw(st.sampled_from(["value", "name", "group", "paragraph", "part_of", "extra", "low", "high", "as_at"]))
            lines.insert(i, f"{key} = {draw(toml_values)}")
        elif op == "truncate":
            lines = lines[:i]
    return "\n".join(lines) + "\n"


#: One scratch folder, emptied for each input (10,000 inputs per loader in the long mode).
SCRATCH = Path(tempfile.mkdtemp(prefix="fuzz-"))


def _scratch() -> Path:
    shutil.rmtree(SCRATCH, ignore_errors=True)
    SCRATCH.mkdir()
    return SCRATCH


def _write(text: str, name: str) -> Path:
    folder = _scratch()
    path = folder / name
    path.write_bytes(text.encode("utf-8", "replace"))
    return path


def _only_input_errors(loader, path: Path):
    try:
        loader(path)
    except InputError:
        pass


SNAPSHOT_TEXT = (DEFAULT_DIR / "2024-05-21.toml").read_text(encoding="utf-8")
SCENARIO_TEXT = (SCENARIO_DIR / "redraw-silent-reviewers.toml").read_text(encoding="utf-8").replace('extends = "baseline.toml"\n', "")
PRIORS_TEXT = DEFAULT_PRIORS.read_text(encoding="utf-8")
EFFORT_TEXT = EFFORT_FILE.read_text(encoding="utf-8")


@FUZZ
@given(text=mutated(SNAPSHOT_TEXT))
def test_fuzz_observations(text):
    _only_input_errors(load_snapshot, _write(text, "snapshot.toml"))


@FUZZ
@given(text=mutated(SCENARIO_TEXT))
def test_fuzz_scenarios(text):
    _only_input_errors(load_scenario, _write(text, "scenario.toml"))


@FUZZ
@given(text=mutated(PRIORS_TEXT))
def test_fuzz_priors(text):
    _only_input_errors(load_priors, _write(text, "priors.toml"))


@FUZZ
@given(text=mutated(EFFORT_TEXT))
def test_fuzz_effort(text):
    """The planning effort file: a mutated one is read whole or refused with an InputError, and what
    is read keeps every effect inside its lever's range."""
    try:
        effort = load_effort(_write(text, "effort.toml"))
    except InputError:
        return
    from workbench.inputs.levers import LEVER_TYPES

    for name, cost in effort.levers.items():
        _, ranges = LEVER_TYPES[name]
        for intensity in (0.0, 0.5, 1.0):
            for field, value in cost.effect_values(intensity).items():
                low, high, _ = ranges[field]
                assert low <= value <= high, (name, field, value)


@FUZZ
@given(blob=st.binary(max_size=400))
def test_fuzz_random_bytes_everywhere(blob):
    loaders = (
        (load_snapshot, "s.toml"),
        (load_scenario, "c.toml"),
        (load_priors, "p.toml"),
        (load_pairings, "x.csv"),
        (load_effort, "e.toml"),
    )
    for loader, name in loaders:
        folder = _scratch()
        (folder / name).write_bytes(blob)
        _only_input_errors(loader, folder / name)


def _pairings_text():
    folder = Path(tempfile.mkdtemp(prefix="fuzz-"))
    synthetic_pairings(1).to_csv(folder / "p.csv")
    return (folder / "p.csv").read_text(encoding="utf-8")


PAIRINGS_TEXT = _pairings_text()
csv_cells = st.one_of(st.text(max_size=12), st.sampled_from(["1", "2", "3", "4", "", "Party 001", "Party 002", "R1-01"]))


@st.composite
def mutated_csv(draw):
    rows = [line.split(",") for line in PAIRINGS_TEXT.splitlines()]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(rows) - 1))
        op = draw(st.sampled_from(["cell", "delete", "duplicate", "short"]))
        if op == "cell" and rows[i]:
            rows[i][draw(st.integers(0, len(rows[i]) - 1))] = draw(csv_cells)
        elif op == "delete":
            del rows[i]
        elif op == "duplicate":
            rows.insert(i, list(rows[i]))
        elif op == "short":
            rows[i] = rows[i][:-1]
        if not rows:
            break
    return "\n".join(",".join(r) for r in rows) + "\n"


@FUZZ
@given(text=mutated_csv())
def test_fuzz_pairings(text):
    _only_input_errors(load_pairings, _write(text, "pairs.csv"))


@FUZZ
@given(
    values=st.dictionaries(
        st.sampled_from(Parameters.names() + ["typo_rate", "saq_median"]),
        st.one_of(st.floats(allow_nan=True), st.integers(-5, 10**6), st.text(max_size=5), st.booleans(), st.none()),
        max_size=6,
    )
)
def test_fuzz_parameter_mappings(values):
    try:
        Parameters.from_mapping(values, "fuzz")
    except InputError:
        pass


@FUZZ
@given(
    weights=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3)), min_size=0, max_size=5),
    column=st.sampled_from(["saq_sigma", "weight", "not_a_parameter", "secretariat_officers"]),
    provenance=st.one_of(st.just('{"seed": 1}'), st.text(max_size=10)),
)
def test_fuzz_posterior(weights, column, provenance):
    folder = _scratch()
    lines = [f"weight,structure,{column}"] + [f"{w},silent-coupled-smooth,{w}" for w in weights]
    (folder / "particles.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "provenance.json").write_text(provenance, encoding="utf-8")
    _only_input_errors(load_posterior, folder)


# --- the manifest `workbench reproduce` reads: every damage is found before any rerun ----------


def _forecast_folder() -> Path:
    from workbench.analysis.forecast import forecast
    from workbench.faces.output_folder import write_forecast

    folder = Path(tempfile.mkdtemp(prefix="fuzz-manifest-"))
    write_forecast(forecast(None, 4, seed=3, workers=1, keep_monthly=False), folder / "fc")
    return folder / "fc"


MANIFEST_FOLDER = _forecast_folder()
MANIFEST = json.loads((MANIFEST_FOLDER / "manifest.json").read_text(encoding="utf-8"))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 10**9), st.floats(allow_nan=False), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=6,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _paths(inner, (*prefix, key))


MANIFEST_PATHS = [p for p in _paths(MANIFEST["inputs"]) if p]


@st.composite
def damaged_manifest(draw):
    manifest = json.loads(json.dumps(MANIFEST))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(MANIFEST_PATHS))
        parent = manifest["inputs"]
        for key in path[:-1]:
            parent = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            continue
        if draw(st.booleans()):
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(json_values)
    return manifest


@FUZZ
@given(manifest=damaged_manifest())
def test_fuzz_manifest(manifest):
    from workbench.faces.output_folder import load_record

    folder = _scratch()
    for name in ("threshold.csv", "summary.csv"):
        shutil.copy(MANIFEST_FOLDER / name, folder / name)
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    _only_input_errors(load_record, folder)
