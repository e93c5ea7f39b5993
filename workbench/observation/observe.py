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
from workbench.inputs.report_categories import (
    CATEGORIES,
    CATEGORY_INDEX,
    FEEDBACK_LATE_OVER,
    LISTS_AGE_BUCKETS,
    MECHANISM_CATEGORIES,
    PARTY_CATEGORIES,
    REVIEW_CATEGORIES,
    SAQ_LATENESS_BUCKETS,
)
from workbench.simulation.schema import N_STAGES, RunRecord, Stage

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


# --- the report's categories, counted ---------------------------------------------------------
# Each category is a condition on a review (or a party) at a day; the observation table counts
# them, compiled, for every day asked at once: calibration observes every run it simulates.
_C = CATEGORY_INDEX
C_NOT_STARTED, C_HELD_UP, C_READY, C_NOT_COMMENCED = (_C[name] for name in REVIEW_CATEGORIES[:4])
C_SAQ, C_FEEDBACK, C_LISTS, C_ADVANCING, C_COMPLETED = (_C[name] for name in REVIEW_CATEGORIES[4:9])
C_HELD, C_ONE_LANGUAGE, C_TWO_LANGUAGES, C_THREE_LANGUAGES = (_C[name] for name in REVIEW_CATEGORIES[9:13])
C_SUBMITTED, C_CONCLUDED, C_PAST_TIME_FRAME = _C["saq_submitted"], _C["feedback_concluded"], _C["lists_past_time_frame"]
C_WITH_FOCAL_POINT, C_WITHOUT_FOCAL_POINT, C_REPLACED = (_C[name] for name in PARTY_CATEGORIES)
C_REDRAWN, C_REVIEWS_TOTAL, C_PARTIES_TOTAL = (_C[name] for name in MECHANISM_CATEGORIES)
#: The buckets as (category, lower bound excluded, upper bound included): SAQ lateness in days,
#: feedback overdue in days, lists' age in days.
_SAQ_BUCKETS = np.array([(_C[name], lo, hi) for name, lo, hi in SAQ_LATENESS_BUCKETS])
_FEEDBACK_BUCKETS = np.array([(_C[name], over, np.inf) for name, over in FEEDBACK_LATE_OVER])
_LISTS_BUCKETS = np.array([(_C[name], months(lo), months(hi)) for name, lo, hi in LISTS_AGE_BUCKETS])
N_CATEGORIES = len(CATEGORIES)
NOMINATIONS, CONSULTATION, SAQ, WRITTEN_FEEDBACK, LISTS, SUMMARIES, COMPLETED = (
    int(Stage.NOMINATIONS),
    int(Stage.CONSULTATION),
    int(Stage.SAQ),
    int(Stage.WRITTEN_FEEDBACK),
    int(Stage.LISTS),
    int(Stage.SUMMARIES),
    int(Stage.COMPLETED),
)


@njit(cache=True)
def _in_buckets(out, d, g, value, buckets):
    """Count ``value`` in every bucket (lower bound excluded, upper included) it falls in."""
    for b in range(buckets.shape[0]):
        if buckets[b, 1] < value <= buckets[b, 2]:
            k = int(buckets[b, 0])
            out[d, k, 0] += 1
            out[d, k, g] += 1


@njit(cache=True)
def _count(out, d, g, k):
    out[d, k, 0] += 1
    out[d, k, g] += 1


