"""The compiled engine: the processes of :mod:`workbench.simulation.model` as one event loop.

:mod:`workbench.simulation.model` (SimPy) is the reference and reads like the process; this
module runs the same processes some forty times faster (about 1.4 ms a replication), so that
planners get answers in seconds.  It holds no rule of its own: every duration, lever
effect, deadline and next stage comes from :mod:`workbench.simulation.rules` and the stage
table of :mod:`workbench.simulation.stages`, which the SimPy processes call too.  What is
left here is scheduling, the part that must differ from SimPy:

* a **party**'s first focal point comes at a time fixed when it is first involved; its
  experts follow; its focal point is then replaced from time to time: a *replace* event
  starts a handover, which pauses the work of its reviews, and a *handover end* resumes it;
* a **review** is a small state machine (``A_*`` actions): it waits (for its group, for
  nominations, for focal points in place, for experts, for the Secretariat) or works (a
  timer that a handover can interrupt, keeping the work left);
* the **Secretariat** is a count of busy officers and a first-come first-served queue;
  staffing changes hold or release officers ahead of the queue, as the SimPy model's
  priority holders do.

Events at the same time are handled in the order they were scheduled, as in SimPy, and
the same uniforms are drawn in the same order, so a replication follows the same path in
both engines (:mod:`workbench.simulation.divergence` finds the first event where they do not).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from workbench.inputs.levers import Levers
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import Pairings, first_involvement
from workbench.simulation import rules
from workbench.simulation.compiled import borrows_arrays
from workbench.simulation.layout import (
    C_EXPERTS,
    C_NOMINATION,
    C_REPLACEMENT,
    COMPLETED,
    L_STAFFING,
    N_PARTY_STREAMS,
    N_REVIEW_STREAMS,
    NOMINATIONS,
    P_GROUP1_TARGET,
    P_OFFICERS,
    P_REPLACEMENT_RATE,
    R_LANGUAGES,
    R_REDRAW,
    R_SECRETARIAT,
    REVIEW_STREAM_OFFSET,
    STAGE_AGREES_LANGUAGES,
    STAGE_STREAM,
    V_OFFICERS_CHANGE,
    LeverArrays,
    pack_levers,
    pack_parameters,
)
from workbench.simulation.schema import InitialState, RunRecord, check_staffing, party_traits
from workbench.simulation.streams import ReplicationStreams, stream_seed

# --- event kinds -------------------------------------------------------------------------
K_NOMINATE, K_EXPERTS, K_REPLACE, K_HANDOVER_END, K_STAFFING, K_SERVICE_END, K_REVIEW = range(7)

# --- what a review is waiting for ---------------------------------------------------------
W_RUNNING, W_GROUP, W_NOMINATIONS, W_REDRAW_DELAY, W_FOCAL_POINTS, W_WORK, W_EXPERTS, W_QUEUE, W_SERVICE, W_DONE = range(10)

# --- review actions ------------------------------------------------------------------------
A_BLOCK, A_ENTER, A_STEP, A_GATHER, A_PATIENCE_OVER, A_REDRAW, A_WORK, A_WORK_DONE, A_AFTER_WORK, A_AFTER_SERVICE = range(10)

WORK_EPSILON = 1e-9  # days of work left below which work counts as done (as in Review.work)


class Start(NamedTuple):
    """The initial state and the pairings, as the arrays the loop starts from."""

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
    day: float


# --- the calendar: events to come, in SimPy's order -------------------------------------------
# SimPy handles events by time and, at equal times, in the order they were scheduled.  Every event
# gets the next sequence number, and the calendar is a binary heap on (time, number), a total
# order, so it pops events exactly as SimPy does.  It is two flat arrays, with what each event is
# written once in a row of ``what`` under its number, and helpers that borrow the arrays
# (``heapq`` on a typed list of six-field tuples took 6 % more of the engine's time).  Events for
# the current instant (a review woken by a nomination, a handover's end) wait in a queue of their
# own, ``woken``: they come before every later event, so only their order against the heap's
# events of the same instant needs checking (a third of all events, 16 % of the engine's time).


@borrows_arrays
def _earlier(t1, k1, t2, k2):
    return t1 < t2 or (t1 == t2 and k1 < k2)


@borrows_arrays
def _number(what, counts, kind, subject, version, action):
    """Give a new event the next number, k, and write what it is in row k."""
    k = counts[1]
    counts[1] = k + 1
    what[k, 0] = kind
    what[k, 1] = subject
    what[k, 2] = version
    what[k, 3] = action
    return k


@borrows_arrays
def _schedule(times, numbers, what, counts, when, kind, subject, version, action):
    """Add an event at ``when``: (when, its number) goes in the heap."""
    k = _number(what, counts, kind, subject, version, action)
    pos = counts[0]
    counts[0] = pos + 1
    while pos > 0:  # move parents that come later down, then put the event in the hole
        parent = (pos - 1) >> 1
        if not _earlier(when, k, times[parent], numbers[parent]):
            break
        times[pos] = times[parent]
        numbers[pos] = numbers[parent]
        pos = parent
    times[pos] = when
    numbers[pos] = k


@borrows_arrays
def _schedule_now(woken, what, counts, kind, subject, version, action):
    """Add an event at the current time: it joins the queue of events for this instant, which
    all come before any later event, so it needs no place in the heap (a third of all events)."""
    woken[counts[3]] = _number(what, counts, kind, subject, version, action)
    counts[3] += 1


@borrows_arrays
def _next_event(times, numbers, counts, woken, now):
    """Remove the earliest event: its time and number; the calendar must not be empty.  An event
    of this instant's queue comes first unless the heap holds one of the same instant scheduled earlier."""
    if counts[2] < counts[3]:
        k = woken[counts[2]]
        if counts[0] == 0 or times[0] > now or numbers[0] > k:
            counts[2] += 1
            if counts[2] == counts[3]:
                counts[2] = counts[3] = 0
            return now, k
    when, k = times[0], numbers[0]
    last = counts[0] - 1
    counts[0] = last
    if last > 0:  # the last event fills the root's hole, sifted down past earlier children
        t_last, k_last = times[last], numbers[last]
        pos = 0
        child = 1
        while child < last:
            if child + 1 < last and _earlier(times[child + 1], numbers[child + 1], times[child], numbers[child]):
                child += 1
            if not _earlier(times[child], numbers[child], t_last, k_last):
                break
            times[pos] = times[child]
            numbers[pos] = numbers[child]
            pos = child
            child = 2 * pos + 1
        times[pos] = t_last
        numbers[pos] = k_last
    return when, k


