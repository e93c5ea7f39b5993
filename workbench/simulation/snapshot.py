"""Initial states: the start of the cycle in 2020, or the state the report describes.

The forecast starts from the report's own account of 21 May 2024 rather than replaying
history from 2020: the report gives the counts by stage, who has nominated and how old the
work in progress is, and a forecast that began elsewhere would contradict what delegations
have read.  The report does not name *which* reviews are where, so each replication draws
an assignment that reproduces every count exactly (the stage counts of ¶15, ¶23, ¶29, the
26 silent parties holding up 67 reviews, the lists by group of ¶38, the ages of ¶36 and
¶39, the languages of ¶28 and the SAQ lateness buckets of ¶31); the uncertainty about the
assignment then flows into the forecast like any other.

:func:`history_start` is the other initial state: every review at its group's start with
no focal points, as calibration needs it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from workbench.core.counters import below, between, permutation, shuffle_first, uniform
from workbench.core.errors import InputError
from workbench.core.timeline import DAYS_PER_MONTH, GROUP_STARTS, months, to_day
from workbench.inputs.observations import Snapshot
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import Pairings, first_involvement
from workbench.inputs.report_categories import LISTS_AGE_BUCKETS
from workbench.simulation.schema import N_STAGES, InitialState, Stage
from workbench.simulation.streams import ReplicationStreams
from workbench.simulation.traits import traits_at_start

# Stage numbers as plain ints: this module indexes arrays with them in loops.
NOMINATIONS, CONSULTATION, SAQ, WRITTEN_FEEDBACK, LISTS = (
    int(Stage.NOMINATIONS),
    int(Stage.CONSULTATION),
    int(Stage.SAQ),
    int(Stage.WRITTEN_FEEDBACK),
    int(Stage.LISTS),
)
MIN_HISTORY = months(1.0)  # nothing is placed earlier than a month after its group started
MIN_BEFORE_LISTS = months(6.0)  # nominations, consultation, SAQ and feedback take at least this


def group_start_days(snapshot: Snapshot | None = None) -> dict[int, float]:
    if snapshot is not None and snapshot.groups:
        return {g: to_day(grp.start) for g, grp in snapshot.groups.items()}
    return {g: to_day(d) for g, d in GROUP_STARTS.items()}


def history_start(pairings: Pairings, group_start: dict[int, float] | None = None) -> InitialState:
    """1 December 2020: no focal points, every review waiting for its group to start (¶22)."""
    group_start = group_start or group_start_days()
    n, m = pairings.n_reviews, pairings.n_parties
    return InitialState(
        day=min(group_start.values()),
        label="history from 2020-12-01",
        review_stage=np.full(n, -1),
        review_entered=np.full((n, N_STAGES), np.nan),
        review_deadline=np.full((n, N_STAGES), np.nan),
        review_languages=np.zeros(n, dtype=int),
        saq_lateness=np.full(n, np.nan),
        party_nominated_at=np.full(m, np.nan),
        party_first_replaced_at=np.full(m, np.nan),
        group_start=group_start,
    )


def _count(snapshot: Snapshot, name: str, group: int | None = None) -> int:
    value = snapshot.value(name, group)
    if value != int(value):
        raise InputError(snapshot.path, name, f"{value} is not a whole count", "a whole number")
    return int(value)


# --- the report's counts, as the compiled placement reads them ------------------------------
#: The counts the placement needs, in the order of the array it reads them from (C_*).
_COUNTED = (
    "parties_without_focal_point",
    "reviews_held_up_by_nominations",
    "reviews_lists_of_observations",
    "reviews_written_feedback_in_progress",
    "feedback_late",
    "feedback_late_over_1_year",
    "reviews_saq_in_preparation",
    "saq_over_1_year",
    "saq_over_6_months",
    "saq_3_to_6_months",
    "saq_up_to_3_months",
    "saq_within_10_days",
    "saq_on_time",
    "consultations_one_language",
    "consultations_three_languages",
    "parties_replaced_focal_point",
)
(
    C_SILENT,
    C_HELD_UP,
    C_LISTS,
    C_FEEDBACK,
    C_FEEDBACK_LATE,
    C_FEEDBACK_VERY_LATE,
    C_SAQ,
    C_SAQ_OVER_1_YEAR,
    C_SAQ_OVER_6_MONTHS,
    C_SAQ_3_TO_6_MONTHS,
    C_SAQ_UP_TO_3_MONTHS,
    C_SAQ_WITHIN_10_DAYS,
    C_SAQ_ON_TIME,
    C_ONE_LANGUAGE,
    C_THREE_LANGUAGES,
    C_REPLACED,
) = range(len(_COUNTED))

#: What the compiled placement reports when the counts cannot be met (E_*), and the figure it names.
E_NONE, E_TOO_FEW_REVIEWS, E_NO_SILENT_SET, E_UNPLACED = range(4)


class _Figures:
    """The report's counts and dates for the placement: read and checked once per snapshot."""

    def __init__(self, snapshot: Snapshot):
        self.day0 = to_day(snapshot.as_at)
        self.group_start = group_start_days(snapshot)
        self.counts = np.array([_count(snapshot, name) for name in _COUNTED], np.int64)
        # Lists of observations by group (¶38); -1 where the report gives no count for a group.
        name = "reviews_lists_of_observations"
        self.lists_by_group = np.array([_count(snapshot, name, g) if snapshot.has(name, g) else -1 for g in (1, 2, 3)], np.int64)
        self.lists_ages = np.array(_lists_age_ranges(snapshot, self.day0), dtype=float).reshape(-1, 3)


