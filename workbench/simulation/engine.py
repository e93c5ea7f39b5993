"""The compiled engine: the processes of :mod:`workbench.simulation.model` as events and handlers.

:mod:`workbench.simulation.model` (SimPy) is the reference and reads like the process; this
module runs the same processes some forty times faster, so that planners get answers in
seconds and a calibration can afford many simulations.  It holds no rule of its own: every
duration, lever effect, deadline, next stage, Secretariat decision and completion count comes
from :mod:`workbench.simulation.rules` and the stage table of :mod:`workbench.simulation.stages`,
which the SimPy processes call too.  What is left here is scheduling, the part that must
differ from SimPy, in the manner of Ciw's ``have_event``: each kind of event goes to a named
handler, and the main loop (:func:`run_mechanism`) only takes the next event off the calendar
(:mod:`workbench.simulation.calendar`) and dispatches it.

* a **party**'s first focal point comes at a time fixed when it is first involved
  (:func:`on_nomination`); its experts follow (:func:`on_experts`); its focal point is then
  replaced from time to time: a replacement (:func:`on_replacement`) starts a handover, which
  pauses the work of its reviews, and the handover's end (:func:`on_handover_end`) resumes it;
* a **review** is a small state machine: it waits (for its group, for nominations, for focal
  points in place, for experts, for the Secretariat) or works (a timer that a handover can
  interrupt, keeping the work left).  :func:`advance` takes it through its actions (the
  ``A_*`` codes, one handler each) until it has to wait;
* the **Secretariat** is the desks and queue of :mod:`workbench.simulation.rules`
  (:func:`on_service_end`, :func:`on_staffing_change`).

Events at the same time are handled in the order they were scheduled, as in SimPy, and
the same uniforms are drawn in the same order, so a replication follows the same path in
both engines (:mod:`workbench.simulation.divergence` finds the first event where they do not).
Every handler borrows its arrays (:mod:`workbench.simulation.compiled`): the run's state is
allocated once, in :func:`new_run`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from workbench.inputs.levers import Levers, check_staffing
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import Pairings, first_involvement
from workbench.simulation import rules
from workbench.simulation.calendar import (
    EVENTS_ROOM,
    NOW_ROOM,
    WHAT_ACTION,
    WHAT_KIND,
    WHAT_SUBJECT,
    WHAT_VERSION,
    Calendar,
    at,
    clear,
    has_events,
    new_calendar,
    next_event,
    room_left,
    schedule,
    schedule_now,
)
from workbench.simulation.compiled import borrows_arrays, handler
from workbench.simulation.layout import (
    C_EXPERTS,
    C_NOMINATION,
    C_REPLACEMENT,
    COMPLETED,
    N_PARTY_STREAMS,
    N_REVIEW_STREAMS,
    NOMINATIONS,
    P_OFFICERS,
    P_REPLACEMENT_RATE,
    R_LANGUAGES,
    R_REDRAW,
    R_SECRETARIAT,
    REVIEW_STREAM_OFFSET,
    STAGE_AGREES_LANGUAGES,
    STAGE_STREAM,
    LeverArrays,
    pack_levers,
    pack_parameters,
)
from workbench.simulation.schema import N_STAGES, InitialState, RunRecord, age_at_start, focal_point_at_start
from workbench.simulation.streams import ReplicationStreams, stream_seed
from workbench.simulation.traits import party_traits

# --- kinds of event -------------------------------------------------------------------------
K_NOMINATION, K_EXPERTS, K_REPLACEMENT, K_HANDOVER_END, K_STAFFING, K_SERVICE_END, K_REVIEW = range(7)

# --- what a review is waiting for -----------------------------------------------------------
W_RUNNING, W_GROUP, W_NOMINATIONS, W_REDRAW_DELAY, W_FOCAL_POINTS, W_WORK, W_EXPERTS, W_QUEUE, W_SERVICE, W_DONE = range(10)

# --- a review's actions (see advance) -------------------------------------------------------
A_BLOCK, A_ENTER, A_STEP, A_GATHER, A_PATIENCE_OVER, A_REDRAW, A_WORK, A_WORK_DONE, A_AFTER_WORK, A_AFTER_SERVICE = range(10)

# --- what the run counts for its record (slots of Run.recorded) -------------------------------
N_EVENTS, N_HANDOVERS, N_REDRAWS = range(3)


class Start(NamedTuple):
    """The initial state and the pairings, as the arrays a run starts from."""

    group: np.ndarray  # (n,) group of each review
    members: np.ndarray  # (n, 3) party under review, reviewer 1, reviewer 2
    stage: np.ndarray  # (n,) Stage, -1 before the group starts
    entered: np.ndarray  # (n, N_STAGES)
    deadline: np.ndarray  # (n, N_STAGES)
    languages: np.ndarray  # (n,)
    saq_lateness: np.ndarray  # (n,)
    nominated_at: np.ndarray  # (m,)
    first_replaced: np.ndarray  # (m,)
    responsiveness: np.ndarray  # (m,)
    silent: np.ndarray  # (m,)
    group_start_of_review: np.ndarray  # (n,)
    first_involved: np.ndarray  # (m,)
    redraws_used: np.ndarray  # (n,) repeated draws of lots already used (-1: not known, see rules.redraws_so_far)
    waiting_since: np.ndarray  # (n,) day the wait for a reviewing State began, where redraws_used is known
    handover_since: np.ndarray  # (m,) day a handover under way at the start began (NaN: none)
    work_done_at: np.ndarray  # (n,) day the current stage's own work was done, for one awaiting the Secretariat (NaN: under way)
    day: float


class Parties(NamedTuple):
    """Every party's state, one entry per party (index p)."""

    nominated_at: np.ndarray  # day of the first focal point (record)
    first_replaced: np.ndarray  # day the focal point was first replaced (record)
    replacements: np.ndarray  # replacements during the run (record)
    responsiveness: np.ndarray  # how fast the party works (a handover may change it)
    revival: np.ndarray  # the uniform of a fresh responsiveness not yet worked out (-1: none; see _responsiveness_known)
    has_focal_point: np.ndarray
    has_experts: np.ndarray
    in_handover: np.ndarray
    open_reviews: np.ndarray  # reviews of the party not yet completed
    reviews: np.ndarray  # (m, n) the reviews the party takes part in, in SimPy's list order: the first n_reviews[p]
    n_reviews: np.ndarray
    handover_row: np.ndarray  # its open handover's row in the handover log
    seed: np.ndarray  # (m, N_PARTY_STREAMS) its random streams
    draws: np.ndarray  # (m, N_PARTY_STREAMS) uniforms drawn from each so far


