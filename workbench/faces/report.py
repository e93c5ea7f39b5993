"""The analyst's technical annex: a self-contained HTML file (charts embedded, no network) with the
method, the calibration check, every scenario and its assumptions.  Delegations read the two-page
brief (:mod:`workbench.faces.brief`) instead.

Headline projection, scenario comparison, the assumptions of each scenario, the calibration
check, the method in plain language and a STRESS-DES model description, with the date of
the data and the model's version.  Printable to PDF from a browser.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
from pathlib import Path

import pandas as pd

from workbench.analysis.forecast import Forecast, summary_table
from workbench.core.atomic import write_output_file
from workbench.core.provenance import code_version
from workbench.core.timeline import CONFERENCE_SESSIONS, HEADLINE_SESSION, in_words
from workbench.faces.i18n import language
from workbench.inputs.scenarios import Scenario
from workbench.simulation.describe import stress_des


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, classes="t", escape=True, na_rep="")


def _scenario_assumptions(scenario: Scenario) -> str:
    items = []
    for name, value in scenario.changes.items():
        items.append(f"<li>parameter <code>{html.escape(name)}</code> = {html.escape(str(value))}</li>")
    for name, lever in scenario.levers.active().items():
        fields = {k: v for k, v in vars(lever).items() if k not in ("start", "target")}
        target = (
            "all reviews"
            if lever.target.groups == (1, 2, 3) and not lever.target.parties
            else (
                "parties " + ", ".join(lever.target.parties)
                if lever.target.parties
                else "groups " + ", ".join(map(str, lever.target.groups))
            )
        )
        effects = ", ".join(f"{k} = {v}" for k, v in fields.items())
        items.append(
            f"<li><b>{html.escape(name.replace('_', ' '))}</b> from {lever.start}, for {html.escape(target)}: "
            f"{html.escape(effects)}. <i>{html.escape((type(lever).__doc__ or '').strip().splitlines()[0])}</i></li>"
        )
    if not scenario.condition.is_default or scenario.condition.decided:
        c = scenario.condition
        items.append(
            f"<li><b>completion condition</b>: {c.share:.0%} of groups {', '.join(map(str, c.groups))} "
            f"counted at stage '{c.counted_stage}'" + (f", decided {c.decided}" if c.decided else "") + " (¶25)</li>"
        )
    body = "".join(items) or "<li>no change: today's practice</li>"
    return f"<h3>{html.escape(scenario.name)}</h3><p>{html.escape(scenario.description)}</p><ul>{body}</ul>"


def _stress_des_html() -> str:
    """The STRESS-DES outline, as the model describes itself (workbench.simulation.describe)."""

    def cell(text: str) -> str:
        return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))

    rows = "".join(f"<tr><th>{html.escape(item)}</th><td>{cell(text)}</td></tr>" for item, text in stress_des())
    return f'<table class="t">{rows}</table>'


METHOD = """
<p>The workbench simulates every country review, one by one, from where the Secretariat's report left
them on 21 May 2024: which parties still have no focal point, which reviews are at which stage and for how
long. Parties differ in how quickly they act, and some may never act without being prompted. Focal points
change from time to time, which stalls the reviews the party is part of. The Secretariat's small team
organizes every preliminary consultation.</p>
<p>Today's practice includes what the report describes: a party may ask for the drawing of lots to be
repeated when a reviewing State does not nominate, up to four times (¶6-7), and focal points change and
sometimes revive stalled reviews (¶14).</p>
<p>How fast each step goes was estimated by approximate Bayesian computation from every dated figure
available: the report of May 2024 and the public figures of November 2022, May 2023, December 2023 and
April 2024. Thousands of simulated histories from December 2020 were compared with them, and only
parameter values whose histories resemble them were kept. Where the report is silent (do some parties
never nominate? are slow nominators slow drafters too? do self-assessments bunch at their deadline?)
each answer is a model structure of its own, fitted side by side and weighed by how well it reproduces
the figures. Each simulated future draws a structure and its parameters, so the ranges shown include what
we do not know about the process as well as chance.</p>
<p>A scenario changes one or more levers from a start date. Every scenario is run on the same random
numbers as the baseline, so the difference between the two is the effect of the levers, not noise.
Futures in which the condition is not met by the horizon are counted, never dropped.</p>
"""

CSS = """
body{font-family:Georgia,serif;max-width:60em;margin:1.5em auto;color:#222;line-height:1.4}
h1{font-size:1.5em;margin-bottom:0} h2{font-size:1.2em;border-bottom:1px solid #999;margin-top:1.6em}
h3{font-size:1em;margin-bottom:.2em} .meta{color:#555;font-size:.9em}
table.t{border-collapse:collapse;font-size:.8em;margin:.5em 0} table.t td,table.t th{border-bottom:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
img{max-width:100%} figure{margin:.5em 0;page-break-inside:avoid;break-inside:avoid}
.headline{font-size:1.05em;background:#f3f6fa;padding:.6em 1em;border-left:4px solid #08519c}
@media print{body{margin:0;max-width:none} h2{page-break-after:avoid} table,figure{page-break-inside:avoid}}
"""


def _structures_html(table: pd.DataFrame, horizon_year: int) -> str:
    shown = table.copy()
    for column in shown.columns:
        if column == "probability" or column.startswith("p_"):
            shown[column] = shown[column].map(lambda v: f"{v:.0%}")
    shown.columns = [
        {
            "structure": "model structure",
            "probability": "weight of the evidence",
            "p_not_within_horizon": f"not met by {horizon_year}",
        }.get(c, c.replace("p_before_", "met before the ").replace("_session", " session").replace("_", " "))
        for c in shown.columns
    ]
    return _table(shown)


def _planning_html(planning: dict, charts: dict[str, object]) -> str:
    """What would it take: the verified frontier of packages, and how far the Conference's condition
    would have to come down."""
    record, frontier = planning["plan"], planning["frontier"]
    target = record["target"]
    n = record["verify_replications"]
    shown = pd.DataFrame(
        {
            "package": frontier["name"],
            "levers": frontier["package"],
            f"effort ({record['effort_unit']}, assumed)": frontier["effort"].map(lambda e: f"{e:.0f}"),
            "probability (verified)": frontier["probability_verified"].map(lambda p: _ENGLISH.chance(p, n)),
        }
    )
    if record["chosen"]:
        answer = f"The cheapest package that reaches {target['probability']:.0%} is <b>{html.escape(record['chosen'])}</b>."
    else:
        answer = (
            f"<b>No package of the levers reaches {target['probability']:.0%}</b> before {html.escape(target['label'])}: "
            f"the best reaches {_ENGLISH.chance(record['best_probability'], n)}."
        )
    parts = [
        "<h2>What would it take?</h2>",
        f"<p>Packages of levers (how hard, from when, for whom) searched for the condition met before {html.escape(target['label'])} "
        f"with probability {target['probability']:.0%}: {record['distinct_candidates']} packages on shared random numbers, "
        f"the best verified on {n} fresh simulated futures. Effort is in assumed units, not figures of the report. {answer}</p>",
        _table(shown),
    ]
    if "frontier" in charts:
        parts.append(
            f"<figure><img alt='Probability against effort for each package on the frontier' src='{_png(charts['frontier'])}'></figure>"
        )
    session = planning["session"]
    lines = []
    for _, r in planning["largest_share"].iterrows():
        if r["reviews_needed"] == 0:
            lines.append(f"<li>{html.escape(r['package'])}: no share is met with even odds (one review: {r['probability']:.0%})</li>")
        else:
            lines.append(
                f"<li>{html.escape(r['package'])}: at most <b>{r['largest_share']:.0%}</b> of group 1's reviews "
                f"({r['reviews_needed']} of 62), against 70 % today (¶25)</li>"
            )
    parts += [
        f"<p><b>The Conference's decision.</b> The largest share of group 1's reviews that would be met before the {session} "
        f"session with probability at least 50 %:</p><ul>{''.join(lines)}</ul>",
    ]
    if "decision" in charts:
        parts.append(
            f"<figure><img alt='Probability of meeting the condition before the {session} session for each share the Conference could require' src='{_png(charts['decision'])}'></figure>"
        )
    return "\n".join(parts)


def _trust_html(trust: dict, charts: dict[str, object]) -> str:
    """How far to trust this forecast: the hindcast of every dated figure and its coverage."""
    scores, coverage = trust["scores"], trust["coverage"]
    row = coverage.iloc[0]
    shown = scores[["as_at", "figure", "source", "reported", "median", "low_95%", "high_95%", "covered_95%"]].copy()
    shown["interval (95 %)"] = shown["low_95%"].map("{:.0f}".format) + " to " + shown["high_95%"].map("{:.0f}".format)
    shown["inside"] = shown["covered_95%"].map({True: "yes", False: "no"})
    shown = shown[["as_at", "figure", "source", "reported", "median", "interval (95 %)", "inside"]]
    parts = [
        "<h2>How far to trust this forecast</h2>",
        f"<p>The model, run from December 2020 on the fitted parameters, beside every dated figure it can express "
        f"({int(row['figures'])} figures from {scores['as_at'].nunique()} dates). "
        f"{row['covered_50%']:.0%} fall inside the model's central 50 % interval, {row['covered_80%']:.0%} inside its 80 % "
        f"interval and {row['covered_95%']:.0%} inside its 95 % interval (a well-calibrated model: about 50, 80 and 95 %). "
        "These figures were also used to fit the model, so this shows consistency, not foresight; "
        "<code>workbench backtest</code> also refits on the earlier dates only and scores the later ones.</p>",
        _table(shown),
    ]
    if "band" in charts:
        parts.append(
            f"<figure><img alt='Model band over time for focal points, consultations held and completed reviews, with the "
            f"reported figures as dots' src='{_png(charts['band'])}'></figure>"
        )
    return "\n".join(parts)


#: The report is written in English; probabilities are worded as its language says them.
_ENGLISH = language("en")

#: What each chart shows, for a reader who cannot see it (the images' alt text).
ALT_TEXT = {
    "fan_group1": "Completed reviews of group 1 over time: the median and the ranges of 50 and 80 percent of simulated futures, with the 44 reviews of the condition marked.",
    "threshold": "How many simulated futures meet the condition in each year, and how many do not by the horizon.",
    "fan_groups23": "Completed reviews of groups 2 and 3 over time: the median and the ranges of 50 and 80 percent of simulated futures.",
    "occupancy": "How many reviews are in each stage over time, at the median of the simulated futures.",
    "time_in_stage": "Mean months reviews spend in each stage, by group.",
    "comparison": "Months gained by each scenario against today's practice, median and 80 percent range, in the same simulated futures.",
    "check": "Each figure of the report beside the model's median and 95 percent range for it: dots inside the range, crosses outside.",
    "outside_view": "Share of reviews finished against years since launch: the two cycles of the UNCAC review mechanism, the UNTOC Mechanism's plan and its reported zeros, and the model's band for group 1.",
}


def build_report(
    baseline: Forecast,
    comparison: pd.DataFrame | None,
    scenarios: list[Scenario],
    check: pd.DataFrame | None,
    charts: dict[str, object],
    drivers: list[str] | None = None,
    trust: dict | None = None,
    planning: dict | None = None,
) -> str:
    """The whole report as one HTML string."""
    setup = baseline.results.setup
    parts = [*_opening(baseline), *_rests_on(baseline, drivers)]
    for key in ("fan_group1", "threshold", "fan_groups23", "occupancy", "time_in_stage"):
        if key in charts:
            parts.append(_figure(charts, key))
    if "outside_view" in charts:
        parts += _outside_view_section(charts)
    if comparison is not None and len(comparison):
        parts += _comparison_section(comparison, charts, setup.horizon.year)
    if planning is not None:
        parts.append(_planning_html(planning, charts))
    if scenarios:
        parts.append("<h2>3. Assumptions of each scenario</h2>")
        parts += [_scenario_assumptions(s) for s in scenarios]
    if check is not None:
        parts += _check_section(check, charts, setup.snapshot.as_at)
    if trust is not None:
        parts.append(_trust_html(trust, charts))
    parts += [
        "<h2>5. Method in plain language</h2>",
        METHOD,
        "<h2>6. Model description (STRESS-DES)</h2>",
        _stress_des_html(),
        "</body></html>",
    ]
    return "\n".join(parts)


def _figure(charts: dict[str, object], key: str) -> str:
    return f"<figure><img alt='{html.escape(ALT_TEXT[key], quote=True)}' src='{_png(charts[key])}'></figure>"


def _opening(baseline: Forecast) -> list[str]:
    """The title, what the report rests on, and the headline projection."""
    setup, summary = baseline.results.setup, baseline.summary
    median = summary["median"]
    headline = (
        f"On the {baseline.parameters_label.split(' (')[0]} and today's practice, the median date at which 70 % of "
        f"group 1's reviews are completed is <b>{median.strftime('%B %Y') if median is not None else 'beyond ' + str(setup.horizon.year)}</b>; "
        f"the chance of reaching it before the {HEADLINE_SESSION} Conference session is <b>{summary['p_before_session'][HEADLINE_SESSION]:.0%}</b>, "
        f"and in <b>{summary['p_not_within_horizon']:.0%}</b> of simulated futures it is not reached by {setup.horizon.year}."
    )
    return [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>UNTOC review Mechanism: projection of the 70 % condition</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>When will 70 % of group 1's country reviews be completed?</h1>",
        "<p class='meta'><b>Technical annex for analysts</b>: method, calibration, checks and every scenario. "
        "Delegations: the two-page brief in English, French or Spanish (<code>workbench brief</code>) says what this rests on.</p>",
        f"<p class='meta'>Forecast made on {baseline.made_on} from data as at {setup.snapshot.as_at} (report of the Secretariat "
        f"to the twelfth session, ¶ cited); model version {html.escape(code_version())}; {baseline.results.replications} "
        f"replications per scenario, seed {baseline.results.seed}; parameters: {html.escape(baseline.parameters_label)}.</p>",
        f"<p class='headline'>{headline}</p>",
        "<h2>1. Headline projection (baseline)</h2>",
        _table(summary_table(summary)),
        *_nowcast_section(baseline),
    ]


def _nowcast_section(fc: Forecast) -> list[str]:
    """Where the model believes group 1's reviews stand on the forecast's date, since no figure is
    public after the report's."""
    if fc.made_on < fc.results.monthly_summary.dates[0]:
        return []
    from workbench.faces.labels import STAGE_COLUMN_LABELS

    table = fc.nowcast(1)
    shown = pd.DataFrame(
        {
            "stage": [STAGE_COLUMN_LABELS[s] for s in table["stage"]],
            "median": table["median"].map("{:.0f}".format),
            "80% range": [f"{lo:.0f} to {hi:.0f}" for lo, hi in zip(table["low"], table["high"])],
            "mean ± Monte Carlo error": [f"{m:.1f} ± {se:.1f}" for m, se in zip(table["mean"], table["mean_se"])],
        }
    )
    return [
        f"<p>Nowcast: group 1's reviews on {in_words(table.attrs['as_at'])}, as the simulated futures have them "
        f"(no status figure is public after {in_words(fc.results.setup.report.as_at)}).</p>",
        _table(shown),
    ]


def _rests_on(baseline: Forecast, drivers: list[str] | None) -> list[str]:
    """The sensitivity drivers and the forecast on each model structure alone."""
    if baseline.by_structure is None and not drivers:
        return []
    parts = ["<h2>What the answer rests on</h2>"]
    if drivers:
        parts.append("<ul>" + "".join(f"<li>{html.escape(d)}</li>" for d in drivers) + "</ul>")
    if baseline.by_structure is not None:
        horizon_year = baseline.results.setup.horizon.year
        spread = baseline.by_structure.iloc[1:]
        parts.append(
            "<p>The same forecast on each model structure alone, with the weight the evidence gives it "
            f"(the headline is their weighted average). Across structures the chance of not meeting the condition by "
            f"{horizon_year} ranges from {spread['p_not_within_horizon'].min():.0%} to "
            f"{spread['p_not_within_horizon'].max():.0%}.</p>"
        )
        parts.append(_structures_html(baseline.by_structure, horizon_year))
    return parts


def _comparison_section(comparison: pd.DataFrame, charts: dict[str, object], horizon_year: int) -> list[str]:
    """Each scenario against the baseline, in the same simulated futures."""
    shown = comparison[
        [
            "scenario",
            "months_gained_median",
            "months_gained_p10",
            "months_gained_p90",
            *(f"p_by_{year}_change" for year in CONFERENCE_SESSIONS),
            "p_within_horizon_change",
            "only_scenario_reaches",
            "months_gained_if_both_median",
        ]
    ].copy()
    for col in shown.columns[1:]:
        percent = "p_" in col or "only" in col
        shown[col] = shown[col].map(lambda v, percent=percent: "" if pd.isna(v) else (f"{v:+.1%}" if percent else f"{v:+.0f}"))
    shown.columns = [
        "scenario",
        "months gained (median)",
        "10 %",
        "90 %",
        *(f"ΔP by {year}" for year in CONFERENCE_SESSIONS),
        f"ΔP by {horizon_year}",
        "only scenario reaches",
        "months gained where both reach",
    ]
    parts = [
        "<h2>2. Scenario comparison</h2>",
        "<p>Months gained: baseline date minus scenario date in the same simulated future; futures in which the "
        "condition is never met count at the horizon. ΔP: change in the probability of meeting the condition "
        "before the Conference session of that year (1 October).</p>",
        _table(shown),
    ]
    if "comparison" in charts:
        parts.append(_figure(charts, "comparison"))
    return parts


def _outside_view_section(charts: dict[str, object]) -> list[str]:
    """The forecast beside how fast sister mechanisms went: a plausibility check, said to be one."""
    from workbench.inputs.reference_class import load_reference_class

    reference = load_reference_class()
    return [
        "<h3>The outside view</h3>",
        "<p>How fast sister review mechanisms went, beside the model's group 1 (calibration/reference-class.toml, each point "
        "with its public source; <code>workbench outside-view</code> gives the table). A plausibility check, not an "
        "observation of this Mechanism: the calibration does not read it. Not like for like: "
        + html.escape(" ".join(reference.differences))
        + "</p>",
        _figure(charts, "outside_view"),
    ]


def _check_section(check: pd.DataFrame, charts: dict[str, object], as_at: dt.date) -> list[str]:
    """The model run from 2020, observed at the report's date, beside the report."""
    shown = check.dropna(subset=["median"])[["name", "group", "paragraph", "report", "low", "median", "high", "inside"]].copy()
    shown["group"] = shown["group"].map(lambda g: "" if pd.isna(g) else str(int(g)))
    scored = shown["inside"].notna()
    inside = int(shown.loc[scored, "inside"].astype(bool).sum())
    parts = [
        "<h2>4. Calibration check</h2>",
        f"<p>The model run from December 2020 on the fitted parameters, observed on {as_at}, "
        f"beside the report: {inside} of the {int(scored.sum())} figures it expresses fall inside the model's 95 % interval "
        "(the constants of the set-up, such as the 189 reviews, are shown but not scored, as in the backtest).</p>",
        _table(shown),
    ]
    if "check" in charts:
        parts.append(_figure(charts, "check"))
    return parts


def write_report(text: str, path: str | Path, overwrite: bool = False) -> Path:
    """Write the report atomically, replacing only a report the workbench wrote (or with ``--overwrite``)."""
    return write_output_file(path, text, "--output", overwrite)