_FIGURES: dict[int, tuple[Snapshot, _Figures]] = {}


def _figures(snapshot: Snapshot) -> _Figures:
    """The snapshot's figures for the placement, read once per snapshot object."""
    kept = _FIGURES.get(id(snapshot))
    if kept is None or kept[0] is not snapshot:
        kept = _FIGURES[id(snapshot)] = (snapshot, _Figures(snapshot))
    return kept[1]


def _lists_age_ranges(snapshot: Snapshot, day0: float) -> list[tuple[int, float, float]]:
    """(count, earliest, latest entry day) of the lists of observations by age (¶39), oldest first."""
    ages = []
    for name, lo_months, hi_months in LISTS_AGE_BUCKETS:
        fig = snapshot.figures.get((name, None))
        if fig is None:
            continue
        if fig.started_between:
            earliest, latest = (to_day(d) for d in fig.started_between)
        else:
            earliest, latest = day0 - months(min(hi_months, 120.0)), day0 - months(lo_months)
        ages.append((int(fig.value), earliest, latest))
    return ages


# --- the compiled placement --------------------------------------------------------------
# One stream of uniforms (the replication's "snapshot_assignment" stream), drawn in a fixed
# order, places every review: each step takes the stream's ``seed`` and the uniforms ``used`` so
# far, and returns the new count (the protocol of workbench.core.counters).


class Placement(NamedTuple):
    """The report's state being built: every review's stage and history, every party's."""

    stage: np.ndarray  # (n,) Stage; -9 while not placed
    entered: np.ndarray  # (n, N_STAGES)
    deadline: np.ndarray  # (n, N_STAGES)
    lateness: np.ndarray  # (n,) days the submitted SAQ was late
    languages: np.ndarray  # (n,)
    nominated_at: np.ndarray  # (m,) -inf: before the records; NaN: not yet (silent)
    replaced: np.ndarray  # (m,) -inf: replaced before the records
    free: np.ndarray  # (n,) not placed yet
    review_start: np.ndarray  # (n,) the start of each review's group
    exposure: np.ndarray  # (n,) days from the group's start to the report


@njit(cache=True)
def _new_placement(group: np.ndarray, n_parties: int, day0: float, group_start: np.ndarray) -> Placement:
    n = group.shape[0]
    review_start = np.empty(n)
    for r in range(n):
        review_start[r] = group_start[group[r] - 1]
    entered = np.full((n, N_STAGES), np.nan)
    entered[:, NOMINATIONS] = review_start
    return Placement(
        np.full(n, -9, np.int64),
        entered,
        np.full((n, N_STAGES), np.nan),
        np.full(n, np.nan),
        np.zeros(n, np.int64),
        np.full(n_parties, -np.inf),
        np.full(n_parties, np.nan),
        np.ones(n, np.bool_),
        review_start,
        day0 - review_start,
    )


