"""The model described from its own definitions: the stages, the parameters, STRESS-DES.

The documentation, the delegation report and ``workbench parameters`` show these tables;
they are built here from :data:`~workbench.simulation.stages.STAGE_RULES`,
:class:`~workbench.inputs.parameters.Parameters` and the random streams, so a change to the
model changes its description and nothing can go stale.
"""

from __future__ import annotations

import math

from workbench.inputs.levers import LEVER_TYPES
from workbench.inputs.parameters import Parameters
from workbench.simulation.stages import (
    EACH_REVIEWER,
    EXPONENTIAL,
    JOINT_DRAFTS,
    REVIEWER_1,
    REVIEWER_2,
    RULE_OF,
    SLOWEST,
    STAGE_TEXT,
    STAGES,
    UNDER_REVIEW,
    UNDER_REVIEW_PARTY,
    Stage,
)
from workbench.simulation.streams import PARTY_COMPONENTS, REVIEW_COMPONENTS

_PACE = {UNDER_REVIEW: "the party under review", SLOWEST: "the slowest of the three parties", EACH_REVIEWER: "each reviewing State"}
_POSITION = {UNDER_REVIEW_PARTY: "the party under review", REVIEWER_1: "reviewer 1", REVIEWER_2: "reviewer 2"}


def stage_name(stage: Stage) -> str:
    return stage.name.replace("_", " ").lower()


def _working_time(stage: Stage) -> str:
    rule = RULE_OF.get(stage)
    if rule is None:
        return "until all three focal points exist" if stage == Stage.NOMINATIONS else "none (the end)"
    if rule.draw == EXPONENTIAL:
        text = f"exponential, mean `{rule.time}`"
    elif rule.draw == JOINT_DRAFTS and rule.merge is not None:
        text = f"each draft lognormal, median `{rule.time}`, spread `{rule.sigma}`; the slower draft, then merging (`{rule.merge[0]}`)"
    else:
        text = f"lognormal, median `{rule.time}`, spread `{rule.sigma}`"
    text += f"; paced by {_PACE[rule.pace]}"
    if rule.languages:
        text += "; longer for each working language beyond the first (`extra_language_delay`)"
    return text


def stage_table() -> list[dict[str, str]]:
    """One row per stage, in order: what it is, how long its work takes, what scales it, what it needs."""
    rows = []
    for stage in STAGES:
        rule = RULE_OF.get(stage)
        levers = ", ".join(f"`{lever}.{effect}`" for lever, effect in rule.levers) if rule else ""
        if rule and rule.merge:
            levers += f", `{rule.merge[1][0]}.{rule.merge[1][1]}` (merging)"
        if stage == Stage.NOMINATIONS:
            levers = "`nomination_follow_up`, `redraw`, `handover_protocol`"
        needs = []
        if rule:
            needs += [f"experts of {_POSITION[position]}" for position in rule.experts]
            if rule.secretariat:
                needs.append(f"an officer afterwards (`{rule.secretariat}`)")
            if rule.deadline:
                needs.append(f"deadline on entry (`{rule.deadline}`)")
            if rule.agrees_languages:
                needs.append("agrees the working languages")
        rows.append(
            {
                "stage": stage_name(stage),
                "what": STAGE_TEXT[stage],
                "working time": _working_time(stage),
                "levers": levers,
                "needs and sets": "; ".join(needs),
            }
        )
    return rows


def parameter_table() -> list[dict[str, str]]:
    """One row per parameter: default, unit, allowed range and the reasoning with its paragraphs."""
    rows = []
    for name, spec in Parameters.describe().items():
        default = spec["default"]
        shown = f"{default:.4g}" if isinstance(default, float) else str(default)
        high = "∞" if math.isinf(spec["high"]) else f"{spec['high']:g}"
        rows.append({"parameter": name, "default": shown, "unit": spec["unit"], "range": f"{spec['low']:g} to {high}", "why": spec["why"]})
    return rows


def lever_table() -> list[dict[str, str]]:
    """One row per lever: its effect fields and their allowed ranges."""
    rows = []
    for name, (cls, effects) in LEVER_TYPES.items():
        fields = "; ".join(f"`{field}` {low:g} to {high:g} {unit}" for field, (low, high, unit) in effects.items())
        rows.append({"lever": name, "what": (cls.__doc__ or "").split("\n")[0], "effects": fields})
    return rows


