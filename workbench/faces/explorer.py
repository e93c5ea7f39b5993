"""The scenario explorer: every lever as a control, a Run button, outputs that update in place.

Used in JupyterLab (``notebooks/explorer.ipynb``) and served as an app by Voilà.  All the
modelling is the library's: this module turns widget settings into a :class:`Scenario`,
runs it and the baseline on the same seeds, and draws what the library computes.

Settings are a plain dict (see :func:`default_settings`), convertible to a scenario file and
back, so the logic is testable without a browser.
"""

from __future__ import annotations

import html
import math
import threading
import time
from pathlib import Path

import pandas as pd

from workbench.analysis.compare import compare
from workbench.analysis.forecast import forecast, forecast_setup
from workbench.core.atomic import is_shipped_data, write_output_file
from workbench.core.errors import InputError
from workbench.core.paths import USER_SCENARIOS_DIR
from workbench.core.timeline import CONFERENCE_SESSIONS, DAYS_PER_YEAR, HEADLINE_SESSION, REPORT_DATE, earliest_start, sessions_after, today
from workbench.core.translatable import N_
from workbench.experiments.setup import DEFAULT_HORIZON
from workbench.faces.display import show_figure
from workbench.faces.i18n import language, languages
from workbench.faces.labels import (
    ANSWER_LABELS,
    COUNTED_STAGE_LABELS,
    EFFECT_LABELS,
    LEVER_LABELS,
    QUESTION_LABELS,
    TARGET_LABELS,
    drivers_sentence,
    narrowest_figure_sentence,
)
from workbench.faces.planner import PlanTab
from workbench.inference.structures import headline_by_answer
from workbench.inputs.levers import LEVER_TYPES
from workbench.inputs.posterior import shipped_posterior
from workbench.inputs.scenarios import SCENARIO_DIR, Scenario, load_scenario, plain_value, scenario_text

#: Effect sizes a control starts from: those of the shipped single-lever scenario files.
DEFAULT_EFFECTS = {
    "nomination_follow_up": {"rate_multiplier": 2.0, "silent_rate_per_month": 0.02},
    "handover_protocol": {"duration_factor": 0.5},
    "redraw": {"after_months": 24.0, "delay_months": 3.0},
    "scheduling_support": {"duration_factor": 0.5},
    "training": {"saq_factor": 0.85, "feedback_factor": 0.9},
    "task_split": {"drafting_factor": 0.8, "coordination_factor": 0.5},
    "consensus_facilitation": {"duration_factor": 0.7},
    "machine_translation": {"extra_language_factor": 0.3},
    "secretariat_staffing": {"officers_change": 2},
}
TARGETS = ("all", "group 1", "group 2", "group 3")

#: How to use the explorer, under its title (the notebook has no text of its own, so that the served
#: app is in the reader's language throughout).
INTRO = N_(
    "Move a lever and press Run: today's practice and your scenario run on the same simulated futures, so the difference "
    "is the levers' effect, and each future draws its parameters from the fitted model. Save the settings as a scenario "
    "file, or load one."
)

#: The app's own styles: results out of date are dimmed, charts too; a changed value is said in amber.
#: Runs the explorer's what-to-measure observes: the given-data estimator needs a few thousand for
#: its ranking to hold (its ± is shown), which takes some seconds.
MEASURE_RUNS = 2000
_NO_POSTERIOR = N_("No posterior is shipped: the hand-set parameters do not vary.")
#: Figures shown, best first.
MEASURE_SHOWN = 4
STYLE = ".wb-stale-chart { opacity: .35; } .wb-notice { color: #8a5300; } .wb-when table td, .wb-when table th { padding: 0 .6em; }"


def requested_language(default: str = "en") -> str:
    """The language the reader asked for: ``?lang=fr`` in the served app's address (Voilà passes it
    to the kernel as QUERY_STRING), else ``$WORKBENCH_LANG``, else ``default``."""
    import os
    from urllib.parse import parse_qs

    asked = parse_qs(os.environ.get("QUERY_STRING", "")).get("lang", [os.environ.get("WORKBENCH_LANG", default)])[0]
    return asked if asked in languages() else default


def next_decision_session() -> int:
    """The first Conference session still to come (the last one known, if all have passed)."""
    return next(iter(sessions_after(today())), max(CONFERENCE_SESSIONS))


def default_settings() -> dict:
    """Every lever off, with its default effect sizes; the ¶25 condition unchanged."""
    return {
        "name": "my scenario",
        "levers": {
            name: {"enabled": False, "start": earliest_start(), "target": "all", **effects} for name, effects in DEFAULT_EFFECTS.items()
        },
        "condition": {"enabled": False, "share": 0.5, "counted_stage": "completed", "decided_at": next_decision_session()},
    }


def settings_to_toml(settings: dict, description: str = "Saved from the scenario explorer.") -> str:
    """The settings as a scenario file (only enabled levers are written)."""
    table: dict = {"scenario": {"name": settings["name"], "description": description}}
    levers = {}
    for name, spec in settings["levers"].items():
        if spec["enabled"]:
            lever = {"start": spec["start"], **({"target": spec["target"]} if spec["target"] != "all" else {})}
            levers[name] = {**lever, **{key: plain_value(spec[key]) for key in LEVER_TYPES[name][1]}}
    if levers:
        table["levers"] = levers
    c = settings["condition"]
    if c["enabled"]:
        table["condition"] = {"share": plain_value(c["share"]), "counted_stage": c["counted_stage"], "decided_at": c["decided_at"]}
    return scenario_text(table, "Saved from the scenario explorer; effect sizes are the planner's assumptions.")