class Reviews(NamedTuple):
    """Every review's state, one entry per review (index r)."""

    group: np.ndarray
    members: np.ndarray  # (n, 3) party under review, reviewer 1, reviewer 2 (redraws change the reviewers)
    stage: np.ndarray
    entered: np.ndarray  # (n, N_STAGES) record
    deadline: np.ndarray  # (n, N_STAGES) record
    languages: np.ndarray  # record
    saq_lateness: np.ndarray  # record
    waiting: np.ndarray  # W_*: what it waits for
    resume_with: np.ndarray  # the action it takes when its focal points are back
    version: np.ndarray  # bumped to make its pending events stale
    next_stage: np.ndarray  # the stage it enters next
    age: np.ndarray  # days the current stage had been under way at the start
    remaining: np.ndarray  # days of work left on the stage
    started: np.ndarray  # when the current stretch of work began
    service: np.ndarray  # days of an officer's time it needs now
    waiting_since: np.ndarray  # when its wait for a reviewing State's focal point began (redraws)
    redraw_rounds: np.ndarray  # repeated draws of lots for the review so far (at most four, ¶6)
    redraw_wait: np.ndarray  # days from a redraw request to the new draw
    work_done: np.ndarray  # (n, N_STAGES) record: day each stage's own work was done
    seed: np.ndarray  # (n, N_REVIEW_STREAMS)
    draws: np.ndarray  # (n, N_REVIEW_STREAMS)


class Run(NamedTuple):
    """Everything one replication changes as it runs."""

    parties: Parties
    reviews: Reviews
    calendar: Calendar
    desks: np.ndarray  # the Secretariat's counts (rules.DESK_*)
    queue: np.ndarray  # reviews waiting for an officer (rules' ring)
    tally: np.ndarray  # open reviews and group 1's completed (rules.TALLY_*)
    recorded: np.ndarray  # N_EVENTS, N_HANDOVERS, N_REDRAWS
    threshold: np.ndarray  # (1,) the day the ¶25 condition was met (NaN: not yet)
    handover_log: np.ndarray  # (room, 3) party, start day, end day (inf: unfinished)
    redraw_log: np.ndarray  # (room, 5) day, review, slot, old party, new party


class Outcome(NamedTuple):
    """What :func:`run_mechanism` hands back (as a plain tuple in this order): whether the run
    finished, then the record's fields."""

    finished: bool
    end_day: float
    entered: np.ndarray
    deadline: np.ndarray
    languages: np.ndarray
    saq_lateness: np.ndarray
    nominated_at: np.ndarray
    first_replaced_at: np.ndarray
    replacements: np.ndarray
    redraw_log: np.ndarray
    handover_log: np.ndarray
    threshold_day: float
    events: int
    draws: int
    work_done: np.ndarray


#: Rows of ``room``: the arrays that can fill up during a run.  The calendar's come first, in the
#: order of :func:`workbench.simulation.calendar.room_left`'s answers.
ROOM_EVENTS, ROOM_NOW, ROOM_HANDOVERS, ROOM_REDRAWS = EVENTS_ROOM, NOW_ROOM, 2, 3

#: The room runs in this process start with: a run that needed more leaves it here for the next.
ROOM = np.array([16384, 1024, 2048, 512], np.int64)


