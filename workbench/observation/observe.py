"""The observation operator: a run's state at any date, in exactly the report's categories.

The names are those of the figures in ``calibration/observations/``, so a run observed at
2024-05-21 can be set beside the report line by line (and calibration can fit one to the
other).  Everything is computed from the run's record of stage entries, deadlines,
languages and focal-point events, vectorized over dates.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from numba import njit

from workbench.core.timeline import months, to_day
from workbench.inputs.parties import Pairings
from workbench.simulation.schema import N_STAGES, RunRecord, Stage
from workbench.simulation.snapshot import LISTS_AGE_BUCKETS

#: Review categories, counted per group; each is a function of (stage, record, days).
REVIEW_CATEGORIES = (
    "reviews_not_started",
    "reviews_held_up_by_nominations",
    "reviews_ready_no_consultation",
    "reviews_not_commenced",
    "reviews_saq_in_preparation",
    "reviews_written_feedback_in_progress",
    "reviews_lists_of_observations",
    "reviews_advancing",
    "reviews_completed",
    "consultations_held",
    "consultations_one_language",
    "consultations_two_languages",
    "consultations_three_languages",
    "saq_submitted",
    "saq_on_time",
    "saq_within_10_days",
    "saq_up_to_3_months",
    "saq_3_to_6_months",
    "saq_over_6_months",
    "saq_over_1_year",
    "feedback_concluded",
    "feedback_late",
    "feedback_late_over_1_year",
    *(name for name, _, _ in LISTS_AGE_BUCKETS),
    "lists_past_time_frame",
)

#: Party categories, counted over all parties.
PARTY_CATEGORIES = ("parties_with_focal_point", "parties_without_focal_point", "parties_replaced_focal_point")

#: The stage columns of the monthly table, in pipeline order.
STAGE_COLUMNS = {
    Stage.NOMINATIONS: "held_up_by_nominations",
    Stage.CONSULTATION: "ready_no_consultation",
    Stage.SAQ: "saq_in_preparation",
    Stage.WRITTEN_FEEDBACK: "written_feedback",
    Stage.LISTS: "lists_of_observations",
    Stage.SUMMARIES: "summaries",
    Stage.COMPLETED: "completed",
}


def stage_at(record: RunRecord, days: np.ndarray) -> np.ndarray:
    """Stage of every review at every day: ``(n_reviews, n_days)``, -1 before its group starts.

    A review is in the last stage it has entered by that day (``days`` in increasing order).
    """
    return _stage_at(record.entered, np.asarray(days, dtype=float))


@njit(cache=True)
def _stage_at(entered, days):
    out = np.full((entered.shape[0], days.shape[0]), -1, np.int64)
    for r in range(entered.shape[0]):
        for s in range(entered.shape[1]):  # later stages overwrite earlier ones from their entry on
            t = entered[r, s]
            if not np.isnan(t):
                out[r, np.searchsorted(days, t, side="left") :] = s
    return out


def monthly_counts(record: RunRecord, days: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Reviews by (group, day, stage): how many of each group are in each stage on each day
    (``days`` in increasing order), stage -1 (not started) in column 0.

    The same counts as tallying :func:`stage_at`'s table, without building it: a review's stage
    changes on at most one day per stage, so only those days are counted and the rest follow
    by a running sum (a tenth of the time, and this runs once in every replication).
    """
    return _monthly_counts(record.entered, np.asarray(days, dtype=float), np.asarray(group, dtype=np.int64), n_groups)


@njit(cache=True)
def _monthly_counts(entered, days, group, n_groups):
    n_days, n_stages = days.shape[0], entered.shape[1]
    change = np.zeros((n_groups, n_days, N_STAGES + 1), np.int64)  # reviews arriving (+) and leaving (-) a column each day
    first_day = np.empty(n_stages, np.int64)
    for r in range(entered.shape[0]):
        g = group[r] - 1
        for s in range(n_stages):  # the first of ``days`` on or after the entry; n_days: never
            t = entered[r, s]
            first_day[s] = n_days if np.isnan(t) else np.searchsorted(days, t, side="left")
        if n_days > 0:
            change[g, 0, 0] += 1
        current = -1  # as in stage_at: from its entry on, a stage overrides every earlier-numbered one
        while True:  # the stages in the order of their first day (at most N_STAGES steps)
            s_next, d_next = -1, n_days
            for s in range(n_stages):
                if first_day[s] < d_next and s > current:
                    s_next, d_next = s, first_day[s]
            if s_next < 0:
                break
            for s in range(s_next + 1, n_stages):  # a later-numbered stage entered the same day overrides it
                if first_day[s] == d_next:
                    s_next = s
            change[g, d_next, current + 1] -= 1
            change[g, d_next, s_next + 1] += 1
            current = s_next
    counts = np.empty((n_groups, n_days, N_STAGES + 1), np.int16)
    running = np.zeros(N_STAGES + 1, np.int64)
    for g in range(n_groups):
        running[:] = 0
        for d in range(n_days):
            for c in range(N_STAGES + 1):
                running[c] += change[g, d, c]
                counts[g, d, c] = running[c]
    return counts


