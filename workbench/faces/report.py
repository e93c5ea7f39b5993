"""The one-page report for delegations: a self-contained HTML file (charts embedded, no network).

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
from workbench.core.atomic import write_text_atomic
from workbench.core.provenance import code_version
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
<p>How fast each step goes was estimated from the report's own figures by approximate Bayesian computation:
thousands of simulated histories from December 2020 were compared with the report's account of May 2024,
and only parameter values whose histories resemble it were kept. Each simulated future draws one of these
values, so the ranges shown include what we do not know about the parameters as well as chance.</p>
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


def build_report(
    baseline: Forecast, comparison: pd.DataFrame | None, scenarios: list[Scenario], check: pd.DataFrame | None, charts: dict[str, object]
) -> str:
    """The whole report as one HTML string."""
    setup = baseline.results.setup
    summary = baseline.summary
    median = summary["median"]
    headline = (
        f"On the {baseline.parameters_label.split(' (')[0]} and today's practice, the median date at which 70 % of "
        f"group 1's reviews are completed is <b>{median.strftime('%B %Y') if median is not None else 'beyond ' + str(setup.horizon.year)}</b>; "
        f"the chance of reaching it before the 2030 Conference session is <b>{summary['p_before_session'][2030]:.0%}</b>, "
        f"and in <b>{summary['p_not_within_horizon']:.0%}</b> of simulated futures it is not reached by {setup.horizon.year}."
    )
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>UNTOC review Mechanism: projection of the 70 % condition</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>When will 70 % of group 1's country reviews be completed?</h1>",
        f"<p class='meta'>Data as at {setup.snapshot.as_at} (report of the Secretariat to the twelfth session, ¶ cited); "
        f"model version {html.escape(code_version())}; {baseline.results.replications} replications per scenario, seed "
        f"{baseline.results.seed}; parameters: {html.escape(baseline.parameters_label)}; generated {dt.date.today()}.</p>",
        f"<p class='headline'>{headline}</p>",
        "<h2>1. Headline projection (baseline)</h2>",
        _table(summary_table(summary)),
    ]
    for key in ("fan_group1", "threshold", "fan_groups23", "occupancy", "time_in_stage"):
        if key in charts:
            parts.append(f"<figure><img alt='{key}' src='{_png(charts[key])}'></figure>")
    if comparison is not None and len(comparison):
        shown = comparison[
            [
                "scenario",
                "months_gained_median",
                "months_gained_p10",
                "months_gained_p90",
                "p_by_2026_change",
                "p_by_2028_change",
                "p_by_2030_change",
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
            "ΔP by 2026",
            "ΔP by 2028",
            "ΔP by 2030",
            f"ΔP by {setup.horizon.year}",
            "only scenario reaches",
            "months gained where both reach",
        ]
        parts += [
            "<h2>2. Scenario comparison</h2>",
            "<p>Months gained: baseline date minus scenario date in the same simulated future; futures in which the "
            "condition is never met count at the horizon. ΔP: change in the probability of meeting the condition "
            "before the Conference session of that year (1 October).</p>",
            _table(shown),
        ]
        if "comparison" in charts:
            parts.append(f"<figure><img alt='comparison' src='{_png(charts['comparison'])}'></figure>")
    if scenarios:
        parts.append("<h2>3. Assumptions of each scenario</h2>")
        parts += [_scenario_assumptions(s) for s in scenarios]
    if check is not None:
        shown = check.dropna(subset=["median"])[["name", "group", "paragraph", "report", "low", "median", "high", "inside"]].copy()
        shown["group"] = shown["group"].map(lambda g: "" if pd.isna(g) else str(int(g)))
        inside = int(shown["inside"].sum())
        parts += [
            "<h2>4. Calibration check</h2>",
            f"<p>The model run from December 2020 on the fitted parameters, observed on {setup.snapshot.as_at}, "
            f"beside the report: {inside} of {len(shown)} figures fall inside the model's 95 % interval.</p>",
            _table(shown),
        ]
        if "check" in charts:
            parts.append(f"<figure><img alt='check' src='{_png(charts['check'])}'></figure>")
    parts += [
        "<h2>5. Method in plain language</h2>",
        METHOD,
        "<h2>6. Model description (STRESS-DES)</h2>",
        _stress_des_html(),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_report(text: str, path: str | Path) -> Path:
    """Write the report (or any text output) atomically."""
    return write_text_atomic(path, text)