# --- the run's state -----------------------------------------------------------------------
@njit(cache=True)
def new_run(key, P, levers, start, end_day, room):
    """The state at the start: copies of the start's arrays, empty logs, the random streams'
    seeds, and the calendar to ``end_day`` with room for the start's events and ``room``'s more."""
    n, m = start.group.shape[0], start.nominated_at.shape[0]
    party_seed = np.empty((m, N_PARTY_STREAMS), np.uint64)
    for p in range(m):
        for c in range(N_PARTY_STREAMS):
            party_seed[p, c] = stream_seed(key, c, p)
    review_seed = np.empty((n, N_REVIEW_STREAMS), np.uint64)
    for r in range(n):
        for c in range(N_REVIEW_STREAMS):
            review_seed[r, c] = stream_seed(key, REVIEW_STREAM_OFFSET + c, r)
    parties = Parties(
        start.nominated_at.copy(),
        start.first_replaced.copy(),
        np.zeros(m, np.int64),
        start.responsiveness.copy(),  # its first two draws made the start; revivals draw elsewhere
        np.full(m, -1.0),
        np.zeros(m, np.bool_),
        np.zeros(m, np.bool_),
        np.zeros(m, np.bool_),
        np.zeros(m, np.int64),
        np.empty((m, n), np.int64),
        np.zeros(m, np.int64),
        np.full(m, -1, np.int64),
        party_seed,
        np.zeros((m, N_PARTY_STREAMS), np.int64),
    )
    reviews = Reviews(
        start.group,
        start.members.copy(),
        start.stage.copy(),
        start.entered.copy(),
        start.deadline.copy(),
        start.languages.copy(),
        start.saq_lateness.copy(),
        np.full(n, W_RUNNING, np.int64),
        np.zeros(n, np.int64),
        np.zeros(n, np.int64),
        np.zeros(n, np.int64),
        np.zeros(n, np.float64),
        np.zeros(n, np.float64),
        np.zeros(n, np.float64),
        np.zeros(n, np.float64),
        start.waiting_since.copy(),
        start.redraws_used.copy(),
        np.zeros(n, np.float64),
        np.full((n, N_STAGES), np.nan),
        review_seed,
        np.zeros((n, N_REVIEW_STREAMS), np.int64),
    )
    starting = 2 * (n + m) + 16  # the start schedules at most two events a party and a review
    calendar = new_calendar(start.day, end_day, max(room[ROOM_EVENTS], starting), max(room[ROOM_NOW], n + 16))
    desks = np.zeros(rules.N_DESK_COUNTS, np.int64)
    rules.secretariat_opens(desks, int(P[P_OFFICERS]), rules.staffing_change(levers))
    tally = np.zeros(rules.N_TALLY, np.int64)
    rules.tally_start(tally, reviews.stage, reviews.group)
    return Run(
        parties,
        reviews,
        calendar,
        desks,
        np.empty(n, np.int64),
        tally,
        np.zeros(3, np.int64),
        np.full(1, np.nan),
        np.empty((room[ROOM_HANDOVERS], 3)),
        np.empty((room[ROOM_REDRAWS], 5)),
    )


@handler
def _join(parties, p, r):
    """Party ``p`` takes part in review ``r`` (at the end of its list, as SimPy's list.append)."""
    parties.reviews[p, parties.n_reviews[p]] = r
    parties.n_reviews[p] += 1


@handler
def _leave(parties, p, r):
    """Party ``p`` no longer takes part in review ``r`` (list.remove: the others keep their order)."""
    k = 0
    while parties.reviews[p, k] != r:
        k += 1
    for j in range(k, parties.n_reviews[p] - 1):
        parties.reviews[p, j] = parties.reviews[p, j + 1]
    parties.n_reviews[p] -= 1


# --- the start: the Secretariat's staffing change, the parties, then the reviews ---------------
@handler
def _schedule_replacement(run, P, now, p):
    """Party.replace_focal_points: the next replacement of ``p``'s focal point, if they happen at all."""
    parties = run.parties
    if P[P_REPLACEMENT_RATE] > 0:
        gap, parties.draws[p, C_REPLACEMENT] = rules.replacement_gap(parties.seed[p, C_REPLACEMENT], parties.draws[p, C_REPLACEMENT], P)
        schedule(run.calendar, now + gap, K_REPLACEMENT, p, 0, 0)


@borrows_arrays
def _start_party(run, start, P, levers, now, p):
    """Party.life: a party that nominated before the start replaces its focal point from time to
    time; any other waits until it is first involved, then nominates after a draw of effort."""
    parties = run.parties
    if focal_point_at_start(parties.nominated_at[p]):
        parties.has_focal_point[p] = True
        parties.has_experts[p] = True
        if math.isfinite(start.handover_since[p]):
            _handover_under_way(run, P, levers, now, p, start.handover_since[p])
        else:
            _schedule_replacement(run, P, now, p)
        return
    t = now
    if start.first_involved[p] > t:
        t = at(t, start.first_involved[p])
    if not rules.nominates(p, start.silent[p], levers):
        return
    delay, parties.draws[p, C_NOMINATION] = rules.nomination_delay(
        parties.seed[p, C_NOMINATION], parties.draws[p, C_NOMINATION], t, p, start.silent[p], parties.responsiveness[p], P, levers
    )
    schedule(run.calendar, t + delay, K_NOMINATION, p, 0, 0)