@borrows_arrays
def _remove_review(party_reviews, party_n_reviews, p, r):
    """list.remove: drop review r from party p's list, keeping the others' order."""
    k = 0
    while party_reviews[p, k] != r:
        k += 1
    for j in range(k, party_n_reviews[p] - 1):
        party_reviews[p, j] = party_reviews[p, j + 1]
    party_n_reviews[p] -= 1


@borrows_arrays
def _all_in_place(has_focal_point, in_handover, a, b, c):
    """Review.all_in_place: the three focal points exist and none is handing over."""
    return has_focal_point[a] and has_focal_point[b] and has_focal_point[c] and not (in_handover[a] or in_handover[b] or in_handover[c])


#: Rows of the arrays that can fill up during a run (R_*), and how many a run starts with.
R_HEAP, R_EVENTS, R_HANDOVERS, R_REDRAWS, R_NOW = range(5)

#: The room runs in this process start with: a run that needed more leaves it here for the next.
ROOM = np.array([1024, 16384, 2048, 512, 1024], np.int64)


@njit(cache=True)
def run_mechanism(key, P, levers, start, horizon_day, room):
    """One replication from the initial state to the horizon: whether it finished, then the
    fields of a RunRecord after ``start_day``, in order.

    The arrays that grow with the run (the calendar, the log of handovers) have the sizes in
    ``room``.  A run that would overflow one stops, doubles that entry of ``room`` and returns
    False; :func:`run_compiled` then runs it again, drawing the same numbers.  Growing arrays
    in the loop instead would make them loop-carried variables, whose reference counting on
    every event cost a fifth of the engine's time.
    """
    group, members_in = start.group, start.members
    n = group.shape[0]
    m = start.nominated_at.shape[0]
    day0 = start.day

    # ---- state -----------------------------------------------------------------------
    members = members_in.copy()
    stage = start.stage.copy()
    entered = start.entered.copy()
    deadline = start.deadline.copy()
    languages = start.languages.copy()
    saq_lateness = start.saq_lateness.copy()
    nominated_at = start.nominated_at.copy()
    first_replaced = start.first_replaced.copy()
    replacements = np.zeros(m, np.int64)
    responsiveness = start.responsiveness.copy()

    has_focal_point = np.zeros(m, np.bool_)
    has_experts = np.zeros(m, np.bool_)
    in_handover = np.zeros(m, np.bool_)
    open_reviews_of = np.zeros(m, np.int64)
    party_reviews = np.empty((m, n), np.int64)  # the reviews each party takes part in, in SimPy's list order
    party_n_reviews = np.zeros(m, np.int64)
    handover_row = np.full(m, -1, np.int64)

    party_seed = np.empty((m, N_PARTY_STREAMS), np.uint64)
    party_draws = np.zeros((m, N_PARTY_STREAMS), np.int64)
    review_seed = np.empty((n, N_REVIEW_STREAMS), np.uint64)
    review_draws = np.zeros((n, N_REVIEW_STREAMS), np.int64)
    for p in range(m):
        for c in range(N_PARTY_STREAMS):
            party_seed[p, c] = stream_seed(key, c, p)
    for r in range(n):
        for c in range(N_REVIEW_STREAMS):
            review_seed[r, c] = stream_seed(key, REVIEW_STREAM_OFFSET + c, r)
    # The first two responsiveness draws went to the initial state; revivals draw elsewhere.

    waiting = np.full(n, W_RUNNING, np.int64)
    resume_with = np.zeros(n, np.int64)  # the action a review takes when its focal points are back
    version = np.zeros(n, np.int64)  # bumps invalidate a review's pending timers
    next_stage = np.zeros(n, np.int64)
    age = np.zeros(n, np.float64)
    remaining = np.zeros(n, np.float64)
    started = np.zeros(n, np.float64)
    service = np.zeros(n, np.float64)
    waiting_since = np.zeros(n, np.float64)
    redraw_rounds = np.zeros(n, np.int64)  # repeated draws of lots for the review so far (at most four, ¶6)
    redraw_wait = np.zeros(n, np.float64)  # days from the request to the new draw

    redraw_log = np.empty((room[R_REDRAWS], 5))
    n_redraws = 0
    handover_log = np.empty((room[R_HANDOVERS], 3))
    n_handovers = 0
    events = 0

    # The Secretariat: officers busy, first-come first-served queue, and staffing holders.
    officers = int(P[P_OFFICERS])
    change = int(levers.value[V_OFFICERS_CHANGE]) if math.isfinite(levers.start[L_STAFFING]) else 0
    capacity = max(officers, officers + change)
    busy = 0
    queue = np.empty(n, np.int64)  # a ring: no review waits twice at once
    queue_head = 0
    queue_length = 0
    waiting_holders = 0

    group1_target = int(P[P_GROUP1_TARGET])
    group1_completed = 0
    open_reviews = 0
    threshold_day = np.nan
    for r in range(n):
        if stage[r] == COMPLETED:
            if group[r] == 1:
                group1_completed += 1
        else:
            open_reviews += 1

    # The calendar of events to come (see _schedule); room for the start's, more made as the loop goes.
    times = np.empty(max(room[R_HEAP], 2 * (n + m) + 16))
    numbers = np.empty(times.shape[0], np.int64)
    what = np.empty((max(room[R_EVENTS], 2 * (n + m) + 16), 4), np.int64)
    woken = np.empty(max(room[R_NOW], n + 16), np.int64)  # this instant's events, in order
    counts = np.zeros(4, np.int64)  # events in the heap, events scheduled so far, this instant's queue: next and end

    # ---- start: the Secretariat's holders, the parties, then the reviews ---------------
    now = day0
    if change > 0:
        busy = change  # officers not yet recruited, held until the start date
        _schedule(times, numbers, what, counts, now + max(0.0, levers.start[L_STAFFING] - now), K_STAFFING, 0, 0, 0)
    elif change < 0:
        when = now + (levers.start[L_STAFFING] - now) if levers.start[L_STAFFING] > now else now
        _schedule(times, numbers, what, counts, when, K_STAFFING, 0, 0, 0)

    for r in range(n):
        for j in range(3):
            p = members[r, j]
            party_reviews[p, party_n_reviews[p]] = r
            party_n_reviews[p] += 1
            if stage[r] != COMPLETED:
                open_reviews_of[p] += 1

    for p in range(m):
        if math.isfinite(nominated_at[p]) or nominated_at[p] == -math.inf:
            has_focal_point[p] = True
            has_experts[p] = True
            if P[P_REPLACEMENT_RATE] > 0:
                gap, party_draws[p, C_REPLACEMENT] = rules.replacement_gap(party_seed[p, C_REPLACEMENT], party_draws[p, C_REPLACEMENT], P)
                _schedule(times, numbers, what, counts, now + gap, K_REPLACE, p, 0, 0)
            continue
        # Party.life: wait to be involved, then nominate after a draw of effort.
        t = now
        if start.first_involved[p] > t:
            t = t + (start.first_involved[p] - t)
        if not rules.nominates(p, start.silent[p], levers):
            continue
        delay, party_draws[p, C_NOMINATION] = rules.nomination_delay(
            party_seed[p, C_NOMINATION], party_draws[p, C_NOMINATION], t, p, start.silent[p], responsiveness[p], P, levers
        )
        _schedule(times, numbers, what, counts, t + delay, K_NOMINATE, p, 0, 0)

    for r in range(n):
        s = stage[r]
        if s == COMPLETED:
            waiting[r] = W_DONE
            continue
        if s < 0:
            waiting[r] = W_GROUP
            next_stage[r] = NOMINATIONS
            _schedule(times, numbers, what, counts, now + (start.group_start_of_review[r] - now), K_REVIEW, r, 0, A_ENTER)
        else:
            known = entered[r, s]
            age[r] = max(0.0, day0 - known) if math.isfinite(known) else 0.0
            _schedule_now(woken, what, counts, K_REVIEW, r, 0, A_STEP)

    end_day = day0 + max(0.0, horizon_day - day0)
    if open_reviews == 0:
        end_day = day0
        counts[0] = 0
        counts[3] = 0

    # ---- the event loop ---------------------------------------------------------------
    most = n + capacity + 8  # the most events one event can schedule
    finished = True
    while counts[0] > 0 or counts[2] < counts[3]:
        full, size = -1, 0  # an array this event could overflow, and its size
        if counts[0] + most > times.shape[0]:
            full, size = R_HEAP, times.shape[0]
        elif counts[1] + most > what.shape[0]:
            full, size = R_EVENTS, what.shape[0]
        elif n_handovers + 1 > handover_log.shape[0]:
            full, size = R_HANDOVERS, handover_log.shape[0]
        elif n_redraws + 2 > redraw_log.shape[0]:
            full, size = R_REDRAWS, redraw_log.shape[0]
        elif counts[3] + most > woken.shape[0]:
            full, size = R_NOW, woken.shape[0]
        if full >= 0:  # stop, with more room for the run again
            room[full] = 2 * size
            finished = False
            break
        now, k = _next_event(times, numbers, counts, woken, now)
        kind, idx, ver, action = what[k, 0], what[k, 1], what[k, 2], what[k, 3]
        if now > end_day:
            break

        if kind == K_NOMINATE:  # Party.appoint_focal_point
            p = idx
            has_focal_point[p] = True
            nominated_at[p] = now
            events += 1
            lag, party_draws[p, C_EXPERTS] = rules.experts_delay(party_seed[p, C_EXPERTS], party_draws[p, C_EXPERTS], P)
            _schedule(times, numbers, what, counts, now + lag, K_EXPERTS, p, 0, 0)
            if P[P_REPLACEMENT_RATE] > 0:
                gap, party_draws[p, C_REPLACEMENT] = rules.replacement_gap(party_seed[p, C_REPLACEMENT], party_draws[p, C_REPLACEMENT], P)
                _schedule(times, numbers, what, counts, now + gap, K_REPLACE, p, 0, 0)
            for k in range(party_n_reviews[p]):
                r = party_reviews[p, k]
                wake = False
                if waiting[r] == W_NOMINATIONS:
                    wake = has_focal_point[members[r, 0]] and has_focal_point[members[r, 1]] and has_focal_point[members[r, 2]]
                    action = A_GATHER
                elif waiting[r] == W_FOCAL_POINTS:
                    wake = True
                    action = resume_with[r]
                if wake:
                    version[r] += 1
                    waiting[r] = W_RUNNING
                    _schedule_now(woken, what, counts, K_REVIEW, r, version[r], action)
            continue

        if kind == K_EXPERTS:
            p = idx
            has_experts[p] = True
            for k in range(party_n_reviews[p]):
                r = party_reviews[p, k]
                if waiting[r] == W_EXPERTS:
                    version[r] += 1
                    waiting[r] = W_RUNNING
                    _schedule_now(woken, what, counts, K_REVIEW, r, version[r], A_STEP)
            continue

        if kind == K_REPLACE:  # Party.replace_focal_points: a focal point leaves
            p = idx
            if open_reviews_of[p] == 0:
                continue  # nothing left that a replacement could affect
            replacements[p] += 1
            events += 1
            if math.isnan(first_replaced[p]):
                first_replaced[p] = now
            handover_log[n_handovers, 0] = p
            handover_log[n_handovers, 1] = now
            handover_log[n_handovers, 2] = math.inf
            handover_row[p] = n_handovers
            n_handovers += 1
            in_handover[p] = True
            for k in range(party_n_reviews[p]):
                r = party_reviews[p, k]
                if waiting[r] == W_WORK:  # Review.pause: keep the work left
                    remaining[r] -= now - started[r]
                    version[r] += 1
                    if remaining[r] > WORK_EPSILON:
                        waiting[r] = W_FOCAL_POINTS
                        resume_with[r] = A_WORK
                    else:
                        waiting[r] = W_RUNNING
                        _schedule_now(woken, what, counts, K_REVIEW, r, version[r], A_AFTER_WORK)
            stall, party_draws[p, C_REPLACEMENT] = rules.handover_stall(
                party_seed[p, C_REPLACEMENT], party_draws[p, C_REPLACEMENT], now, p, P, levers
            )
            _schedule(times, numbers, what, counts, now + stall, K_HANDOVER_END, p, 0, 0)
            continue

        if kind == K_HANDOVER_END:  # the new focal point has taken over
            p = idx
            responsiveness[p], party_draws[p, C_REPLACEMENT] = rules.responsiveness_after_handover(
                party_seed[p, C_REPLACEMENT], party_draws[p, C_REPLACEMENT], responsiveness[p], P
            )
            in_handover[p] = False
            handover_log[handover_row[p], 2] = now
            gap, party_draws[p, C_REPLACEMENT] = rules.replacement_gap(party_seed[p, C_REPLACEMENT], party_draws[p, C_REPLACEMENT], P)
            _schedule(times, numbers, what, counts, now + gap, K_REPLACE, p, 0, 0)
            for k in range(party_n_reviews[p]):
                r = party_reviews[p, k]
                if waiting[r] == W_FOCAL_POINTS:
                    version[r] += 1
                    waiting[r] = W_RUNNING
                    _schedule_now(woken, what, counts, K_REVIEW, r, version[r], resume_with[r])
            continue

        if kind == K_STAFFING and change < 0:  # officers leave: they take the next free desks, ahead of any review
            waiting_holders += -change
            while waiting_holders > 0 and busy < capacity:
                busy += 1
                waiting_holders -= 1
            continue

        if kind == K_STAFFING or kind == K_SERVICE_END:
            # Desks come free (the recruits arrive, or a review's service ends): each goes to an
            # officer waiting to leave, else to the next review in the queue.
            for _ in range(change if kind == K_STAFFING else 1):
                busy -= 1
                if waiting_holders > 0:
                    busy += 1
                    waiting_holders -= 1
                elif queue_length > 0:
                    r2 = queue[queue_head]
                    queue_head = (queue_head + 1) % n
                    queue_length -= 1
                    busy += 1
                    waiting[r2] = W_SERVICE
                    _schedule(times, numbers, what, counts, now + service[r2], K_SERVICE_END, r2, 0, 0)
            if kind == K_STAFFING:
                continue
            r = idx
            waiting[r] = W_RUNNING
            action = A_AFTER_SERVICE
        else:  # K_REVIEW
            r = idx
            if ver != version[r]:
                continue  # superseded (interrupted work, or nominations came first)
            waiting[r] = W_RUNNING

        # ---- the review's state machine, until it has to wait ----------------------
        g = group[r]
        while action != A_BLOCK:
            a, b, c = members[r, 0], members[r, 1], members[r, 2]
            if action == A_ENTER:  # Review.enter: only with all focal points in place (except nominations)
                s = next_stage[r]
                if s != NOMINATIONS and not _all_in_place(has_focal_point, in_handover, a, b, c):
                    waiting[r] = W_FOCAL_POINTS
                    resume_with[r] = A_ENTER
                    action = A_BLOCK
                    continue
                stage[r] = s
                rules.record_entry(r, s, now, entered, deadline, saq_lateness, P)
                events += 1
                if s == COMPLETED:
                    waiting[r] = W_DONE
                    open_reviews -= 1
                    open_reviews_of[a] -= 1
                    open_reviews_of[b] -= 1
                    open_reviews_of[c] -= 1
                    if g == 1:
                        group1_completed += 1
                        if group1_completed == group1_target:
                            threshold_day = now
                    action = A_BLOCK
                    continue
                age[r] = 0.0
                action = A_STEP
                continue

            if action == A_STEP:  # begin the stage's work, as the stage table says
                s = stage[r]
                if s == NOMINATIONS:  # Review.gather_focal_points
                    redraw_rounds[r], since = rules.redraws_before(age[r], P)
                    waiting_since[r] = now - since
                    action = A_GATHER
                    continue
                if not rules.experts_ready(s, has_experts, a, b, c):
                    waiting[r] = W_EXPERTS
                    action = A_BLOCK
                    continue
                col = STAGE_STREAM[s]
                remaining[r], review_draws[r, col] = rules.work_days(
                    review_seed[r, col], review_draws[r, col], s, now, g, a, b, c, languages[r], responsiveness, P, levers, age[r]
                )
                action = A_WORK
                continue

            if action == A_GATHER:  # no review can begin until all three focal points exist (¶26)
                if has_focal_point[a] and has_focal_point[b] and has_focal_point[c]:
                    next_stage[r] = NOMINATIONS + 1
                    action = A_ENTER
                    continue
                waiting[r] = W_NOMINATIONS
                if redraw_rounds[r] < rules.REDRAWS_ALLOWED and not (has_focal_point[b] and has_focal_point[c]):
                    patience_ends, redraw_wait[r] = rules.redraw_schedule(waiting_since[r], g, a, b, c, P, levers)
                    if math.isfinite(patience_ends):
                        version[r] += 1
                        _schedule(
                            times, numbers, what, counts, now + max(0.0, patience_ends - now), K_REVIEW, r, version[r], A_PATIENCE_OVER
                        )
                action = A_BLOCK
                continue

            if action == A_PATIENCE_OVER:  # a reviewing State has not nominated: a redraw is requested
                waiting[r] = W_REDRAW_DELAY
                version[r] += 1
                _schedule(times, numbers, what, counts, now + redraw_wait[r], K_REVIEW, r, version[r], A_REDRAW)
                action = A_BLOCK
                continue

            if action == A_REDRAW:  # Mechanism.redraw_reviewer, for each reviewer still missing
                redraw_rounds[r] += 1
                for slot in (1, 2):
                    old = members[r, slot]
                    if has_focal_point[old]:
                        continue
                    new, review_draws[r, R_REDRAW] = rules.redraw_reviewer(
                        review_seed[r, R_REDRAW], review_draws[r, R_REDRAW], has_focal_point, members[r, 0], members[r, 1], members[r, 2]
                    )
                    if new < 0:
                        continue
                    members[r, slot] = new
                    _remove_review(party_reviews, party_n_reviews, old, r)
                    party_reviews[new, party_n_reviews[new]] = r
                    party_n_reviews[new] += 1
                    open_reviews_of[old] -= 1
                    open_reviews_of[new] += 1
                    redraw_log[n_redraws, 0] = now
                    redraw_log[n_redraws, 1] = r
                    redraw_log[n_redraws, 2] = slot
                    redraw_log[n_redraws, 3] = old
                    redraw_log[n_redraws, 4] = new
                    n_redraws += 1
                    events += 1
                waiting_since[r] = now
                action = A_GATHER
                continue

            if action == A_WORK:  # Review.work: progress only while all focal points are in place
                if remaining[r] <= WORK_EPSILON:
                    action = A_AFTER_WORK
                    continue
                if not _all_in_place(has_focal_point, in_handover, a, b, c):
                    waiting[r] = W_FOCAL_POINTS
                    resume_with[r] = A_WORK
                    action = A_BLOCK
                    continue
                started[r] = now
                version[r] += 1
                waiting[r] = W_WORK
                _schedule(times, numbers, what, counts, now + remaining[r], K_REVIEW, r, version[r], A_WORK_DONE)
                action = A_BLOCK
                continue

            if action == A_WORK_DONE:
                remaining[r] = 0.0
                action = A_AFTER_WORK
                continue

            if action == A_AFTER_WORK:
                s = stage[r]
                if rules.needs_secretariat(s):  # an officer organizes or facilitates, first come first served
                    service[r], review_draws[r, R_SECRETARIAT] = rules.secretariat_days(
                        review_seed[r, R_SECRETARIAT], review_draws[r, R_SECRETARIAT], s, P
                    )
                    if busy < capacity:
                        busy += 1
                        waiting[r] = W_SERVICE
                        _schedule(times, numbers, what, counts, now + service[r], K_SERVICE_END, r, 0, 0)
                    else:
                        queue[(queue_head + queue_length) % n] = r
                        queue_length += 1
                        waiting[r] = W_QUEUE
                    action = A_BLOCK
                    continue
                action = A_AFTER_SERVICE
                continue

            if action == A_AFTER_SERVICE:
                s = stage[r]
                if STAGE_AGREES_LANGUAGES[s]:  # working languages agreed at the consultation (¶27-28)
                    languages[r], review_draws[r, R_LANGUAGES] = rules.languages_agreed(
                        review_seed[r, R_LANGUAGES], review_draws[r, R_LANGUAGES], P
                    )
                next_stage[r] = s + 1
                action = A_ENTER
                continue
            action = A_BLOCK  # unreachable: every action is handled above

        if open_reviews == 0:
            end_day = now
            break

    draws = party_draws.sum() + review_draws.sum()
    # In RunRecord's field order after start_day, so that the caller can build it directly.
    return (
        finished,
        end_day,
        entered,
        deadline,
        languages,
        saq_lateness,
        nominated_at,
        first_replaced,
        replacements,
        redraw_log[:n_redraws].copy(),
        handover_log[:n_handovers].copy(),
        threshold_day,
        events,
        draws,
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
        day=float(initial.day),
    )


def run_compiled(
    params: Parameters, pairings: Pairings, initial: InitialState, streams: ReplicationStreams, horizon_day: float, levers: Levers
) -> RunRecord:
    """The compiled twin of ``Mechanism(params, pairings, initial, streams, horizon_day, levers).run()``."""
    check_staffing(params, levers)  # as Mechanism does
    responsiveness, silent = party_traits(initial, streams, params)
    lever_arrays: LeverArrays = pack_levers(levers, pairings)
    P = pack_parameters(params, int(np.sum(pairings.group == 1)))
    start = engine_start(pairings, initial, responsiveness, silent)
    while True:  # a run that ran out of room has made more (in ROOM) and is run again, drawing the same numbers
        finished, *fields, events, draws = run_mechanism(streams.key, P, lever_arrays, start, float(horizon_day), ROOM)
        if finished:
            return RunRecord(initial.day, *fields, events=int(events), draws=int(draws))