@njit(cache=True)
def _free_reviews(at: Placement, min_age: float, only_group: int, group: np.ndarray) -> np.ndarray:
    """Free reviews, in index order, whose group started long enough ago (optionally of one group)."""
    out = np.empty(at.free.shape[0], np.int64)
    k = 0
    for r in range(at.free.shape[0]):
        if at.free[r] and at.exposure[r] - MIN_HISTORY > min_age and (only_group < 0 or group[r] == only_group):
            out[k] = r
            k += 1
    return out[:k]


@njit(cache=True)
def _take(seed: np.uint64, used: int, count: int, candidates: np.ndarray, at: Placement) -> tuple[np.ndarray, int]:
    """Draw ``count`` of the candidates without replacement, each in proportion to its exposure
    (earlier groups are more likely to be further along); all -1 if there are fewer than ``count``."""
    picked = np.empty(count, np.int64)
    if count > candidates.shape[0]:
        picked[:] = -1
        return picked, used
    weight = at.exposure[candidates].copy()
    total = weight.sum()
    for k in range(count):
        u, used = uniform(seed, used)
        target = u * total
        j, running = 0, weight[0]
        while running <= target and j < candidates.shape[0] - 1:
            j += 1
            running += weight[j]
        while weight[j] == 0.0:  # rounding at the top end: step back to a candidate still in
            j -= 1
        picked[k] = candidates[j]
        total -= weight[j]
        weight[j] = 0.0
        at.free[candidates[j]] = False
    return picked, used


@njit(cache=True)
def _nth(mask: np.ndarray, value: bool, k: int) -> int:
    """The index of the k-th entry of ``mask`` equal to ``value``."""
    for i in range(mask.shape[0]):
        if mask[i] == value:
            if k == 0:
                return i
            k -= 1
    return -1


@njit(cache=True)
def _reviews_of_parties(members: np.ndarray, n_parties: int) -> tuple[np.ndarray, np.ndarray]:
    """Each party's reviews (the first degree[p] of its row) and how many it takes part in."""
    n = members.shape[0]
    degree = np.zeros(n_parties, np.int64)
    for r in range(n):
        for j in range(3):
            degree[members[r, j]] += 1
    reviews_of = np.empty((n_parties, degree.max()), np.int64)
    degree[:] = 0
    for r in range(n):
        for j in range(3):
            p = members[r, j]
            reviews_of[p, degree[p]] = r
            degree[p] += 1
    return reviews_of, degree


@njit(cache=True)
def _choose_silent_parties(
    seed: np.uint64, used: int, members: np.ndarray, n_parties: int, n_silent: int, held_up: int, max_steps: int
) -> tuple[np.ndarray, int]:
    """``n_silent`` parties whose pending nominations hold up exactly ``held_up`` reviews (¶15).

    The report gives only the two counts; a local search over random swaps finds a set with
    that coverage, a different one in each replication.  Empty if none is found."""
    n = members.shape[0]
    reviews_of, degree = _reviews_of_parties(members, n_parties)
    order = np.arange(n_parties)
    used = shuffle_first(seed, used, order, n_silent)
    in_set = np.zeros(n_parties, np.bool_)
    in_set[order[:n_silent]] = True
    cover = np.zeros(n, np.int64)  # silent parties in each review
    for p in range(n_parties):
        if in_set[p]:
            for k in range(degree[p]):
                cover[reviews_of[p, k]] += 1
    held = 0
    for r in range(n):
        held += cover[r] > 0
    for _ in range(max_steps):
        if held == held_up:
            return np.flatnonzero(in_set), used
        k_out, used = below(seed, used, n_silent)
        k_in, used = below(seed, used, n_parties - n_silent)
        out_p, in_p = _nth(in_set, True, k_out), _nth(in_set, False, k_in)
        change = 0  # in the reviews held up, were out_p swapped for in_p
        for k in range(degree[out_p]):
            r = reviews_of[out_p, k]
            cover[r] -= 1
            change -= cover[r] == 0
        for k in range(degree[in_p]):
            r = reviews_of[in_p, k]
            change += cover[r] == 0
            cover[r] += 1
        if abs(held + change - held_up) <= abs(held - held_up):
            in_set[out_p], in_set[in_p] = False, True
            held += change
        else:  # undo
            for k in range(degree[in_p]):
                cover[reviews_of[in_p, k]] -= 1
            for k in range(degree[out_p]):
                cover[reviews_of[out_p, k]] += 1
    return np.empty(0, np.int64), used


