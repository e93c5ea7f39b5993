"""Fuzzing the parsers: whatever the input, a loader either succeeds or raises InputError.

Each fuzzer mutates a valid file (delete, duplicate or insert a line, replace a value by
a random TOML value, truncate) or writes random bytes, and feeds the result to the loader.
Any exception other than InputError (a KeyError, a TypeError, a crash deep in pandas) is
a failure.  The number of inputs per fuzzer is FUZZ_EXAMPLES: 250 in the suite, and whatever
WORKBENCH_FUZZ_EXAMPLES says in the long mode (`make fuzz`: 10,000 per loader).
"""

import datetime as dt
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from workbench.core.errors import InputError
from workbench.core.paths import SYNTHETIC_RECORD_DIR
from workbench.inputs.effort import EFFORT_FILE, load_effort
from workbench.inputs.observations import DEFAULT_DIR, load_snapshot
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import load_pairings, synthetic_pairings
from workbench.inputs.posterior import load_posterior
from workbench.inputs.priors import DEFAULT_PRIORS, load_priors
from workbench.inputs.record import EVENTS, EVENTS_FILE, PAIRINGS_FILE, RECORD_FILE, RECORD_FILES, load_record
from workbench.inputs.reference_class import REFERENCE_CLASS_FILE, load_reference_class
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
@given(text=mutated(REFERENCE_CLASS_FILE.read_text(encoding="utf-8")))
def test_fuzz_reference_class(text):
    """The outside view's file: a mutated one is read whole or refused with an InputError, and what is
    read has every share between 0 and 1."""
    try:
        reference = load_reference_class(_write(text, "reference-class.toml"))
    except InputError:
        return
    assert all(0 <= p.share <= 1 for m in (*reference.mechanisms, reference.untoc) for p in m.points)


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
        (load_reference_class, "r.toml"),
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


# --- the files the workbench wrote and reads back: the findings, the catalogs, a run's settings ---


def _json_paths(value, prefix=()):
    """Every path into a JSON value, list items included."""
    yield prefix
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        yield from _json_paths(inner, (*prefix, key))


def _same_kind(value):
    """A value of the same JSON kind, at or near its edges (these pass a type check, not a range check)."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, (int, float)):
        return st.sampled_from([0, 1, -1, 0.5, 1.0000001, 1e-12, 10**9, 2**63, 44, 62, 0.0])
    if isinstance(value, str):
        return st.sampled_from(["", "2030-10-01", "1990-01-01", "2301-01-01", "not within horizon", "2024-02-30", "x" * 200, value[:3]])
    if isinstance(value, list):
        return st.sampled_from([[], value[:1], value[::-1], value * 2])
    if isinstance(value, dict):
        return st.sampled_from([{}, dict(list(value.items())[:1]), {"1999": 0.5}])
    return st.none()


def damaged_json(original):
    """A strategy: ``original`` with one to three of its fields removed or replaced by any JSON value."""
    paths = [p for p in _json_paths(original) if p]

    @st.composite
    def damaged(draw):
        data = json.loads(json.dumps(original))
        for _ in range(draw(st.integers(1, 3))):
            path = draw(st.sampled_from(paths))
            parent = data
            for key in path[:-1]:
                try:
                    parent = parent[key]
                except (KeyError, IndexError, TypeError):
                    parent = None
                    break
            key = path[-1]
            if not (isinstance(parent, dict) or (isinstance(parent, list) and isinstance(key, int) and key < len(parent))):
                continue
            op = draw(st.sampled_from(["delete", "any", "same kind"]))
            if op == "delete":
                parent.pop(key) if isinstance(parent, list) or key in parent else None
            elif op == "any":
                parent[key] = draw(json_values | st.sampled_from([float("nan"), float("inf"), 1e308, -1, "", [], {}]))
            elif key in parent if isinstance(parent, dict) else True:
                parent[key] = draw(_same_kind(parent[key]))
        return data

    return damaged()


FINDINGS = json.loads((Path(__file__).parents[1] / "docs" / "findings.json").read_text(encoding="utf-8"))


@FUZZ
@given(findings=damaged_json(FINDINGS))
def test_fuzz_findings(findings):
    """A damaged findings file is refused on load, or every face that reads it renders it: the
    README's block, the findings page and the brief (in French, so the catalog's texts are used)."""
    from workbench.faces.brief import render_brief
    from workbench.faces.findings import load_findings, render_page, render_readme_block

    path = _write(json.dumps(findings), "findings.json")
    try:
        loaded = load_findings(path)
    except InputError:
        event("refused")
        return
    event("accepted and rendered")
    render_readme_block(loaded)
    render_page(loaded)
    render_brief(loaded, "fr")


CATALOG_TEXT = (Path(__file__).parents[1] / "workbench" / "faces" / "locale" / "fr" / "LC_MESSAGES" / "workbench.po").read_text(
    encoding="utf-8"
)


@st.composite
def damaged_catalog(draw):
    """The French catalog with lines deleted, doubled, cut short, or a placeholder or quote changed."""
    lines = CATALOG_TEXT.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "truncate", "placeholder", "quote", "insert"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "truncate":
            lines = lines[: max(i, 1)]
        elif op == "placeholder" and "{" in lines[i]:
            start = lines[i].index("{")
            swapped = draw(st.sampled_from(["{", "}", "{x}", "{yaer}", "{{", "", "{0}", "{n:%}"]))
            lines[i] = lines[i][:start] + swapped + lines[i][start + 1 :]
        elif op == "quote":
            lines[i] = lines[i].replace('"', draw(st.sampled_from(["", "'", '\\"'])), 1)
        elif op == "insert":
            lines.insert(i, draw(st.text(max_size=30)))
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=damaged_catalog())
def test_fuzz_catalogs(text):
    """A damaged catalog is refused with an InputError, or every text it translates formats with
    the English text's placeholders (so no page or app fails on it)."""
    import string as strings

    from workbench.faces.i18n import read_catalog

    try:
        catalog = read_catalog(_write(text, "workbench.po"), "fr")
    except InputError:
        event("refused")
        return
    event("accepted")
    for message in catalog:
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        texts = message.string if isinstance(message.string, tuple) else (message.string,)
        names = {name for _, name, _, _ in strings.Formatter().parse(ids[0]) if name}
        for translated in texts:
            if translated:
                translated.format(**dict.fromkeys(names, 1))