@handler
def _handover_under_way(run, P, levers, now, p, since):
    """A party whose focal point left on ``since``, its successor not in place when the clock
    starts: its reviews stall until the handover ends (exponential, so what is left of it is a
    fresh draw), as in :func:`on_replacement` but with no new replacement counted."""
    _handover_begins(run, p, since)
    _handover_stalls(run, P, levers, now, p)


@handler
def _handover_begins(run, p, since):
    """The party's focal point left on ``since``: the handover is logged, and the party is not in place."""
    row = run.recorded[N_HANDOVERS]
    run.handover_log[row, 0] = p
    run.handover_log[row, 1] = since
    run.handover_log[row, 2] = math.inf
    run.parties.handover_row[p] = row
    run.recorded[N_HANDOVERS] += 1
    run.parties.in_handover[p] = True


@handler
def _handover_stalls(run, P, levers, now, p):
    """How long the party's reviews stall from now, and the event that ends the handover."""
    parties = run.parties
    stall, parties.draws[p, C_REPLACEMENT] = rules.handover_stall(
        parties.seed[p, C_REPLACEMENT], parties.draws[p, C_REPLACEMENT], now, p, P, levers
    )
    schedule(run.calendar, now + stall, K_HANDOVER_END, p, 0, 0)


@borrows_arrays
def _start_review(run, start, now, r):
    """Review.life: a review whose group has not started waits for its start date; any other
    takes up its stage, under way for as long as the initial state says."""
    reviews = run.reviews
    s = reviews.stage[r]
    if s == COMPLETED:
        reviews.waiting[r] = W_DONE
    elif s < 0:
        reviews.waiting[r] = W_GROUP
        reviews.next_stage[r] = NOMINATIONS
        schedule(run.calendar, at(now, start.group_start_of_review[r]), K_REVIEW, r, 0, A_ENTER)
    elif math.isfinite(start.work_done_at[r]):  # its own work done: straight to the Secretariat
        reviews.work_done[r, s] = start.work_done_at[r]
        schedule_now(run.calendar, K_REVIEW, r, 0, A_AFTER_WORK)
    else:
        reviews.age[r] = age_at_start(reviews.entered[r, s], start.day)
        schedule_now(run.calendar, K_REVIEW, r, 0, A_STEP)


@borrows_arrays
def _start(run, start, P, levers):
    """Everything the initial state sets going, in the order the SimPy model starts its processes."""
    now = start.day
    if rules.staffing_change(levers) != 0:
        schedule(run.calendar, at(now, max(now, rules.staffing_day(levers))), K_STAFFING, 0, 0, 0)
    parties, members, stage = run.parties, run.reviews.members, run.reviews.stage
    for r in range(members.shape[0]):
        for j in range(3):
            p = members[r, j]
            _join(parties, p, r)
            if stage[r] != COMPLETED:
                parties.open_reviews[p] += 1
    for p in range(parties.nominated_at.shape[0]):
        _start_party(run, start, P, levers, now, p)
    for r in range(members.shape[0]):
        _start_review(run, start, now, r)


# --- the parties' events --------------------------------------------------------------------
@handler
def _wake(run, r, action):
    """Review ``r`` acts now: its pending events become stale, and it takes ``action`` this instant."""
    reviews = run.reviews
    reviews.version[r] += 1
    reviews.waiting[r] = W_RUNNING
    schedule_now(run.calendar, K_REVIEW, r, reviews.version[r], action)


@handler
def on_nomination(run, P, now, p):
    """Party.appoint_focal_point: its experts and its first replacement follow; its reviews that
    waited for it go on (those still missing a focal point elsewhere keep waiting)."""
    parties, reviews = run.parties, run.reviews
    parties.has_focal_point[p] = True
    parties.nominated_at[p] = now
    run.recorded[N_EVENTS] += 1
    lag, parties.draws[p, C_EXPERTS] = rules.experts_delay(parties.seed[p, C_EXPERTS], parties.draws[p, C_EXPERTS], P)
    schedule(run.calendar, now + lag, K_EXPERTS, p, 0, 0)
    _schedule_replacement(run, P, now, p)
    for k in range(parties.n_reviews[p]):
        r = parties.reviews[p, k]
        if reviews.waiting[r] == W_NOMINATIONS:
            if rules.all_nominated(parties.has_focal_point, reviews.members[r, 0], reviews.members[r, 1], reviews.members[r, 2]):
                _wake(run, r, A_GATHER)
        elif reviews.waiting[r] == W_FOCAL_POINTS:
            _wake(run, r, reviews.resume_with[r])