def stress_des() -> list[tuple[str, str]]:
    """The STRESS-DES outline (Monks et al., 2019) of the model, item by item."""
    stages = "; ".join(f"{stage_name(s)}: {STAGE_TEXT[s]}" for s in STAGES)
    lognormal = sorted({RULE_OF[s].time for s in RULE_OF if RULE_OF[s].draw != EXPONENTIAL})
    exponential = sorted(
        {RULE_OF[s].time for s in RULE_OF if RULE_OF[s].draw == EXPONENTIAL}
        | {secretariat for s in RULE_OF if (secretariat := RULE_OF[s].secretariat)}
    )
    return [
        ("Objective", "The date on which 44 of group 1's 62 reviews are completed (70 % condition, ¶25), and stage occupancy over time."),
        (
            "Entities",
            "189 parties (¶5); 189 country reviews in three groups of 62, 63 and 64 (¶7, ¶22), each with a party under review "
            "and two reviewing States; the Secretariat's officers (¶42-43).",
        ),
        (
            "Logic",
            f"Stages in order: {stages} Work advances only while all three focal points are in place; a replaced focal "
            "point stalls every review of its party for a handover (¶14). A party under review asks for a reviewing State "
            "without a focal point to be redrawn after `redraw_patience_months`, at most four times (¶6-7).",
        ),
        (
            "Inputs",
            "Every dated figure (calibration/observations, with its source); eight model structures and their parameters fitted "
            "by ABC-SMC with model selection (calibration/posterior); pairings drawn to match ¶7's counts, or the real list as a CSV.",
        ),
        (
            "Distributions",
            "Exponential: nomination (hazard `nomination_rate` × responsiveness), experts (`expert_lag_months`), "
            f"replacements (`replacement_rate`), handovers (`handover_months`), {', '.join(f'`{x}`' for x in exponential)}. "
            f"Lognormal: {', '.join(f'`{x}`' for x in lognormal)}. Gamma (mean 1, shape `responsiveness_shape`): each party's "
            "responsiveness, which also scales its stage work (`responsiveness_coupling`, 0 in the independent structures). A share "
            "`silent_share` of parties never nominates without intervention (0 in the tail structures). A late SAQ ends in the ten "
            "days after its deadline with probability `saq_deadline_pull` (0 in the smooth structures).",
        ),
        (
            "Initialisation",
            "The state the report describes on 21 May 2024, every count reproduced, the unnamed details drawn in each "
            "replication; or every review at its group's start (1 December 2020) for calibration. No warm-up.",
        ),
        ("Run length", "To the horizon (default 2060-12-31) or until every review is completed."),
        ("Replications", "As stated with each figure (500 by default); the standard error of a probability from n runs is at most 0.5/√n."),
        (
            "Random numbers",
            f"One seed; per replication a stream for each component and entity (party: {', '.join(PARTY_COMPONENTS)}; "
            f"review: {', '.join(REVIEW_COMPONENTS)}), counter-based, shared by every scenario (common random numbers).",
        ),
        (
            "Software",
            "Python 3.11; SimPy 4 (the reference engine) and Numba (the compiled engine, which follows it event by event); "
            "NumPy, SciPy, pandas, pyabc, matplotlib.",
        ),
    ]


def markdown_table(rows: list[dict[str, str]]) -> str:
    """Rows of equal keys as a Markdown table (pipes in cells escaped)."""
    if not rows:
        return ""
    columns = list(rows[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(row[c]).replace("|", "\\|").replace("\n", " ") for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def record_event_table() -> list[dict[str, str]]:
    """The events a review record holds (workbench.inputs.record.EVENTS): one row each, for the reference."""
    from workbench.inputs.record import EVENTS, REVIEW_STAGE_EVENTS
    from workbench.simulation.record_start import STAGE_BEGUN_BY

    rows = []
    for name, kind in EVENTS.items():
        needs = REVIEW_STAGE_EVENTS[REVIEW_STAGE_EVENTS.index(name) - 1] if name in REVIEW_STAGE_EVENTS[1:] else ""
        if name == "consultation_held":
            needs = "all three focal points; after the review's last redraw"
        rows.append(
            {
                "event": f"`{name}`",
                "about": kind.about,
                "meaning": kind.meaning,
                "detail column": kind.detail or "empty",
                "needs": f"`{needs}`" if needs and " " not in needs else needs,
                "stage it begins": STAGE_BEGUN_BY[name].name.lower() if name in STAGE_BEGUN_BY else "",
                "paragraphs": kind.paragraphs,
            }
        )
    return rows
