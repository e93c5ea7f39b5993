"""What a planner reads for each lever and effect: plain words, units and the report's ¶.

Marked with ``N_`` for translation (:mod:`workbench.faces.i18n`): the faces look each label
up in the reader's language when they show it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.core.translatable import N_

if TYPE_CHECKING:
    from workbench.faces.i18n import Language

#: Each lever, as a planner would name it, with the report's paragraphs.
LEVER_LABELS = {
    "nomination_follow_up": N_("Follow-up on pending nominations (¶15-17)"),
    "handover_protocol": N_("Handover when a focal point changes (¶14)"),
    "redraw": N_("Secretariat redraws silent reviewing States (¶6-7)"),
    "scheduling_support": N_("Secretariat proposes consultation dates (¶26, ¶29)"),
    "training": N_("Training and national workshops (¶44-49)"),
    "task_split": N_("Task split between the two reviewers (¶34-36)"),
    "consensus_facilitation": N_("Facilitation of the lists of observations (¶37-39)"),
    "machine_translation": N_("Machine translation (¶27-28, ¶55)"),
    "secretariat_staffing": N_("Secretariat officers added or lost (¶42-43)"),
}

#: Each effect, with its unit.
EFFECT_LABELS = {
    "rate_multiplier": N_("nominations × (times faster)"),
    "silent_rate_per_month": N_("silent parties' chance a month"),
    "duration_factor": N_("time × (1 = unchanged)"),
    "after_months": N_("after (months without a focal point)"),
    "delay_months": N_("redraw within (months)"),
    "saq_factor": N_("self-assessment time ×"),
    "feedback_factor": N_("written feedback time ×"),
    "drafting_factor": N_("drafting time ×"),
    "coordination_factor": N_("merging time ×"),
    "extra_language_factor": N_("extra time per language ×"),
    "officers_change": N_("officers (+ added, − lost)"),
}

#: Whom a lever reaches.
TARGET_LABELS = {"all": N_("all reviews"), "group 1": N_("group 1"), "group 2": N_("group 2"), "group 3": N_("group 3")}

#: Each stage of the monthly tables (the columns of observe.STAGE_COLUMNS), as charts name it.
STAGE_COLUMN_LABELS = {
    "held_up_by_nominations": N_("held up by nominations"),
    "ready_no_consultation": N_("ready, no consultation"),
    "saq_in_preparation": N_("self-assessment"),
    "written_feedback": N_("written feedback"),
    "lists_of_observations": N_("lists of observations"),
    "summaries": N_("summaries"),
    "completed": N_("completed"),
}

#: The stage a changed condition counts.
COUNTED_STAGE_LABELS = {
    "completed": N_("completed reviews"),
    "summaries": N_("reviews at the summaries"),
    "lists": N_("reviews at the lists of observations"),
}

#: The questions the report leaves open and their answers (workbench.inference.structures), in a
#: reader's words.
QUESTION_LABELS = {
    "nominations": N_("Do some parties never nominate a focal point?"),
    "pace": N_("Are parties slow to nominate slow at every stage?"),
    "saq": N_("Do self-assessments bunch after their deadline?"),
}
ANSWER_LABELS = {
    "silent": N_("yes"),
    "tail": N_("no, all do in the end"),
    "coupled": N_("yes"),
    "independent": N_("no"),
    "clustered": N_("yes"),
    "smooth": N_("no"),
}

#: The effort file's units (scenarios/planning/effort.toml), in a reader's words; another unit is shown as written.
EFFORT_UNIT_LABELS = {"officer-months": N_("officer-months")}


def narrowest_figure_sentence(lang: Language, figure_words: str, share: float) -> str:
    """What to measure next, in the reader's language: the figure whose publication would narrow the
    forecast most (its words as :data:`workbench.analysis.what_to_measure.FIGURES` gives them) and
    the share of the 70 % date's spread it would remove.  The brief and the explorer both say it."""
    _ = lang.gettext
    text = _("The figure that, published today, would narrow the forecast most: {figure} (about {share} of the spread of the date).")
    return text.format(figure=_(figure_words), share=lang.percent(share))


#: The headline quantities the sensitivity analysis explains, in a reader's words.
DRIVEN_OUTPUT_LABELS = {
    "p_not_by_horizon": N_("the chance of not meeting the condition by {year}"),
    "median_years": N_("the years until the 70 % date"),
}


def drivers_sentence(lang: Language, output: str, drivers: list[tuple[str, float]], horizon_year: int) -> str:
    """What drives a headline quantity most, in the reader's language: each input's words (as
    :data:`workbench.analysis.sensitivity.INPUT_WORDS` gives them) and its first-order share of the spread."""
    _ = lang.gettext
    parts = "; ".join(_("{driver} ({share} of the spread)").format(driver=_(words), share=lang.percent(s1)) for words, s1 in drivers)
    quantity = _(DRIVEN_OUTPUT_LABELS[output]).format(year=horizon_year)
    return _("What most drives {output}: {drivers}.").format(output=quantity, drivers=parts)