def scenario_to_settings(scenario: Scenario) -> dict:
    """Controls set as a scenario says (levers it does not use are off)."""
    settings = default_settings()
    settings["name"] = scenario.name
    for name, lever in scenario.levers.active().items():
        spec = settings["levers"][name]
        spec["enabled"] = True
        spec["start"] = lever.start
        t = lever.target
        spec["target"] = "all" if t.groups == (1, 2, 3) and not t.parties else (f"group {t.groups[0]}" if len(t.groups) == 1 else "all")
        for key in LEVER_TYPES[name][1]:
            spec[key] = getattr(lever, key)
    c = scenario.condition
    if not c.is_default or c.decided:
        year = next((y for y, d in CONFERENCE_SESSIONS.items() if d == c.decided), next_decision_session())
        settings["condition"] = {"enabled": True, "share": c.share, "counted_stage": c.counted_stage, "decided_at": year}
    return settings


def unshown(scenario: Scenario) -> list[str]:
    """What a scenario sets that the controls cannot show (Load then says so, and Run runs the file
    as it is until a control is changed)."""
    notes = []
    for name, lever in scenario.levers.active().items():
        t = lever.target
        if t.parties:
            notes.append(f"{name}: named parties ({', '.join(t.parties)})")
        elif len(t.groups) not in (1, 3):
            notes.append(f"{name}: groups {list(t.groups)}")
    c = scenario.condition
    if c.groups != (1,):
        notes.append(f"condition: groups {list(c.groups)}")
    if c.decided is not None and c.decided not in CONFERENCE_SESSIONS.values():
        notes.append(f"condition: decided on {c.decided.isoformat()}")
    if (not c.is_default or c.decided) and c.decided is None:
        notes.append("condition: the new rule counting from the start (no decision date)")
    if scenario.changes:
        notes.append("parameters: " + ", ".join(f"{k} = {v}" for k, v in scenario.changes.items()))
    return notes


def settings_to_scenario(settings: dict, folder: Path | None = None) -> Scenario:
    """Validate the settings exactly as a scenario file would be (write, then load)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "explorer.toml"
        path.write_text(settings_to_toml(settings), encoding="utf-8")
        try:
            scenario = load_scenario(path)
        except InputError as err:  # name the settings, not a temporary file the planner never saw
            raise InputError("the settings", err.field, err.problem, err.allowed) from None
    return Scenario(scenario.name, scenario.description, None, scenario.changes, scenario.levers, scenario.condition)


def scenario_slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "scenario"


def check_save_folder(folder: Path) -> Path:
    """The planner's own folder, never the shipped data (scenarios/, calibration/, or below them)."""
    if Path(folder).resolve() == SCENARIO_DIR.resolve() or is_shipped_data(folder):
        raise InputError(
            folder,
            "(folder)",
            "the shipped scenarios are not written from the explorer (nor anything in scenarios/ or calibration/)",
            "the planner's own folder",
        )
    return Path(folder)


def save_settings(settings: dict, folder: Path = USER_SCENARIOS_DIR, replace: bool = False) -> Path:
    """Write the settings as ``folder/<name>.toml`` after validating them.  An existing file is
    replaced only when the planner confirmed it (``replace``) or the workbench wrote it."""
    settings_to_scenario(settings)
    path = check_save_folder(folder) / f"{scenario_slug(settings['name'])}.toml"
    return write_output_file(path, settings_to_toml(settings), "Save", overwrite=replace)


def probability_table(base_summary: dict, scen_summary: dict | None) -> pd.DataFrame:
    rows = []
    for year in CONFERENCE_SESSIONS:
        row = {"reached before": f"{year} session (1 Oct)", "baseline": base_summary["p_before_session"][year]}
        if scen_summary:
            row["scenario"] = scen_summary["p_before_session"][year]
        rows.append(row)
    row = {"reached before": f"{base_summary['horizon'][:4]} (horizon)", "baseline": 1 - base_summary["p_not_within_horizon"]}
    if scen_summary:
        row["scenario"] = 1 - scen_summary["p_not_within_horizon"]
    rows.append(row)
    return pd.DataFrame(rows)


