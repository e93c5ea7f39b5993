"""Charts (matplotlib): the posterior predictive check and the posterior's marginals and pairs."""

from __future__ import annotations

import sys

import matplotlib

# Outside a Jupyter kernel (the command line, the report, a worker) draw off-screen, whatever the
# machine's display; inside one, keep the notebook's inline backend, or no chart would show.
if "ipykernel" not in sys.modules:
    matplotlib.use("Agg")

import matplotlib.dates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from workbench.analysis.plan import Plan  # noqa: E402
from workbench.core.timeline import CONFERENCE_SESSIONS  # noqa: E402
from workbench.faces.labels import STAGE_COLUMN_LABELS  # noqa: E402
from workbench.inputs.priors import Priors  # noqa: E402
from workbench.inputs.reference_class import ReferenceClass  # noqa: E402
from workbench.observation.summaries import MonthlySummary  # noqa: E402


def predictive_check_chart(check: pd.DataFrame, title: str):
    """Each report figure (dot) against the simulated median and 95 % interval (bar)."""
    rows = check.dropna(subset=["median"]).reset_index(drop=True)
    labels = [
        f"{r['name']}" + (f" (group {int(r['group'])})" if pd.notna(r["group"]) else "") + f"  ¶{r['paragraph']}"
        for _, r in rows.iterrows()
    ]
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.hlines(y, rows["low"], rows["high"], color="#8fb3d9", lw=5, label="model 95 % interval")
    ax.plot(rows["median"], y, "|", color="#1f4e79", ms=12, label="model median")
    # Colour-blind safe (not red/green), and the shape says it too: dot inside, cross outside.
    inside = rows["inside"].ne(False).to_numpy(dtype=bool)  # a constant of the set-up (not scored) is drawn as the match it is
    ax.scatter(rows["report"][inside], y[inside], color="#0072B2", marker="o", zorder=3, s=22, label="report, inside the interval")
    ax.scatter(rows["report"][~inside], y[~inside], color="#D55E00", marker="X", zorder=3, s=40, label="report, outside the interval")
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("count")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def marginals_chart(particles: pd.DataFrame, priors: Priors):
    """Weighted posterior histogram of each parameter over its prior range."""
    n = len(priors.priors)
    cols = 4
    fig, axes = plt.subplots(int(np.ceil(n / cols)), cols, figsize=(12, 2.4 * np.ceil(n / cols)))
    for ax, prior in zip(axes.ravel(), priors.priors):
        x = particles[prior.name].to_numpy()
        log = prior.distribution == "loguniform"
        bins = np.geomspace(prior.low, prior.high, 25) if log else np.linspace(prior.low, prior.high, 25)
        ax.hist(x, bins=bins, weights=particles["weight"], color="#4f81bd", density=True, label="posterior")
        if log:
            ax.set_xscale("log")
            grid = np.geomspace(prior.low, prior.high, 100)
            ax.plot(grid, 1 / (grid * np.log(prior.high / prior.low)), color="grey", ls="--", label="prior")
        else:
            ax.axhline(1 / (prior.high - prior.low), color="grey", ls="--", label="prior")
        ax.set_title(prior.name, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def pairs_chart(particles: pd.DataFrame, priors: Priors, names: list[str] | None = None):
    """Pairwise scatter of the posterior particles (point size by weight)."""
    names = names or priors.names[:6]
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.0 * k, 2.0 * k))
    w = particles["weight"].to_numpy()
    size = 4 + 200 * w / w.max() / np.sqrt(len(w))
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.hist(particles[a], bins=20, weights=w, color="#4f81bd")
            else:
                ax.scatter(particles[b], particles[a], s=size, alpha=0.4, color="#1f4e79")
            if i == k - 1:
                ax.set_xlabel(b, fontsize=6)
            if j == 0:
                ax.set_ylabel(a, fontsize=6)
            ax.tick_params(labelsize=5)
    fig.tight_layout()
    return fig


# --- forecast charts --------------------------------------------------------------------


