"""Every notebook runs top to bottom on a fresh kernel (small replication counts), and the
explorer's settings convert to scenario files and back without a browser."""

import datetime as dt
import html
import re

import nbformat
import pytest
from nbclient import NotebookClient

from workbench.core.errors import InputError
from workbench.faces.explorer import Explorer, default_settings, save_settings, scenario_to_settings, settings_to_scenario, settings_to_toml
from workbench.inputs.levers import Redraw
from workbench.inputs.scenarios import SCENARIO_DIR, load_scenario

from conftest import ROOT

pytestmark = pytest.mark.subprocess  # starts processes: left out of make test-fast

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_REPLICATIONS", "8")
    monkeypatch.setenv("WORKBENCH_POPULATION", "10")
    book = nbformat.read(path, as_version=4)
    assert not any(cell.get("outputs") for cell in book.cells if cell.cell_type == "code"), "commit notebooks without outputs"
    NotebookClient(book, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for cell in book.cells if cell.cell_type == "code" for o in cell.outputs if o.output_type == "error"]
    assert not errors
    # Every cell that draws a chart shows it (the library once forced an off-screen backend, and
    # executed notebooks came back without a single image).
    chart_cells = [cell for cell in book.cells if cell.cell_type == "code" and "_chart(" in cell.source]
    for cell in chart_cells:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"no image from: {cell.source[:60]}"
    if path.name == "briefing.ipynb":  # for delegations: exported without code, its narrative as text
        from nbconvert import HTMLExporter

        page, _ = HTMLExporter(exclude_input=True).from_notebook_node(book)
        assert "from workbench" not in page and "import os" not in page
        assert "Chance of meeting the condition before each Conference session" in page and page.count("<img") >= 2
        assert all("remove-input" in cell.metadata.get("tags", []) for cell in book.cells if cell.cell_type == "code")


def test_notebooks_hold_no_model_logic():
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                assert "simpy" not in cell.source and "def " not in cell.source and "class " not in cell.source, path.name


def test_default_settings_are_the_baseline():
    scenario = settings_to_scenario(default_settings())
    assert not scenario.levers.active() and scenario.condition.is_default


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_every_shipped_scenario_survives_settings_and_back(path):
    original = load_scenario(path)
    again = settings_to_scenario(scenario_to_settings(original))
    assert again.levers == original.levers
    assert again.condition == original.condition


def test_controls_to_settings_to_scenario_file(tmp_path):
    explorer = Explorer(replications=50, folder=tmp_path)
    settings = explorer.settings()
    settings["name"] = "Redraw after a year"
    settings["levers"]["redraw"].update(enabled=True, after_months=12.0, start=dt.date(2027, 1, 1))
    explorer.apply(settings)
    assert explorer.controls["redraw"]["after_months"].value == 12.0
    path = save_settings(explorer.settings(), tmp_path)
    assert path.name == "redraw-after-a-year.toml"
    loaded = load_scenario(path)
    assert loaded.levers.redraw == Redraw(dt.date(2027, 1, 1), after_months=12.0, delay_months=3.0)
    fresh = Explorer(replications=50, folder=tmp_path)
    fresh.load(path)
    assert fresh.settings()["levers"]["redraw"] == explorer.settings()["levers"]["redraw"]


def test_invalid_settings_are_refused_not_saved(tmp_path):
    settings = default_settings()
    settings["levers"]["training"].update(enabled=True, start=dt.date(2025, 1, 1))  # before today
    with pytest.raises(Exception, match=r"levers.training.start: 2025-01-01 is before today"):
        save_settings(settings, tmp_path)
    assert not list(tmp_path.glob("*.toml"))
    assert "[levers.training]" in settings_to_toml(settings)


