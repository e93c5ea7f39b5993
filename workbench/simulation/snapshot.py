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

import math

import numpy as np

from workbench.core.errors import InputError
from workbench.core.timeline import GROUP_STARTS, months, to_day
from workbench.inputs.observations import Snapshot
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import Pairings, first_involvement
from workbench.simulation.schema import N_STAGES, InitialState, Stage, responsiveness_from_uniform
from workbench.simulation.streams import ReplicationStreams

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

#: The age buckets of lists of observations (¶39), in months since the lists began.
LISTS_AGE_BUCKETS = (
    ("lists_started_over_30_months_before", 30.0, math.inf),
    ("lists_started_18_to_30_months_before", 18.0, 30.0),
    ("lists_started_6_to_18_months_before", 6.0, 18.0),
    ("lists_started_under_6_months_before", 0.0, 6.0),
)


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


def choose_silent_parties(pairings: Pairings, n_silent: int, held_up: int, rng: np.random.Generator, max_steps: int = 20000) -> np.ndarray:
    """Pick ``n_silent`` parties whose pending nominations hold up exactly ``held_up`` reviews.

    The report gives only the two counts (¶15); local search over random swaps finds a set
    with that coverage, a different one in each replication.
    """
    involvement = np.zeros((pairings.n_parties, pairings.n_reviews), dtype=bool)
    reviews = np.arange(pairings.n_reviews)
    involvement[pairings.under_review, reviews] = True
    involvement[pairings.reviewers[:, 0], reviews] = True
    involvement[pairings.reviewers[:, 1], reviews] = True
    chosen = rng.choice(pairings.n_parties, n_silent, replace=False)
    in_set = np.zeros(pairings.n_parties, dtype=bool)
    in_set[chosen] = True
    cover = involvement[in_set].sum(axis=0)
    gap = abs(int(np.sum(cover > 0)) - held_up)
    for _ in range(max_steps):
        if gap == 0:
            return np.flatnonzero(in_set)
        out_p = rng.choice(np.flatnonzero(in_set))
        in_p = rng.choice(np.flatnonzero(~in_set))
        trial = cover - involvement[out_p] + involvement[in_p]
        trial_gap = abs(int(np.sum(trial > 0)) - held_up)
        if trial_gap <= gap:
            in_set[out_p], in_set[in_p] = False, True
            cover, gap = trial, trial_gap
    raise InputError(
        "pairings",
        "parties_without_focal_point",
        f"no set of {n_silent} parties holds up exactly {held_up} reviews in these pairings",
        "pairings and figures that are consistent with each other",
    )