@handler
def on_experts(run, p):
    """The party's governmental experts are named: its reviews that waited for them go on."""
    parties, reviews = run.parties, run.reviews
    parties.has_experts[p] = True
    for k in range(parties.n_reviews[p]):
        r = parties.reviews[p, k]
        if reviews.waiting[r] == W_EXPERTS:
            _wake(run, r, A_STEP)


@handler
def _pause(run, now, r):
    """Review.pause: work under way stops, keeping the work left."""
    reviews = run.reviews
    reviews.remaining[r] -= now - reviews.started[r]
    reviews.version[r] += 1
    if rules.work_left(reviews.remaining[r]):
        reviews.waiting[r] = W_FOCAL_POINTS
        reviews.resume_with[r] = A_WORK
    else:
        reviews.waiting[r] = W_RUNNING
        schedule_now(run.calendar, K_REVIEW, r, reviews.version[r], A_AFTER_WORK)


@handler
def on_replacement(run, P, levers, now, p):
    """Party.replace_focal_points: a focal point leaves; every review of the party stalls until
    the newcomer has taken over (¶14)."""
    parties, reviews = run.parties, run.reviews
    if not rules.replacement_matters(parties.open_reviews, p):
        return  # nothing left that a replacement could affect, and no more replacements
    parties.replacements[p] += 1
    run.recorded[N_EVENTS] += 1
    if math.isnan(parties.first_replaced[p]):
        parties.first_replaced[p] = now
    _handover_begins(run, p, now)
    for k in range(parties.n_reviews[p]):
        r = parties.reviews[p, k]
        if reviews.waiting[r] == W_WORK:
            _pause(run, now, r)
    _handover_stalls(run, P, levers, now, p)


@handler
def on_handover_end(run, P, now, p):
    """The new focal point has taken over, perhaps more or less responsive than the last: the
    party's stalled reviews go on, and its next replacement is drawn."""
    parties, reviews = run.parties, run.reviews
    revival, parties.draws[p, C_REPLACEMENT] = rules.revival_after_handover(
        parties.seed[p, C_REPLACEMENT], parties.draws[p, C_REPLACEMENT], P
    )
    if revival >= 0.0:
        parties.revival[p] = revival
    parties.in_handover[p] = False
    run.handover_log[parties.handover_row[p], 2] = now
    _schedule_replacement(run, P, now, p)
    for k in range(parties.n_reviews[p]):
        r = parties.reviews[p, k]
        if reviews.waiting[r] == W_FOCAL_POINTS:
            _wake(run, r, reviews.resume_with[r])


@handler
def _responsiveness_known(run, P, p):
    """Work out a fresh responsiveness that party ``p``'s new focal point brought, before it is used.

    The SimPy model works it out as each handover ends; most are never used (the next handover
    comes first), and the gamma quantile took a sixth of the engine's time.  The value is the
    same whenever it is worked out."""
    parties = run.parties
    if parties.revival[p] >= 0.0:
        parties.responsiveness[p] = rules.revived_responsiveness(parties.revival[p], P)
        parties.revival[p] = -1.0


# --- the Secretariat's events ---------------------------------------------------------------
@handler
def _serve(run, now, r):
    """An officer takes review ``r`` for the service it needs."""
    run.reviews.waiting[r] = W_SERVICE
    schedule(run.calendar, now + run.reviews.service[r], K_SERVICE_END, r, 0, 0)


@handler
def _desk_freed(run, now):
    """A desk comes free: whoever the rules give it to is served."""
    r = rules.desk_freed(run.desks, run.queue)
    if r >= 0:
        _serve(run, now, r)


@handler
def on_staffing_change(run, levers, now):
    """The staffing lever's start date: recruits take their desks, or officers leave."""
    change = rules.staffing_change(levers)
    if change > 0:
        for _ in range(change):
            _desk_freed(run, now)
    else:
        rules.officers_leave(run.desks, -change)


@handler
def on_service_end(run, now, r):
    """An officer has done what review ``r`` needed: the desk goes to the next in line."""
    _desk_freed(run, now)
    run.reviews.waiting[r] = W_RUNNING


# --- a review's actions: each returns the next, A_BLOCK when the review has to wait ----------------
@handler
def _enter(run, P, now, r):
    """Review.enter: only with all focal points in place (except nominations), recording the entry
    and its deadline; a completed review counts towards the ¶25 condition."""
    parties, reviews = run.parties, run.reviews
    a, b, c = reviews.members[r, 0], reviews.members[r, 1], reviews.members[r, 2]
    s = reviews.next_stage[r]
    if s != NOMINATIONS and not rules.all_in_place(parties.has_focal_point, parties.in_handover, a, b, c):
        reviews.waiting[r] = W_FOCAL_POINTS
        reviews.resume_with[r] = A_ENTER
        return A_BLOCK
    reviews.stage[r] = s
    rules.record_entry(r, s, now, reviews.entered, reviews.deadline, reviews.saq_lateness, P)
    run.recorded[N_EVENTS] += 1
    if s == COMPLETED:
        reviews.waiting[r] = W_DONE
        if rules.review_completed(run.tally, parties.open_reviews, reviews.group[r], a, b, c, P):
            run.threshold[0] = now
        return A_BLOCK
    reviews.age[r] = 0.0
    return A_STEP


