"""The two-page brief for delegations: when, why, what helps most, what it would take; an annex.

Every number comes from ``docs/findings.json`` (computed by ``make findings``), the one source
the README and the findings page also read, and from the report's own figures in the
observations file; nothing is typed here.  The texts are translated through gettext
(:mod:`workbench.faces.i18n`), dates and numbers written the reader's way.  Two A4 pages, each
numbered, with print CSS; colours are safe for colour-blind readers (Okabe and Ito).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import io

from workbench.core.timeline import CONFERENCE_SESSIONS, HEADLINE_SESSION
from workbench.faces.findings import by_assumption, published
from workbench.faces.i18n import Language, language
from workbench.faces.labels import narrowest_figure_sentence
from workbench.inputs.observations import Snapshot, latest_snapshot

#: Okabe-Ito: today's practice, the strongest scenario.
COLOURS = ("#0072B2", "#E69F00")

CSS = """
@page { size: A4; margin: 14mm 16mm 14mm 16mm; }
body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 10pt; line-height: 1.35; color: #111; max-width: 178mm; margin: 0 auto; }
.page { page-break-after: always; break-after: page; position: relative; min-height: 250mm; padding-bottom: 8mm; box-sizing: border-box; }
.page:last-child { page-break-after: auto; break-after: auto; }
.folio { position: absolute; bottom: 0; width: 100%; text-align: center; font-size: 8pt; color: #555; }
h1 { font-size: 16pt; margin: 0 0 2mm 0; } h2 { font-size: 11.5pt; margin: 4mm 0 1.5mm 0; color: #0b3d6e; }
.meta { font-size: 8pt; color: #444; margin: 0 0 3mm 0; } .lead { font-size: 10.5pt; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; } th, td { border-bottom: 1px solid #ccc; padding: 1mm 1.5mm; text-align: start; }
td.n, th.n { text-align: end; font-variant-numeric: tabular-nums; }
ul { margin: 1mm 0; padding-inline-start: 5mm; } li { margin: 0.6mm 0; }
figure { margin: 2mm 0; } figure img { width: 100%; } figcaption { font-size: 8pt; color: #444; }
.key { font-weight: bold; }
@media print { body { max-width: none; } a { color: inherit; text-decoration: none; } }
"""


def _date(lang: Language, iso: str | None, horizon: str) -> str:
    _ = lang.gettext
    return _("not by {year}").format(year=horizon[:4]) if iso is None else lang.month(dt.date.fromisoformat(iso))


def _spread(lang: Language, h: dict) -> str:
    """The median and the central 80 % of futures, said right when the upper end is past the horizon."""
    _ = lang.gettext
    horizon = h["horizon"]
    median, (low, high) = _date(lang, h["median"], horizon), h["interval_80"]
    if high is None:
        return _("Median date: {median}; in 9 of 10 simulated futures after {low}, and in {share} not by {year}.").format(
            median=median, low=_date(lang, low, horizon), share=lang.percent(h["p_not_by_horizon"]), year=horizon[:4]
        )
    return _("Median date: {median}; in 8 of 10 simulated futures between {low} and {high}.").format(
        median=median, low=_date(lang, low, horizon), high=_date(lang, high, horizon)
    )


@functools.cache
def _shipped_scenario_names() -> dict[str, dict[str, str]]:
    """Each shipped scenario's own name, and its names in other languages (``[scenario] names``)."""
    from workbench.core.timeline import EPOCH
    from workbench.inputs.scenarios import SCENARIO_DIR, load_scenario

    out = {}
    for path in sorted(SCENARIO_DIR.glob("*.toml")):
        # Read for their names only: as made on the Mechanism's first day, so that a start now past
        # (the brief is made later than the findings) does not stop the brief from naming it.
        scenario = load_scenario(path, made_on=EPOCH)
        out[scenario.name] = dict(scenario.names)
    return out


def _scenario_name(name: str, lang: Language) -> str:
    """A scenario's name as its file gives it in the reader's language (the findings hold the English one)."""
    return _shipped_scenario_names().get(name, {}).get(lang.code, name)


def _chart(f: dict, lang: Language) -> tuple[str, str]:
    """The share of simulated futures meeting the condition by each year (PNG as data URI), and its alt text."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    _ = lang.gettext
    fig = Figure(figsize=(7.0, 2.7), layout="constrained")
    ax = fig.add_subplot()
    labels = []
    for (name, curve), colour in zip(f["met_by_year"].items(), COLOURS):
        years = [int(y) for y in curve]
        label = _("today's practice") if name == "baseline" else _scenario_name(name, lang)
        ax.step(years, [100 * v for v in curve.values()], where="post", color=colour, lw=2, label=label)
        labels.append(f"{label}: {lang.percent(list(curve.values())[-1])}")
    for year in CONFERENCE_SESSIONS:  # October: three quarters into the year
        ax.axvline(year + 0.75, color="#555555", ls=":", lw=1)
        ax.text(
            year + 0.75, 2, " " + _("{year} session").format(year=year), rotation=90, va="bottom", ha="right", fontsize=7, color="#555555"
        )
    ax.set_ylim(0, 100)
    ax.yaxis.set_major_formatter(PercentFormatter())
    ax.set_xlabel(_("year"))
    ax.set_ylabel(_("futures meeting the condition"), fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=2, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=130)
    alt = _("Share of simulated futures in which 70 % of group 1's reviews are completed, by year; by {year}: {values}.").format(
        year=f["headline"]["horizon"][:4], values="; ".join(labels)
    )
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(), alt


def render_brief(f: dict, code: str = "en", lang: Language | None = None) -> str:
    """The brief as one self-contained HTML document, from the findings ``f``."""
    lang = lang or language(code)
    _ = lang.gettext
    snapshot = latest_snapshot()
    title = _("When can the next cluster of articles start?")
    return "\n".join(
        [
            f"<!DOCTYPE html><html lang='{lang.code}' dir='{lang.direction}'><head><meta charset='utf-8'>",
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
            *_page_1(f, lang, snapshot, title),
            *_page_2(f, lang),
            "</body></html>",
        ]
    )


# Texts are looked up outside f-strings: Babel's extractor does not see calls inside them.
def _headings(lang: Language) -> dict[str, str]:
    _ = lang.gettext
    return {
        "when": _("When"),
        "why": _("Why it is far off"),
        "helps": _("What helps most"),
        "take": _("What it would take"),
        "annex": _("Annex: method, calibration and trust"),
    }


def _when(f: dict, lang: Language) -> list[str]:
    """The chance of meeting the condition before each session and by the horizon, and the chart;
    only why not, where the findings may not be published (they failed their checks)."""
    _, esc = lang.gettext, html.escape
    if not published(f):
        return [
            "<p class='lead'>"
            + esc(
                _(
                    "No forecast is published: the model did not pass the checks a forecast must pass before it is shown (see the annex, Trust)."
                )
            )
            + "</p>"
        ]
    h, n = f["headline"], f["replications"]
    horizon = h["horizon"]
    chart, alt = _chart(f, lang)
    before_session = _("before the {year} Conference session (1 October {year})")
    met_heading, chance_heading = _("The condition is met"), _("chance")
    by_end = _("by the end of {year}").format(year=horizon[:4])
    sessions = "".join(
        f"<tr><td>{esc(before_session.format(year=y))}</td><td class='n'>{esc(lang.chance(h['p_before_session'][y], n))}</td></tr>"
        for y in h["p_before_session"]
    )
    when = [
        f"<table><tr><th>{esc(met_heading)}</th><th class='n'>{esc(chance_heading)}</th></tr>{sessions}"
        f"<tr><td>{esc(by_end)}</td><td class='n'>{esc(lang.chance(1 - h['p_not_by_horizon'], n))}</td></tr></table>",
        "<p>" + esc(_spread(lang, h)) + "</p>",
        f"<figure><img alt='{esc(alt)}' src='{chart}'><figcaption>{esc(alt)}</figcaption></figure>",
    ]

    return when


def _why(f: dict, lang: Language, snapshot: Snapshot) -> list[str]:
    """What holds the condition back: the report's figures, the drivers, the structures' spread."""
    _, esc = lang.gettext, html.escape
    figures = {name: fig.value for (name, group), fig in snapshot.figures.items() if group is None}
    drivers = f["drivers"]["p_not_by_horizon"]
    why = [
        "<ul>",
        "<li>"
        + esc(
            _(
                "{parties} parties had not nominated a focal point, holding up {reviews} reviews (¶15); {waiting} reviews were ready but had no preliminary consultation (¶29); no list of observations was finalized (¶38)."
            ).format(
                parties=lang.number(figures["parties_without_focal_point"]),
                reviews=lang.number(figures["reviews_held_up_by_nominations"]),
                waiting=lang.number(figures["reviews_ready_no_consultation"]),
            )
        )
        + "</li>",
        "<li>"
        + esc(_("What the answer depends on most:"))
        + " "
        + esc("; ".join(f"{_(d['words'])} ({lang.percent(d['S1'])})" for d in drivers))
        + ".</li>",
        _assumptions_item(f, lang) if len(f["structures"]) > 1 else "",
        "</ul>",
    ]

    return why


def _measure_item(f: dict, lang: Language) -> str:
    """Which figure, published today, would narrow the forecast most (the findings' what-to-measure)."""
    m = f.get("what_to_measure")
    if not m:
        return ""
    best = m["ranking"][0]
    return "<p>" + html.escape(narrowest_figure_sentence(lang, best["words"], best["S1"])) + "</p>"


def _assumptions_item(f: dict, lang: Language) -> str:
    """The chance of not meeting the condition under each reading of what the report leaves open,
    side by side (the findings' structures, weighed by the evidence), and what would settle it."""
    _ = lang.gettext
    chance = {
        (row["question"], a["answer"]): lang.percent(a["p_not_by_horizon"])
        for row in by_assumption(f)
        for a in row["answers"]
        if a["p_not_by_horizon"] is not None
    }
    needed = [("pace", "coupled"), ("pace", "independent"), ("nominations", "silent"), ("nominations", "tail")]
    if not all(key in chance for key in needed):
        return ""
    text = _(
        "The report leaves open how parties behave, and the answer turns on it: if parties slow to nominate are slow at every stage, the chance of not meeting the condition by {year} is {coupled}, if not {independent}; if some parties never nominate, {silent}, if all do in the end {tail}. The Secretariat's review-by-review record would settle the first."
    )
    return (
        "<li>"
        + html.escape(text.format(year=f["headline"]["horizon"][:4], **{answer: chance[(q, answer)] for q, answer in needed}))
        + "</li>"
    )


def _helps(f: dict, lang: Language) -> list[str]:
    """The shipped scenarios that do most, beside today's practice."""
    _, esc = lang.gettext, html.escape
    h = f["headline"]
    horizon = h["horizon"]
    today_label = _("today's practice")
    top = sorted(f["scenarios"], key=lambda r: -r["p_by_horizon"])[:5]
    option, met_by, earlier = _("option (scenario file)"), _("met by {year}").format(year=horizon[:4]), _("years earlier (median)")
    helps = [
        f"<table><tr><th>{esc(option)}</th><th class='n'>{esc(met_by)}</th><th class='n'>{esc(earlier)}</th></tr>",
        f"<tr><td>{esc(today_label)}</td><td class='n'>{esc(lang.percent(1 - h['p_not_by_horizon']))}</td><td class='n'>–</td></tr>",
        *[
            f"<tr><td>{esc(_scenario_name(r['scenario'], lang))}</td><td class='n'>{esc(lang.percent(r['p_by_horizon']))}</td>"
            f"<td class='n'>{esc(lang.number(r['months_gained_median'] / 12, 1))}</td></tr>"
            for r in top
        ],
        "</table>",
        "<p class='meta'>"
        + esc(
            _(
                "Each option runs on the same simulated futures as today's practice, so the differences are its effect. Futures not meeting the condition by {year} count there."
            ).format(year=horizon[:4])
        )
        + "</p>",
    ]

    return helps


def _take(f: dict, lang: Language) -> list[str]:
    """What the Conference's decision and the levers alone would take."""
    _, esc = lang.gettext, html.escape
    take = []
    decision = f.get("decision")
    if decision:
        session = str(HEADLINE_SESSION)
        today = decision[session].get("today's practice")
        share = (
            _("no share at all")
            if today is None or today["share"] is None
            else _("{share} ({reviews} of {total} reviews)").format(
                share=lang.percent(today["share"]),
                reviews=lang.number(today["reviews"]),
                total=lang.number(f["condition"]["group1_reviews"]),
            )
        )
        take.append(
            "<li>"
            + esc(
                _(
                    "The Conference's decision: for even odds before the {session} session, the condition would have to come down from {today} to {share} of group 1's reviews."
                ).format(session=session, today=lang.percent(f["condition"]["share"]), share=share)
            )
            + "</li>"
        )
    planned = f.get("plan")
    if planned:
        v = planned["verify_replications"]
        frontier = planned["frontier"]
        best = max(frontier, key=lambda r: (r["probability_verified"], r["effort"])) if frontier else None
        if planned["chosen"]:
            row = next(r for r in frontier if r["name"] == planned["chosen"])
            text = _("Levers alone: the cheapest package found that reaches even odds before the {session} session: {package}.").format(
                session=HEADLINE_SESSION, package=row["package"]
            )
        else:
            text = _(
                "Levers alone do not reach even odds before the {session} session: of {k} packages of the nine levers, the best reaches {p} (checked on {n} fresh simulated futures) and moves the mean date from {before} to {after}."
            ).format(
                session=HEADLINE_SESSION,
                k=lang.number(planned["distinct_candidates"]),
                p=lang.chance(planned["best_probability"], v),
                n=lang.number(v),
                before=lang.month(dt.date.fromisoformat(frontier[0]["mean_date_verified"])) if frontier else "—",
                after=lang.month(dt.date.fromisoformat(best["mean_date_verified"])) if best else "—",
            )
        take.append("<li>" + esc(text) + "</li>")

    return take


def _page_1(f: dict, lang: Language, snapshot: Snapshot, title: str) -> list[str]:
    _, esc = lang.gettext, html.escape
    heading, n = _headings(lang), f["replications"]
    return [
        "<section class='page'>",
        f"<h1>{esc(title)}</h1>",
        "<p class='meta'>"
        + esc(
            _(
                "Review Mechanism of the United Nations Convention against Transnational Organized Crime. Forecast made on {made_on} from data as at {date} (report of the Secretariat; ¶ are its paragraphs). Model version {version}; {n} simulated futures."
            ).format(
                made_on=lang.date(dt.date.fromisoformat(f["made_on"])),
                date=lang.date(snapshot.as_at),
                version=f["version"],
                n=lang.number(n),
            )
        )
        + "</p>",
        "<p class='lead'>"
        + esc(
            _(
                "The next cluster may start once {share} of group 1's {total} country reviews ({needed}) are completed (¶25). On {date} none was (¶24)."
            ).format(
                share=lang.percent(f["condition"]["share"]),
                total=lang.number(f["condition"]["group1_reviews"]),
                needed=lang.number(f["condition"]["reviews_needed"]),
                date=lang.date(snapshot.as_at),
            )
            + " "
            + _nowcast_sentence(f, lang)
        )
        + "</p>",
        f"<h2>{esc(heading['when'])}</h2>",
        *_when(f, lang),
        f"<h2>{esc(heading['why'])}</h2>",
        *_why(f, lang, snapshot),
        "<div class='folio'>1 / 2</div></section>",
    ]


def _nowcast_sentence(f: dict, lang: Language) -> str:
    """What the model believes has happened since the data end (the findings' nowcast of group 1)."""
    stages = {row["stage"]: row for row in f["nowcast"]["stages"]}
    done, held = stages["completed"], stages["held_up_by_nominations"]
    _ = lang.gettext
    return _(
        "No status figure has been published since; the model's account of today ({day}): {completed} completed (80 % range {low} to {high}), {held} still held up by nominations ({held_low} to {held_high})."
    ).format(
        day=lang.date(dt.date.fromisoformat(f["nowcast"]["as_at"])),
        completed=lang.number(done["median"]),
        low=lang.number(done["low"]),
        high=lang.number(done["high"]),
        held=lang.number(held["median"]),
        held_low=lang.number(held["low"]),
        held_high=lang.number(held["high"]),
    )


def _page_2(f: dict, lang: Language) -> list[str]:
    _, esc = lang.gettext, html.escape
    heading = _headings(lang)
    cal = f["calibration"]
    return [
        "<section class='page'>",
        f"<h2>{esc(heading['helps'])}</h2>",
        *_helps(f, lang),
        f"<h2>{esc(heading['take'])}</h2>",
        "<ul>" + "".join(_take(f, lang)) + "</ul>",
        f"<h2>{esc(heading['annex'])}</h2>",
        "<p>"
        + esc(
            _(
                "Each simulated future follows every party and country review through the stages of the procedures and rules: nomination of focal points, preliminary consultation, self-assessment, written feedback, list of observations, summary (¶11-39), with the Secretariat's officers as a shared resource. The full description follows the STRESS-DES guidelines (docs/explanation/stress-des.md)."
            )
        )
        + "</p>",
        "<p>"
        + esc(
            _(
                "Calibration: the model was fitted to every dated figure of the report and of public updates by approximate Bayesian computation ({generations} generations, {simulations} simulations); each future draws its parameters from the fit, so the ranges above carry what the figures leave uncertain."
            ).format(generations=lang.number(cal["generations"] or 0), simulations=lang.number(cal["simulations"] or 0))
        )
        + "</p>",
        "<p>" + esc(_trust_sentence(f, lang)) + "</p>",
        "<p>"
        + esc(
            _(
                "Not known: who the silent parties are and whether they will ever nominate; how long lists of observations and summaries take, as none had finished (¶38); the cost of each lever (the effort figures are assumptions)."
            )
        )
        + "</p>",
        _measure_item(f, lang),
        "<p class='meta'>"
        + esc(
            _(
                "Computed by the review-pipeline workbench (`make findings`, then `workbench brief`); every number here comes from docs/findings.json, generated {created}."
            ).format(created=f["created"][:10])
        )
        + "</p>",
        "<div class='folio'>2 / 2</div></section>",
    ]


def _trust_sentence(f: dict, lang: Language) -> str:
    """How the model scored against the figures it was fitted to and, fitted to the earlier reports
    only, against the later ones (the findings' publication checks)."""
    _, hc = lang.gettext, f["hindcast"]
    text = _(
        "Trust: scored against the {figures} figures it expresses, {c50}, {c80} and {c95} fall inside the model's central 50, 80 and 95 % ranges."
    ).format(
        figures=lang.number(hc["figures"]),
        c50=lang.percent(hc["covered_50"]),
        c80=lang.percent(hc["covered_80"]),
        c95=lang.percent(hc["covered_95"]),
    )
    later = next((c for c in f.get("publication", {}).get("checks", []) if c["name"] == "out_of_sample"), None)
    if later is None or later["measured"] is None:
        return text + " " + _("It has not been scored on figures it was not fitted to, so no forecast is published.")
    held = _(
        "Fitted to the earlier reports only, it held {share} of {n} later figures inside its 80 % range (a sound forecast: at least {floor})."
    )
    return (
        text + " " + held.format(share=lang.percent(later["measured"]), n=lang.number(later["figures"]), floor=lang.percent(later["bound"]))
    )


def headline_markdown(summary: dict, lang: Language | None = None) -> str:
    """The headline of a forecast in a few sentences of Markdown (the briefing notebook's narrative)."""
    lang = lang or language("en")
    _ = lang.gettext
    n, horizon = summary["replications"], summary["horizon"]
    sessions = ", ".join(_("{year}: {chance}").format(year=y, chance=lang.chance(p, n)) for y, p in summary["p_before_session"].items())
    h = {
        "horizon": horizon,
        "median": None if summary["median"] is None else summary["median"].strftime("%Y-%m-%d"),
        "interval_80": [None if d is None else d.strftime("%Y-%m-%d") for d in summary["intervals"]["80%"]],
        "p_not_by_horizon": summary["p_not_within_horizon"],
    }
    return "\n\n".join(
        [
            _spread(lang, h),
            _("Chance of meeting the condition before each Conference session (1 October): {sessions}.").format(sessions=sessions),
            _("Met by the end of {year} in {share} of {n} simulated futures.").format(
                year=horizon[:4], share=lang.percent(1 - summary["p_not_within_horizon"]), n=lang.number(n)
            ),
        ]
    )


def options_markdown(table, lang: Language | None = None) -> str:
    """The paired comparison as a Markdown list, most years gained first."""
    lang = lang or language("en")
    _ = lang.gettext
    lines = []
    for _i, r in table.iterrows():
        lines.append(
            "- **"
            + r["scenario"]
            + "**: "
            + _(
                "{years} years earlier at the median (8 futures in 10: {low} to {high}); met by the horizon in {more} more of the futures."
            ).format(
                years=lang.number(r["months_gained_median"] / 12, 1),
                low=lang.number(r["months_gained_p10"] / 12, 1),
                high=lang.number(r["months_gained_p90"] / 12, 1),
                more=lang.percent(r["p_within_horizon_change"]),
            )
        )
    return "\n".join(lines)
