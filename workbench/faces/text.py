"""The library's results as plain text for the terminal: forecasts, comparisons, plans.

The numbers come from :mod:`workbench.analysis`; only their wording and layout are here.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd

from workbench.analysis.compare import FEW_REPLICATIONS
from workbench.analysis.forecast import Forecast, summary_table
from workbench.analysis.plan import Plan
from workbench.core.timeline import HEADLINE_SESSION, REPORT_DATE, in_words


def format_forecast(fc: Forecast) -> str:
    setup = fc.results.setup
    target = setup.completion_target
    c = setup.condition
    rule = f"Forecast of the date {target} of group 1's reviews are completed ({setup.params.completion_share:.0%} condition, ¶25)"
    if not c.is_default or c.decided:
        rule += (
            f"\n  condition changed{' on ' + str(c.decided) if c.decided else ''}: {c.share:.0%} of group(s) "
            f"{', '.join(map(str, c.groups))} having reached '{c.counted_stage}'"
        )
    lines = [
        rule,
        f"  forecast made on {fc.made_on} from data as at {setup.report.as_at}",
        f"  start: the report's state as at {setup.report.as_at} | scenario: {fc.scenario} | parameters: {fc.parameters_label}",
        f"  pairings: {'synthetic, drawn per replication' if setup.pairings is None else setup.pairings.source}"
        f" | seed {fc.results.seed} | {fc.results.replications} replications on {fc.results.workers} worker(s)"
        f" in {fc.results.elapsed_s:.1f} s",
        "",
    ]
    table = summary_table(fc.summary)
    width = max(len(q) for q in table["quantity"])
    lines += [f"  {q:<{width}}  {v}" for q, v in zip(table["quantity"], table["value"])]
    lines.append(f"  (probabilities carry a Monte Carlo standard error of at most {fc.summary['probability_standard_error_max']:.1%})")
    if fc.made_on >= fc.results.monthly_summary.dates[0]:
        lines += ["", *format_nowcast(fc.nowcast(1))]
    return "\n".join(lines)


def format_nowcast(table: pd.DataFrame) -> list[str]:
    """Where the model believes the group's reviews stand: one line per stage."""
    from workbench.faces.labels import STAGE_COLUMN_LABELS

    as_at, group = table.attrs["as_at"], table.attrs["group"]
    whose = "all groups'" if group is None else f"group {group}'s"
    lines = [f"  Nowcast: {whose} reviews on {in_words(as_at)} (the data end {in_words(REPORT_DATE)}; median [80% interval] of the runs)"]
    width = max(len(label) for label in STAGE_COLUMN_LABELS.values())
    for row in table.itertuples():
        lines.append(
            f"    {STAGE_COLUMN_LABELS[row.stage]:<{width}}  {row.median:4.0f}  {f'[{row.low:.0f}-{row.high:.0f}]':<9}"
            f"  mean {row.mean:5.1f} ± {row.mean_se:.1f}"
        )
    return lines


def format_structure_table(table: pd.DataFrame) -> str:
    """The per-structure table as aligned text, probabilities in per cent."""
    shown = table.copy()
    for column in shown.columns:
        if column == "probability" or column.startswith("p_"):
            shown[column] = shown[column].map(lambda v: f"{v:.1%}")
    shown = shown.rename(columns={"probability": "P(structure)"})
    return shown.to_string(index=False)


def _change(value: float, se: float) -> str:
    """A change with its Monte Carlo error, marked '?' when it is within two errors of none."""
    if value == 0 and se == 0:
        return "none in any run "
    noise = not np.isfinite(se) or abs(value) < 2 * se
    return f"{value:+.1%} ± {se:.1%}{'?' if noise else ' '}"


def format_comparison(table: pd.DataFrame, horizon: dt.date) -> str:
    lines = [
        f"{'scenario':<38} {'months gained, median [80% interval]':>38} {f'P({HEADLINE_SESSION}) change':>17} "
        f"{f'P(by {horizon.year}) change':>17} {'only scenario':>14}"
    ]
    for _, r in table.iterrows():
        interval = f"{r.months_gained_median:+.0f} [{r.months_gained_p10:+.0f}, {r.months_gained_p90:+.0f}]"
        session = _change(r[f"p_by_{HEADLINE_SESSION}_change"], r[f"p_by_{HEADLINE_SESSION}_change_se"])
        lines.append(
            f"{r.scenario[:38]:<38} {interval:>38} {session:>17} "
            f"{_change(r.p_within_horizon_change, r.p_within_horizon_change_se):>17} {r.only_scenario_reaches:>13.1%}"
        )
    lines.append(
        "months gained: baseline date minus scenario date, per replication, runs that never reach counted at "
        f"the horizon ({horizon}); 'only scenario': share of runs reaching the condition only with the scenario; "
        "± one Monte Carlo standard error of the paired difference; '?': within two errors of no change (noise)"
    )
    n = int(table["replications"].iloc[0]) if len(table) else 0
    if n and n < FEW_REPLICATIONS:
        lines.append(
            f"WARNING: {n} paired replications: changes smaller than about {2 * 0.5 / np.sqrt(n):.0%} may be noise. "
            f"Use --replications {FEW_REPLICATIONS * 2} or more before reading small differences."
        )
    return "\n".join(lines)


def format_plan(result: Plan) -> str:
    t = result.target
    s = result.settings
    lines = [
        f"What would it take to meet the condition before {t.label} with probability {t.probability:.0%}?",
        f"Searched {s['distinct_candidates']} packages of {', '.join(x.replace('_', ' ') for x in s['levers'])} "
        f"({s['pruned']} dropped early as clearly beaten) on {s['replications']} runs each, in {s['search_s']:.0f} s; "
        f"the frontier verified on {s['verify_replications']} fresh runs (seed {s['verification_seed']}).",
        f"Baseline: {_share(result.baseline_probability, s['verify_replications'])}.",
        "Mean date: of the condition, over the verified runs (runs not meeting it by the horizon count at the horizon).",
        "",
        f"{'package':<10} {'effort (' + result.effort_unit + ')':>24} {'P(met), verified':>30} {'mean date':>10}  levers",
    ]
    for _, r in result.frontier.iterrows():
        mark = "  <- cheapest to reach the target" if r["name"] == result.chosen else ""
        lines.append(
            f"{r['name']:<10} {r['effort']:>24.1f} {_share(r['probability_verified'], s['verify_replications']):>30} "
            f"{str(r['mean_date_verified'])[:7]:>10}  {r['package']}{mark}"
        )
    lines.append("")
    if result.chosen:
        row = result.frontier.set_index("name").loc[result.chosen]
        lines.append(
            f"Cheapest package reaching {t.probability:.0%}: {result.chosen}, "
            f"effort {row['effort']:.1f} {result.effort_unit}: {row['package']}."
        )
    else:
        lines.append(
            f"No package of these levers reaches {t.probability:.0%} before {t.label}: the best reaches "
            f"{_share(result.best_probability, s['verify_replications'])}. "
            "Consider other levers, a later target, or a change of the condition "
            "by the Conference (`workbench decision`)."
        )
    lines.append("Effort is in assumed units (scenarios/planning/effort.toml), not figures of the report.")
    return "\n".join(lines)


def _share(p: float, n: int) -> str:
    """A probability as a reader should take it: below one in n runs is not zero."""
    if p == 0:
        return f"none of {n} runs (under {1 / n:.1%})"
    if p == 1:
        return f"all {n} runs (over {1 - 1 / n:.1%})"
    return f"{p:.1%} ± {math.sqrt(p * (1 - p) / n):.1%}"