#: Colour-blind-safe colours (Okabe and Ito): baseline, scenario, target, sessions.
#: One colour per role in every chart: the run shown (a scenario, or today's practice alone) in dark blue;
#: today's practice beside a scenario in orange, dashed (the two charts of the explorer used to swap them).
SHOWN_COLOUR, TODAY_BESIDE_COLOUR, TARGET_COLOUR, SESSION_COLOUR = "#08306b", "#E69F00", "#D55E00", "#555555"


def fan_chart(
    summary: MonthlySummary,
    group: int,
    target: int | None = None,
    ax=None,
    label: str = "",
    target_label: str | None = None,
    baseline: MonthlySummary | None = None,
    gettext=None,
):
    """Completed reviews of one group over time: median, 50 % and 80 % bands, the target line
    (``target_label`` says whose rule it is; default ¶25's), and the baseline's median if given."""
    _ = gettext or _untranslated
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(7, 3.4))
    q = summary.quantiles(group, "completed", (0.1, 0.25, 0.5, 0.75, 0.9))
    ax.fill_between(q.index, q[0.1], q[0.9], color="#c6dbef", label=_("80 % of runs"))
    ax.fill_between(q.index, q[0.25], q[0.75], color="#6baed6", label=_("50 % of runs"))
    ax.plot(q.index, q[0.5], color=SHOWN_COLOUR, lw=1.5, label=_("median") + label)
    if baseline is not None:
        b = baseline.quantiles(group, "completed", (0.5,))
        ax.plot(b.index, b[0.5], color=TODAY_BESIDE_COLOUR, lw=1.5, ls="--", label=_("median (today's practice)"))
    if target:
        ax.axhline(target, color=TARGET_COLOUR, ls="--", lw=1, label=target_label or f"{target} completed (70 %, ¶25)")
    for session in CONFERENCE_SESSIONS.values():  # the Conference sessions at which the condition is looked at
        ax.axvline(pd.Timestamp(session), color=SESSION_COLOUR, ls=":", lw=0.8)
    years = ", ".join(str(year) for year in CONFERENCE_SESSIONS)
    ax.set_xlabel(_("date") + " (" + _("dotted: the Conference sessions of {years}").format(years=years) + ")")
    ax.set_title(
        _("Group {group}: completed reviews{label} ({n} simulated futures)").format(group=group, label=label, n=summary.replications),
        fontsize=9,
    )
    ax.set_ylabel(_("completed reviews"))
    ax.legend(fontsize=7, loc="upper left")
    ax.grid(alpha=0.3)
    return ax.figure