def test_a_prepared_baseline_is_the_one_run_uses(tmp_path):
    """prepare() computes the baseline in the background; Run then reuses it (same object, same numbers)."""
    explorer = Explorer(replications=12, folder=tmp_path, workers=1)
    explorer.prepare().join()
    prepared = explorer._baseline_cache[(12, 1, "")]  # replications, seed, structure ("": the model average)
    settings = explorer.settings()
    settings["levers"]["redraw"]["enabled"] = True
    explorer.apply(settings)
    explorer.run()
    assert explorer._baseline_cache[(12, 1, "")] is prepared
    assert "scenario" in explorer.table.value


def test_the_explorer_runs_on_one_structure_and_shows_each_beside_the_average(tmp_path):
    explorer = Explorer(replications=12, folder=tmp_path, workers=1)
    names = [value for _, value in explorer.structure.options if value]
    assert len(names) == len(explorer.shipped.structure_names()) == 8
    explorer.structure.value = names[-1]
    explorer.run()
    assert (12, 1, names[-1]) in explorer._baseline_cache and f"({names[-1]})" in explorer.status.value
    explorer.by_structure()
    assert "model average" in explorer.structures_table.value and names[0] in explorer.structures_table.value
    # Beside the table: the chance of not meeting the condition under each answer, in the reader's words.
    assert "Are parties slow to nominate slow at every stage?" in html.unescape(explorer.structures_table.value)
    french = Explorer(replications=12, folder=tmp_path, workers=1, lang="fr")
    rows = [{"structure": n, "probability": 1 / 8, "p_not_within_horizon": 0.25, "replications": 12} for n in names]
    said = html.unescape(french._by_answer(rows))
    assert "Les parties lentes à désigner sont-elles lentes à chaque étape ?" in said and "oui : 25 %" in said


def test_both_charts_draw_todays_practice_and_the_scenario_in_the_same_colours(tmp_path, monkeypatch):
    """Today's practice beside a scenario is orange and dashed in the fan chart and in the chart of
    when the condition is met; the scenario is blue in both."""
    from matplotlib.colors import to_hex

    explorer = Explorer(replications=12, folder=tmp_path, workers=1)
    figures = []
    monkeypatch.setattr(explorer, "_show", lambda output, fig: figures.append(fig) or b"")
    settings = explorer.settings()
    settings["levers"]["redraw"]["enabled"] = True
    explorer.apply(settings)
    explorer.run()
    fan, dates = figures

    def styles(fig, today: str, scenario: str) -> dict[str, tuple[str, str]]:
        out = {}
        for line in fig.axes[0].get_lines():
            label = line.get_label()
            role = "today" if label.startswith(today) else "scenario" if label.startswith(scenario) else None
            if role:
                out[role] = (to_hex(line.get_color()), line.get_linestyle())
        return out

    in_fan = styles(fan, "median (today's practice)", "median (scenario)")
    in_dates = styles(dates, "today's practice", "scenario")
    assert in_fan["today"] == in_dates["today"] and in_fan["today"][1] == "--"
    assert in_fan["scenario"][0] == in_dates["scenario"][0] != in_fan["today"][0]


def test_the_first_run_says_it_computes_todays_practice_first(tmp_path, monkeypatch):
    """Its seconds are the baseline's: the planner is told, and a later Run says only that it runs."""
    explorer = Explorer(replications=12, folder=tmp_path, workers=1)
    seen = []
    real_run = explorer._run

    def watched(scenario, started):
        seen.append(explorer.status.value)
        real_run(scenario, started)

    monkeypatch.setattr(explorer, "_run", watched)
    explorer.run()
    explorer.run()
    assert "today&#x27;s practice first" in seen[0] and seen[1] == "running..."


def test_the_explorer_says_what_to_measure_next_in_the_readers_words(tmp_path, monkeypatch):
    """The findings' what-to-measure on the posterior chosen here: the figure that would narrow the
    forecast most, in the brief's own sentence, then the next ones with their ± and what each takes."""
    import workbench.faces.explorer as explorer_module

    monkeypatch.setattr(explorer_module, "MEASURE_RUNS", 300)  # the ranking is not the point here, the page is
    french = Explorer(replications=12, folder=tmp_path, workers=1, lang="fr")
    french.what_to_measure()
    said = html.unescape(french.measure.value)
    assert "Le chiffre qui, publié aujourd'hui, resserrerait le plus la prévision :" in said
    assert said.count("<tr>") == explorer_module.MEASURE_SHOWN and "± " in said
    assert "group 1" not in said and "Share of" not in said  # no English left on the French page