def _run_config():
    from workbench.inference.calibrate import run_config
    from workbench.inference.settings import Budget
    from workbench.inference.structures import ALL_STRUCTURES
    from workbench.inputs.observations import load_observations

    return run_config(load_priors(DEFAULT_PRIORS), load_observations(DEFAULT_DIR), Budget(), 2024, ALL_STRUCTURES)


RUN_CONFIG = _run_config()


def _empty_run_database() -> bytes:
    """The bytes of an empty pyabc run database (its tables and storage version, no run yet)."""
    import pyabc

    path = Path(tempfile.mkdtemp(prefix="fuzz-db-")) / "empty.db"
    pyabc.History(f"sqlite:///{path}")
    return path.read_bytes()


EMPTY_RUN_DATABASE = _empty_run_database()


@FUZZ
@given(settings_json=damaged_json(RUN_CONFIG) | st.text(max_size=40).map(json.dumps) | st.binary(max_size=60))
def test_fuzz_run_settings(settings_json):
    """A run database whose settings file beside it is damaged is refused on --resume with an
    InputError, and nothing is deleted; an undamaged one is accepted."""
    from workbench.inference.calibrate import _open_run_database

    folder = _scratch()
    db = folder / "run.db"
    db.write_bytes(EMPTY_RUN_DATABASE)
    blob = settings_json if isinstance(settings_json, bytes) else json.dumps(settings_json).encode()
    (folder / "run.json").write_bytes(blob)
    try:
        os.close(_open_run_database(db, RUN_CONFIG, resume=True, fresh=False))
    except InputError:
        event("refused")
        assert db.is_file() and (folder / "run.json").read_bytes() == blob
        return
    event("accepted")
    assert json.loads(blob) == RUN_CONFIG


# --- the review record: three files, each mutated -------------------------------------------------
RECORD_TEXTS = {name: (SYNTHETIC_RECORD_DIR / name).read_text(encoding="utf-8") for name in RECORD_FILES}
record_cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "", "R1-01", "R3-64", "R9-99", "Party 001", "Party 189", "Party 999", "reviewer_1", "reviewer_2", "reviewer_3",
            *EVENTS, "2020-11-30", "2020-12-01", "2022-11-01", "2024-05-21", "2024-05-22", "2099-01-01", "0000-01-01",
            "2024-02-30", "1", "2", "3", "4", "0", "-1", "²", "1.5",
        ]
    ),
)  # fmt: skip


@st.composite
def mutated_events(draw):
    rows = [line.split(",") for line in RECORD_TEXTS[EVENTS_FILE].splitlines()]
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(rows) - 1))
        op = draw(st.sampled_from(["cell", "cell", "delete", "duplicate", "swap", "short", "long"]))
        if op == "cell" and rows[i]:
            rows[i][draw(st.integers(0, len(rows[i]) - 1))] = draw(record_cells)
        elif op == "delete":
            del rows[i]
        elif op == "duplicate":
            rows.insert(draw(st.integers(0, len(rows))), list(rows[i]))
        elif op == "swap":
            j = draw(st.integers(0, len(rows) - 1))
            rows[i], rows[j] = rows[j], rows[i]
        elif op == "short":
            rows[i] = rows[i][:-1]
        elif op == "long":
            rows[i] = rows[i] + [draw(record_cells)]
        if not rows:
            break
    return "\n".join(",".join(r) for r in rows) + "\n"


def _load_record_from(texts: dict[str, str]) -> None:
    folder = _scratch()
    for name, text in texts.items():
        (folder / name).write_bytes(text.encode("utf-8", "replace"))
    try:
        load_record(folder, dt.date(2026, 12, 2))
    except InputError:
        pass


@FUZZ
@given(events=mutated_events())
def test_fuzz_record_events(events):
    _load_record_from({**RECORD_TEXTS, EVENTS_FILE: events})


@FUZZ
@given(head=mutated(RECORD_TEXTS[RECORD_FILE]), pairings=st.one_of(st.none(), mutated_csv()))
def test_fuzz_record_description_and_pairings(head, pairings):
    _load_record_from({**RECORD_TEXTS, RECORD_FILE: head, **({PAIRINGS_FILE: pairings} if pairings else {})})


@FUZZ
@given(name=st.sampled_from(RECORD_FILES), blob=st.binary(max_size=400))
def test_fuzz_record_random_bytes(name, blob):
    folder = _scratch()
    for other, text in RECORD_TEXTS.items():
        (folder / other).write_text(text, encoding="utf-8")
    (folder / name).write_bytes(blob)
    try:
        load_record(folder, dt.date(2026, 12, 2))
    except InputError:
        pass