@njit(cache=True)
def _place_held_up(seed: np.uint64, used: int, at: Placement, members: np.ndarray, counts: np.ndarray) -> tuple[int, int, int]:
    """Pending nominations (¶15): the silent parties, and the reviews they hold up."""
    silent, used = _choose_silent_parties(seed, used, members, at.nominated_at.shape[0], counts[C_SILENT], counts[C_HELD_UP], 20000)
    if silent.shape[0] != counts[C_SILENT]:
        return E_NO_SILENT_SET, C_SILENT, used
    at.nominated_at[silent] = np.nan
    for r in range(members.shape[0]):
        if np.isnan(at.nominated_at[members[r, 0]]) or np.isnan(at.nominated_at[members[r, 1]]) or np.isnan(at.nominated_at[members[r, 2]]):
            at.stage[r] = NOMINATIONS
            at.free[r] = False
    return E_NONE, -1, used


@njit(cache=True)
def _lists_reviews(
    seed: np.uint64, used: int, at: Placement, group: np.ndarray, counts: np.ndarray, lists_by_group: np.ndarray
) -> tuple[np.ndarray, bool, int]:
    """Which reviews are at the lists of observations (¶38): the counts by group, then the rest;
    False if the free reviews cannot hold them."""
    lists = np.empty(counts[C_LISTS], np.int64)
    placed = 0
    for g in range(3):
        if lists_by_group[g] >= 0:
            picked, used = _take(seed, used, lists_by_group[g], _free_reviews(at, -np.inf, g + 1, group), at)
            if (picked.shape[0] > 0 and picked[0] < 0) or placed + picked.shape[0] > lists.shape[0]:
                return lists, False, used
            lists[placed : placed + picked.shape[0]] = picked
            placed += picked.shape[0]
    picked, used = _take(seed, used, lists.shape[0] - placed, _free_reviews(at, -np.inf, -1, group), at)
    if picked.shape[0] > 0 and picked[0] < 0:
        return lists, False, used
    lists[placed:] = picked
    return lists, True, used


@njit(cache=True)
def _place_lists(
    seed: np.uint64,
    used: int,
    at: Placement,
    group: np.ndarray,
    counts: np.ndarray,
    lists_by_group: np.ndarray,
    lists_ages: np.ndarray,
    lists_due: float,
    day0: float,
) -> tuple[int, int, int]:
    """Lists of observations (¶38-39): which reviews, by group, then each one's age from ¶39
    (oldest first, each to a review old enough for it)."""
    lists, fitted, used = _lists_reviews(seed, used, at, group, counts, lists_by_group)
    if not fitted:
        return E_TOO_FEW_REVIEWS, C_LISTS, used
    unplaced = np.ones(lists.shape[0], np.bool_)
    for a in range(lists_ages.shape[0]):
        count, earliest, latest = int(lists_ages[a, 0]), lists_ages[a, 1], lists_ages[a, 2]
        for _ in range(count):
            fits, left = 0, 0
            for k in range(lists.shape[0]):
                fits += unplaced[k] and at.review_start[lists[k]] + MIN_BEFORE_LISTS < latest
                left += unplaced[k]
            if left == 0:
                return E_UNPLACED, C_LISTS, used
            choice, used = below(seed, used, fits if fits > 0 else left)
            k = -1
            while choice >= 0:  # the choice-th unplaced list that fits (any unplaced one if none fits)
                k += 1
                if unplaced[k] and (fits == 0 or at.review_start[lists[k]] + MIN_BEFORE_LISTS < latest):
                    choice -= 1
            unplaced[k] = False
            r = lists[k]
            lo = max(earliest, at.review_start[r] + MIN_BEFORE_LISTS)
            at.entered[r, LISTS], used = between(seed, used, lo, max(lo, latest))
    for k in range(lists.shape[0]):  # lists the report gives no age for
        if unplaced[k]:
            r = lists[k]
            at.entered[r, LISTS], used = between(seed, used, at.review_start[r] + MIN_BEFORE_LISTS, day0)
    for review in lists:
        at.stage[review] = LISTS
        at.deadline[review, LISTS] = at.entered[review, LISTS] + lists_due
    return E_NONE, -1, used