def occupancy_chart(summary: MonthlySummary):
    """Median number of reviews (all groups) in each stage over time."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    # Okabe-Ito's seven colours, and line styles, so that no two stages are told apart by hue alone.
    palette = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7")
    styles = ("-", "--", "-.", ":", "-", "--", "-.")
    for (column, label), colour, style in zip(STAGE_COLUMN_LABELS.items(), palette, styles):
        median = summary.quantiles(None, column, (0.5,))[0.5]
        ax.plot(median.index, median.to_numpy(), label=label, lw=1.5, color=colour, ls=style)
    ax.set_title(f"Reviews by stage, median of {summary.replications} replications", fontsize=9)
    ax.set_ylabel("reviews")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def _untranslated(text: str) -> str:
    return text


def met_by_date_chart(thresholds: dict[str, pd.DataFrame], horizon, sessions: dict[int, object], title: str, gettext=None):
    """The share of runs in which the condition is met by each date, one step curve per run set
    (baseline, scenario), with the Conference sessions marked: it follows whatever condition was run."""
    _ = gettext or _untranslated
    fig, ax = plt.subplots(figsize=(7, 3.2))
    # The first is today's practice: beside a scenario, in the colour and dash it has in the fan chart.
    roles = [(SHOWN_COLOUR, "-")] if len(thresholds) == 1 else [(TODAY_BESIDE_COLOUR, "--"), (SHOWN_COLOUR, "-")]
    for (name, threshold), (colour, style) in zip(thresholds.items(), roles):
        n = len(threshold)
        dates = np.sort(threshold.loc[threshold["reached"], "date"].to_numpy())
        share = 100 * np.arange(1, len(dates) + 1) / n
        by = _("{share} % by {year}").format(share=f"{100 * len(dates) / n:.0f}", year=horizon.year)
        ax.step(dates, share, where="post", color=colour, ls=style, lw=1.6, label=f"{name} ({by})")
    for year, day in sessions.items():
        ax.axvline(pd.Timestamp(day), color=SESSION_COLOUR, ls=":", lw=1)
        ax.text(
            pd.Timestamp(day),
            97,
            _("{year} session").format(year=year) + " ",
            fontsize=7,
            color=SESSION_COLOUR,
            va="top",
            ha="right",
            rotation=90,
        )
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter())
    ax.set_ylabel(_("simulated futures meeting the condition"), fontsize=8)
    ax.set_xlabel(_("date"))
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="center left")
    ax.grid(alpha=0.3)
    return fig


def threshold_chart(threshold: pd.DataFrame, horizon):
    """Distribution of the year the condition is met, with runs not meeting it shown apart."""
    fig, ax = plt.subplots(figsize=(7, 3.0))
    reached = threshold[threshold["reached"]]
    years = reached["date"].dt.year.value_counts().sort_index()
    n = len(threshold)
    ax.bar(years.index, years.to_numpy() / n, color="#2171b5", label="met in that year")
    never = float((~threshold["reached"]).mean())
    ax.bar([horizon.year + 2], [never], color="#999999", label=f"not by {horizon}")
    ax.set_ylabel("share of runs")
    ax.set_title(f"When the 70 % condition is met ({n} replications)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    return fig


def time_in_stage_chart(table: pd.DataFrame):
    """Mean months spent in each stage by group."""
    fig, ax = plt.subplots(figsize=(7, 3.0))
    stages = [
        s for s in ("nominations", "consultation", "saq", "written_feedback", "lists", "summaries") if s in set(table["stage"].astype(str))
    ]
    width = 0.25
    for k, g in enumerate((1, 2, 3)):
        sub = table[table["group"] == g].set_index(table[table["group"] == g]["stage"].astype(str))
        ax.bar(np.arange(len(stages)) + (k - 1) * width, [sub["mean_months"].get(s, np.nan) for s in stages], width, label=f"group {g}")
    ax.set_xticks(np.arange(len(stages)), stages, fontsize=7)
    ax.set_ylabel("mean months in stage")
    ax.set_title("Where reviews spend their time (stages begun in the forecast)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="y")
    return fig


def comparison_chart(table: pd.DataFrame):
    """Months gained against the baseline, median and 80 % interval, one row per scenario."""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    ax.hlines(y, table["months_gained_p10"], table["months_gained_p90"], color="#9ecae1", lw=6, label="80 % interval")
    ax.plot(table["months_gained_median"], y, "o", color="#08519c", label="median")
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(y, table["scenario"], fontsize=7)
    ax.set_xlabel("months gained on the baseline (per replication; runs never meeting the condition count at the horizon)")
    ax.set_title(f"Scenario comparison ({int(table['replications'].iloc[0])} paired replications each)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


#: The band chart's figures in words.
BAND_TITLES = {
    "parties_with_focal_point": "Parties with a focal point",
    "consultations_held": "Reviews past their preliminary consultation",
    "reviews_completed": "Reviews completed",
}

#: Colour-blind-safe pair (Okabe-Ito blue and vermillion) for the trust and sensitivity charts.
BAND_COLOUR, DOT_COLOUR = "#0072B2", "#D55E00"


def band_chart(quantiles: pd.DataFrame, reported: pd.DataFrame, titles: dict[str, str] | None = None):
    """Posterior predictive bands (50 % dark, 90 % light) of some figures over time, with every
    reported value as a dot (a range as a bar, a lower bound as an arrow)."""
    figures = list(dict.fromkeys(quantiles["figure"]))
    fig, axes = plt.subplots(1, len(figures), figsize=(4.2 * len(figures), 3.2), squeeze=False)
    for ax, name in zip(axes[0], figures):
        q = quantiles[quantiles.figure == name]
        dates = pd.to_datetime(q["date"])
        ax.fill_between(dates, q["q05"], q["q95"], color=BAND_COLOUR, alpha=0.18, lw=0, label="model, 90 %")
        ax.fill_between(dates, q["q25"], q["q75"], color=BAND_COLOUR, alpha=0.4, lw=0, label="model, 50 %")
        ax.plot(dates, q["q50"], color=BAND_COLOUR, lw=1.2, label="model median")
        r = reported[reported.figure == name]
        for row in r.itertuples():
            when = pd.Timestamp(row.as_at)
            if np.isinf(row.high):
                ax.annotate("", (when, row.low * 1.3 + 1), (when, row.low), arrowprops={"arrowstyle": "->", "color": DOT_COLOUR})
            elif row.high > row.low:
                ax.vlines(when, row.low, row.high, color=DOT_COLOUR, lw=3)
            ax.plot(when, row.low if np.isinf(row.high) else (row.low + row.high) / 2, "o", color=DOT_COLOUR, ms=5)
        ax.plot([], [], "o", color=DOT_COLOUR, label="reported")
        ax.set_title((titles or BAND_TITLES).get(name, name), fontsize=9)
        ax.xaxis.set_major_locator(matplotlib.dates.YearLocator())
        ax.xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%Y"))
        ax.set_xlabel("date")
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("count")
    axes[0][0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def sensitivity_chart(table: pd.DataFrame, outputs: dict[str, str], top: int = 10):
    """First-order indices of the inputs that matter most, one panel per headline quantity that
    varies at all (a probability that is 0 in every draw has nothing to attribute)."""
    import textwrap

    outputs = {column: textwrap.fill(title, 32) for column, title in outputs.items() if float(table[column].max()) > 0}
    shown = table.head(top).iloc[::-1]
    fig, axes = plt.subplots(1, len(outputs), figsize=(3.1 * len(outputs), 0.32 * len(shown) + 1.6), sharey=True, squeeze=False)
    for ax, (column, title) in zip(axes[0], outputs.items()):
        ax.barh(np.arange(len(shown)), shown[column].clip(lower=0), color=BAND_COLOUR)
        ax.set_title(title, fontsize=8, wrap=True)
        ax.set_xlim(0, max(0.05, float(table[column].max()) * 1.15))
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax.tick_params(labelsize=7)
        ax.set_xlabel("share of the spread (S1)", fontsize=7)
    axes[0][0].set_yticks(np.arange(len(shown)), shown["in plain words"], fontsize=7)
    fig.tight_layout()
    return fig


def frontier_chart(result: Plan) -> Figure:
    """Verified probability against effort, one point per frontier package, the target marked."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    f = result.frontier
    ax.errorbar(
        f["effort"],
        100 * f["probability_verified"],
        yerr=200 * f["probability_verified_se"].fillna(0),
        fmt="o-",
        color="#0072B2",
        capsize=3,
        label="frontier (verified, ±2 s.e.)",
    )
    c = result.candidates[~result.candidates["pruned"]]
    ax.scatter(c["effort"], 100 * c["probability"], s=8, color="#999999", alpha=0.6, label="candidates (search runs)")
    ax.axhline(100 * result.target.probability, color="#D55E00", linestyle="--", label=f"required {result.target.probability:.0%}")
    for _, r in f.iterrows():
        ax.annotate(
            r["name"].removeprefix("plan-"),
            (r["effort"], 100 * r["probability_verified"]),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize=8,
        )
    ax.set_xlabel(f"effort ({result.effort_unit}, assumed)")
    ax.set_ylabel(f"P(condition met before {result.target.before.isoformat()}), %")
    ax.set_ylim(-2, 102)
    ax.set_title("What would it take? Probability against effort")
    ax.legend(loc="lower right", fontsize=8)
    return fig


