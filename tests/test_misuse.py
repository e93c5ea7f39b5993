"""What a second misuse audit found (issue #24), one test per reproducer, grouped by class.

Each test states what a user now gets: a refusal that names the file, the field and what is
allowed, before any work starts, and nothing of theirs replaced or deleted.  Run against the
code before the fixes (0.6.0 at 6861756), each of these fails.
"""

from __future__ import annotations

import errno
import json
import math
import os
import signal
import stat
import sys
from pathlib import Path

import pandas as pd
import pytest

from workbench.core.errors import InputError
from workbench.core.paths import POSTERIOR_DIR, SCENARIOS_DIR

from conftest import ROOT

FAST = ["--replications", "2", "--hand-set", "--horizon", "2032-12-31", "--workers", "1"]


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run the command line in this process: (exit status, stderr).  Signal handlers are restored."""
    from workbench.faces.cli import main

    def run(*argv: str) -> tuple[int, str]:
        handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exit_:  # the parser's own refusals (a value out of an option's range)
            status = exit_.code
        finally:
            signal.signal(signal.SIGINT, handlers[0])
            signal.signal(signal.SIGTERM, handlers[1])
        return status, capsys.readouterr().err

    return run


@pytest.fixture
def no_work(monkeypatch):
    """Any simulation or calibration fails the test: a check must come before the work."""

    def work_started(*args, **kwargs):
        raise AssertionError("the work started before the input was checked")

    for name, module in list(sys.modules.items()):
        if name.startswith("workbench") and hasattr(module, "run_replications"):
            monkeypatch.setattr(module, "run_replications", work_started)
    from workbench.inference import calibrate

    monkeypatch.setattr(calibrate.Calibration, "run", work_started)


def _users_file(path: Path, text: str = "my thesis, chapter 3\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _fingerprint(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- class 1: nothing the workbench did not write is replaced -----------------------------------


@pytest.mark.parametrize(
    "command, name, option",
    [
        (["brief"], "notes.csv", "--output"),
        (["compare", *FAST, "--xlsx", "--output", "{folder}/budget.csv"], "budget.xlsx", None),
        (["forecast", *FAST, "--output", "{folder}/fc", "--export"], "hub.csv", None),
    ],
    ids=["brief", "compare-xlsx", "forecast-export"],
)
def test_a_file_the_user_wrote_is_never_a_destination(cli, no_work, tmp_path, command, name, option):
    users = _users_file(tmp_path / name)
    argv = [a.replace("{folder}", str(tmp_path)) for a in command]
    argv += [option, users] if option else ([users] if argv[-1] == "--export" else [])
    status, err = cli(*argv)
    assert status == 2, err
    assert name in err and "the workbench did not write" in err and "--overwrite" in err
    assert users.read_text(encoding="utf-8") == "my thesis, chapter 3\n"


def test_overwrite_is_what_lets_a_users_file_be_replaced_and_the_workbench_replaces_its_own(cli, tmp_path):
    users = _users_file(tmp_path / "brief.html")
    assert cli("brief", "--output", users)[0] == 2
    assert cli("brief", "--output", users, "--overwrite")[0] == 0
    assert users.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    status, err = cli("brief", "--output", users)  # now the workbench's own, unchanged since: replaced
    assert status == 0, err
    users.write_text(users.read_text(encoding="utf-8") + "<!-- my note -->", encoding="utf-8")
    assert cli("brief", "--output", users)[0] == 2  # changed since the workbench wrote it: the user's again


@pytest.mark.parametrize(
    "command",
    [
        ["act-first", "--session", "2030", *FAST],
        ["what-to-measure", *FAST],
        ["critical-path", "--record", "calibration/record-synthetic", *FAST],
    ],
    ids=["act-first", "what-to-measure", "critical-path"],
)
def test_a_table_command_writes_a_folder_and_never_over_a_users_file(cli, no_work, tmp_path, command):
    """act-first, what-to-measure and critical-path take a folder, as every other command does
    (#23: they took a file): a user's file there is refused before any work, and left as it was."""
    users = _users_file(tmp_path / "thesis.txt")
    status, err = cli(*command, "--output", users)
    assert status == 2 and "is an existing file" in err and "thesis.txt" in err
    assert users.read_text(encoding="utf-8") == "my thesis, chapter 3\n"


def test_a_folder_with_its_own_manifest_is_not_taken_for_an_output(cli, no_work, tmp_path):
    app = tmp_path / "webapp"
    _users_file(app / "manifest.json", '{"name": "my app"}')
    _users_file(app / "index.html", "<h1>mine</h1>")
    before = _fingerprint(app)
    status, err = cli("forecast", *FAST, "--output", app)
    assert status == 2 and "no .workbench-output marker" in err
    assert _fingerprint(app) == before


def test_the_shipped_posterior_is_never_a_forecast_destination(cli, no_work):
    before = _fingerprint(POSTERIOR_DIR)
    status, err = cli("forecast", *FAST, "--output", POSTERIOR_DIR)
    assert status == 2 and "shipped data" in err
    assert _fingerprint(POSTERIOR_DIR) == before


def test_a_file_saved_into_an_output_folder_is_not_deleted_when_it_is_replaced(tmp_path):
    from workbench.core.atomic import atomic_folder

    out = tmp_path / "fc"
    with atomic_folder(out) as staging:
        (staging / "summary.csv").write_text("a,b\n", encoding="utf-8")
    _users_file(out / "my-notes.txt")
    with pytest.raises(InputError, match=r"holds my-notes.txt, which the workbench did not write there"), atomic_folder(out) as staging:
        (staging / "summary.csv").write_text("c,d\n", encoding="utf-8")
    assert (out / "my-notes.txt").read_text(encoding="utf-8") == "my thesis, chapter 3\n"


def test_calibrate_never_deletes_or_writes_over_a_file_that_is_not_its_run(cli, no_work, tmp_path):
    thesis = _users_file(tmp_path / "thesis.txt")
    status, err = cli("calibrate", "--db", thesis, "--fresh", "--output", tmp_path / "post")
    assert status == 2 and "is not a SQLite database" in err
    assert thesis.read_text(encoding="utf-8") == "my thesis, chapter 3\n"
    settings = _users_file(tmp_path / "mine.json", '{"my": "settings"}')
    status, err = cli("calibrate", "--db", tmp_path / "mine.db", "--output", tmp_path / "post")
    assert status == 2 and "over a file the workbench did not write" in err
    assert settings.read_text(encoding="utf-8") == '{"my": "settings"}'


def test_the_explorer_never_saves_into_the_shipped_folders_below_scenarios(tmp_path):
    from workbench.faces.explorer import default_settings, save_settings

    effort = SCENARIOS_DIR / "planning" / "effort.toml"
    before = effort.read_bytes()
    settings = {**default_settings(), "name": "effort"}
    with pytest.raises(InputError, match="shipped scenarios are not written from the explorer"):
        save_settings(settings, folder=effort.parent, replace=True)
    assert effort.read_bytes() == before


# --- class 2: checks that came after the work now come before it ---------------------------------


def test_a_run_database_inside_the_output_is_refused_before_the_calibration(cli, no_work, tmp_path):
    status, err = cli("calibrate", "--db", tmp_path / "post" / "run.db", "--output", tmp_path / "post")
    assert status == 2 and "--db" in err
    assert not (tmp_path / "post").exists()


def test_a_bad_plan_folder_is_refused_before_the_reports_scenarios_run(cli, no_work, tmp_path):
    status, err = cli("report", *FAST, "--output", tmp_path / "r.html", "--plan", tmp_path / "no-plan-here")
    assert status == 2 and "no-plan-here" in err


def test_compare_with_only_the_baseline_is_refused_before_it_runs(cli, no_work, tmp_path):
    status, err = cli("compare", *FAST, "--output", tmp_path / "c.csv", SCENARIOS_DIR / "baseline.toml")
    assert status == 2 and "baseline" in err


def test_a_negative_staffing_is_refused_when_the_scenario_is_loaded_naming_its_file(tmp_path):
    from workbench.inputs.scenarios import load_scenario

    path = _users_file(
        tmp_path / "cuts.toml",
        '[scenario]\nname = "cuts"\n\n[parameters]\nsecretariat_officers = 2\n\n'
        "[levers.secretariat_staffing]\nstart = 2027-06-01\nofficers_change = -2\n",
    )
    with pytest.raises(InputError) as refused:
        load_scenario(path)
    assert refused.value.source == str(path) and "officers_change" in refused.value.field
    assert "would leave 0 officers" in refused.value.problem


def test_a_legal_name_too_long_for_the_staging_name_is_refused_before_the_work(cli, no_work, tmp_path):
    status, err = cli("forecast", *FAST, "--output", tmp_path / ("f" * 245))
    assert status == 2 and "bytes long" in err


def test_an_export_is_written_with_its_forecast_folder_as_one_unit(cli, tmp_path):
    out, export = tmp_path / "fc", tmp_path / "hub.csv"
    assert cli("forecast", *FAST, "--output", out, "--export", export, "--no-events")[0] == 0
    assert export.is_file() and (out / "manifest.json").is_file()
    _users_file(out / "my-notes.txt")  # the next run's folder is refused: the export is not written either
    export_before, folder_before = export.read_bytes(), _fingerprint(out)
    status, err = cli("forecast", *FAST, "--seed", "9", "--output", out, "--export", export, "--no-events")
    assert status == 2 and "my-notes.txt" in err
    assert export.read_bytes() == export_before and _fingerprint(out) == folder_before


# --- class 3: values and sizes are bounded ---------------------------------------------------------


@pytest.mark.parametrize(
    "argv, says",
    [
        (["forecast", "--replications", str(10**12)], "200,000"),
        (["calibrate", "--population", str(10**10)], "population"),
        (["plan", "--max-minutes", "0"], "max-minutes"),
        (["plan", "--max-minutes", "-1"], "max-minutes"),
        (["plan", "--max-minutes", "nan"], "max-minutes"),
        (["sensitivity", "--draws", "1"], "draws"),
        (["sensitivity", "--draws", str(10**9)], "draws"),
        (["decision", "--horizon", "9999-12-31"], "horizon"),
        (["act-first", "--horizon", "2020-01-01"], "horizon"),
        (["plan", "--target", "2030", "--horizon", "2029-12-31"], "horizon"),
        (["calibrate", "--structures", "silent-coupled-smooth,silent-coupled-smooth"], "silent-coupled-smooth"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_out_of_range_values_are_refused_before_any_work(cli, no_work, tmp_path, argv, says):
    status, err = cli(*argv, "--output", tmp_path / "out")
    assert status == 2, err
    assert says in err and "allowed" in err


def test_local_workers_never_outnumber_the_cores():
    from workbench.experiments.workers import iter_map

    pids = set(iter_map(os.getpid, [() for _ in range(64)], workers=10_000))
    assert len(pids) <= (os.cpu_count() or 1)


def test_a_lever_after_the_horizon_is_refused_not_silently_ignored(tmp_path):
    from workbench.analysis.forecast import forecast_setup
    from workbench.inputs.scenarios import load_scenario

    path = _users_file(
        tmp_path / "late.toml",
        '[scenario]\nname = "late"\n\n[levers.secretariat_staffing]\nstart = 2059-01-01\nofficers_change = 2\n',
    )
    with pytest.raises(InputError, match="after the horizon|horizon"):
        forecast_setup(load_scenario(path), horizon=pd.Timestamp("2040-12-31").date())


def test_a_share_of_zero_is_refused_rather_than_met_at_the_start(tmp_path):
    from workbench.inputs.scenarios import load_scenario

    path = _users_file(
        tmp_path / "zero.toml",
        '[scenario]\nname = "zero"\n\n[condition]\nshare = 0.0\ndecided_at = 2028\n',
    )
    with pytest.raises(InputError, match="share"):
        load_scenario(path)


def test_an_effort_of_1e308_is_refused(tmp_path):
    from workbench.inputs.effort import EFFORT_FILE, load_effort

    text = EFFORT_FILE.read_text(encoding="utf-8")
    key = next(line for line in text.splitlines() if line.startswith("per_year"))
    path = _users_file(tmp_path / "effort.toml", text.replace(key, "per_year = 1e308", 1))
    with pytest.raises(InputError, match="per_year"):
        load_effort(path)


def test_posterior_weights_near_the_largest_float_still_weigh_every_particle(tmp_path):
    import shutil

    from workbench.inputs.posterior import load_posterior

    folder = tmp_path / "posterior"
    shutil.copytree(POSTERIOR_DIR, folder)
    particles = pd.read_csv(folder / "particles.csv")
    particles["weight"] = 1e308
    particles.to_csv(folder / "particles.csv", index=False)
    posterior = load_posterior(folder)
    assert math.isclose(posterior.weights.sum(), 1.0) and posterior.weights.min() == posterior.weights.max()


def test_an_extends_chain_1500_deep_is_an_input_error_not_a_recursion_error(tmp_path):
    from workbench.inputs.scenarios import load_scenario

    for k in range(1500):
        _users_file(tmp_path / f"s{k}.toml", f'[scenario]\nname = "s{k}"\nextends = "s{k + 1}.toml"\n')
    _users_file(tmp_path / "s1500.toml", '[scenario]\nname = "end"\n')
    with pytest.raises(InputError, match="chain of extended files is longer"):
        load_scenario(tmp_path / "s0.toml")


# --- class 4: observations the backtest and calibration used to accept ----------------------------


def _observations_with(tmp_path: Path, old: str, new: str, name: str = "2024-04-05.toml") -> Path:
    import shutil

    folder = tmp_path / "observations"
    shutil.copytree(ROOT / "calibration" / "observations", folder)
    text = (folder / name).read_text(encoding="utf-8")
    assert old in text
    (folder / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize("value", ["nan", "inf", "1e308"])
def test_a_figure_that_is_not_a_count_is_refused(tmp_path, value):
    from workbench.inputs.observations import load_observations

    folder = _observations_with(tmp_path, "value = 189", f"value = {value}")  # the total: no larger figure bounds it
    with pytest.raises(InputError, match=r"reviews_total\)\.value: .* is not a count"):
        load_observations(folder)


@pytest.mark.parametrize(
    "old, new, says",
    [
        ('name = "consultations_held"', 'name = "consultations_hled"', "consultations_hled"),
        ("as_at = 2024-04-05", "as_at = 1900-04-05", "as_at"),
        ("as_at = 2024-04-05", "as_at = 2099-04-05", "as_at"),
    ],
    ids=["misspelt figure", "1900", "2099"],
)
def test_a_misspelt_figure_or_an_impossible_date_is_refused(tmp_path, old, new, says):
    from workbench.inputs.observations import load_observations

    with pytest.raises(InputError, match=says):
        load_observations(_observations_with(tmp_path, old, new))


def test_a_cumulative_count_that_falls_between_dates_is_refused(tmp_path):
    from workbench.inputs.observations import load_observations

    # 78 consultations held on 21 May 2024, so 95 six weeks earlier is a count that fell.
    with pytest.raises(InputError, match="consultations_held"):
        load_observations(_observations_with(tmp_path, "value = 73", "value = 95"))


def test_the_reports_splits_are_checked_even_where_a_file_declares_no_sum(tmp_path):
    from workbench.inputs.observations import load_observations

    folder = _observations_with(tmp_path, "[[sum]]", "[[ignored_sum]]", "2024-05-21.toml")
    text = (folder / "2024-05-21.toml").read_text(encoding="utf-8")
    text = text.replace("[[ignored_sum]]", "[[sum]]", 1)  # the old format: no sum declared
    for block in text.split("[[sum]]")[1:]:
        text = text.replace("[[sum]]" + block, "")
    text = text.replace("value = 35\n", "value = 60\n", 1)  # 60 + 37 + 6 is not 78 advancing
    (folder / "2024-05-21.toml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="reviews_advancing|sum|parts"):
        load_observations(folder)


# --- class 5: the files the workbench wrote and reads back ---------------------------------------


def test_a_damaged_findings_file_is_refused_naming_the_field(cli, tmp_path):
    findings = json.loads((ROOT / "docs" / "findings.json").read_text(encoding="utf-8"))
    findings["headline"]["p_not_by_horizon"] = "42 %"
    path = _users_file(tmp_path / "findings.json", json.dumps(findings))
    status, err = cli("brief", "--findings", path, "--output", tmp_path / "b.html")
    assert status == 2 and "headline.p_not_by_horizon" in err and "a number from 0 to 1" in err
    assert not (tmp_path / "b.html").exists()


def test_findings_whose_decision_lacks_todays_practice_are_refused_not_a_type_error(tmp_path):
    from workbench.core.timeline import HEADLINE_SESSION
    from workbench.faces.findings import load_findings

    findings = json.loads((ROOT / "docs" / "findings.json").read_text(encoding="utf-8"))
    del findings["decision"][str(HEADLINE_SESSION)]["today's practice"]  # found by `make fuzz` at 10,000 inputs
    path = _users_file(tmp_path / "findings.json", json.dumps(findings))
    with pytest.raises(InputError, match=rf"decision\.{HEADLINE_SESSION}: has no share for today's practice"):
        load_findings(path)


def _catalog_folder(tmp_path: Path, text: str, code: str = "de") -> Path:
    _users_file(tmp_path / "locale" / code / "LC_MESSAGES" / "workbench.po", text)
    return tmp_path / "locale"


FRENCH = (ROOT / "workbench" / "faces" / "locale" / "fr" / "LC_MESSAGES" / "workbench.po").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "text, says",
    [
        ("", "translates none"),
        ("this is no catalog\n", "not a valid catalog"),
        (FRENCH.replace("{year}", "{annee}", 2)[: len(FRENCH)], "placeholders"),
        (FRENCH.replace('msgstr "Quand', 'msgstr "{Quand', 1), "brace"),
    ],
    ids=["empty", "garbage", "misspelt placeholder", "unbalanced brace"],
)
def test_a_damaged_catalog_is_refused_not_shown_as_english_or_a_crash(tmp_path, text, says):
    from workbench.faces.i18n import language

    if "{annee}" in text:  # misspell a placeholder in the translation only, not in its English text
        text = FRENCH
        msgstr = next(line for line in text.splitlines() if line.startswith("msgstr") and "{year}" in line)
        text = text.replace(msgstr, msgstr.replace("{year}", "{annee}"), 1)
    with pytest.raises(InputError, match=says) as refused:
        language("de", _catalog_folder(tmp_path, text))
    assert refused.value.source.endswith("workbench.po")


def test_the_explorer_opens_in_english_and_says_why_when_its_catalog_is_damaged(monkeypatch, tmp_path):
    from workbench.faces import explorer, i18n

    folder = _catalog_folder(tmp_path, "this is no catalog\n")
    monkeypatch.setattr(explorer, "language", lambda code: i18n.language(code, folder))
    app = explorer.Explorer(replications=2, lang="de", workers=1)
    assert app.lang.code == "en"
    assert "cannot be used, so the app is in English" in app.notice.value and "workbench.po" in app.notice.value


def test_a_damaged_run_database_is_refused_on_resume_and_left_as_it_is(cli, no_work, tmp_path):
    from workbench.inference.calibrate import SQLITE_HEADER

    db = tmp_path / "run.db"
    db.write_bytes(SQLITE_HEADER + os.urandom(2000))
    saved = {"seed": 1, "population": 2, "structures": [], "priors": {}, "observations": []}
    _users_file(tmp_path / "run.json", json.dumps(saved))
    before = db.read_bytes()
    status, err = cli("calibrate", "--db", db, "--resume", "--output", tmp_path / "post")
    assert status == 2 and "cannot be resumed" in err and "--fresh" in err
    assert db.read_bytes() == before


# --- class 6: one run at a time per run database -------------------------------------------------


def test_a_second_calibration_on_a_held_database_is_refused_naming_the_holder(tmp_path):
    from workbench.inference.calibrate import _lock_run_database, _open_run_database

    db = tmp_path / "run.db"
    held = _lock_run_database(db)
    try:
        with pytest.raises(InputError, match=rf"in use by another calibration \(process {os.getpid()}\)"):
            _open_run_database(db, {"seed": 1}, resume=False, fresh=False)
    finally:
        os.close(held)


# --- class 7: messages that name the right thing -------------------------------------------------


@pytest.mark.parametrize("target", ["missing.toml", "folder", "empty.toml", "~/nowhere/x.toml"])
def test_a_bad_extends_target_is_reported_as_the_field_of_the_file_that_names_it(tmp_path, target):
    from workbench.inputs.scenarios import load_scenario

    (tmp_path / "folder").mkdir()
    _users_file(tmp_path / "empty.toml", "")
    path = _users_file(tmp_path / "mine.toml", f'[scenario]\nname = "mine"\nextends = "{target}"\n')
    with pytest.raises(InputError) as refused:
        load_scenario(path)
    assert refused.value.source == str(path) and refused.value.field == "scenario.extends"


def test_a_nul_byte_in_a_pairing_list_is_blamed_on_its_own_line(tmp_path):
    from workbench.inputs.parties import load_pairings, synthetic_pairings

    path = tmp_path / "pairs.csv"
    synthetic_pairings(1).to_csv(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[7] = lines[7][:5] + "\x00" + lines[7][5:]  # inside a cell, where the csv module once passed it on
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"line 8: contains a NUL byte"):
        load_pairings(path)


def test_a_full_disk_is_a_message_that_nothing_was_lost(cli, monkeypatch, tmp_path):
    from workbench.core import atomic

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "b.html"))

    monkeypatch.setattr(atomic, "write_output_file", disk_full)
    from workbench.faces import cli as cli_module

    monkeypatch.setattr(cli_module, "write_output_file", disk_full, raising=False)
    status, err = cli("brief", "--output", tmp_path / "b.html")
    assert status == 2 and "disk is full" in err and "Nothing was replaced" in err and "Traceback" not in err


@pytest.mark.subprocess
def test_ctrl_c_while_starting_is_a_message_not_a_traceback():
    import subprocess
    import time

    command = Path(sys.executable).parent / "workbench"  # the entry point a user types, as installed
    process = subprocess.Popen([command, "parameters"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT)
    time.sleep(0.3)  # inside the import of the command line
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert process.returncode in (130, 0)  # 0 only if it had already finished


# --- class 8: text from shared files reaches a spreadsheet as text --------------------------------


def test_formula_text_from_shared_files_is_made_inert_in_csv_and_xlsx(tmp_path):
    from openpyxl import load_workbook

    from workbench.faces.output_folder import spreadsheet_csv, write_xlsx

    table = pd.DataFrame(
        {"scenario": ['=HYPERLINK("http://x","y")', "+SUM(1+1)", "@cmd", "-2+3", "plain"], "months": [1.0, -2.0, 3.0, 4.0, 5.0]}
    )
    csv = spreadsheet_csv(table)
    assert "'=HYPERLINK" in csv and "'+SUM" in csv and "'@cmd" in csv and "'-2+3" in csv and ",-2.0" in csv
    write_xlsx(tmp_path / "t.xlsx", {"compare": table})
    sheet = load_workbook(tmp_path / "t.xlsx").active
    cells = [sheet.cell(row=r, column=1).value for r in range(2, 7)]
    assert cells[:4] == ['\'=HYPERLINK("http://x","y")', "'+SUM(1+1)", "'@cmd", "'-2+3"]
    assert sheet.cell(row=3, column=2).value == -2.0 and sheet.cell(row=2, column=1).data_type == "s"


# --- class 9: file modes follow the umask, and a replaced file keeps its own ----------------------


def test_a_replaced_file_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path):
    from workbench.core.atomic import write_output_file

    old = os.umask(0o022)
    try:
        path = write_output_file(tmp_path / "table.csv", "a\n")
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        path.chmod(0o640)
        write_output_file(path, "b\n")
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    finally:
        os.umask(old)