def test_the_explorer_reports_a_bad_file_and_a_failed_run_in_the_app(tmp_path, monkeypatch):
    explorer = Explorer(replications=12, folder=tmp_path, workers=1)
    (tmp_path / "broken.toml").write_text("[scenario\nname = ", encoding="utf-8")
    explorer.load(tmp_path / "broken.toml")
    assert "could not load broken.toml: not a valid scenario file (TOML)" in explorer.status.value
    assert str(tmp_path) not in explorer.status.value and "Expected" not in explorer.status.value  # no server path, no parser wording
    (tmp_path / "late.toml").write_text("[levers.training]\nstart = 2025-01-01\nsaq_factor = 0.8\n", encoding="utf-8")
    explorer.load(tmp_path / "late.toml")
    assert "could not load late.toml: levers.training.start: 2025-01-01 is before today" in html.unescape(explorer.status.value)
    assert str(tmp_path) not in explorer.status.value
    explorer.run()
    assert "updated in" in explorer.status.value
    explorer.seed.value = -1  # an impossible seed is refused as it is typed: the box holds 0
    assert explorer.seed.value == 0
    from workbench.faces import explorer as module

    def broken(*args, **kwargs):
        raise MemoryError("the machine ran out of memory")

    monkeypatch.setattr(module, "forecast", broken)
    explorer.structure.value = [v for _, v in explorer.structure.options if v][0]  # not cached: the run must compute
    explorer.run()
    assert "run failed" in explorer.status.value and "ran out of memory" in explorer.status.value
    assert "Out of date" in explorer.table.value and not explorer.run_button.disabled


def test_more_workers_than_cores_are_not_started():
    from workbench.experiments.replications import run_replications
    from workbench.experiments.setup import default_setup
    from workbench.experiments.workers import default_workers

    results = run_replications(default_setup(), 6, seed=1, workers=1000, keep_events=False, keep_monthly=False)
    assert results.workers == min(6, default_workers())


def test_saving_never_writes_over_a_shipped_scenario(tmp_path):
    """Saved as "baseline", the settings land in the planner's own folder; scenarios/baseline.toml is
    untouched, and replacing the planner's own file takes a second click."""
    shipped = (SCENARIO_DIR / "baseline.toml").read_bytes()
    explorer = Explorer(replications=12, workers=1, save_folder=tmp_path)
    explorer.name.value = "baseline"
    first = explorer._save_clicked()
    assert first == tmp_path / "baseline.toml" and (SCENARIO_DIR / "baseline.toml").read_bytes() == shipped
    assert explorer._save_clicked() is None and "press Save again" in explorer.status.value
    assert explorer._save_clicked() == first  # the second click confirms
    assert ("mine: baseline.toml", str(first)) in explorer.load_choice.options
    with pytest.raises(InputError, match="shipped scenarios are not written"):
        save_settings(explorer.settings(), SCENARIO_DIR)


def test_the_what_would_it_take_tab_finds_and_saves_a_package(tmp_path, monkeypatch):
    from workbench.faces import planner

    explorer = Explorer(replications=12, workers=1, save_folder=tmp_path)
    tab = explorer.plan_tab
    monkeypatch.setitem(planner.SEARCH_SIZES, tab.size.value, (6, 20, 30, 1.0))  # a tiny search
    tab.target.value = "horizon"
    tab.run()
    assert "done: " in tab.status.value and "<table" in tab.answer.value and "verified on 30 fresh simulated futures" in tab.answer.value
    assert tab.answer.value.count("<tr>") == len(tab.result.frontier) + 1  # a row per frontier package, under its heading
    assert tab.package.value in tab.result.packages
    saved = [tab.save(), tab.save()]
    assert saved[0] != saved[1] and all(p.parent == tmp_path for p in saved)  # never over an existing file
    assert load_scenario(saved[0]).levers == tab.result.packages[tab.package.value].levers(tab.effort)


