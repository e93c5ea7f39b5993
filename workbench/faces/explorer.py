"""The scenario explorer: every lever as a control, a Run button, outputs that update in place.

Used in JupyterLab (``notebooks/explorer.ipynb``) and served as an app by Voilà.  All the
modelling is the library's: this module turns widget settings into a :class:`Scenario`,
runs it and the baseline on the same seeds, and draws what the library computes.

Settings are a plain dict (see :func:`default_settings`), convertible to a scenario file and
back, so the logic is testable without a browser.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import threading
import time
from pathlib import Path

import pandas as pd

from workbench.analysis.compare import compare
from workbench.analysis.forecast import forecast
from workbench.core.errors import InputError
from workbench.core.paths import USER_SCENARIOS_DIR
from workbench.core.timeline import CONFERENCE_SESSIONS
from workbench.faces.display import show_figure
from workbench.faces.planner import PlanTab
from workbench.inputs.levers import LEVER_TYPES
from workbench.inputs.posterior import shipped_posterior
from workbench.inputs.scenarios import SCENARIO_DIR, Scenario, load_scenario

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
DEFAULT_START = dt.date(2025, 1, 1)


def default_settings() -> dict:
    """Every lever off, with its default effect sizes; the ¶25 condition unchanged."""
    return {
        "name": "my scenario",
        "levers": {
            name: {"enabled": False, "start": DEFAULT_START, "target": "all", **effects} for name, effects in DEFAULT_EFFECTS.items()
        },
        "condition": {"enabled": False, "share": 0.5, "counted_stage": "completed", "decided_at": 2026},
    }


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, int, float)):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def settings_to_toml(settings: dict, description: str = "Saved from the scenario explorer.") -> str:
    """The settings as a scenario file (only enabled levers are written)."""
    lines = [
        "# Saved from the scenario explorer; effect sizes are the planner's assumptions.",
        "[scenario]",
        f"name = {_toml_value(settings['name'])}",
        f"description = {_toml_value(description)}",
        "",
    ]
    for name, spec in settings["levers"].items():
        if not spec["enabled"]:
            continue
        lines.append(f"[levers.{name}]")
        lines.append(f"start = {spec['start']}")
        if spec["target"] != "all":
            lines.append(f"target = {_toml_value(spec['target'])}")
        for key in LEVER_TYPES[name][1]:
            lines.append(f"{key} = {_toml_value(spec[key])}")
        lines.append("")
    c = settings["condition"]
    if c["enabled"]:
        lines += [
            "[condition]",
            f"share = {c['share']}",
            f"counted_stage = {_toml_value(c['counted_stage'])}",
            f"decided_at = {c['decided_at']}",
            "",
        ]
    return "\n".join(lines)


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
        year = next((y for y, d in CONFERENCE_SESSIONS.items() if d == c.decided), 2026)
        settings["condition"] = {"enabled": True, "share": c.share, "counted_stage": c.counted_stage, "decided_at": year}
    return settings


def settings_to_scenario(settings: dict, folder: Path | None = None) -> Scenario:
    """Validate the settings exactly as a scenario file would be (write, then load)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "explorer.toml"
        path.write_text(settings_to_toml(settings), encoding="utf-8")
        scenario = load_scenario(path)
    return Scenario(scenario.name, scenario.description, None, scenario.changes, scenario.levers, scenario.condition)


def scenario_slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-") or "scenario"