def review_categories(record: RunRecord, days: np.ndarray) -> dict[str, np.ndarray]:
    """Each review category as a boolean ``(n_reviews, n_days)`` array."""
    days = np.asarray(days, dtype=float)[None, :]
    stage = stage_at(record, days[0])
    entered = record.entered
    held = stage >= Stage.SAQ
    lang = record.languages[:, None]
    submitted = entered[:, Stage.WRITTEN_FEEDBACK, None] <= days
    late = record.saq_lateness[:, None]
    in_feedback = stage == Stage.WRITTEN_FEEDBACK
    feedback_overdue = days - record.deadline[:, Stage.WRITTEN_FEEDBACK, None]
    in_lists = (stage == Stage.LISTS) | (stage == Stage.SUMMARIES)
    lists_age = days - entered[:, Stage.LISTS, None]
    out = {
        "reviews_not_started": stage == -1,
        "reviews_held_up_by_nominations": stage == Stage.NOMINATIONS,
        "reviews_ready_no_consultation": stage == Stage.CONSULTATION,
        "reviews_not_commenced": (stage == Stage.NOMINATIONS) | (stage == Stage.CONSULTATION),
        "reviews_saq_in_preparation": stage == Stage.SAQ,
        "reviews_written_feedback_in_progress": in_feedback,
        "reviews_lists_of_observations": in_lists,
        "reviews_advancing": held & (stage < Stage.COMPLETED),
        "reviews_completed": stage == Stage.COMPLETED,
        "consultations_held": held,
        "consultations_one_language": held & (lang == 1),
        "consultations_two_languages": held & (lang == 2),
        "consultations_three_languages": held & (lang == 3),
        "saq_submitted": submitted,
        "saq_on_time": submitted & (late <= 0),
        "saq_within_10_days": submitted & (late > 0) & (late <= 10),
        "saq_up_to_3_months": submitted & (late > 10) & (late <= months(3)),
        "saq_3_to_6_months": submitted & (late > months(3)) & (late <= months(6)),
        "saq_over_6_months": submitted & (late > months(6)),
        "saq_over_1_year": submitted & (late > months(12)),
        "feedback_concluded": entered[:, Stage.LISTS, None] <= days,
        "feedback_late": in_feedback & (feedback_overdue > 0),
        "feedback_late_over_1_year": in_feedback & (feedback_overdue > months(12)),
        "lists_past_time_frame": in_lists & (days > record.deadline[:, Stage.LISTS, None]),
    }
    for name, lo, hi in LISTS_AGE_BUCKETS:
        out[name] = in_lists & (lists_age > months(lo)) & (lists_age <= months(hi))
    return out


def party_categories(record: RunRecord, days: np.ndarray) -> dict[str, np.ndarray]:
    """Party counts at each day: ``(n_days,)`` arrays."""
    days = np.asarray(days, dtype=float)[None, :]
    nominated = record.nominated_at[:, None] <= days
    replaced = nominated & (record.first_replaced_at[:, None] <= days)
    return {
        "parties_with_focal_point": nominated.sum(axis=0),
        "parties_without_focal_point": (~nominated).sum(axis=0),
        "parties_replaced_focal_point": replaced.sum(axis=0),
    }


def observe(record: RunRecord, pairings: Pairings, date: dt.date | str) -> dict[tuple[str, int | None], int]:
    """The run's state at ``date`` keyed like the observations: (name, group) and (name, None)."""
    return observe_dates(record, pairings, [date])[0]


def observe_dates(record: RunRecord, pairings: Pairings, dates: list) -> list[dict[tuple[str, int | None], int]]:
    """:func:`observe` at several dates at once (the categories are computed for all of them together)."""
    days = np.array([to_day(d) for d in dates], dtype=float)
    order = np.argsort(days)  # stage_at needs the days in increasing order
    sorted_days = days[order]
    out: list[dict[tuple[str, int | None], int]] = [{} for _ in dates]
    in_group = [pairings.group == g for g in (1, 2, 3)]
    for name, flags in review_categories(record, sorted_days).items():
        totals = flags.sum(axis=0)
        by_group = [flags[mask].sum(axis=0) for mask in in_group]
        for k, i in enumerate(order):
            out[i][(name, None)] = int(totals[k])
            for g in (1, 2, 3):
                out[i][(name, g)] = int(by_group[g - 1][k])
    parties = party_categories(record, sorted_days)
    redrawn = record.redraw_log[:, 0] if len(record.redraw_log) else np.empty(0)
    for k, i in enumerate(order):
        for name, counts in parties.items():
            out[i][(name, None)] = int(counts[k])
        # Each row of the redraw log is one reviewing State replaced by a repeated draw (¶6-7).
        out[i][("reviewers_redrawn", None)] = int(np.sum(redrawn <= sorted_days[k]))
        out[i][("reviews_total", None)] = pairings.n_reviews
        out[i][("parties_total", None)] = pairings.n_parties
    return out


def monthly_table(record: RunRecord, pairings: Pairings, days: np.ndarray, replication: int) -> pd.DataFrame:
    """Stage counts by group on each of ``days``: one row per (date, group)."""
    stage = stage_at(record, days)
    rows = []
    groups = pairings.group
    for g in (1, 2, 3):
        in_group = stage[groups == g]
        counts = {col: (in_group == s).sum(axis=0) for s, col in STAGE_COLUMNS.items()}
        frame = pd.DataFrame({"replication": replication, "day": days, "group": g, **counts})
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def compare(observed: dict[tuple[str, int | None], float], snapshot) -> pd.DataFrame:
    """The snapshot's figures beside a run's observation of the same names."""
    rows = []
    for (name, group), fig in snapshot.figures.items():
        rows.append(
            {
                "name": name,
                "group": group,
                "paragraph": fig.paragraph,
                "report": fig.value,
                "alternatives": ", ".join(str(a) for a in fig.alternatives),
                "model": observed.get((name, group), np.nan),
            }
        )
    return pd.DataFrame(rows)