@handler
def _step(run, P, levers, now, r):
    """Begin the stage's work as the stage table says: nominations gather focal points; any other
    stage waits for the experts it needs, then draws its working time."""
    parties, reviews = run.parties, run.reviews
    s = reviews.stage[r]
    if s == NOMINATIONS:  # Review.gather_focal_points
        reviews.redraw_rounds[r], reviews.waiting_since[r] = rules.redraws_so_far(
            reviews.redraw_rounds[r], reviews.waiting_since[r], reviews.age[r], now, P
        )
        return A_GATHER
    a, b, c = reviews.members[r, 0], reviews.members[r, 1], reviews.members[r, 2]
    if not rules.experts_ready(s, parties.has_experts, a, b, c):
        reviews.waiting[r] = W_EXPERTS
        return A_BLOCK
    _responsiveness_known(run, P, a)
    _responsiveness_known(run, P, b)
    _responsiveness_known(run, P, c)
    col = STAGE_STREAM[s]
    reviews.remaining[r], reviews.draws[r, col] = rules.work_days(
        reviews.seed[r, col],
        reviews.draws[r, col],
        s,
        now,
        reviews.group[r],
        a,
        b,
        c,
        reviews.languages[r],
        parties.responsiveness,
        P,
        levers,
        reviews.age[r],
    )
    return A_WORK


@handler
def _gather(run, P, levers, now, r):
    """No review can begin until all three focal points exist (¶26); while a reviewing State has
    none, the party under review may ask for a redraw once its patience runs out (¶6-7)."""
    has_focal_point, reviews = run.parties.has_focal_point, run.reviews
    a, b, c = reviews.members[r, 0], reviews.members[r, 1], reviews.members[r, 2]
    if rules.all_nominated(has_focal_point, a, b, c):
        reviews.next_stage[r] = NOMINATIONS + 1
        return A_ENTER
    reviews.waiting[r] = W_NOMINATIONS
    if reviews.redraw_rounds[r] < rules.REDRAWS_ALLOWED and rules.redraw_wanted(has_focal_point, b, c):
        patience_ends, reviews.redraw_wait[r] = rules.redraw_schedule(reviews.waiting_since[r], reviews.group[r], a, b, c, P, levers)
        if math.isfinite(patience_ends):
            reviews.version[r] += 1
            schedule(run.calendar, at(now, max(now, patience_ends)), K_REVIEW, r, reviews.version[r], A_PATIENCE_OVER)
    return A_BLOCK


@handler
def _patience_over(run, now, r):
    """A reviewing State has not nominated in time: the redraw is requested for the next draw."""
    reviews = run.reviews
    reviews.waiting[r] = W_REDRAW_DELAY
    reviews.version[r] += 1
    schedule(run.calendar, now + reviews.redraw_wait[r], K_REVIEW, r, reviews.version[r], A_REDRAW)
    return A_BLOCK


@handler
def _redraw(run, now, r):
    """Mechanism.redraw_reviewer, for each reviewing State still without a focal point: a party
    with one is drawn by lot to take its place (¶6)."""
    parties, reviews = run.parties, run.reviews
    reviews.redraw_rounds[r] += 1
    for slot in rules.REVIEWER_SLOTS:
        old = reviews.members[r, slot]
        if parties.has_focal_point[old]:
            continue
        new, reviews.draws[r, R_REDRAW] = rules.redraw_reviewer(
            reviews.seed[r, R_REDRAW],
            reviews.draws[r, R_REDRAW],
            parties.has_focal_point,
            reviews.members[r, 0],
            reviews.members[r, 1],
            reviews.members[r, 2],
        )
        if new < 0:
            continue
        reviews.members[r, slot] = new
        _leave(parties, old, r)
        _join(parties, new, r)
        parties.open_reviews[old] -= 1
        parties.open_reviews[new] += 1
        row = run.recorded[N_REDRAWS]
        run.redraw_log[row, 0] = now
        run.redraw_log[row, 1] = r
        run.redraw_log[row, 2] = slot
        run.redraw_log[row, 3] = old
        run.redraw_log[row, 4] = new
        run.recorded[N_REDRAWS] += 1
        run.recorded[N_EVENTS] += 1
    reviews.waiting_since[r] = now
    return A_GATHER


@handler
def _work(run, now, r):
    """Review.work: progress only while all focal points are in place; a handover pauses it."""
    parties, reviews = run.parties, run.reviews
    if not rules.work_left(reviews.remaining[r]):
        return A_AFTER_WORK
    if not rules.all_in_place(
        parties.has_focal_point, parties.in_handover, reviews.members[r, 0], reviews.members[r, 1], reviews.members[r, 2]
    ):
        reviews.waiting[r] = W_FOCAL_POINTS
        reviews.resume_with[r] = A_WORK
        return A_BLOCK
    reviews.started[r] = now
    reviews.version[r] += 1
    reviews.waiting[r] = W_WORK
    schedule(run.calendar, now + reviews.remaining[r], K_REVIEW, r, reviews.version[r], A_WORK_DONE)
    return A_BLOCK