@njit(cache=True)
def _place_feedback(
    seed: np.uint64, used: int, at: Placement, group: np.ndarray, counts: np.ndarray, feedback_due: float, day0: float
) -> tuple[int, int, int]:
    """Written feedback in progress (¶35-36), by lateness against the agreed six months."""
    very_late, late, in_feedback = counts[C_FEEDBACK_VERY_LATE], counts[C_FEEDBACK_LATE], counts[C_FEEDBACK]
    buckets = (
        (very_late, feedback_due + 12 * DAYS_PER_MONTH, np.inf),
        (late - very_late, feedback_due, feedback_due + 12 * DAYS_PER_MONTH),
        (in_feedback - late, 0.0, feedback_due),
    )
    for count, lo, hi in buckets:
        picked, used = _take(seed, used, count, _free_reviews(at, lo, -1, group), at)
        if picked.shape[0] > 0 and picked[0] < 0:
            return E_TOO_FEW_REVIEWS, C_FEEDBACK, used
        for review in picked:
            age, used = between(seed, used, lo, min(hi, at.exposure[review] - MIN_HISTORY))
            at.entered[review, WRITTEN_FEEDBACK] = day0 - age
            at.stage[review] = WRITTEN_FEEDBACK
            at.deadline[review, WRITTEN_FEEDBACK] = at.entered[review, WRITTEN_FEEDBACK] + feedback_due
    return E_NONE, -1, used


@njit(cache=True)
def _place_saq_and_consultations(
    seed: np.uint64, used: int, at: Placement, group: np.ndarray, counts: np.ndarray, saq_due: float, day0: float
) -> tuple[int, int, int]:
    """SAQs in preparation (¶32), begun at an unknown date; every review left is ready for its consultation (¶29)."""
    picked, used = _take(seed, used, counts[C_SAQ], _free_reviews(at, -np.inf, -1, group), at)
    if picked.shape[0] > 0 and picked[0] < 0:
        return E_TOO_FEW_REVIEWS, C_SAQ, used
    for review in picked:
        at.stage[review] = SAQ
        age, used = between(seed, used, 0.0, at.exposure[review] - MIN_HISTORY)
        at.entered[review, SAQ] = day0 - age
        at.deadline[review, SAQ] = at.entered[review, SAQ] + saq_due
    for review in _free_reviews(at, -np.inf, -1, group):
        at.stage[review] = CONSULTATION
        age, used = between(seed, used, 0.0, at.exposure[review] - MIN_HISTORY)
        at.entered[review, CONSULTATION] = day0 - age
        at.free[review] = False
    return E_NONE, -1, used


@njit(cache=True)
def _saq_lateness_buckets(counts: np.ndarray) -> tuple[tuple[int, float, float], ...]:
    """(count, lo, hi) in days late, longest first: the report's buckets (¶31), the open ends capped
    where a placement needs a bound (a year and a half late at most; early by up to two months)."""
    month = DAYS_PER_MONTH
    return (
        (counts[C_SAQ_OVER_1_YEAR], 12 * month, 18 * month),
        (counts[C_SAQ_OVER_6_MONTHS] - counts[C_SAQ_OVER_1_YEAR], 6 * month, 12 * month),
        (counts[C_SAQ_3_TO_6_MONTHS], 3 * month, 6 * month),
        (counts[C_SAQ_UP_TO_3_MONTHS], 10.0, 3 * month),
        (counts[C_SAQ_WITHIN_10_DAYS], 0.0, 10.0),
        (counts[C_SAQ_ON_TIME], -2 * month, 0.0),
    )


