"""The stages of a country review as one declarative table that both engines read.

A review moves through the stages in the order of :class:`Stage`.  The nominations stage
(waiting for three focal points, with redraws) has its own process; every later stage is
described here by a :class:`StageRule`: whose work it is, how its duration is drawn, which
parameters and lever effects scale it, what must exist before it starts, whether the
Secretariat takes part, and which deadline is agreed on entry.  The SimPy processes of
:mod:`workbench.simulation.model` and the compiled loop of :mod:`workbench.simulation.engine`
both follow this table through :mod:`workbench.simulation.rules`, so a stage is described
once.  Adding a stage means a :class:`Stage` member, a row here, and its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Stage(IntEnum):
    """Where a country review stands. Entry times are recorded for each."""

    NOMINATIONS = 0  # waiting for the three focal points (¶11, ¶15, ¶26)
    CONSULTATION = 1  # formally ready; preliminary consultation not yet held (¶26, ¶29)
    SAQ = 2  # self-assessment questionnaire in preparation (¶30-32)
    WRITTEN_FEEDBACK = 3  # the two reviewers' joint feedback (¶34-36)
    LISTS = 4  # lists of observations (¶37-39)
    SUMMARIES = 5  # summaries of the lists (¶39)
    COMPLETED = 6  # lists and summaries finalized (¶24, ¶38)


STAGES = list(Stage)
N_STAGES = len(STAGES)

#: What each stage is, in the report's words, with its paragraphs: for documentation and reports.
STAGE_TEXT: dict[Stage, str] = {
    Stage.NOMINATIONS: "Waiting for the three focal points: no review can begin before all three exist (¶11, ¶15, ¶26).",
    Stage.CONSULTATION: "Formally ready; the preliminary consultation, organized with the Secretariat, agrees a timeline "
    "and the working languages (¶26-29).",
    Stage.SAQ: "The party under review prepares its self-assessment questionnaire, due six months after the consultation (¶30-32).",
    Stage.WRITTEN_FEEDBACK: "The two reviewing States draft their written feedback jointly, due six months after the SAQ (¶34-36).",
    Stage.LISTS: "The three parties agree the lists of observations, with the Secretariat's help (¶37-39).",
    Stage.SUMMARIES: "The summaries of the lists of observations; lists and summaries take six months together (¶39).",
    Stage.COMPLETED: "Lists and summaries finalized: the review counts towards the 70 % condition (¶24-25, ¶38).",
}

# How a stage's working time is drawn.
EXPONENTIAL = 0  # memoryless, by its mean (waiting for a date to be agreed)
LOGNORMAL = 1  # by its median and log-scale spread; work under way is conditioned on its age
JOINT_DRAFTS = 2  # each reviewing State drafts a part (lognormal), the slower sets the pace, then merging

# Whose responsiveness sets the pace of the work.
UNDER_REVIEW = 0  # the party under review alone
SLOWEST = 1  # the slowest of the three parties (consensus)
EACH_REVIEWER = 2  # each reviewing State its own part (joint drafts)

# The parties of a review, by position.
UNDER_REVIEW_PARTY, REVIEWER_1, REVIEWER_2 = 0, 1, 2


@dataclass(frozen=True)
class StageRule:
    """How one stage is worked through, in the report's terms."""

    stage: Stage
    paragraphs: str  # where the report describes it
    stream: str  # the review's random stream for its working time
    draw: int  # EXPONENTIAL, LOGNORMAL or JOINT_DRAFTS
    time: str  # parameter: mean (exponential) or median (lognormal) working time, months
    sigma: str | None  # parameter: log-scale spread (lognormal draws)
    pace: int  # UNDER_REVIEW, SLOWEST or EACH_REVIEWER
    languages: bool  # each working language beyond the first adds time (¶27-28)
    levers: tuple[tuple[str, str], ...]  # lever effects (lever, field) that scale the working time
    merge: tuple[str, tuple[str, str]] | None = None  # joint drafts: merging time parameter and its lever effect
    experts: tuple[int, ...] = ()  # parties whose governmental experts must be named before work starts
    secretariat: str | None = None  # parameter: mean officer time after the work (organizing, facilitating)
    agrees_languages: bool = False  # the working languages are agreed when the stage ends
    deadline: str | None = None  # parameter: months to the deadline agreed on entering the stage
    lateness_observed: bool = False  # the report counts how late the stage ended (¶31)
    deadline_pull: str | None = None  # parameter: chance that work otherwise late ends just after the deadline


#: Every stage after nominations, in order; the last leads to COMPLETED.
STAGE_RULES: tuple[StageRule, ...] = (
    StageRule(
        Stage.CONSULTATION,
        "¶26-29, ¶42-43",
        "consultation",
        EXPONENTIAL,
        "consultation_scheduling_months",
        None,
        SLOWEST,
        languages=False,
        levers=(("scheduling_support", "duration_factor"),),
        secretariat="consultation_preparation_months",
        agrees_languages=True,
    ),
    StageRule(
        Stage.SAQ,
        "¶30-32",
        "saq",
        LOGNORMAL,
        "saq_median_months",
        "saq_sigma",
        UNDER_REVIEW,
        languages=True,
        levers=(("training", "saq_factor"),),
        experts=(UNDER_REVIEW_PARTY,),
        deadline="saq_deadline_months",
        lateness_observed=True,
        deadline_pull="saq_deadline_pull",
    ),
    StageRule(
        Stage.WRITTEN_FEEDBACK,
        "¶34-36",
        "feedback",
        JOINT_DRAFTS,
        "feedback_part_median_months",
        "feedback_sigma",
        EACH_REVIEWER,
        languages=True,
        levers=(("training", "feedback_factor"), ("task_split", "drafting_factor")),
        merge=("feedback_coordination_months", ("task_split", "coordination_factor")),
        experts=(REVIEWER_1, REVIEWER_2),
        deadline="feedback_deadline_months",
    ),
    StageRule(
        Stage.LISTS,
        "¶37-39",
        "lists",
        LOGNORMAL,
        "lists_median_months",
        "lists_sigma",
        SLOWEST,
        languages=True,
        levers=(("consensus_facilitation", "duration_factor"),),
        secretariat="lists_facilitation_months",
        deadline="lists_deadline_months",
    ),
    StageRule(
        Stage.SUMMARIES,
        "¶39",
        "summaries",
        LOGNORMAL,
        "summaries_median_months",
        "summaries_sigma",
        SLOWEST,
        languages=True,
        levers=(("consensus_facilitation", "duration_factor"),),
    ),
)

RULE_OF: dict[Stage, StageRule] = {rule.stage: rule for rule in STAGE_RULES}