@handler
def _after_work(run, P, now, r):
    """The stage's own work is done: an officer organizes or facilitates where the stage needs one."""
    reviews = run.reviews
    s = reviews.stage[r]
    if math.isnan(reviews.work_done[r, s]):
        reviews.work_done[r, s] = now
    if not rules.needs_secretariat(s):
        return A_AFTER_SERVICE
    reviews.service[r], reviews.draws[r, R_SECRETARIAT] = rules.secretariat_days(
        reviews.seed[r, R_SECRETARIAT], reviews.draws[r, R_SECRETARIAT], s, P
    )
    if rules.officer_requested(run.desks, run.queue, r):
        _serve(run, now, r)
    else:
        reviews.waiting[r] = W_QUEUE
    return A_BLOCK


@handler
def _after_service(run, P, r):
    """The working languages are agreed at the consultation (¶27-28); then the next stage."""
    reviews = run.reviews
    s = reviews.stage[r]
    if STAGE_AGREES_LANGUAGES[s]:
        reviews.languages[r], reviews.draws[r, R_LANGUAGES] = rules.languages_agreed(
            reviews.seed[r, R_LANGUAGES], reviews.draws[r, R_LANGUAGES], P
        )
    reviews.next_stage[r] = s + 1
    return A_ENTER


@handler
def advance(run, P, levers, now, r, action):
    """Take review ``r`` from ``action`` through its actions until it has to wait."""
    run.reviews.waiting[r] = W_RUNNING
    while action != A_BLOCK:
        if action == A_ENTER:
            action = _enter(run, P, now, r)
        elif action == A_STEP:
            action = _step(run, P, levers, now, r)
        elif action == A_GATHER:
            action = _gather(run, P, levers, now, r)
        elif action == A_PATIENCE_OVER:
            action = _patience_over(run, now, r)
        elif action == A_REDRAW:
            action = _redraw(run, now, r)
        elif action == A_WORK:
            action = _work(run, now, r)
        elif action == A_WORK_DONE:
            run.reviews.remaining[r] = 0.0
            action = A_AFTER_WORK
        elif action == A_AFTER_WORK:
            action = _after_work(run, P, now, r)
        else:  # A_AFTER_SERVICE
            action = _after_service(run, P, r)


# --- the main loop -----------------------------------------------------------------------------
@handler
def _room_short(run, most):
    """-1 if every array that fills up can take what the next event may add, else which cannot."""
    calendar_short = room_left(run.calendar, most)
    if calendar_short >= 0:
        return calendar_short
    if run.recorded[N_HANDOVERS] + 1 > run.handover_log.shape[0]:
        return ROOM_HANDOVERS
    if run.recorded[N_REDRAWS] + 2 > run.redraw_log.shape[0]:
        return ROOM_REDRAWS
    return -1


@handler
def _room_size(run, which):
    if which == ROOM_EVENTS:
        return run.calendar.what.shape[0]
    if which == ROOM_NOW:
        return run.calendar.woken.shape[0]
    if which == ROOM_HANDOVERS:
        return run.handover_log.shape[0]
    return run.redraw_log.shape[0]


@handler
def _dispatch(run, P, levers, now, k):
    """Hand event ``k`` to its handler; a review it concerns then takes its next action."""
    what = run.calendar.what
    kind, subject = what[k, WHAT_KIND], what[k, WHAT_SUBJECT]
    action = A_BLOCK
    if kind == K_REVIEW:
        if what[k, WHAT_VERSION] == run.reviews.version[subject]:  # else superseded: interrupted work, nominations came first
            action = what[k, WHAT_ACTION]
    elif kind == K_NOMINATION:
        on_nomination(run, P, now, subject)
    elif kind == K_EXPERTS:
        on_experts(run, subject)
    elif kind == K_REPLACEMENT:
        on_replacement(run, P, levers, now, subject)
    elif kind == K_HANDOVER_END:
        on_handover_end(run, P, now, subject)
    elif kind == K_SERVICE_END:
        on_service_end(run, now, subject)
        action = A_AFTER_SERVICE
    else:  # K_STAFFING
        on_staffing_change(run, levers, now)
    if action != A_BLOCK:
        advance(run, P, levers, now, subject, action)


@borrows_arrays
def _loop(run, P, levers, now, end_day, room):
    """The events in time order until the horizon, or until every review is completed: whether the
    run finished (False: out of room, which ``room`` now has more of), and the day it ended."""
    most = run.reviews.group.shape[0] + run.desks[rules.DESK_CAPACITY] + 8  # the most events one event can schedule
    while has_events(run.calendar):
        short = _room_short(run, most)
        if short >= 0:
            room[short] = 2 * _room_size(run, short)
            return False, end_day
        now, k = next_event(run.calendar, now)
        if now > end_day:
            break
        _dispatch(run, P, levers, now, k)
        if run.tally[rules.TALLY_OPEN] == 0:
            return True, now
    return True, end_day