class Explorer:
    """The widget app.  ``Explorer().show()`` in a notebook; ``run()`` is what the button calls."""

    def __init__(
        self,
        replications: int = 500,
        seed: int = 1,
        workers: int | None = None,
        folder: Path = SCENARIO_DIR,
        save_folder: Path = USER_SCENARIOS_DIR,
        lang: str = "en",
    ):
        import ipywidgets as w

        self.w = w
        self.folder = Path(folder)
        self.save_folder = Path(save_folder)
        self.workers = workers
        self._baseline_cache: dict = {}
        self._baseline_lock = threading.Lock()  # a Run waits for a baseline being prepared in the background
        self._held_up_cache: dict = {}  # (structure, day) -> what the held-up reviews wait for
        self.last_update_s: float | None = None
        self.controls: dict[str, dict] = {}
        self.start_words: dict[str, object] = {}  # each lever's start date in words, beside its picker
        try:
            self.lang, unusable = language(lang), None
        except InputError as err:  # a damaged catalog: the app still opens, in English, and says why
            self.lang, unusable = language("en"), err
        _ = self.lang.gettext
        wrap = w.Layout(flex_flow="row wrap", align_items="center")  # rows wrap on narrow screens (1024 px)
        self.notice = w.HTML("")  # what the app changed in a typed value, and why
        self.notice.add_class("wb-notice")
        if unusable:
            self.notice.value = html.escape(
                f"The {lang!r} catalog ({Path(unusable.source).name}) cannot be used, so the app is in English: "
                f"{unusable.field}: {unusable.problem}."
            )
        rows = [*self._lever_rows(wrap), self._condition_row(wrap)]
        self._run_controls(replications, seed)
        self._result_widgets()
        self._wire()
        self._lay_out(rows, wrap, workers)

    def _lever_rows(self, wrap) -> list:
        """A row of controls for each lever: on or off, from when, for whom, and its effects."""
        w, _ = self.w, self.lang.gettext
        rows = []
        for name, effects in DEFAULT_EFFECTS.items():
            _unused, ranges = LEVER_TYPES[name]
            enabled = w.Checkbox(value=False, description=_(LEVER_LABELS[name]), indent=False, layout=w.Layout(width="430px"))
            enabled.add_class(f"wb-lever-{name}")
            start = w.DatePicker(value=earliest_start(), description=_("from"), layout=w.Layout(width="210px"))
            target = w.Dropdown(
                options=[(_(TARGET_LABELS[t]), t) for t in TARGETS], value="all", description=_("for"), layout=w.Layout(width="190px")
            )
            fields = {}
            labelled = []
            for key, value in effects.items():
                low, high, unit = ranges[key]
                # The label apart from its box, so a long label never squeezes the number out of sight.
                box = w.Layout(width="90px")
                if isinstance(value, int) and not isinstance(value, bool):
                    fields[key] = w.IntText(value=value, tooltip=unit, layout=box)
                else:
                    fields[key] = w.FloatText(value=value, step=0.01 if high <= 1.0 else 0.5, tooltip=unit, layout=box)
                fields[key].add_class(f"wb-{name}-{key}")
                label = _(EFFECT_LABELS.get(key, key))
                self._keep_within(fields[key], low, high, label, 0 if isinstance(value, int) else 2)
                hint = _("{low} to {high}").format(
                    low=self.lang.number(low, 2 if high <= 1 else 0), high=self.lang.number(high, 2 if high <= 1 else 0)
                )
                labelled.append(w.HBox([w.Label(label), fields[key], w.Label(f"({hint})")]))
            self.controls[name] = {"enabled": enabled, "start": start, "target": target, **fields}
            self.start_words[name] = self._date_in_words(start)
            rows.append(w.HBox([enabled, start, self.start_words[name], target, *labelled], layout=wrap))
        return rows

    def _date_in_words(self, picker):
        """The picker's date in full and in the reader's order ("1 Jan 2027", "1 janv. 2027"): the
        browser's own field shows 01/01/2027 in the United States' order, and clips it when narrow."""
        words = self.w.HTML(self.lang.date(picker.value, "medium"))
        words.add_class("wb-start-words")
        picker.observe(lambda change: setattr(words, "value", self.lang.date(change["new"], "medium")), names="value")
        return words

    def _keep_within(self, box, low: float, high: float, label: str, digits: int = 2) -> None:
        """A typed value outside its range is brought to the nearest bound, and the planner is told:
        which control, what was typed, what it became and why (the range its effect is defined on)."""

        def check(change: dict) -> None:
            typed = change["new"]
            if typed is not None and not (isinstance(typed, float) and math.isnan(typed)) and low <= typed <= high:
                return
            blank = typed is None or math.isnan(typed)  # an emptied box keeps the value it had
            kept = change["old"] if blank else min(max(typed, low), high)
            box.value = kept
            number = self.lang.number
            self.notice.value = html.escape(
                self.lang.gettext("{control}: {typed} is outside {low} to {high}, so it was set to {kept}.").format(
                    control=label,
                    typed="—" if blank else number(typed, digits),
                    low=number(low, digits),
                    high=number(high, digits),
                    kept=number(kept, digits),
                )
            )

        box.observe(check, names="value")

    def _condition_row(self, wrap):
        """The Conference's change of the ¶25 condition: share, stage counted, session deciding."""
        w, _ = self.w, self.lang.gettext
        self.condition = {
            "enabled": w.Checkbox(
                value=False, description=_("The Conference changes the condition (¶25)"), indent=False, layout=w.Layout(width="330px")
            ),
            "share": w.FloatText(
                value=0.5,
                step=0.05,
                description=_("share (0 to 1)"),
                style={"description_width": "initial"},
                layout=w.Layout(width="190px"),
            ),
            "counted_stage": w.Dropdown(
                options=[(_(COUNTED_STAGE_LABELS[s]), s) for s in COUNTED_STAGE_LABELS],
                value="completed",
                description=_("counting"),
                style={"description_width": "initial"},
            ),
            "decided_at": w.Dropdown(
                options=[(_("{year} session").format(year=y), y) for y in CONFERENCE_SESSIONS],
                value=next_decision_session(),
                description=_("decided at"),
                style={"description_width": "initial"},
            ),
        }
        self._keep_within(self.condition["share"], 0.0, 1.0, _("share (0 to 1)"))
        self.condition["enabled"].add_class("wb-condition")
        self.condition["counted_stage"].add_class("wb-condition-stage")
        return w.HBox(list(self.condition.values()), layout=wrap)

    def _run_controls(self, replications: int, seed: int) -> None:
        """Name, simulated futures, seed, model structure, and the buttons."""
        w, _ = self.w, self.lang.gettext
        self.name = w.Text(value=_("my scenario"), description=_("name"))
        self.replications = w.Dropdown(
            options=sorted({50, 100, 200, 500, 1000, replications}),
            value=replications,
            description=_("simulated futures"),
            style={"description_width": "initial"},
        )
        # A seed is a whole number from 0 up: the box refuses anything else as it is typed.
        self.seed = w.BoundedIntText(value=seed, min=0, max=2**32 - 1, description=_("seed"), layout=w.Layout(width="180px"))
        # Which model structure the forecast runs on: the evidence-weighted average, or one alone.
        self.shipped = shipped_posterior()
        structures = self.shipped.structure_probabilities() if self.shipped is not None else {}
        self.structure = w.Dropdown(
            options=[(_("model average"), "")] + [(f"{k} ({v:.0%})", k) for k, v in sorted(structures.items(), key=lambda kv: -kv[1])],
            value="",
            description=_("model structure"),
            style={"description_width": "initial"},
        )
        self.structure.add_class("wb-structure")
        self.drivers_button = w.Button(description=_("What drives the answer?"), layout=w.Layout(width="auto"))
        self.drivers = w.HTML("")
        self.drivers.add_class("wb-drivers")
        self.drivers_button.on_click(lambda _b: self.explain())
        self.structures_button = w.Button(description=_("Baseline on each structure"), layout=w.Layout(width="auto"))
        self.structures_table = w.HTML("")
        self.structures_table.add_class("wb-structures")
        self.structures_button.on_click(lambda _b: self.by_structure())
        self.measure_button = w.Button(description=_("What to measure next?"), layout=w.Layout(width="auto"))
        self.measure = w.HTML("")
        self.measure.add_class("wb-measure")
        self.measure_button.on_click(lambda _b: self.what_to_measure())
        self.run_button = w.Button(description=_("Run"), button_style="primary")
        self.run_button.add_class("wb-run")
        self.progress = w.IntProgress(value=0, min=0, max=100, description="", layout=w.Layout(width="200px"))
        self.status = w.HTML("")
        self.status.add_class("wb-status")
        self.load_choice = w.Dropdown(
            options=self._scenario_files(), description=_("scenario file"), style={"description_width": "initial"}
        )
        self.load_choice.add_class("wb-load-choice")
        self.load_button = w.Button(description=_("Load"))
        self.save_button = w.Button(description=_("Save as scenario file"), layout=w.Layout(width="auto"))
        self.save_button.add_class("wb-save")
        self._confirm_overwrite: Path | None = None  # a save that would replace this file waits for a second click
        self._loaded: Scenario | None = None  # a file loaded and not changed since: Run runs it exactly

    def _result_widgets(self) -> None:
        """Where the results appear: the table, the paired difference, the downloads, the charts."""
        w, _ = self.w, self.lang.gettext
        self.table = w.HTML("<i>" + html.escape(_("Press Run.")) + "</i>")
        self.table.add_class("wb-probabilities")
        self.difference = w.HTML("")
        self.difference.add_class("wb-difference")
        self.downloads = w.HTML("")
        self.downloads.add_class("wb-downloads")
        self.fan = w.Output()
        self.fan.add_class("wb-fan")
        self.dates = w.Output()
        self.dates.add_class("wb-dates")
        self.scroller = w.Output(layout=w.Layout(height="0px"))  # brings the results into view after a Run

    def _wire(self) -> None:
        """What the buttons do; any change of a setting marks the results out of date until the next Run."""
        self.run_button.on_click(lambda _b: self.run())
        self.load_button.on_click(lambda _b: self.load(Path(self.load_choice.value)))
        self.save_button.on_click(lambda _b: self._save_clicked())
        # Any change of a setting makes the results on screen out of date until the next Run.
        for control in [
            *(c for controls in self.controls.values() for c in controls.values()),
            *self.condition.values(),
            self.replications,
            self.seed,
            self.structure,
        ]:
            control.observe(self._changed, names="value")

    def _lay_out(self, rows: list, wrap, workers: int | None) -> None:
        """The scenario tab, the planning tab, and the app around them."""
        w, _ = self.w, self.lang.gettext
        self.scenario_tab = w.VBox(
            [
                w.HBox([self.load_choice, self.load_button, self.name, self.save_button], layout=wrap),
                *rows,
                self.notice,
                w.HBox([self.replications, self.seed, self.structure, self.run_button, self.progress, self.status], layout=wrap),
                w.HBox([self.drivers_button, self.drivers], layout=wrap),
                w.HBox([self.structures_button, self.structures_table], layout=wrap),
                w.HBox([self.measure_button, self.measure], layout=wrap),
                self.scroller,
                w.HBox([self.table, self.difference], layout=wrap),
                self.downloads,
                w.HBox([self.fan, self.dates], layout=wrap),
            ]
        )
        self.plan_tab = PlanTab(self._posterior, lambda: self.seed.value, workers, self.save_folder, self.lang)
        self.tabs = w.Tab(children=[self.scenario_tab, self.plan_tab.widget])
        self.dated = w.HTML(
            "<p class='wb-dated'>"
            + html.escape(
                _("Forecast made on {made_on} from data as at {date}; options can start from {earliest}.").format(
                    made_on=self.lang.date(today()), date=self.lang.date(REPORT_DATE), earliest=self.lang.date(earliest_start())
                )
            )
            + "</p>"
        )
        self.tabs.set_title(0, _("Scenario"))
        self.tabs.set_title(1, _("What would it take?"))
        self.widget = w.VBox(
            [
                w.HTML(f"<style>{STYLE}</style>"),
                w.HTML("<h3>" + html.escape(_("Scenario explorer: when will 70 % of group 1's reviews be completed?")) + "</h3>"),
                w.HTML("<p>" + html.escape(_(INTRO)) + "</p>"),
                self.dated,
                self.tabs,
            ],
            layout=w.Layout(max_width="100%"),
        )
        self.widget.add_class(f"wb-lang-{self.lang.code}")

    # --- settings <-> controls --------------------------------------------------------
    def settings(self) -> dict:
        out = {"name": self.name.value, "levers": {}, "condition": {k: c.value for k, c in self.condition.items()}}
        for name, controls in self.controls.items():
            out["levers"][name] = {k: c.value for k, c in controls.items()}
        return out

    def apply(self, settings: dict) -> None:
        self.name.value = settings["name"]
        for name, spec in settings["levers"].items():
            for key, value in spec.items():
                self.controls[name][key].value = value
        for key, value in settings["condition"].items():
            self.condition[key].value = value

    def _changed(self, change: dict) -> None:
        """A control moved: the file loaded is no longer what Run runs, and the results go out of date."""
        self._loaded = None
        self._mark_stale()

    def _error(self, text: str) -> None:
        self.status.value = f"<span style='color:#b2182b'>{html.escape(text)}</span>"

    def load(self, path: Path) -> None:
        """Load a scenario file into the controls; a bad file is reported in the app, in plain words.
        What the controls cannot show is named, and Run then runs the file exactly as it is."""
        _ = self.lang.gettext
        try:
            scenario = load_scenario(path)
            self.apply(scenario_to_settings(scenario))
        except InputError as err:  # the key and the problem, not the server's path or the parser's own words
            where = "" if err.field == "(file)" else f"{err.field}: "
            problem = _("not a valid scenario file (TOML)") if err.problem.startswith("not valid TOML") else err.problem
            allowed_word = _("allowed")
            allowed = f" ({allowed_word}: {err.allowed})" if err.allowed and not err.problem.startswith("not valid TOML") else ""
            self._error(_("could not load {file}: {error}").format(file=Path(path).name, error=where + problem + allowed))
            return
        except Exception as err:  # shown to the planner, not raised into the kernel's log
            self._error(_("could not load {file}: {error}").format(file=Path(path).name, error=err))
            return
        self._mark_stale()
        self._loaded = scenario
        notes = unshown(scenario)
        message = _("loaded {file}: press Run").format(file=Path(path).name)
        if notes:
            message += ". " + _("The controls cannot show: {notes}. Run uses the file as it is until you change a control.").format(
                notes="; ".join(notes)
            )
        self.status.value = html.escape(message)

    def _mark_stale(self, why: str | None = None) -> None:
        """Results on screen no longer match the controls: say so until the next successful Run."""
        _ = self.lang.gettext
        why = why or _("the settings changed since")
        if "wb-stale" not in self.table.value and "wb-result" in self.table.value:
            note = html.escape(_("Out of date: {why}; press Run.").format(why=why))
            self.table.value = f"<div class='wb-stale' style='opacity:.45'><i>{note}</i>{self.table.value}</div>"
            self.difference.value = f"<div style='opacity:.45'>{self.difference.value}</div>"
            self.downloads.value = ""
            self.status.value = note  # not "updated in 3.6 s" under results that no longer apply
            for chart in (self.fan, self.dates):
                chart.add_class("wb-stale-chart")

    def _scenario_files(self) -> list[tuple[str, str]]:
        """The shipped scenario files, then the planner's own (saved from here), as (label, path)."""
        shipped = [(p.name, str(p)) for p in sorted(self.folder.glob("*.toml"))]
        mine_label = self.lang.gettext("mine: {file}")
        mine = (
            [(mine_label.format(file=p.name), str(p)) for p in sorted(self.save_folder.glob("*.toml"))]
            if self.save_folder != self.folder
            else []
        )
        return shipped + mine

    def _save_clicked(self) -> Path | None:
        """Save into the planner's own folder, never among the shipped files; replacing one of the
        planner's files takes a second click."""
        _ = self.lang.gettext
        try:
            settings = self.settings()
            if not settings["name"].strip():  # a file called "scenario.toml" says nothing of what it holds
                self._error(_("not saved: give the scenario a name first"))
                return None
            path = self.save_folder / f"{scenario_slug(settings['name'])}.toml"
            if path.exists() and self._confirm_overwrite != path:
                self._confirm_overwrite = path
                self.status.value = html.escape(
                    _("{file} exists in {folder}: press Save again to replace it, or change the name").format(
                        file=path.name, folder=self.save_folder
                    )
                )
                return None
            confirmed, self._confirm_overwrite = self._confirm_overwrite == path, None
            path = save_settings(settings, check_save_folder(self.save_folder), replace=confirmed)
            self.status.value = html.escape(_("saved {file} in {folder}").format(file=path.name, folder=self.save_folder))
            self.load_choice.options = self._scenario_files()
            return path
        except Exception as err:  # shown to the planner, not raised into the kernel
            self._error(self.lang.gettext("not saved: {error}").format(error=err))
            return None

    # --- running ------------------------------------------------------------------------
    def _posterior(self):
        """The shipped posterior, or one structure of it alone."""
        if self.shipped is None or not self.structure.value:
            return self.shipped
        return self.shipped.restricted(self.structure.value)

    def _note(self, text: str) -> str:
        """A passing word in the result panels (waiting, or why there is nothing to show), translated."""
        return f"<i>{html.escape(self.lang.gettext(text))}</i>"

    def explain(self) -> None:
        """Name the inputs that drive the headline most (a small sensitivity analysis, a few seconds)."""
        from workbench.analysis.sensitivity import sensitivity

        posterior = self._posterior()
        if posterior is None:
            self.drivers.value = self._note(_NO_POSTERIOR)
            return
        self.drivers.value = self._note(N_("running 200 posterior draws..."))
        result = sensitivity(posterior, draws=200, replications=5, seed=self.seed.value, workers=self.workers)
        year = DEFAULT_HORIZON.year  # the sensitivity analysis runs to the default horizon
        self.drivers.value = "<br>".join(
            html.escape(drivers_sentence(self.lang, o, [(r.words, r.S1) for r in result.top(o).itertuples()], year))
            for o in ("p_not_by_horizon", "median_years")
        )

    def by_structure(self) -> None:
        """The baseline forecast on each model structure alone, side by side with the model average."""
        from workbench.faces.text import format_structure_table

        if self.shipped is None or not self.shipped.structure_names():
            self.structures_table.value = self._note(N_("The posterior has a single structure."))
            return
        self.structures_table.value = self._note(N_("running the baseline on each structure..."))
        fc = forecast(
            forecast_setup(posterior=self.shipped),
            replications=self.replications.value,
            seed=self.seed.value,
            workers=self.workers,
            keep_events=False,
            keep_monthly=False,
            by_structure=True,
        )
        self.structures_table.value = f"<pre>{html.escape(format_structure_table(fc.by_structure))}</pre>" + self._by_answer(
            fc.by_structure.to_dict("records")
        )

    def what_to_measure(self) -> None:
        """Which figure, published today, would narrow the forecast most: today's practice observed
        in :data:`MEASURE_RUNS` runs, each figure ranked by the share of the 70 % date's spread it
        would remove (the findings' what-to-measure, on the posterior chosen here)."""
        from workbench.analysis.what_to_measure import ALL_TOGETHER, what_to_measure

        _, esc = self.lang.gettext, html.escape
        posterior = self._posterior()
        if posterior is None:
            self.measure.value = self._note(_NO_POSTERIOR)
            return
        waiting = _("observing today's practice in {runs} runs...").format(runs=self.lang.number(MEASURE_RUNS))
        self.measure.value = f"<i>{esc(waiting)}</i>"
        result = what_to_measure(forecast_setup(posterior=posterior), today(), MEASURE_RUNS, self.seed.value, self.workers)
        ranking = result.ranking[result.ranking["figure"] != ALL_TOGETHER]
        best = ranking.iloc[0]
        share, margin = "S1_years_to_70_percent", "S1_years_to_70_percent_conf"
        rows = "".join(
            f"<tr><td>{esc(_(row['in plain words']))}</td><td>{esc(self.lang.percent(row[share]))}</td>"
            f"<td>± {esc(self.lang.percent(row[margin]))}</td><td>{esc(_(row['what it takes']))}</td></tr>"
            for _i, row in ranking.head(MEASURE_SHOWN).iterrows()
        )
        heading = _("Share of the 70 % date's spread each figure would remove (± its 95 % confidence), and what measuring it takes:")
        self.measure.value = (
            f"<p><b>{esc(narrowest_figure_sentence(self.lang, best['in plain words'], best[share]))}</b></p>"
            f"<p>{esc(heading)}</p><table class='wb-measure-table' style='border-spacing:.8em .15em'>{rows}</table>"
        )

    def _by_answer(self, structures: list[dict]) -> str:
        """Not meeting the condition by the horizon under each answer to what the report leaves open."""
        _, esc = self.lang.gettext, html.escape
        rows, pattern = [], _("{answer}: {chance}")
        for row in headline_by_answer(structures):
            cells = "".join(
                "<td>"
                + esc(pattern.format(answer=_(ANSWER_LABELS[a["answer"]]), chance=self.lang.percent(a["p_not_by_horizon"])))
                + "</td>"
                for a in row["answers"]
                if a["p_not_by_horizon"] is not None
            )
            rows.append(f"<tr><td>{esc(_(QUESTION_LABELS[row['question']]))}</td>{cells}</tr>")
        heading = _("Chance of not meeting the condition by the horizon, under each answer to what the report leaves open:")
        return f"<p>{esc(heading)}</p><table>{''.join(rows)}</table>"

    def _baseline(self, replications: int, seed: int):
        key = (replications, seed, self.structure.value)
        with self._baseline_lock:
            if key not in self._baseline_cache:
                self._baseline_cache[key] = forecast(
                    forecast_setup(posterior=self._posterior()),
                    replications=replications,
                    seed=seed,
                    workers=self.workers,
                    keep_events=False,
                    keep_monthly=False,
                    progress=self._progress(0, 50),
                )
        return self._baseline_cache[key]

    def prepare(self) -> threading.Thread:
        """Compute the baseline (and start the worker processes) in the background, so that the
        planner's first Run only has the scenario left to compute."""
        thread = threading.Thread(target=self._baseline, args=(self.replications.value, self.seed.value), daemon=True)
        thread.start()
        return thread

    def _progress(self, offset: int, span: int):
        def update(done: int, total: int) -> None:
            self.progress.value = offset + int(span * done / total)

        return update

    def run(self) -> None:
        """Run baseline (cached) and scenario on the same seeds and redraw the outputs."""
        _ = self.lang.gettext
        started = time.perf_counter()
        try:
            scenario = self._loaded or settings_to_scenario(self.settings())
        except Exception as err:
            self._error(str(err))
            return
        self.run_button.disabled = True
        self.notice.value = ""
        self.progress.value = 0
        first = (self.replications.value, self.seed.value, self.structure.value) not in self._baseline_cache
        # The first Run also computes today's practice (the prepared one may still be under way): say
        # so, or its seconds look like the scenario's.
        self.status.value = html.escape(_("computing today's practice first (once), then the scenario...") if first else _("running..."))
        try:
            self._run(scenario, started)
        except Exception as err:  # the app never hangs on "running...": it says what went wrong
            self._mark_stale(_("the last run failed"))
            self._error(_("run failed: {error}").format(error=err))
        finally:
            self.progress.value = 100
            self.run_button.disabled = False

    def _run(self, scenario: Scenario, started: float) -> None:
        n, seed = self.replications.value, self.seed.value
        base = self._baseline(n, seed)
        active = scenario.levers.active() or not scenario.condition.is_default or scenario.condition.decided
        scen = (
            forecast(
                forecast_setup(scenario, posterior=self._posterior()),
                replications=n,
                seed=seed,
                scenario=scenario,
                workers=self.workers,
                keep_events=False,
                keep_monthly=False,
                progress=self._progress(50, 50),
            )
            if active
            else None
        )
        self._draw(base, scen, scenario)
        self.last_update_s = time.perf_counter() - started
        _ = self.lang.gettext
        self.status.value = html.escape(
            _("{n} simulated futures, seed {seed}: updated in {seconds} s ({structure})").format(
                n=n, seed=seed, seconds=f"{self.last_update_s:.1f}", structure=self.structure.value or _("model average")
            )
        )

    def _draw(self, base, scen, scenario: Scenario) -> None:
        import matplotlib.pyplot as plt

        from workbench.faces.plots import fan_chart, met_by_date_chart

        _ = self.lang.gettext
        lang = self.lang
        n = base.results.replications
        table = probability_table(base.summary, scen.summary if scen else None)
        shown = pd.DataFrame({_("condition met"): [self._when_label(r) for r in table["reached before"]]})
        for col, label in (("baseline", _("today's practice")), ("scenario", _("scenario"))):
            if col in table:
                shown[label] = [self.lang.chance(p, n) for p in table[col]]
        heading = html.escape(_("Chance of meeting the condition"))
        self.table.value = (
            f"<div class='wb-result'>{self._when_table(base.summary, scen.summary if scen else None)}"
            f"<b>{heading}</b>{shown.to_html(index=False, border=0, escape=True)}</div>"
        )
        row = None
        if scen is not None:
            row = compare(base.results, scen.results, scenario.name)
            self.difference.value = self._difference_text(base.summary, scen.summary, row) + self._redraw_reach(base, scenario)
        else:
            self.difference.value = "<i>" + html.escape(_("No lever on: today's practice.")) + "</i>"
        # The charts follow the condition that was run: the target line is drawn only where it is a
        # count of group 1's completed reviews; the probability chart follows any condition.
        condition = scenario.condition
        fig, ax = plt.subplots(figsize=(6, 3.2))
        drawn = scen or base
        if condition.groups == (1,) and condition.counted_stage == "completed":
            target = math.ceil(round(condition.share * 62, 9))
            rule = "¶25" if condition.is_default else _("the Conference's new rule")
            target_label = _("{target} completed ({share}, {rule})").format(target=target, share=lang.percent(condition.share), rule=rule)
        else:
            target, target_label = None, None
            ax.text(
                0.99,
                0.02,
                _("condition: {share} of group(s) {groups}, counting {stage}; see the chart beside").format(
                    share=lang.percent(condition.share),
                    groups=", ".join(map(str, condition.groups)),
                    stage=_(COUNTED_STAGE_LABELS[condition.counted_stage]),
                ),
                transform=ax.transAxes,
                ha="right",
                fontsize=7,
            )
        fan_chart(
            drawn.results.monthly_summary,
            1,
            target,
            ax=ax,
            label=" (" + (_("scenario") if scen else _("today's practice")) + ")",
            target_label=target_label,
            baseline=base.results.monthly_summary if scen else None,
            gettext=_,
        )
        fan_png = self._show(self.fan, fig)
        runs = {_("today's practice"): base.results.threshold, **({_("scenario"): scen.results.threshold} if scen else {})}
        dates_png = self._show(
            self.dates, met_by_date_chart(runs, base.results.setup.horizon, CONFERENCE_SESSIONS, _("When the condition is met"), gettext=_)
        )
        self.downloads.value = self._downloads(scenario, table, row, {"completed-reviews.png": fan_png, "condition-met.png": dates_png})
        for chart in (self.fan, self.dates):
            chart.remove_class("wb-stale-chart")
        self._bring_into_view()

    def _bring_into_view(self) -> None:
        """Scroll the results into the window: on a laptop screen they start below the controls."""
        from IPython import get_ipython
        from IPython.display import Javascript, display

        if not hasattr(get_ipython(), "kernel"):  # no browser to scroll (a script, a test): nothing to say
            return
        self.scroller.clear_output()
        with self.scroller:
            display(Javascript("document.querySelector('.wb-result')?.scrollIntoView({behavior: 'smooth', block: 'start'});"))

    def _when(self, day: pd.Timestamp | None, horizon: str) -> str:
        """A median or a bound of a range: its month in full, or "not by 2060" beyond the horizon."""
        _ = self.lang.gettext
        return self.lang.month(day.date()) if day is not None else _("not by {year}").format(year=horizon[:4])

    def _when_table(self, base: dict, scen: dict | None) -> str:
        """When the condition is met: the median date and the range of 8 futures in 10, for today's
        practice and the scenario, with how far the median could move with another seed."""
        _, esc = self.lang.gettext, html.escape
        between = _("{low} to {high}")

        def span(s: dict, bounds: tuple) -> str:
            return between.format(low=self._when(bounds[0], s["horizon"]), high=self._when(bounds[1], s["horizon"]))

        rows = [(_("today's practice"), base)] + ([(_("scenario"), scen)] if scen else [])
        cells = [
            (label, self._when(s["median"], s["horizon"]), span(s, s["intervals"]["80%"]), span(s, s["median_monte_carlo_95"]))
            for label, s in rows
        ]
        body = "".join(
            f"<tr><td>{esc(label)}</td><td><b>{esc(median)}</b></td><td>{esc(eight)}</td><td>{esc(seeds)}</td></tr>"
            for label, median, eight, seeds in cells
        )
        head = "".join(f"<th>{esc(h)}</th>" for h in ("", _("median date"), _("8 futures in 10"), _("the median with other seeds (95 %)")))
        title = _("When the condition is met")
        return (
            f"<div class='wb-when'><b>{esc(title)}</b><table border='0'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
        )

    def _difference_text(self, base: dict, scen: dict, row: dict) -> str:
        """The scenario against today's practice, in words that keep apart the gap between the two
        medians and the median of the gains in the same futures (most of which may gain nothing)."""
        _, lang, esc = self.lang.gettext, self.lang, html.escape
        heading = _("Against today's practice, in the same simulated futures")
        medians = _("median date: {base} with today's practice, {scen} with the scenario").format(
            base=self._when(base["median"], base["horizon"]), scen=self._when(scen["median"], scen["horizon"])
        )
        if base["median"] is not None and scen["median"] is not None:
            gap = (base["median"] - scen["median"]).days / DAYS_PER_YEAR
            medians += " " + _("({years} years apart)").format(years=lang.number(gap, 1))
        gains = _(
            "gain in one and the same future: median {median} years, 8 futures in 10 between {low} and {high} years "
            "(futures meeting the condition at the same date either way gain nothing)"
        ).format(
            median=lang.number(row["months_gained_median"] / 12, 1),
            low=lang.number(row["months_gained_p10"] / 12, 1),
            high=lang.number(row["months_gained_p90"] / 12, 1),
        )
        only = _("futures meeting it only with the scenario: {p}").format(p=lang.percent(row["only_scenario_reaches"], 1))
        change = _("change before the {session} session: {change} (± {se})").format(
            session=HEADLINE_SESSION,
            change=lang.percent(row[f"p_by_{HEADLINE_SESSION}_change"], 1),
            se=lang.percent(row[f"p_by_{HEADLINE_SESSION}_change_se"], 1),
        )
        return f"<b>{esc(heading)}</b><br>" + "<br>".join(esc(t) for t in (medians, gains, only, change))

    def _redraw_reach(self, base, scenario: Scenario) -> str:
        """Why redrawing sooner may change little: what the reviews still held up by nominations on the
        lever's start wait for, in the baseline's own futures (computed once per structure and start)."""
        from workbench.analysis.held_up import held_up

        lever = scenario.levers.redraw
        if lever is None:
            return ""
        key = (self.structure.value, lever.start)
        if key not in self._held_up_cache:
            self._held_up_cache[key] = held_up(base.results.setup, lever.start, replications=100, seed=self.seed.value)
        h, number = self._held_up_cache[key], self.lang.number
        text = self.lang.gettext(
            "Redraws from {day}: of the {total} reviews still held up by nominations then, {silent} wait for the party under "
            "review itself (a redraw replaces only reviewing States, ¶6) and {used} have used their four redraws, so a redraw "
            "can reach {left} ({runs} simulated futures)."
        ).format(
            day=self.lang.date(lever.start),
            total=number(h.total),
            silent=number(h.party_under_review),
            used=number(h.redraws_used),
            left=number(h.redraws_left, 1),
            runs=h.replications,
        )
        return "<br><span class='wb-redraw-reach'>" + html.escape(text) + "</span>"

    def _when_label(self, text: str) -> str:
        _ = self.lang.gettext
        year = text[:4]
        if "horizon" in text:
            return _("by the end of {year}").format(year=year)
        return _("before the {year} Conference session (1 October {year})").format(year=year)

    def _downloads(self, scenario: Scenario, table: pd.DataFrame, row: dict | None, charts: dict[str, bytes | None]) -> str:
        """Links that download what is on screen: the scenario file, the tables (CSV and Excel), the charts."""
        import base64
        import io

        _ = self.lang.gettext

        def link(name: str, mime: str, data: bytes) -> str:
            return f"<a download='{html.escape(name)}' href='data:{mime};base64,{base64.b64encode(data).decode()}'>{html.escape(name)}</a>"

        from workbench.faces.output_folder import spreadsheet_safe

        # The probabilities as numbers (what a spreadsheet needs), not as worded on screen; to four
        # places (a hundredth of a point: finer than their Monte Carlo error), names made inert.
        numbers = spreadsheet_safe(table.round(4))
        files = [
            link(
                "scenario.toml",
                "application/toml",
                settings_to_toml(self.settings()).encode()
                if self._loaded is None
                else (self._loaded.path.read_bytes() if self._loaded.path else b""),
            )
        ]
        files.append(link("chances.csv", "text/csv", numbers.to_csv(index=False).encode()))
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as xlsx:
            numbers.to_excel(xlsx, sheet_name="chances", index=False)
            if row is not None:
                spreadsheet_safe(pd.DataFrame([row]).round(4)).to_excel(xlsx, sheet_name="paired difference", index=False)
        files.append(link("chances.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", buffer.getvalue()))
        files += [link(name, "image/png", data) for name, data in charts.items() if data]
        return "<b>" + html.escape(_("Download")) + ":</b> " + " · ".join(files)

    @staticmethod
    def _show(output, fig) -> bytes:
        return show_figure(output, fig)

    def show(self):
        from IPython.display import display

        display(self.widget)
        return self