def save_settings(settings: dict, folder: Path = USER_SCENARIOS_DIR) -> Path:
    """Write the settings as ``folder/<name>.toml`` after validating them."""
    settings_to_scenario(settings)
    if Path(folder).resolve() == SCENARIO_DIR.resolve():
        raise InputError(folder, "(folder)", "the shipped scenarios are not written from the explorer", "the planner's own folder")
    path = Path(folder) / f"{scenario_slug(settings['name'])}.toml"
    path.write_text(settings_to_toml(settings), encoding="utf-8")
    return path


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
    ):
        import ipywidgets as w

        self.w = w
        self.folder = Path(folder)
        self.save_folder = Path(save_folder)
        self.workers = workers
        self._baseline_cache: dict = {}
        self._baseline_lock = threading.Lock()  # a Run waits for a baseline being prepared in the background
        self.last_update_s: float | None = None
        self.controls: dict[str, dict] = {}
        rows = []
        for name, effects in DEFAULT_EFFECTS.items():
            _, ranges = LEVER_TYPES[name]
            enabled = w.Checkbox(value=False, description=name.replace("_", " "), indent=False, layout=w.Layout(width="190px"))
            enabled.add_class(f"wb-lever-{name}")
            start = w.DatePicker(value=DEFAULT_START, description="from", layout=w.Layout(width="190px"))
            target = w.Dropdown(options=TARGETS, value="all", description="for", layout=w.Layout(width="150px"))
            fields = {}
            for key, value in effects.items():
                low, high, unit = ranges[key]
                if isinstance(value, int) and not isinstance(value, bool):
                    fields[key] = w.IntSlider(
                        value=value, min=int(low), max=int(high), description=key, tooltip=unit, style={"description_width": "initial"}
                    )
                else:
                    step = 0.01 if high <= 1.0 else 0.5
                    fields[key] = w.FloatSlider(
                        value=value, min=low, max=high, step=step, description=key, tooltip=unit, style={"description_width": "initial"}
                    )
            self.controls[name] = {"enabled": enabled, "start": start, "target": target, **fields}
            rows.append(w.HBox([enabled, start, target, *fields.values()]))
        self.condition = {
            "enabled": w.Checkbox(value=False, description="Conference changes the condition", indent=False),
            "share": w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="share"),
            "counted_stage": w.Dropdown(options=["completed", "summaries", "lists"], value="completed", description="counts"),
            "decided_at": w.Dropdown(options=list(CONFERENCE_SESSIONS), value=2026, description="decided"),
        }
        self.condition["enabled"].add_class("wb-condition")
        self.condition["counted_stage"].add_class("wb-condition-stage")
        rows.append(w.HBox(list(self.condition.values())))
        self.name = w.Text(value="my scenario", description="name")
        self.replications = w.Dropdown(
            options=sorted({50, 100, 200, 500, 1000, replications}), value=replications, description="replications"
        )
        self.seed = w.IntText(value=seed, description="seed", layout=w.Layout(width="160px"))
        # Which model structure the forecast runs on: the evidence-weighted average, or one alone.
        self.shipped = shipped_posterior()
        structures = self.shipped.structure_probabilities() if self.shipped is not None else {}
        self.structure = w.Dropdown(
            options=[("model average", "")] + [(f"{k} ({v:.0%})", k) for k, v in sorted(structures.items(), key=lambda kv: -kv[1])],
            value="",
            description="model structure",
            style={"description_width": "initial"},
        )
        self.structure.add_class("wb-structure")
        self.drivers_button = w.Button(description="What drives the answer?")
        self.drivers = w.HTML("")
        self.drivers.add_class("wb-drivers")
        self.drivers_button.on_click(lambda _: self.explain())
        self.structures_button = w.Button(description="Baseline on each structure")
        self.structures_table = w.HTML("")
        self.structures_table.add_class("wb-structures")
        self.structures_button.on_click(lambda _: self.by_structure())
        self.run_button = w.Button(description="Run", button_style="primary")
        self.run_button.add_class("wb-run")
        self.progress = w.IntProgress(value=0, min=0, max=100, description="", layout=w.Layout(width="200px"))
        self.status = w.HTML("")
        self.status.add_class("wb-status")
        self.load_choice = w.Dropdown(options=self._scenario_files(), description="scenario file")
        self.load_choice.add_class("wb-load-choice")
        self.load_button = w.Button(description="Load")
        self.save_button = w.Button(description="Save as scenario file")
        self.save_button.add_class("wb-save")
        self._confirm_overwrite: Path | None = None  # a save that would replace this file waits for a second click
        self.table = w.HTML("<i>Press Run.</i>")
        self.table.add_class("wb-probabilities")
        self.difference = w.HTML("")
        self.difference.add_class("wb-difference")
        self.fan = w.Output()
        self.fan.add_class("wb-fan")
        self.dates = w.Output()
        self.run_button.on_click(lambda _: self.run())
        self.load_button.on_click(lambda _: self.load(Path(self.load_choice.value)))
        self.save_button.on_click(lambda _: self._save_clicked())
        self.scenario_tab = w.VBox(
            [
                w.HBox([self.load_choice, self.load_button, self.name, self.save_button]),
                *rows,
                w.HBox([self.replications, self.seed, self.structure, self.run_button, self.progress, self.status]),
                w.HBox([self.drivers_button, self.drivers]),
                w.HBox([self.structures_button, self.structures_table]),
                w.HBox([self.table, self.difference]),
                w.HBox([self.fan, self.dates]),
            ]
        )
        self.plan_tab = PlanTab(self._posterior, lambda: self.seed.value, workers, self.save_folder)
        self.tabs = w.Tab(children=[self.scenario_tab, self.plan_tab.widget])
        self.tabs.set_title(0, "Scenario")
        self.tabs.set_title(1, "What would it take?")
        self.widget = w.VBox([w.HTML("<h3>Scenario explorer: when will 70 % of group 1's reviews be completed?</h3>"), self.tabs])

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

    def load(self, path: Path) -> None:
        """Load a scenario file into the controls; a bad file is reported in the app, in plain words."""
        try:
            self.apply(scenario_to_settings(load_scenario(path)))
        except Exception as err:  # shown to the planner, not raised into the kernel's log
            self.status.value = f"<span style='color:#b2182b'>could not load {html.escape(Path(path).name)}: {html.escape(str(err))}</span>"
            return
        self._mark_stale()
        self.status.value = f"loaded {html.escape(Path(path).name)}: press Run"

    def _mark_stale(self, why: str = "the settings changed since") -> None:
        """Results on screen no longer match the controls: say so until the next successful Run."""
        if "wb-stale" not in self.table.value:
            self.table.value = f"<div class='wb-stale' style='opacity:.45'><i>Out of date: {why}; press Run.</i>{self.table.value}</div>"

    def _scenario_files(self) -> list[tuple[str, str]]:
        """The shipped scenario files, then the planner's own (saved from here), as (label, path)."""
        shipped = [(p.name, str(p)) for p in sorted(self.folder.glob("*.toml"))]
        mine = [(f"mine: {p.name}", str(p)) for p in sorted(self.save_folder.glob("*.toml"))] if self.save_folder != self.folder else []
        return shipped + mine

    def _save_clicked(self) -> Path | None:
        """Save into the planner's own folder, never among the shipped files; replacing one of the
        planner's files takes a second click."""
        try:
            settings = self.settings()
            path = self.save_folder / f"{scenario_slug(settings['name'])}.toml"
            if path.exists() and self._confirm_overwrite != path:
                self._confirm_overwrite = path
                self.status.value = (
                    f"{html.escape(path.name)} exists in {html.escape(str(self.save_folder))}: "
                    "press Save again to replace it, or change the name"
                )
                return None
            self._confirm_overwrite = None
            self.save_folder.mkdir(parents=True, exist_ok=True)
            path = save_settings(settings, self.save_folder)
            self.status.value = f"saved {html.escape(path.name)} in {html.escape(str(self.save_folder))}"
            self.load_choice.options = self._scenario_files()
            return path
        except Exception as err:  # shown to the planner, not raised into the kernel
            self.status.value = f"<span style='color:#b2182b'>not saved: {html.escape(str(err))}</span>"
            return None

    # --- running ------------------------------------------------------------------------
    def _posterior(self):
        """The shipped posterior, or one structure of it alone."""
        if self.shipped is None or not self.structure.value:
            return self.shipped
        return self.shipped.restricted(self.structure.value)

    def explain(self) -> None:
        """Name the inputs that drive the headline most (a small sensitivity analysis, a few seconds)."""
        from workbench.analysis.sensitivity import sensitivity

        posterior = self._posterior()
        if posterior is None:
            self.drivers.value = "<i>No posterior is shipped: the hand-set parameters do not vary.</i>"
            return
        self.drivers.value = "<i>running 200 posterior draws...</i>"
        result = sensitivity(posterior, draws=200, replications=5, seed=self.seed.value, workers=self.workers)
        self.drivers.value = "<br>".join(html.escape(result.drivers_sentence(o)) for o in ("p_not_by_horizon", "median_years"))

    def by_structure(self) -> None:
        """The baseline forecast on each model structure alone, side by side with the model average."""
        from workbench.analysis.forecast import format_structure_table

        if self.shipped is None or not self.shipped.structure_names():
            self.structures_table.value = "<i>The posterior has a single structure.</i>"
            return
        self.structures_table.value = "<i>running the baseline on each structure...</i>"
        fc = forecast(
            None,
            replications=self.replications.value,
            seed=self.seed.value,
            workers=self.workers,
            keep_events=False,
            keep_monthly=False,
            posterior=self.shipped,
            by_structure=True,
        )
        self.structures_table.value = f"<pre>{html.escape(format_structure_table(fc.by_structure))}</pre>"

    def _baseline(self, replications: int, seed: int):
        key = (replications, seed, self.structure.value)
        with self._baseline_lock:
            if key not in self._baseline_cache:
                self._baseline_cache[key] = forecast(
                    None,
                    replications=replications,
                    seed=seed,
                    workers=self.workers,
                    posterior=self._posterior(),
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
        started = time.perf_counter()
        try:
            scenario = settings_to_scenario(self.settings())
        except Exception as err:
            self.status.value = f"<span style='color:#b2182b'>{err}</span>"
            return
        self.run_button.disabled = True
        self.progress.value = 0
        self.status.value = "running..."
        try:
            self._run(scenario, started)
        except Exception as err:  # the app never hangs on "running...": it says what went wrong
            self._mark_stale("the last run failed")
            self.status.value = f"<span style='color:#b2182b'>run failed: {html.escape(str(err))}</span>"
        finally:
            self.progress.value = 100
            self.run_button.disabled = False

    def _run(self, scenario: Scenario, started: float) -> None:
        n, seed = self.replications.value, self.seed.value
        base = self._baseline(n, seed)
        active = scenario.levers.active() or not scenario.condition.is_default or scenario.condition.decided
        scen = (
            forecast(
                None,
                replications=n,
                seed=seed,
                workers=self.workers,
                keep_events=False,
                keep_monthly=False,
                scenario=scenario,
                posterior=self._posterior(),
                progress=self._progress(50, 50),
            )
            if active
            else None
        )
        self._draw(base, scen, scenario)
        self.last_update_s = time.perf_counter() - started
        self.status.value = (
            f"{n} replications, seed {seed}: updated in {self.last_update_s:.1f} s ({base.parameters_label.split(' (')[0]}, "
            f"{'structure ' + self.structure.value if self.structure.value else 'model average'})"
        )

    def _draw(self, base, scen, scenario: Scenario) -> None:
        import matplotlib.pyplot as plt

        from workbench.faces.plots import fan_chart, met_by_date_chart

        table = probability_table(base.summary, scen.summary if scen else None)
        shown = table.copy()
        for col in shown.columns[1:]:
            shown[col] = shown[col].map(lambda p: f"{p:.1%}")
        self.table.value = "<b>Probability of meeting the condition</b>" + shown.to_html(index=False, border=0)
        if scen is not None:
            row = compare(base.results, scen.results, scenario.name)
            self.difference.value = (
                "<b>Paired difference against the baseline</b><br>"
                f"months gained: median {row['months_gained_median']:+.0f} "
                f"(80 %: {row['months_gained_p10']:+.0f} to {row['months_gained_p90']:+.0f})<br>"
                f"runs meeting it only with the scenario: {row['only_scenario_reaches']:.1%}<br>"
                f"change in P(by 2030): {row['p_by_2030_change']:+.1%}"
            )
        else:
            self.difference.value = "<i>No lever on: the baseline.</i>"
        # The charts follow the condition that was run: the target line is drawn only where it is a
        # count of group 1's completed reviews; the probability chart follows any condition.
        condition = scenario.condition
        fig, ax = plt.subplots(figsize=(6, 3.2))
        shown = scen or base
        if condition.groups == (1,) and condition.counted_stage == "completed":
            target = math.ceil(round(condition.share * 62, 9))
            rule = "¶25" if condition.is_default else "the Conference's new rule"
            target_label = f"{target} completed ({condition.share:.0%}, {rule})"
        else:
            target, target_label = None, None
            stage = {"lists": "the lists of observations", "summaries": "the summaries"}.get(condition.counted_stage, "completion")
            ax.text(
                0.99,
                0.02,
                f"condition: {condition.share:.0%} of group(s) {', '.join(map(str, condition.groups))} "
                f"reaching {stage}; see the chart beside",
                transform=ax.transAxes,
                ha="right",
                fontsize=7,
            )
        fan_chart(
            shown.results.monthly_summary,
            1,
            target,
            ax=ax,
            label=" (scenario)" if scen else " (baseline)",
            target_label=target_label,
            baseline=base.results.monthly_summary if scen else None,
        )
        self._show(self.fan, fig)
        runs = {"baseline": base.results.threshold, **({"scenario": scen.results.threshold} if scen else {})}
        self._show(self.dates, met_by_date_chart(runs, base.results.setup.horizon, CONFERENCE_SESSIONS, "When the condition is met"))

    @staticmethod
    def _show(output, fig) -> None:
        show_figure(output, fig)

    def show(self):
        from IPython.display import display

        display(self.widget)
        return self