@njit(cache=True)
def run_mechanism(key, P, levers, start, horizon_day, room):
    """One replication from the initial state to the horizon (or until every review is completed).

    The arrays that fill up with the run (the calendar, the logs) have the sizes in ``room``.  A
    run that would overflow one stops, doubles that entry of ``room`` and comes back unfinished;
    :func:`run_compiled` then runs it again, drawing the same numbers.  Growing arrays in the
    loop instead would make them loop-carried variables, whose reference counting on every
    event cost a fifth of the engine's time.  The loop itself counts no references at all
    (:data:`~workbench.simulation.compiled.handler`).
    """
    now = start.day
    end_day = at(now, max(now, horizon_day))
    run = new_run(key, P, levers, start, end_day, room)
    _start(run, start, P, levers)
    if run.tally[rules.TALLY_OPEN] == 0:
        end_day = now
        clear(run.calendar)
    finished, end_day = _loop(run, P, levers, now, end_day, room)
    parties, reviews = run.parties, run.reviews
    # A plain tuple in Outcome's order, made an Outcome by the caller: boxing a NamedTuple runs its
    # Python constructor, and a Ctrl-C pending there raises inside Numba's boxing and crashes the
    # process (a segmentation fault instead of a clean stop).
    return (
        finished,
        end_day,
        reviews.entered,
        reviews.deadline,
        reviews.languages,
        reviews.saq_lateness,
        parties.nominated_at,
        parties.first_replaced,
        parties.replacements,
        run.redraw_log[: run.recorded[N_REDRAWS]].copy(),
        run.handover_log[: run.recorded[N_HANDOVERS]].copy(),
        run.threshold[0],
        run.recorded[N_EVENTS],
        parties.draws.sum() + reviews.draws.sum(),
        reviews.work_done,
    )


def engine_start(pairings: Pairings, initial: InitialState, responsiveness: np.ndarray, silent: np.ndarray) -> Start:
    """The loop's starting arrays for ``initial`` with ``pairings``."""
    return Start(
        group=pairings.group.astype(np.int64),
        members=np.column_stack([pairings.under_review, pairings.reviewers]).astype(np.int64),
        stage=initial.review_stage.astype(np.int64),
        entered=initial.review_entered,
        deadline=initial.review_deadline,
        languages=initial.review_languages.astype(np.int64),
        saq_lateness=initial.saq_lateness,
        nominated_at=initial.party_nominated_at,
        first_replaced=initial.party_first_replaced_at,
        responsiveness=np.asarray(responsiveness, dtype=float),
        silent=np.asarray(silent, dtype=np.bool_),
        group_start_of_review=np.array([initial.group_start.get(g, np.inf) for g in range(int(pairings.group.max()) + 1)])[pairings.group],
        first_involved=first_involvement(pairings, initial.group_start),
        redraws_used=_known(initial.review_redraws_used, pairings.n_reviews, -1, np.int64),
        waiting_since=_known(initial.review_waiting_since, pairings.n_reviews, np.nan, np.float64),
        handover_since=_known(initial.party_in_handover_since, pairings.n_parties, np.nan, np.float64),
        work_done_at=_known(initial.review_work_done_at, pairings.n_reviews, np.nan, np.float64),
        day=float(initial.day),
    )


def _known(values: np.ndarray | None, n: int, unknown: float, dtype: type) -> np.ndarray:
    """An optional per-review (or per-party) array of the initial state, ``unknown`` throughout where it has none."""
    return np.full(n, unknown, dtype) if values is None else np.asarray(values, dtype=dtype).copy()


def run_compiled(
    params: Parameters, pairings: Pairings, initial: InitialState, streams: ReplicationStreams, horizon_day: float, levers: Levers
) -> RunRecord:
    """The compiled twin of ``Mechanism(params, pairings, initial, streams, horizon_day, levers).run()``."""
    check_staffing(params.secretariat_officers, levers)  # as Mechanism does
    responsiveness, silent = party_traits(initial, streams, params)
    lever_arrays: LeverArrays = pack_levers(levers, pairings)
    P = pack_parameters(params, int(np.sum(pairings.group == 1)))
    start = engine_start(pairings, initial, responsiveness, silent)
    while True:  # a run that ran out of room has made more (in ROOM) and is run again, drawing the same numbers
        out = Outcome(*run_mechanism(streams.key, P, lever_arrays, start, float(horizon_day), ROOM))
        if out.finished:
            return RunRecord(
                start_day=initial.day,
                end_day=out.end_day,
                entered=out.entered,
                deadline=out.deadline,
                languages=out.languages,
                saq_lateness=out.saq_lateness,
                nominated_at=out.nominated_at,
                first_replaced_at=out.first_replaced_at,
                replacements=out.replacements,
                redraw_log=out.redraw_log,
                handover_log=out.handover_log,
                threshold_day=out.threshold_day,
                events=int(out.events),
                draws=int(out.draws),
                work_done=out.work_done,
            )