def test_the_what_would_it_take_answer_is_a_table_in_the_readers_language(tmp_path, monkeypatch):
    """Each package's levers by their names, intensities, months and reach in French; no English."""
    from workbench.faces import planner

    explorer = Explorer(replications=12, workers=1, save_folder=tmp_path, lang="fr")
    tab = explorer.plan_tab
    monkeypatch.setitem(planner.SEARCH_SIZES, tab.size.value, (6, 20, 30, 1.0))
    tab.target.value = "horizon"
    tab.run()
    said = html.unescape(tab.answer.value)
    assert "vérifié" in said and "Intensité" in said and "package" not in said and "verified" not in said


@pytest.mark.parametrize("path", sorted(SCENARIO_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_load_then_save_keeps_every_shipped_scenario_or_says_what_it_cannot_show(path, tmp_path):
    from workbench.faces.explorer import unshown

    original = load_scenario(path)
    explorer = Explorer(replications=12, workers=1, save_folder=tmp_path)
    explorer.load(path)
    assert explorer._loaded == original  # Run runs the file itself until a control changes
    saved = load_scenario(explorer._save_clicked())
    same = saved.levers == original.levers and saved.condition == original.condition and saved.changes == original.changes
    assert same or unshown(original), f"{path.name} changed on Load and Save without a word"
    if not same:
        assert "cannot show" in explorer.status.value or "saved" in explorer.status.value


def test_what_the_controls_cannot_show_is_named_and_run_uses_the_file(tmp_path):
    path = tmp_path / "two-groups.toml"
    path.write_text(
        '[scenario]\nname = "two groups"\n[levers.training]\nstart = 2027-01-01\ntarget = [1, 2]\nsaq_factor = 0.8\n'
        "[parameters]\nsecretariat_officers = 3\n",
        encoding="utf-8",
    )
    explorer = Explorer(replications=12, workers=1, save_folder=tmp_path)
    explorer.load(path)
    assert "groups [1, 2]" in explorer.status.value and "secretariat_officers = 3" in explorer.status.value
    assert explorer._loaded == load_scenario(path)
    explorer.controls["training"]["saq_factor"].value = 0.7  # a change: the controls now define the scenario
    assert explorer._loaded is None


def test_results_go_out_of_date_on_any_change_and_downloads_are_valid_files(tmp_path):
    import base64
    import io
    import re

    import openpyxl

    explorer = Explorer(replications=12, workers=1, save_folder=tmp_path)
    explorer.controls["redraw"]["enabled"].value = True
    explorer.run()
    assert "Out of date" not in explorer.table.value
    links = dict(re.findall(r"download='([^']+)' href='data:[^;]+;base64,([^']+)'", explorer.downloads.value))
    assert {"scenario.toml", "chances.csv", "chances.xlsx"} <= set(links)
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(links["chances.xlsx"])))
    values = [row for row in book["chances"].iter_rows(min_row=2, values_only=True)]
    assert all(isinstance(v, (int, float)) for row in values for v in row[1:])  # numbers, not worded percentages
    (tmp_path / "s.toml").write_bytes(base64.b64decode(links["scenario.toml"]))
    assert load_scenario(tmp_path / "s.toml").levers.redraw is not None
    assert "wb-stale-chart" not in explorer.fan._dom_classes
    explorer.controls["redraw"]["after_months"].value = 30.0
    assert "Out of date" in explorer.table.value and explorer.downloads.value == ""
    # The charts dim with the table, and the status no longer says when they were updated.
    assert "wb-stale-chart" in explorer.fan._dom_classes and "wb-stale-chart" in explorer.dates._dom_classes
    assert "Out of date" in explorer.status.value and "updated in" not in explorer.status.value


