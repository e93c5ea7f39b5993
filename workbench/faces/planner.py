"""The explorer's "What would it take?" tab: the target, the required probability, the levers
allowed; Run searches packages (:func:`workbench.analysis.plan.plan`) with its progress shown,
draws the verified frontier, and saves a chosen package as a scenario file in the planner's
own folder (never over a shipped file).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from workbench.analysis.plan import Plan, PlanSearch, plan, plan_target
from workbench.core.atomic import is_shipped_data, write_output_file
from workbench.core.paths import USER_SCENARIOS_DIR
from workbench.core.timeline import CONFERENCE_SESSIONS, HEADLINE_SESSION, earliest_start, sessions_after
from workbench.core.translatable import N_
from workbench.experiments.setup import DEFAULT_HORIZON, default_setup
from workbench.faces.i18n import Language, language
from workbench.faces.labels import EFFORT_UNIT_LABELS, LEVER_LABELS, TARGET_LABELS
from workbench.faces.plots import frontier_chart
from workbench.inputs.effort import load_effort
from workbench.inputs.posterior import Posterior
from workbench.inputs.scenarios import scenario_table, scenario_text

#: Search sizes a planner picks from: (candidates, runs each, runs verifying each frontier package, minutes at most).
SEARCH_SIZES = {
    N_("quick (about a minute)"): (40, 60, 200, 2.0),
    N_("thorough (several minutes)"): (150, 200, 500, 8.0),
}


def unique_path(folder: Path, stem: str) -> Path:
    """``folder/stem.toml``, or ``stem-2.toml``, ``stem-3.toml``...: never an existing file."""
    path = folder / f"{stem}.toml"
    k = 2
    while path.exists():
        path = folder / f"{stem}-{k}.toml"
        k += 1
    return path


class PlanTab:
    """The widgets of the tab; ``run()`` is what its button calls."""

    def __init__(
        self,
        posterior: Callable[[], Posterior | None],
        seed: Callable[[], int],
        workers: int | None,
        save_folder: Path = USER_SCENARIOS_DIR,
        lang: Language | None = None,
    ):
        import ipywidgets as w

        self.lang = lang or language("en")
        _ = self.lang.gettext
        self.posterior = posterior
        self.seed = seed
        self.workers = workers
        self.save_folder = Path(save_folder)
        self.effort = load_effort()
        self.result: Plan | None = None
        style = {"description_width": "initial"}
        self.target = w.Dropdown(
            options=[
                *((_("before the {year} Conference session").format(year=year), str(year)) for year in sessions_after(earliest_start())),
                (_("by the end of {year}").format(year=DEFAULT_HORIZON.year), "horizon"),
            ],
            value=str(HEADLINE_SESSION),
            description=_("Condition met"),
            style=style,
            layout=w.Layout(width="auto"),  # the session's name in full (it was cut)
        )
        # A fixed width: with its long description the slider otherwise shrinks to a dot (#23).
        self.probability = w.IntSlider(
            value=50, min=5, max=95, step=5, description=_("with probability at least (%)"), style=style, layout=w.Layout(width="460px")
        )
        self.size = w.Dropdown(options=[(_(k), k) for k in SEARCH_SIZES], value=list(SEARCH_SIZES)[0], description=_("search"), style=style)
        self.levers = {
            name: w.Checkbox(value=True, description=_(LEVER_LABELS.get(name, name)), indent=False, layout=w.Layout(width="auto"))
            for name in self.effort.levers
        }
        self.run_button = w.Button(description=_("Find packages"), button_style="primary", layout=w.Layout(width="auto"))
        self.run_button.add_class("wb-plan-run")
        self.run_button.on_click(lambda _b: self.run())
        self.progress = w.IntProgress(value=0, min=0, max=100, layout=w.Layout(width="240px"))
        self.status = w.HTML("")
        self.status.add_class("wb-plan-status")
        self.answer = w.HTML("<i>" + html.escape(_("Choose a target and press Find packages.")) + "</i>")
        self.answer.add_class("wb-plan-answer")
        self.chart = w.Output()
        self.chart.add_class("wb-plan-frontier")
        self.package = w.Dropdown(options=[], description=_("package"), style=style)
        self.save_button = w.Button(description=_("Save package as scenario file"), layout=w.Layout(width="auto"))
        self.save_button.add_class("wb-plan-save")
        self.save_button.on_click(lambda _b: self.save())
        intro = _(
            "Which levers, how hard and from when would meet the condition in time? Packages are searched on shared random "
            "numbers, and the best are checked again on fresh ones. Effort is in assumed {unit} (scenarios/planning/effort.toml), "
            "not figures of the report."
        ).format(unit=_(EFFORT_UNIT_LABELS.get(self.effort.unit, self.effort.unit)))
        wrap = w.Layout(flex_flow="row wrap", align_items="center")
        self.widget = w.VBox(
            [
                w.HTML("<p>" + html.escape(intro) + "</p>"),
                w.HBox([self.target, self.probability, self.size], layout=wrap),
                w.HTML("<b>" + html.escape(_("Levers the plan may use")) + "</b>"),
                # Columns wide enough for the longest lever's name in any language (they were cut at 300 px).
                w.GridBox(list(self.levers.values()), layout=w.Layout(grid_template_columns="repeat(auto-fill, minmax(440px, 1fr))")),
                w.HBox([self.run_button, self.progress, self.status], layout=wrap),
                self.answer,
                self.chart,
                w.HBox([self.package, self.save_button], layout=wrap),
            ]
        )

    def _say(self, text: str, error: bool = False) -> None:
        shown = html.escape(text)
        self.status.value = f"<span style='color:#b2182b'>{shown}</span>" if error else shown

    def run(self) -> None:
        _ = self.lang.gettext
        allowed = [name for name, box in self.levers.items() if box.value]
        if not allowed:
            self._say(_("Choose at least one lever."), error=True)
            return
        trials, replications, verify, minutes = SEARCH_SIZES[self.size.value]
        self.run_button.disabled = True
        self.progress.value = 0
        self._say(_("searching..."))
        try:
            setup = default_setup(posterior=self.posterior())
            target = plan_target(self.target.value, self.probability.value / 100, setup.horizon)
            self.result = plan(
                setup,
                target,
                levers=allowed,
                effort=self.effort,
                search=PlanSearch(
                    trials=trials,
                    max_minutes=minutes,
                    replications=replications,
                    screen=min(30, replications),
                    verify_replications=verify,
                    seed=self.seed(),
                ),
                workers=self.workers,
                progress=self._progress,
            )
            self._draw(self.result)
            settings = self.result.settings
            self._say(
                _("done: {k} packages searched in {seconds} s").format(
                    k=settings["distinct_candidates"], seconds=f"{settings['total_s']:.0f}"
                )
            )
        except Exception as err:  # shown to the planner in plain words, never a hung "searching..."
            self._say(_("the search failed: {error}").format(error=err), error=True)
        finally:
            self.progress.value = 100
            self.run_button.disabled = False

    def _answer_html(self, result: Plan) -> str:
        """The verified frontier as a table in the reader's language: each package's levers (how
        hard, from when, for whom), its effort, its verified chance and mean date; then the answer."""
        _, esc, lang = self.lang.gettext, html.escape, self.lang
        n = result.settings["verify_replications"]
        unit = _(EFFORT_UNIT_LABELS.get(result.effort_unit, result.effort_unit))
        heads = (_("package"), _("levers (intensity, from, for)"), _("effort ({unit})").format(unit=unit))
        heads += (_("chance, verified"), _("mean date"))
        rows, nothing = [], esc(_("nothing added (today's practice)"))
        for _i, r in result.frontier.iterrows():
            levers = "<br>".join(esc(self._choice_words(c)) for c in result.packages[r["name"]].choices) or nothing
            mark = " ✓" if r["name"] == result.chosen else ""
            cells = (
                f"<td>{esc(r['name'])}{mark}</td><td>{levers}</td>",
                f"<td class='n'>{esc(lang.number(r['effort'], 1))}</td><td class='n'>{esc(lang.chance(r['probability_verified'], n))}</td>",
                f"<td>{esc(lang.month(r['mean_date_verified']))}</td>",
            )
            rows.append("<tr>" + "".join(cells) + "</tr>")
        head = "".join(f"<th>{esc(h)}</th>" for h in heads)
        return (
            f"<p><b>{esc(self._answer_words(result, n))}</b></p>"
            f"<table class='wb-plan-table' style='border-spacing:.8em .15em'><tr>{head}</tr>{''.join(rows)}</table>"
            f"<p><i>{esc(self._table_note(n))}</i></p>"
        )

    def _choice_words(self, choice) -> str:
        """One lever of a package: its name, how hard, from when, for whom."""
        _, lang = self.lang.gettext, self.lang
        lever = _(LEVER_LABELS.get(choice.lever, choice.lever))
        aim = _(TARGET_LABELS[choice.target])
        return f"{lever} ({lang.percent(choice.intensity)}, {lang.month(choice.start)}, {aim})"

    def _answer_words(self, result: Plan, n: int) -> str:
        _, lang = self.lang.gettext, self.lang
        year = next((y for y, day in CONFERENCE_SESSIONS.items() if day == result.target.before), None)
        when = (
            _("before the {year} Conference session").format(year=year)
            if year
            else _("before {day}").format(day=lang.date(result.target.before))
        )
        p = lang.percent(result.target.probability)
        if result.chosen:
            text = _("The cheapest package meeting the condition {when} with a chance of at least {p} is {name} (✓).")
            return text.format(when=when, p=p, name=result.chosen)
        text = _("No package of these levers reaches {p} {when}: the best reaches {best}.")
        return text.format(p=p, when=when, best=lang.chance(result.best_probability, n))

    def _table_note(self, n: int) -> str:
        return self.lang.gettext(
            "Intensity: the share of the most each lever may ask (scenarios/planning/effort.toml). Chances and mean dates "
            "are verified on {n} fresh simulated futures; futures not meeting the condition count at the horizon."
        ).format(n=self.lang.number(n))

    def _progress(self, done: int, total: int, message: str) -> None:
        self.progress.value = int(90 * done / max(total, 1))
        self._say(self.lang.gettext("{done} of at most {total} packages").format(done=done, total=total) + f": {message}")

    def _draw(self, result: Plan) -> None:
        from workbench.faces.display import show_figure

        self.answer.value = self._answer_html(result)
        show_figure(self.chart, frontier_chart(result))
        effort = self.lang.gettext("effort")  # looked up outside the f-string, where Babel's extractor sees it
        self.package.options = [
            (f"{name} ({row['probability_verified']:.0%}, {effort} {row['effort']:.0f})", name)
            for name, row in result.frontier.set_index("name").iterrows()
        ]
        # The cheapest package reaching the target, or else the one reaching furthest.
        self.package.value = result.chosen or str(result.frontier.iloc[-1]["name"])

    def save(self) -> Path | None:
        """Write the chosen package as a scenario file in the planner's folder (a new name if taken)."""
        if self.result is None or not self.package.value:
            self._say(self.lang.gettext("Find packages first."), error=True)
            return None
        name = self.package.value
        package = self.result.packages[name]
        if is_shipped_data(self.save_folder):
            self._say(self.lang.gettext("not saved: the shipped scenarios are not written from the explorer"), error=True)
            return None
        self.save_folder.mkdir(parents=True, exist_ok=True)
        path = unique_path(self.save_folder, f"{name}-before-{self.result.target.before.year}")
        verified = self.result.frontier.set_index("name").loc[name, "probability_verified"]
        description = f"meets the condition before {self.result.target.label} in {verified:.0%} of verified runs"
        scenario = package.scenario(self.effort, f"{name}: {package.describe()}"[:120])
        write_output_file(path, scenario_text(scenario_table(scenario), f"Written by the planning tab: {description}"), "Save")
        self._say(
            self.lang.gettext("saved {file} in {folder}: load it in the Scenario tab").format(file=path.name, folder=self.save_folder)
        )
        return path
