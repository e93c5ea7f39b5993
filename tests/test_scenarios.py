"""Scenario files: shipped ones load; bad ones are errors naming file, key and what is allowed."""

import pytest

from workbench.core.errors import InputError
from workbench.inputs.parameters import Parameters
from workbench.inputs.scenarios import SCENARIO_DIR, load_scenario, scenario_table, scenario_text

from conftest import SCENARIO_FILES


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_scenarios_load(path):
    scenario = load_scenario(path)
    assert scenario.name and scenario.description
    scenario.apply(Parameters())


def test_extends_inherits_and_overrides(tmp_path):
    (tmp_path / "base.toml").write_text("[parameters]\nsaq_median_months = 9\nsecretariat_officers = 3\n")
    (tmp_path / "child.toml").write_text('[scenario]\nextends = "base.toml"\n[parameters]\nsecretariat_officers = 5\n')
    scenario = load_scenario(tmp_path / "child.toml")
    params = scenario.apply(Parameters())
    assert params.saq_median_months == 9 and params.secretariat_officers == 5


def _bad(tmp_path, text):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text,message",
    [
        ("[parameters]\nsecretariat_oficers = 3\n", "secretariat_oficers: unknown parameter"),
        ("[parameters]\nsaq_sigma = 9.0\n", "saq_sigma: 9.0 is out of range"),
        ('[parameters]\nsecretariat_officers = "four"\n', "secretariat_officers: expected a whole number"),
        ("[levrs]\nx = 1\n", "levrs: unknown table"),
        ('[scenario]\nnmae = "x"\n', "scenario.nmae: unknown key"),
        ('[scenario]\nextends = "bad.toml"\n', "loop"),
        ("[parameters\n", "not valid TOML"),
    ],
)
def test_bad_scenarios_name_file_and_key(tmp_path, text, message):
    with pytest.raises(InputError, match=message) as err:
        load_scenario(_bad(tmp_path, text))
    assert "bad.toml" in str(err.value)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_a_scenario_written_out_loads_back_the_same(tmp_path, path):
    """One writer of scenario files (the planner's packages and the explorer's Save use it)."""
    scenario = load_scenario(path)
    written = tmp_path / "written.toml"
    written.write_text(scenario_text(scenario_table(scenario), "a comment line\nand another"), encoding="utf-8")
    again = load_scenario(written)
    assert (again.name, again.description, again.changes, again.levers, again.condition) == (
        scenario.name,
        scenario.description,
        scenario.changes,
        scenario.levers,
        scenario.condition,
    )
    assert written.read_text(encoding="utf-8").startswith("# a comment line\n# and another\n")


@pytest.mark.parametrize(
    "names, field",
    [('"formation"', "scenario.names"), ('{ french = "formation" }', "scenario.names.french"), ('{ fr = "" }', "scenario.names.fr")],
    ids=["not a table", "not a language code", "empty name"],
)
def test_a_scenarios_names_in_other_languages_are_checked(tmp_path, names, field):
    path = tmp_path / "named.toml"
    path.write_text(f'[scenario]\nname = "training"\nnames = {names}\n', encoding="utf-8")
    with pytest.raises(InputError) as refused:
        load_scenario(path)
    assert refused.value.field == field


def test_every_shipped_option_has_a_french_and_a_spanish_name_that_survives_a_round_trip(tmp_path):
    for path in sorted(SCENARIO_DIR.glob("*.toml")):
        scenario = load_scenario(path)
        if scenario.name == "baseline":
            continue  # shown as "today's practice", from the catalogs
        assert set(scenario.names) == {"fr", "es"}, path.name
        copy = tmp_path / path.name
        copy.write_text(scenario_text(scenario_table(scenario)), encoding="utf-8")
        assert load_scenario(copy).names == scenario.names


def test_a_lever_starting_at_the_earliest_starts_the_month_after_the_forecasts_date(tmp_path):
    import datetime as dt

    path = tmp_path / "soon.toml"
    path.write_text('[scenario]\nname = "soon"\n[levers.training]\nstart = "earliest"\nsaq_factor = 0.9\n', encoding="utf-8")
    for made_on, start in ((dt.date(2026, 12, 7), dt.date(2027, 1, 1)), (dt.date(2027, 2, 10), dt.date(2027, 3, 1))):
        assert load_scenario(path, made_on).levers.training.start == start
    later = tmp_path / "later.toml"  # an option that takes time to set up: so many months after the earliest
    later.write_text('[scenario]\nname = "later"\n[levers.training]\nstart = "earliest + 6 months"\nsaq_factor = 0.9\n', encoding="utf-8")
    for made_on, start in ((dt.date(2026, 12, 7), dt.date(2027, 7, 1)), (dt.date(2027, 9, 10), dt.date(2028, 4, 1))):
        assert load_scenario(later, made_on).levers.training.start == start
    later.write_text('[scenario]\nname = "later"\n[levers.training]\nstart = "earliest + six months"\nsaq_factor = 0.9\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"later\.toml: levers\.training\.start: expected a date.*'earliest \+ 6 months'"):
        load_scenario(later, dt.date(2026, 12, 7))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.stem)
def test_no_shipped_option_falls_into_the_past_within_a_year(path):
    """The shipped options say "earliest" (or so many months after it), not a date that the calendar
    overtakes; only the Conference's decision is dated, at its next session (October 2028)."""
    import datetime as dt

    from workbench.core.timeline import today

    load_scenario(path, today() + dt.timedelta(days=365))