@njit(cache=True)
def _count_review(out, d, g, stage, day, entered, deadline, languages, lateness):
    """One review of group ``g`` in ``stage`` on ``day``, in every category it belongs to."""
    if stage == -1:
        _count(out, d, g, C_NOT_STARTED)
    elif stage in (NOMINATIONS, CONSULTATION):  # not commenced (¶15, ¶23)
        _count(out, d, g, C_HELD_UP if stage == NOMINATIONS else C_READY)
        _count(out, d, g, C_NOT_COMMENCED)
    elif stage == SAQ:
        _count(out, d, g, C_SAQ)
    elif stage == WRITTEN_FEEDBACK:
        _count(out, d, g, C_FEEDBACK)
        _in_buckets(out, d, g, day - deadline[WRITTEN_FEEDBACK], _FEEDBACK_BUCKETS)
    elif stage in (LISTS, SUMMARIES):
        _count(out, d, g, C_LISTS)
        _in_buckets(out, d, g, day - entered[LISTS], _LISTS_BUCKETS)
        if day > deadline[LISTS]:
            _count(out, d, g, C_PAST_TIME_FRAME)
    if stage == COMPLETED:
        _count(out, d, g, C_COMPLETED)
    if stage >= SAQ:  # the consultation was held, in one, two or three languages (¶26-28)
        _count(out, d, g, C_HELD)
        if 1 <= languages <= 3:
            _count(out, d, g, C_ONE_LANGUAGE + languages - 1)
        if stage < COMPLETED:
            _count(out, d, g, C_ADVANCING)
    if entered[WRITTEN_FEEDBACK] <= day:  # the SAQ was submitted, this late (¶31)
        _count(out, d, g, C_SUBMITTED)
        _in_buckets(out, d, g, lateness, _SAQ_BUCKETS)
    if entered[LISTS] <= day:
        _count(out, d, g, C_CONCLUDED)


@njit(cache=True)
def _observation_table(entered, deadline, languages, lateness, group, n_groups, nominated_at, first_replaced_at, redrawn_on, days):
    out = np.zeros((days.shape[0], N_CATEGORIES, n_groups + 1), np.int64)
    for d in range(days.shape[0]):
        day = days[d]
        for r in range(entered.shape[0]):
            stage = -1  # the last stage entered by the day
            for s in range(entered.shape[1]):
                if entered[r, s] <= day:
                    stage = s
            _count_review(out, d, group[r], stage, day, entered[r], deadline[r], languages[r], lateness[r])
        for p in range(nominated_at.shape[0]):
            if nominated_at[p] <= day:
                out[d, C_WITH_FOCAL_POINT, 0] += 1
                if first_replaced_at[p] <= day:
                    out[d, C_REPLACED, 0] += 1
            else:
                out[d, C_WITHOUT_FOCAL_POINT, 0] += 1
        for t in redrawn_on:  # each row of the redraw log is one reviewing State replaced (¶6-7)
            if t <= day:
                out[d, C_REDRAWN, 0] += 1
        out[d, C_REVIEWS_TOTAL, 0] = entered.shape[0]
        out[d, C_PARTIES_TOTAL, 0] = nominated_at.shape[0]
    return out


def observation_table(record: RunRecord, pairings: Pairings, days: np.ndarray) -> np.ndarray:
    """The run counted in the report's categories on each of ``days``: ``(n_days, N_CATEGORIES,
    1 + groups)``, column 0 for all reviews (or parties), column g for group g (review categories only)."""
    return _observation_table(
        record.entered,
        record.deadline,
        np.asarray(record.languages, dtype=np.int64),
        record.saq_lateness,
        np.asarray(pairings.group, dtype=np.int64),
        int(pairings.group.max()),
        record.nominated_at,
        record.first_replaced_at,
        np.ascontiguousarray(record.redraw_log[:, 0]) if len(record.redraw_log) else np.empty(0),
        np.asarray(days, dtype=float),
    )


def observe(record: RunRecord, pairings: Pairings, date: dt.date | str) -> dict[tuple[str, int | None], int]:
    """The run's state at ``date`` keyed like the observations: (name, group) and (name, None)."""
    return observe_dates(record, pairings, [date])[0]


def observe_dates(record: RunRecord, pairings: Pairings, dates: list) -> list[dict[tuple[str, int | None], int]]:
    """:func:`observe` at several dates at once."""
    table = observation_table(record, pairings, np.array([to_day(d) for d in dates], dtype=float))
    groups = range(1, table.shape[2])
    out: list[dict[tuple[str, int | None], int]] = []
    for counts in table.tolist():
        seen: dict[tuple[str, int | None], int] = {}
        for name, row in zip(CATEGORIES, counts):
            seen[(name, None)] = row[0]
        for name in REVIEW_CATEGORIES:
            row = counts[CATEGORY_INDEX[name]]
            for g in groups:
                seen[(name, g)] = row[g]
        out.append(seen)
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