def report_start(snapshot: Snapshot, pairings: Pairings, params: Parameters, streams: ReplicationStreams) -> InitialState:
    """The state the report describes at its date, with the unnamed details drawn at random."""
    day0 = to_day(snapshot.as_at)
    group_start = group_start_days(snapshot)
    rng = streams.generator("snapshot_assignment")
    n, m = pairings.n_reviews, pairings.n_parties
    review_start = np.array([group_start[int(g)] for g in pairings.group], dtype=float)
    exposure = day0 - review_start  # days since group start
    group_of = pairings.group.tolist()

    stage = np.full(n, -9)
    entered = np.full((n, N_STAGES), np.nan)
    deadline = np.full((n, N_STAGES), np.nan)
    entered[:, NOMINATIONS] = [group_start[int(g)] for g in pairings.group]

    # Pending nominations (¶15): the silent parties and the reviews they hold up.
    n_silent = _count(snapshot, "parties_without_focal_point")
    held_up = _count(snapshot, "reviews_held_up_by_nominations")
    silent_parties = choose_silent_parties(pairings, n_silent, held_up, rng)
    members = np.column_stack([pairings.under_review, pairings.reviewers])
    covered = np.isin(members, silent_parties).any(axis=1)
    stage[covered] = NOMINATIONS

    free = list(np.flatnonzero(~covered))

    def take(count: int, candidates: list[int], what: str) -> list[int]:
        """Draw ``count`` reviews, earlier groups more likely (longer exposure)."""
        if count > len(candidates):
            raise InputError(
                snapshot.path,
                what,
                f"{count} reviews needed but only {len(candidates)} can hold them",
                "counts consistent with the pairings and group start dates",
            )
        if count == 0:
            return []
        weights = exposure[candidates] / exposure[candidates].sum()
        picked = list(rng.choice(candidates, count, replace=False, p=weights))
        for r in picked:
            free.remove(r)
        return picked

    def eligible(min_age_days: float, groups: tuple[int, ...] = (1, 2, 3)) -> list[int]:
        return [r for r in free if exposure[r] - MIN_HISTORY > min_age_days and group_of[r] in groups]

    # Lists of observations (¶38-39): counts by group, and the ages of ¶39.
    lists_ages = []  # (count, earliest entry, latest entry) in days, oldest first
    for name, lo_months, hi_months in LISTS_AGE_BUCKETS:
        fig = snapshot.figures.get((name, None))
        if fig is None:
            continue
        if fig.started_between:
            earliest, latest = (to_day(d) for d in fig.started_between)
        else:
            earliest, latest = day0 - months(min(hi_months, 120.0)), day0 - months(lo_months)
        lists_ages.append((int(fig.value), earliest, latest))
    lists_total = _count(snapshot, "reviews_lists_of_observations")
    by_group = {
        g: _count(snapshot, "reviews_lists_of_observations", g) for g in (1, 2, 3) if snapshot.has("reviews_lists_of_observations", g)
    }
    lists_reviews: list[int] = []
    if by_group:
        for g, count in by_group.items():
            lists_reviews += take(count, [r for r in free if group_of[r] == g], f"reviews_lists_of_observations (group {g})")
    lists_reviews += take(lists_total - len(lists_reviews), list(free), "reviews_lists_of_observations")
    unplaced = list(lists_reviews)
    for count, earliest, latest in lists_ages:  # oldest first, each to a review old enough for it
        for _ in range(count):
            fits = [r for r in unplaced if review_start[r] + MIN_BEFORE_LISTS < latest] or unplaced
            r = fits[int(rng.integers(len(fits)))]
            unplaced.remove(r)
            lo = max(earliest, review_start[r] + MIN_BEFORE_LISTS)
            entered[r, LISTS] = rng.uniform(lo, max(lo, latest))
    for r in unplaced:  # lists the report gives no age for
        entered[r, LISTS] = rng.uniform(review_start[r] + MIN_BEFORE_LISTS, day0)
    for r in lists_reviews:
        stage[r] = LISTS
        deadline[r, LISTS] = entered[r, LISTS] + months(params.lists_deadline_months)

    # Written feedback in progress (¶35-36), by lateness against the agreed six months.
    in_feedback = _count(snapshot, "reviews_written_feedback_in_progress")
    late = _count(snapshot, "feedback_late")
    very_late = _count(snapshot, "feedback_late_over_1_year")
    due = months(params.feedback_deadline_months)
    feedback_reviews = []
    for count, lo, hi in (
        (very_late, due + months(12), math.inf),
        (late - very_late, due, due + months(12)),
        (in_feedback - late, 0.0, due),
    ):
        picked = take(count, eligible(lo), "reviews_written_feedback_in_progress")
        for r in picked:
            top = min(hi, exposure[r] - MIN_HISTORY)
            entered[r, WRITTEN_FEEDBACK] = day0 - rng.uniform(lo, top)
        feedback_reviews += picked
    for r in feedback_reviews:
        stage[r] = WRITTEN_FEEDBACK
        deadline[r, WRITTEN_FEEDBACK] = entered[r, WRITTEN_FEEDBACK] + due

    # SAQs in preparation (¶32): started at an unknown date after the group began.
    for r in take(_count(snapshot, "reviews_saq_in_preparation"), list(free), "reviews_saq_in_preparation"):
        stage[r] = SAQ
        entered[r, SAQ] = day0 - rng.uniform(0.0, exposure[r] - MIN_HISTORY)
        deadline[r, SAQ] = entered[r, SAQ] + months(params.saq_deadline_months)

    # Everything else is ready, waiting for its consultation (¶29; 111 - 67, see observations).
    for r in list(free):
        stage[r] = CONSULTATION
        entered[r, CONSULTATION] = day0 - rng.uniform(0.0, exposure[r] - MIN_HISTORY)
    free.clear()

    # History of the 43 submitted SAQs (¶31): lateness buckets matched to reviews with room for them.
    lateness = np.full(n, np.nan)
    submitted = np.flatnonzero((stage == WRITTEN_FEEDBACK) | (stage == LISTS)).tolist()
    for r in submitted:
        if stage[r] == LISTS:
            # Feedback took 2-8 months, leaving at least a month for everything before it.
            room_before = entered[r, LISTS] - review_start[r] - MIN_HISTORY
            before = min(rng.uniform(months(2), months(8)), room_before / 2)
            entered[r, WRITTEN_FEEDBACK] = entered[r, LISTS] - before
            deadline[r, WRITTEN_FEEDBACK] = entered[r, WRITTEN_FEEDBACK] + due
    saq_due = months(params.saq_deadline_months)
    buckets = [  # (count, lo, hi) in days late; longest first
        (_count(snapshot, "saq_over_1_year"), months(12), months(18)),
        (_count(snapshot, "saq_over_6_months") - _count(snapshot, "saq_over_1_year"), months(6), months(12)),
        (_count(snapshot, "saq_3_to_6_months"), months(3), months(6)),
        (_count(snapshot, "saq_up_to_3_months"), 10.0, months(3)),
        (_count(snapshot, "saq_within_10_days"), 0.0, 10.0),
        (_count(snapshot, "saq_on_time"), -months(2), 0.0),
    ]
    # The consultation (deadline - six months) cannot precede the group's start: that bounds lateness.
    room = {r: entered[r, WRITTEN_FEEDBACK] - saq_due - review_start[r] - MIN_HISTORY / 2 for r in submitted}
    queue = sorted(submitted, key=lambda r: room[r] + rng.uniform(0, 1), reverse=True)
    for count, lo, hi in buckets:
        for _ in range(count):
            if not queue:
                break
            r = queue.pop(0)
            lateness[r] = rng.uniform(lo, min(hi, room[r])) if room[r] > lo else min(room[r], hi)
    for r in queue:  # more submitted SAQs than bucketed ones: on time
        lateness[r] = min(-rng.uniform(0, months(2)), room[r])
    for r in submitted:
        deadline[r, SAQ] = entered[r, WRITTEN_FEEDBACK] - lateness[r]
        entered[r, SAQ] = deadline[r, SAQ] - saq_due

    # Languages agreed at the 78 consultations held (¶28), exactly as reported.
    languages = np.zeros(n, dtype=int)
    held = np.flatnonzero(stage >= SAQ).tolist()
    one, three = _count(snapshot, "consultations_one_language"), _count(snapshot, "consultations_three_languages")
    order = list(rng.permutation(held))
    for i, r in enumerate(order):
        languages[r] = 1 if i < one else 3 if i < one + three else 2

    # Parties: who has a focal point (¶12, ¶15), who has replaced one (¶14), and how responsive.
    nominated_at = np.full(m, -np.inf)
    nominated_at[silent_parties] = np.nan
    replaced = np.full(m, np.nan)
    with_fp = np.flatnonzero(np.isinf(nominated_at))
    n_replaced = min(_count(snapshot, "parties_replaced_focal_point"), len(with_fp))
    replaced[rng.choice(with_fp, n_replaced, replace=False)] = -np.inf

    first_involved = first_involvement(pairings, group_start)
    u_resp, u_silent = streams.first_draws("responsiveness", 2)
    waited = np.where(np.isnan(nominated_at), np.maximum(day0 - first_involved, 0.0), 0.0)
    # A party silent for `waited` days: P(silent) and its responsiveness given no nomination yet.
    rate_days = params.nomination_rate / months(1)
    shape = params.responsiveness_shape
    survival = np.exp(-rate_days * waited) if math.isinf(shape) else (1.0 + rate_days * waited / shape) ** (-shape)
    p_silent = np.where(
        np.isnan(nominated_at), params.silent_share / np.maximum(params.silent_share + (1 - params.silent_share) * survival, 1e-300), 0.0
    )
    silent = u_silent < p_silent
    responsiveness = responsiveness_from_uniform(u_resp, shape, rate_days * waited if not math.isinf(shape) else 0.0)

    if np.any(stage < 0):
        raise InputError(snapshot.path, "(stage counts)", "some reviews were left without a stage", "counts that add up to the reviews")
    return InitialState(
        day=day0,
        label=f"report of {snapshot.as_at.isoformat()}",
        review_stage=stage,
        review_entered=entered,
        review_deadline=deadline,
        review_languages=languages,
        saq_lateness=lateness,
        party_nominated_at=nominated_at,
        party_first_replaced_at=replaced,
        party_responsiveness=np.asarray(responsiveness, dtype=float),
        party_silent=silent,
        group_start=group_start,
    )