def test_the_results_say_when_with_a_date_and_its_range(tmp_path):
    explorer = Explorer(replications=12, workers=1, save_folder=tmp_path)
    explorer.controls["handover_protocol"]["enabled"].value = True
    explorer.run()
    base = explorer._baseline_cache[(12, 1, "")]
    when = explorer._when(base.summary["median"], base.summary["horizon"])
    assert "When the condition is met" in explorer.table.value and when in explorer.table.value
    assert re.fullmatch(r"[A-Z][a-z]+ 20\d\d|not by 2060", when)  # "May 2054": the month in full, never 05/54
    text = html.unescape(explorer.difference.value)
    assert f"median date: {when} with today's practice" in text and "gain in one and the same future: median" in text


def test_the_redraw_lever_says_how_many_reviews_it_can_still_reach(tmp_path):
    explorer = Explorer(replications=12, workers=1, save_folder=tmp_path)
    explorer.controls["redraw"]["enabled"].value = True
    explorer.run()
    text = html.unescape(explorer.difference.value)
    assert re.search(r"Redraws from 1 January 2027: of the \d+ reviews still held up by nominations then, \d+ wait for the party", text)


def test_a_scenario_without_a_name_is_not_saved(tmp_path):
    explorer = Explorer(replications=12, workers=1, save_folder=tmp_path)
    explorer.name.value = "  "
    assert explorer._save_clicked() is None and "give the scenario a name" in explorer.status.value
    assert not list(tmp_path.glob("*.toml"))


def test_a_typed_value_out_of_range_is_changed_and_the_planner_told():
    explorer = Explorer(replications=12, workers=1)
    explorer.controls["training"]["saq_factor"].value = 1.5
    assert explorer.controls["training"]["saq_factor"].value == 1.0
    assert html.unescape(explorer.notice.value) == "self-assessment time ×: 1.50 is outside 0.30 to 1.00, so it was set to 1.00."
    explorer.controls["secretariat_staffing"]["officers_change"].value = 50
    assert explorer.controls["secretariat_staffing"]["officers_change"].value == 20 and "50 is outside -10 to 20" in explorer.notice.value
    fr = Explorer(replications=12, workers=1, lang="fr")
    fr.condition["share"].value = 1.5
    assert fr.condition["share"].value == 1.0 and "1,50" in fr.notice.value  # French numbers in a French message


def test_a_start_date_is_shown_in_full_in_the_readers_order():
    assert Explorer(replications=12, workers=1).start_words["training"].value == "1 Jan 2027"  # the month after today
    fr = Explorer(replications=12, workers=1, lang="fr")
    assert fr.start_words["training"].value == "1 janv. 2027"
    fr.controls["training"]["start"].value = dt.date(2028, 3, 15)
    assert fr.start_words["training"].value == "15 mars 2028"


def test_the_explorer_speaks_french_and_spanish():
    fr = Explorer(replications=12, workers=1, lang="fr")
    assert fr.run_button.description == "Lancer" and fr.tabs.get_title(1) == "Que faudrait-il ?"
    assert fr.controls["consensus_facilitation"]["enabled"].description.startswith("Facilitation des listes d'observations")
    fr.run()
    assert "futurs simulés" in fr.status.value and "Probabilité que la condition soit remplie" in fr.table.value
    es = Explorer(replications=12, workers=1, lang="es")
    assert es.run_button.description == "Ejecutar" and "lista" in es.controls["consensus_facilitation"]["enabled"].description


def test_the_planning_tab_says_its_effort_unit_in_the_readers_language(tmp_path):
    explorer = Explorer(replications=12, workers=1, save_folder=tmp_path, lang="fr")
    intro = explorer.plan_tab.widget.children[0].value
    assert "mois-fonctionnaire" in html.unescape(intro) and "officer-months" not in intro