@njit(cache=True)
def _place_saq_history(seed: np.uint64, used: int, at: Placement, counts: np.ndarray, feedback_due: float, saq_due: float) -> int:
    """The history of the submitted SAQs (¶31): lateness buckets matched to reviews with room for them."""
    submitted = np.flatnonzero((at.stage == WRITTEN_FEEDBACK) | (at.stage == LISTS))
    for review in submitted:  # feedback took 2-8 months before the lists, leaving a month for all before it
        if at.stage[review] == LISTS:
            took, used = between(seed, used, 2 * DAYS_PER_MONTH, 8 * DAYS_PER_MONTH)
            before = min(took, (at.entered[review, LISTS] - at.review_start[review] - MIN_HISTORY) / 2)
            at.entered[review, WRITTEN_FEEDBACK] = at.entered[review, LISTS] - before
            at.deadline[review, WRITTEN_FEEDBACK] = at.entered[review, WRITTEN_FEEDBACK] + feedback_due
    # The consultation (deadline - six months) cannot precede the group's start: that bounds lateness.
    room = at.entered[submitted, WRITTEN_FEEDBACK] - saq_due - at.review_start[submitted] - MIN_HISTORY / 2
    key = np.empty(submitted.shape[0])
    for k in range(submitted.shape[0]):
        u, used = uniform(seed, used)
        key[k] = room[k] + u
    queue = np.argsort(-key, kind="mergesort")  # the most room first
    q = 0
    for count, lo, hi in _saq_lateness_buckets(counts):
        for _ in range(count):
            if q == queue.shape[0]:
                break
            k = queue[q]
            q += 1
            if room[k] > lo:
                at.lateness[submitted[k]], used = between(seed, used, lo, min(hi, room[k]))
            else:
                at.lateness[submitted[k]] = min(room[k], hi)
    for k in queue[q:]:  # more submitted SAQs than bucketed ones: on time
        early, used = between(seed, used, 0.0, 2 * DAYS_PER_MONTH)
        at.lateness[submitted[k]] = min(-early, room[k])
    for review in submitted:
        at.deadline[review, SAQ] = at.entered[review, WRITTEN_FEEDBACK] - at.lateness[review]
        at.entered[review, SAQ] = at.deadline[review, SAQ] - saq_due
    return used


@njit(cache=True)
def _place_languages_and_replacements(seed: np.uint64, used: int, at: Placement, counts: np.ndarray) -> int:
    """The languages agreed at the consultations held (¶28), exactly as reported, and the focal
    points replaced (¶14), among the parties that have one."""
    held = np.flatnonzero(at.stage >= SAQ)
    order, used = permutation(seed, used, held.shape[0])
    held = held[order]  # in a random order
    one, three = counts[C_ONE_LANGUAGE], counts[C_THREE_LANGUAGES]
    for k in range(held.shape[0]):
        at.languages[held[k]] = 1 if k < one else (3 if k < one + three else 2)
    with_focal_point = np.flatnonzero(np.isinf(at.nominated_at))
    n_replaced = min(counts[C_REPLACED], with_focal_point.shape[0])
    used = shuffle_first(seed, used, with_focal_point, n_replaced)
    for k in range(n_replaced):
        at.replaced[with_focal_point[k]] = -np.inf
    return used


@njit(cache=True)
def _placed(at: Placement) -> tuple[np.ndarray, ...]:
    """What the placement hands back to Python, as a plain tuple: boxing a NamedTuple runs its Python
    constructor, where a pending Ctrl-C raises inside Numba's boxing and crashes the process."""
    return at.stage, at.entered, at.deadline, at.lateness, at.languages, at.nominated_at, at.replaced