def decision_chart(curve: pd.DataFrame, column: str, probability: float, title: str) -> Figure:
    """The probability of meeting the condition in time against the share the Conference requires."""

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    colours = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"]
    for (name, one), colour in zip(curve.groupby("package", sort=False), colours * 4):
        ax.step(100 * one["share"], 100 * one[column], where="post", color=colour, label=name)
    ax.axhline(100 * probability, color="#D55E00", linestyle="--", label=f"required {probability:.0%}")
    ax.axvline(70, color="#555555", linestyle=":", label="today's rule, 70 % (¶25)")
    ax.set_xlabel("share of the counted reviews the Conference requires, %")
    ax.set_ylabel("probability, %")
    ax.set_ylim(-2, 102)
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


#: Okabe-Ito colours for the outside view: one per sister mechanism, the plan, UNTOC's own points.
REFERENCE_COLOURS = ("#E69F00", "#009E73", "#CC79A7", "#56B4E9")


def outside_view_chart(reference: ReferenceClass, band: pd.DataFrame, target_share: float, replications: int) -> Figure:
    """Share of reviews finished against years since launch: each sister mechanism's points, the
    UNTOC Mechanism's plan and its own points, and the model's band for group 1 from the report's
    state; the ¶25 condition as a line.  The caption says how the mechanisms differ."""
    fig = Figure(figsize=(8.0, 4.6), layout="constrained")
    ax = fig.add_subplot()
    ax.fill_between(band["years"], 100 * band["low"], 100 * band["high"], color="#c6dbef", label="model, group 1: 80 % of runs")
    ax.plot(band["years"], 100 * band["median"], color="#08306b", lw=1.6, label=f"model, group 1: median ({replications:,} runs)")
    for mechanism, colour in zip(reference.mechanisms, REFERENCE_COLOURS):
        years = [mechanism.years(p) for p in mechanism.points]
        ax.plot(years, [100 * p.share for p in mechanism.points], "o-", color=colour, lw=1, ms=5, label=mechanism.name)
    plan_years = np.array([0.0, reference.plan_years_per_review, reference.plan_years_per_review, float(band["years"].iloc[-1])])
    ax.plot(plan_years, 100 * np.array([0.0, 0.0, 1.0, 1.0]), color="#555555", ls="--", lw=1, label="UNTOC as planned (two years a review)")
    untoc = reference.untoc
    ax.plot(
        [untoc.years(p) for p in untoc.points],
        [100 * p.share for p in untoc.points],
        "s",
        color="#D55E00",
        ms=6,
        label="UNTOC group 1, reported",
    )
    ax.axhline(100 * target_share, color="#D55E00", ls=":", lw=1, label=f"the condition: {target_share:.0%} of group 1 (¶25)")
    ax.set_xlim(0, float(band["years"].iloc[-1]))
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter())
    ax.set_xlabel("years since the launch (UNTOC: group 1, 1 December 2020)")
    ax.set_ylabel("share of reviews finished")
    ax.set_title("The forecast beside the outside view: how fast sister review mechanisms went", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right", ncol=2, framealpha=0.9)  # the sister mechanisms' points are top left
    fig.text(0.01, -0.02, "Not like for like: " + " ".join(reference.differences), fontsize=6.5, wrap=True, va="top")
    return fig


def prior_check_chart(table: pd.DataFrame, bounds: dict) -> Figure:
    """What the priors imply: each quantity's distribution across prior draws (log scale where it
    spans orders of magnitude), its plausible range shaded, and the share of draws outside it."""
    fig = Figure(figsize=(10.0, 3.2), layout="constrained")
    axes = fig.subplots(1, len(bounds))
    for ax, (name, bound) in zip(np.atleast_1d(axes), bounds.items()):
        values = table[name].to_numpy(float)
        log = name == "slowest_party_factor"
        shown = np.log10(np.clip(values, 1.0, 1e12)) if log else values
        ax.hist(shown, bins=30, color="#0072B2", alpha=0.8)
        low, high = (np.log10(max(bound.low, 1.0)), np.log10(bound.high)) if log else (bound.low, bound.high)
        ax.axvspan(low, high, color="#009E73", alpha=0.15, label="plausible")
        outside = 1.0 - table[f"{name}_plausible"].mean()
        ax.set_title(f"{outside:.0%} of {len(table)} prior draws outside", fontsize=8)
        ax.set_xlabel(("log10 of " if log else "") + bound.words, fontsize=7, wrap=True)
        ax.tick_params(labelsize=7)
    np.atleast_1d(axes)[0].set_ylabel("prior draws", fontsize=8)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    return fig