@njit(cache=True)
def _place(
    seed: np.uint64,
    group: np.ndarray,
    members: np.ndarray,
    n_parties: int,
    day0: float,
    group_start: np.ndarray,
    counts: np.ndarray,
    lists_by_group: np.ndarray,
    lists_ages: np.ndarray,
    deadlines: tuple[float, float, float],
) -> tuple[tuple[np.ndarray, ...], int, int]:
    """The report's state, placed step by step from one stream: each review's stage, entries and
    deadlines, SAQ lateness, languages, who is silent and who has replaced a focal point; and an
    error code (E_*) with the count at fault."""
    lists_due, feedback_due, saq_due = deadlines
    at = _new_placement(group, n_parties, day0, group_start)
    error, counted, used = _place_held_up(seed, 0, at, members, counts)
    if error == E_NONE:
        error, counted, used = _place_lists(seed, used, at, group, counts, lists_by_group, lists_ages, lists_due, day0)
    if error == E_NONE:
        error, counted, used = _place_feedback(seed, used, at, group, counts, feedback_due, day0)
    if error == E_NONE:
        error, counted, used = _place_saq_and_consultations(seed, used, at, group, counts, saq_due, day0)
    if error != E_NONE:
        return _placed(at), error, counted
    used = _place_saq_history(seed, used, at, counts, feedback_due, saq_due)
    used = _place_languages_and_replacements(seed, used, at, counts)
    for r in range(group.shape[0]):
        if at.stage[r] < 0:
            return _placed(at), E_UNPLACED, -1
    return _placed(at), E_NONE, -1


_PROBLEMS = {
    E_TOO_FEW_REVIEWS: "more reviews needed than the pairings and group start dates can hold",
    E_NO_SILENT_SET: "no set of parties without a focal point holds up exactly the reviews reported held up in these pairings",
    E_UNPLACED: "the stage counts do not add up to the reviews",
}


def report_start(snapshot: Snapshot, pairings: Pairings, params: Parameters, streams: ReplicationStreams) -> InitialState:
    """The state the report describes at its date, with the unnamed details drawn at random.

    Stage by stage, each review is placed so that every count of the report holds: the reviews
    held up by silent parties, the lists of observations with their ages, written feedback by
    lateness, SAQs in preparation, and the rest ready for a consultation; then the history of the
    submitted SAQs, the languages agreed, and the parties' focal points and responsiveness.
    The placement is compiled (it runs once in every replication) and draws from the
    replication's "snapshot_assignment" stream.
    """
    figures = _figures(snapshot)
    members = np.column_stack([pairings.under_review, pairings.reviewers]).astype(np.int64)
    deadlines = (months(params.lists_deadline_months), months(params.feedback_deadline_months), months(params.saq_deadline_months))
    group_start = np.array([figures.group_start[g] for g in (1, 2, 3)])
    placed, error, counted = _place(
        streams.global_seed("snapshot_assignment"),
        pairings.group.astype(np.int64),
        members,
        pairings.n_parties,
        figures.day0,
        group_start,
        figures.counts,
        figures.lists_by_group,
        figures.lists_ages,
        deadlines,
    )
    if error != E_NONE:
        field = _COUNTED[counted] if counted >= 0 else "(stage counts)"
        if error == E_NO_SILENT_SET:  # the two counts of ¶15 together
            field = f"{_COUNTED[C_SILENT]} and {_COUNTED[C_HELD_UP]}"
        raise InputError(
            snapshot.path, field, _PROBLEMS[error], "counts consistent with each other, the pairings and the group start dates"
        )
    stage, entered, deadline, lateness, languages, nominated_at, replaced = placed
    first_involved = first_involvement(pairings, figures.group_start)
    responsiveness, silent = traits_at_start(figures.day0, first_involved, nominated_at, params, streams)
    return InitialState(
        day=figures.day0,
        label=f"report of {snapshot.as_at.isoformat()}",
        review_stage=stage,
        review_entered=entered,
        review_deadline=deadline,
        review_languages=languages,
        saq_lateness=lateness,
        party_nominated_at=nominated_at,
        party_first_replaced_at=replaced,
        party_responsiveness=responsiveness,
        party_silent=silent,
        group_start=dict(figures.group_start),
    )
