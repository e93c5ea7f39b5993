"""The compiled engine: the SimPy model of :mod:`workbench.model`, step for step, in Numba.

:mod:`workbench.model` defines the behaviour and stays the reference; this module runs the
same processes as an explicit event loop, some forty times faster (about 1 ms a
replication against 50 ms), so that planners get answers in seconds.  It draws the same uniforms from the same streams in the same
order (:mod:`workbench.streams`) and turns them into durations with the same compiled
functions, so a replication follows the same path in both engines; the test suite checks
that replication by replication and, as the issue asks, with two-sample tests on the 70 %
date and on stage counts for the baseline and every scenario.

How the processes map onto the loop:

* a **party**'s first focal point comes at a time fixed when it is first involved (its
  nomination draw depends on nothing else); its experts follow; its focal point is then
  replaced from time to time: a *replace* event starts a handover, which pauses the work
  of its reviews, and a *handover end* event resumes them;
* a **review** is a small state machine (``A_*`` actions below): it waits (for its group,
  for nominations, for focal points in place, for experts, for the Secretariat) or works
  (a timer that a handover can interrupt, keeping the work left);
* the **Secretariat** is a count of busy officers and a first-come first-served queue;
  staffing changes hold or release officers ahead of the queue, as the SimPy model's
  priority holders do.

Events at the same time are handled in the order they were scheduled, as in SimPy.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
from numba import njit

from .streams import (gamma_mean_one_from, lognormal_beyond_from, lognormal_from, stream_seed, uniform_at)
from .timeline import DAYS_PER_MONTH, DAYS_PER_YEAR

# --- parameter vector (see pack_parameters in workbench.fast) -------------------------
P_NOMINATION_RATE, P_SHAPE, P_EXPERT_LAG, P_REPLACEMENT_RATE, P_HANDOVER, P_REVIVE, P_COUPLING = range(7)
P_SCHEDULING, P_OFFICERS, P_PREPARATION, P_ONE_LANGUAGE, P_THREE_LANGUAGES, P_EXTRA_LANGUAGE = range(7, 13)
P_SAQ_DEADLINE, P_SAQ_MEDIAN, P_SAQ_SIGMA = range(13, 16)
P_FEEDBACK_DEADLINE, P_FEEDBACK_MEDIAN, P_FEEDBACK_SIGMA, P_FEEDBACK_COORDINATION = range(16, 20)
P_LISTS_DEADLINE, P_LISTS_MEDIAN, P_LISTS_SIGMA, P_FACILITATION, P_SUMMARIES_MEDIAN, P_SUMMARIES_SIGMA = range(20, 26)
P_GROUP1_TARGET = 26
N_PARAMETERS = 27

# --- levers: index of each lever, and its effect values ---------------------------------
L_FOLLOW_UP, L_HANDOVER, L_REDRAW, L_SCHEDULING, L_TRAINING, L_TASK_SPLIT, L_CONSENSUS, L_TRANSLATION, L_STAFFING = range(9)
N_LEVERS = 9
V_FOLLOW_MULTIPLIER, V_FOLLOW_SILENT_RATE, V_HANDOVER_FACTOR, V_REDRAW_AFTER, V_REDRAW_DELAY = range(5)
V_SCHEDULING_FACTOR, V_TRAINING_SAQ, V_TRAINING_FEEDBACK, V_DRAFTING, V_COORDINATION = range(5, 10)
V_CONSENSUS_FACTOR, V_TRANSLATION_FACTOR, V_OFFICERS_CHANGE = range(10, 13)
N_LEVER_VALUES = 13

# --- stream components (indices as in workbench.streams) --------------------------------
C_RESPONSIVENESS, C_NOMINATION, C_EXPERTS, C_REPLACEMENT = 0, 1, 2, 3
C_CONSULTATION, C_SECRETARIAT, C_LANGUAGES, C_SAQ, C_FEEDBACK, C_LISTS, C_SUMMARIES, C_REDRAW = range(100, 108)
N_PARTY_STREAMS = 4
N_REVIEW_STREAMS = 8

# --- stages (workbench.model.Stage) -------------------------------------------------------
NOMINATIONS, CONSULTATION, SAQ, WRITTEN_FEEDBACK, LISTS, SUMMARIES, COMPLETED = range(7)

# --- event kinds -------------------------------------------------------------------------
K_NOMINATE, K_EXPERTS, K_REPLACE, K_HANDOVER_END, K_STAFFING, K_SERVICE_END, K_REVIEW = range(7)

# --- what a review is waiting for ---------------------------------------------------------
W_RUNNING, W_GROUP, W_NOMINATIONS, W_REDRAW_DELAY, W_FOCAL_POINTS, W_WORK, W_EXPERTS, W_QUEUE, W_SERVICE, W_DONE = range(10)

# --- review actions ------------------------------------------------------------------------
A_BLOCK, A_ENTER, A_STEP, A_GATHER, A_PATIENCE_OVER, A_REDRAW, A_WORK, A_WORK_DONE, A_AFTER_WORK, A_AFTER_SERVICE = range(10)

WORK_EPSILON = 1e-9  # days of work left below which work counts as done (as in Review.work)


@njit(cache=True)
def _exponential(u_seed, counts, row, col, mean):
    """Review.stream(...).exponential(mean): no draw at all when the mean is not positive."""
    if mean > 0:
        u = uniform_at(u_seed, counts[row, col])
        counts[row, col] += 1
        return -mean * math.log1p(-u)
    return 0.0


@njit(cache=True)
def _uniform(u_seed, counts, row, col):
    u = uniform_at(u_seed, counts[row, col])
    counts[row, col] += 1
    return u


@njit(cache=True)
def _grow(log, used):
    if used < log.shape[0]:
        return log
    bigger = np.full((2 * log.shape[0], log.shape[1]), np.nan)
    bigger[:used] = log[:used]
    return bigger


@njit(cache=True)
def run_mechanism(key, P, lever_start, lever_value, lever_groups, lever_named, lever_party_named, lever_party_reach,
                  group, members_in, stage_in, entered_in, deadline_in, languages_in, saq_lateness_in,
                  nominated_in, first_replaced_in, responsiveness_in, silent_in, group_start_of_review,
                  first_involved, day0, horizon_day):
    """One replication from the initial state to the horizon. Returns the arrays of a RunRecord."""
    n = group.shape[0]
    m = nominated_in.shape[0]
    months = DAYS_PER_MONTH

    # ---- state -----------------------------------------------------------------------
    members = members_in.copy()
    stage = stage_in.copy()
    entered = entered_in.copy()
    deadline = deadline_in.copy()
    languages = languages_in.copy()
    saq_lateness = saq_lateness_in.copy()
    nominated_at = nominated_in.copy()
    first_replaced = first_replaced_in.copy()
    replacements = np.zeros(m, np.int64)
    responsiveness = responsiveness_in.copy()
    coupling = P[P_COUPLING]

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
            review_seed[r, c] = stream_seed(key, C_CONSULTATION + c, r)
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
    redraw_on = np.zeros(n, np.bool_)

    redraw_log = np.full((16, 5), np.nan)
    n_redraws = 0
    handover_log = np.full((256, 3), np.nan)
    n_handovers = 0
    events = 0

    # The Secretariat: officers busy, first-come first-served queue, and staffing holders.
    officers = int(P[P_OFFICERS])
    change = int(lever_value[V_OFFICERS_CHANGE]) if math.isfinite(lever_start[L_STAFFING]) else 0
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

    heap = [(0.0, 0, 0, 0, 0, 0)]
    heap.pop()
    seq = 0

    # ---- start: the Secretariat's holders, the parties, then the reviews ---------------
    now = day0
    if change > 0:
        busy = change  # officers not yet recruited, held until the start date
        heapq.heappush(heap, (now + max(0.0, lever_start[L_STAFFING] - now), seq, K_STAFFING, 0, 0, 0))
        seq += 1
    elif change < 0:
        when = now + (lever_start[L_STAFFING] - now) if lever_start[L_STAFFING] > now else now
        heapq.heappush(heap, (when, seq, K_STAFFING, 0, 0, 0))
        seq += 1

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
                gap = _exponential(party_seed[p, C_REPLACEMENT], party_draws, p, C_REPLACEMENT, DAYS_PER_YEAR / P[P_REPLACEMENT_RATE])
                heapq.heappush(heap, (now + gap, seq, K_REPLACE, p, 0, 0))
                seq += 1
            continue
        # Party.life: wait to be involved, then nominate after a draw of effort.
        t = now
        if first_involved[p] > t:
            t = t + (first_involved[p] - t)
        follow = math.isfinite(lever_start[L_FOLLOW_UP]) and lever_party_reach[L_FOLLOW_UP, p]
        if silent_in[p] and (not follow or lever_value[V_FOLLOW_SILENT_RATE] <= 0):
            continue
        u = _uniform(party_seed[p, C_NOMINATION], party_draws, p, C_NOMINATION)
        effort = -math.log1p(-u)
        if silent_in[p]:
            begin = max(t, lever_start[L_FOLLOW_UP])
            delay = begin - t + (effort / lever_value[V_FOLLOW_SILENT_RATE]) * months
        else:
            mean_months = 1.0 / (P[P_NOMINATION_RATE] * responsiveness[p])
            delay = (mean_months * effort) * months
            multiplier = lever_value[V_FOLLOW_MULTIPLIER]
            if follow and multiplier != 1.0 and lever_start[L_FOLLOW_UP] < t + delay:
                begin = max(t, lever_start[L_FOLLOW_UP])
                spent = (begin - t) / (mean_months * months)
                delay = begin - t + (mean_months * (effort - spent) / multiplier) * months
        heapq.heappush(heap, (t + delay, seq, K_NOMINATE, p, 0, 0))
        seq += 1

    for r in range(n):
        s = stage[r]
        if s == COMPLETED:
            waiting[r] = W_DONE
            continue
        if s < 0:
            waiting[r] = W_GROUP
            next_stage[r] = NOMINATIONS
            heapq.heappush(heap, (now + (group_start_of_review[r] - now), seq, K_REVIEW, r, 0, A_ENTER))
        else:
            known = entered[r, s]
            age[r] = max(0.0, day0 - known) if math.isfinite(known) else 0.0
            heapq.heappush(heap, (now, seq, K_REVIEW, r, 0, A_STEP))
        seq += 1

    end_day = day0 + max(0.0, horizon_day - day0)
    if open_reviews == 0:
        end_day = day0
        heap.clear()

    # ---- the event loop ---------------------------------------------------------------
    while len(heap) > 0:
        now, _, kind, idx, ver, action = heapq.heappop(heap)
        if now > end_day:
            break

        if kind == K_NOMINATE:  # Party.appoint_focal_point
            p = idx
            has_focal_point[p] = True
            nominated_at[p] = now
            events += 1
            lag = _exponential(party_seed[p, C_EXPERTS], party_draws, p, C_EXPERTS, P[P_EXPERT_LAG])
            heapq.heappush(heap, (now + lag * months, seq, K_EXPERTS, p, 0, 0))
            seq += 1
            if P[P_REPLACEMENT_RATE] > 0:
                gap = _exponential(party_seed[p, C_REPLACEMENT], party_draws, p, C_REPLACEMENT, DAYS_PER_YEAR / P[P_REPLACEMENT_RATE])
                heapq.heappush(heap, (now + gap, seq, K_REPLACE, p, 0, 0))
                seq += 1
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
                    heapq.heappush(heap, (now, seq, K_REVIEW, r, version[r], action))
                    seq += 1
            continue

        if kind == K_EXPERTS:
            p = idx
            has_experts[p] = True
            for k in range(party_n_reviews[p]):
                r = party_reviews[p, k]
                if waiting[r] == W_EXPERTS:
                    version[r] += 1
                    waiting[r] = W_RUNNING
                    heapq.heappush(heap, (now, seq, K_REVIEW, r, version[r], A_STEP))
                    seq += 1
            continue

        if kind == K_REPLACE:  # Party.replace_focal_points: a focal point leaves
            p = idx
            if open_reviews_of[p] == 0:
                continue  # nothing left that a replacement could affect
            replacements[p] += 1
            events += 1
            if math.isnan(first_replaced[p]):
                first_replaced[p] = now
            handover_log = _grow(handover_log, n_handovers)
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
                        heapq.heappush(heap, (now, seq, K_REVIEW, r, version[r], A_AFTER_WORK))
                        seq += 1
            stall = _exponential(party_seed[p, C_REPLACEMENT], party_draws, p, C_REPLACEMENT, P[P_HANDOVER]) * months
            if now >= lever_start[L_HANDOVER] and lever_party_reach[L_HANDOVER, p]:
                stall *= lever_value[V_HANDOVER_FACTOR]
            heapq.heappush(heap, (now + stall, seq, K_HANDOVER_END, p, 0, 0))
            seq += 1
            continue

        if kind == K_HANDOVER_END:  # the new focal point has taken over
            p = idx
            if _uniform(party_seed[p, C_REPLACEMENT], party_draws, p, C_REPLACEMENT) < P[P_REVIVE]:
                responsiveness[p] = gamma_mean_one_from(_uniform(party_seed[p, C_REPLACEMENT], party_draws, p, C_REPLACEMENT), P[P_SHAPE])
            in_handover[p] = False
            handover_log[handover_row[p], 2] = now
            gap = _exponential(party_seed[p, C_REPLACEMENT], party_draws, p, C_REPLACEMENT, DAYS_PER_YEAR / P[P_REPLACEMENT_RATE])
            heapq.heappush(heap, (now + gap, seq, K_REPLACE, p, 0, 0))
            seq += 1
            for k in range(party_n_reviews[p]):
                r = party_reviews[p, k]
                if waiting[r] == W_FOCAL_POINTS:
                    version[r] += 1
                    waiting[r] = W_RUNNING
                    heapq.heappush(heap, (now, seq, K_REVIEW, r, version[r], resume_with[r]))
                    seq += 1
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
                    heapq.heappush(heap, (now + service[r2], seq, K_SERVICE_END, r2, 0, 0))
                    seq += 1
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
            if action == A_ENTER:
                s = next_stage[r]
                if s != NOMINATIONS and (in_handover[a] or in_handover[b] or in_handover[c]
                                         or not (has_focal_point[a] and has_focal_point[b] and has_focal_point[c])):
                    waiting[r] = W_FOCAL_POINTS
                    resume_with[r] = A_ENTER
                    action = A_BLOCK
                    continue
                stage[r] = s
                entered[r, s] = now
                if s == SAQ:
                    deadline[r, s] = now + P[P_SAQ_DEADLINE] * months
                elif s == WRITTEN_FEEDBACK:
                    deadline[r, s] = now + P[P_FEEDBACK_DEADLINE] * months
                    saq_lateness[r] = now - deadline[r, SAQ]
                elif s == LISTS:
                    deadline[r, s] = now + P[P_LISTS_DEADLINE] * months
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

            if action == A_STEP:
                s = stage[r]
                if s == NOMINATIONS:  # Review.gather_focal_points
                    redraw_on[r] = math.isfinite(lever_start[L_REDRAW]) and _reaches(L_REDRAW, g, a, b, c, lever_groups, lever_named, lever_party_named)
                    waiting_since[r] = now - age[r]
                    action = A_GATHER
                elif s == CONSULTATION:  # Review.hold_consultation
                    factor = _factor(L_SCHEDULING, V_SCHEDULING_FACTOR, now, g, a, b, c, lever_start, lever_value, lever_groups, lever_named, lever_party_named)
                    mean = P[P_SCHEDULING] * _slowest(responsiveness, a, b, c, coupling) * factor
                    remaining[r] = _exponential(review_seed[r, 0], review_draws, r, 0, mean) * months
                    action = A_WORK
                elif s == SAQ:  # Review.answer_questionnaire
                    if not has_experts[a]:
                        waiting[r] = W_EXPERTS
                        action = A_BLOCK
                        continue
                    factor = _factor(L_TRAINING, V_TRAINING_SAQ, now, g, a, b, c, lever_start, lever_value, lever_groups, lever_named, lever_party_named)
                    language_factor = _language_factor(now, g, a, b, c, languages[r], P, lever_start, lever_value, lever_groups, lever_named, lever_party_named)
                    median = P[P_SAQ_MEDIAN] * responsiveness[a] ** (-coupling) * language_factor * factor
                    remaining[r] = _stage_duration(review_seed[r, C_SAQ - C_CONSULTATION], review_draws, r, C_SAQ - C_CONSULTATION,
                                                   median, P[P_SAQ_SIGMA], age[r])
                    action = A_WORK
                elif s == WRITTEN_FEEDBACK:  # Review.write_feedback
                    if not (has_experts[b] and has_experts[c]):
                        waiting[r] = W_EXPERTS
                        action = A_BLOCK
                        continue
                    training = _factor(L_TRAINING, V_TRAINING_FEEDBACK, now, g, a, b, c, lever_start, lever_value, lever_groups, lever_named, lever_party_named)
                    drafting = _factor(L_TASK_SPLIT, V_DRAFTING, now, g, a, b, c, lever_start, lever_value, lever_groups, lever_named, lever_party_named)
                    factor = _language_factor(now, g, a, b, c, languages[r], P, lever_start, lever_value, lever_groups, lever_named, lever_party_named) * training * drafting
                    coordination = P[P_FEEDBACK_COORDINATION] * _factor(L_TASK_SPLIT, V_COORDINATION, now, g, a, b, c, lever_start, lever_value,
                                                                          lever_groups, lever_named, lever_party_named)
                    col = C_FEEDBACK - C_CONSULTATION
                    slow_b = responsiveness[b] ** (-coupling)
                    slow_c = responsiveness[c] ** (-coupling)
                    duration = _feedback_draw(review_seed[r, col], review_draws, r, col, P, slow_b, slow_c, factor, coordination)
                    if age[r] > 0:
                        found = False
                        for _ in range(200):
                            if duration > age[r]:
                                found = True
                                break
                            duration = _feedback_draw(review_seed[r, col], review_draws, r, col, P, slow_b, slow_c, factor, coordination)
                        if not found:
                            slower = slow_b if slow_b >= slow_c else slow_c
                            u = _uniform(review_seed[r, col], review_draws, r, col)
                            duration = lognormal_beyond_from(u, P[P_FEEDBACK_MEDIAN] * slower * factor, P[P_FEEDBACK_SIGMA], age[r] / months) * months
                        duration -= age[r]
                    remaining[r] = duration
                    action = A_WORK
                elif s == LISTS or s == SUMMARIES:  # Review.agree_lists / agree_summaries
                    factor = _factor(L_CONSENSUS, V_CONSENSUS_FACTOR, now, g, a, b, c, lever_start, lever_value, lever_groups, lever_named, lever_party_named)
                    slowest = _slowest(responsiveness, a, b, c, coupling)
                    language_factor = _language_factor(now, g, a, b, c, languages[r], P, lever_start, lever_value, lever_groups, lever_named, lever_party_named)
                    if s == LISTS:
                        median = P[P_LISTS_MEDIAN] * slowest * language_factor * factor
                        col = C_LISTS - C_CONSULTATION
                        sigma = P[P_LISTS_SIGMA]
                    else:
                        median = P[P_SUMMARIES_MEDIAN] * slowest * language_factor * factor
                        col = C_SUMMARIES - C_CONSULTATION
                        sigma = P[P_SUMMARIES_SIGMA]
                    remaining[r] = _stage_duration(review_seed[r, col], review_draws, r, col, median, sigma, age[r])
                    action = A_WORK
                continue

            if action == A_GATHER:  # no review can begin until all three focal points exist (¶26)
                if has_focal_point[a] and has_focal_point[b] and has_focal_point[c]:
                    next_stage[r] = CONSULTATION
                    action = A_ENTER
                    continue
                waiting[r] = W_NOMINATIONS
                if redraw_on[r] and not (has_focal_point[b] and has_focal_point[c]):
                    patience_ends = max(waiting_since[r] + lever_value[V_REDRAW_AFTER] * months, lever_start[L_REDRAW])
                    version[r] += 1
                    heapq.heappush(heap, (now + max(0.0, patience_ends - now), seq, K_REVIEW, r, version[r], A_PATIENCE_OVER))
                    seq += 1
                action = A_BLOCK
                continue

            if action == A_PATIENCE_OVER:  # a reviewing State has not nominated: redraw it, some months later
                waiting[r] = W_REDRAW_DELAY
                version[r] += 1
                heapq.heappush(heap, (now + lever_value[V_REDRAW_DELAY] * months, seq, K_REVIEW, r, version[r], A_REDRAW))
                seq += 1
                action = A_BLOCK
                continue

            if action == A_REDRAW:  # Mechanism.redraw_reviewer, for each reviewer still missing
                for slot in (1, 2):
                    old = members[r, slot]
                    if has_focal_point[old]:
                        continue
                    n_candidates = 0
                    for q in range(m):
                        if has_focal_point[q] and q != members[r, 0] and q != members[r, 1] and q != members[r, 2]:
                            n_candidates += 1
                    if n_candidates == 0:
                        continue
                    u = _uniform(review_seed[r, C_REDRAW - C_CONSULTATION], review_draws, r, C_REDRAW - C_CONSULTATION)
                    pick = min(int(u * n_candidates), n_candidates - 1)
                    new = -1
                    for q in range(m):
                        if has_focal_point[q] and q != members[r, 0] and q != members[r, 1] and q != members[r, 2]:
                            if pick == 0:
                                new = q
                                break
                            pick -= 1
                    members[r, slot] = new
                    _remove_review(party_reviews, party_n_reviews, old, r)
                    party_reviews[new, party_n_reviews[new]] = r
                    party_n_reviews[new] += 1
                    open_reviews_of[old] -= 1
                    open_reviews_of[new] += 1
                    redraw_log = _grow(redraw_log, n_redraws)
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
                if in_handover[a] or in_handover[b] or in_handover[c] or not (has_focal_point[a] and has_focal_point[b] and has_focal_point[c]):
                    waiting[r] = W_FOCAL_POINTS
                    resume_with[r] = A_WORK
                    action = A_BLOCK
                    continue
                started[r] = now
                version[r] += 1
                waiting[r] = W_WORK
                heapq.heappush(heap, (now + remaining[r], seq, K_REVIEW, r, version[r], A_WORK_DONE))
                seq += 1
                action = A_BLOCK
                continue

            if action == A_WORK_DONE:
                remaining[r] = 0.0
                action = A_AFTER_WORK
                continue

            if action == A_AFTER_WORK:
                s = stage[r]
                if s == CONSULTATION or s == LISTS:  # the Secretariat organizes or facilitates
                    mean = P[P_PREPARATION] if s == CONSULTATION else P[P_FACILITATION]
                    service[r] = _exponential(review_seed[r, 1], review_draws, r, 1, mean) * months
                    if busy < capacity:
                        busy += 1
                        waiting[r] = W_SERVICE
                        heapq.heappush(heap, (now + service[r], seq, K_SERVICE_END, r, 0, 0))
                        seq += 1
                    else:
                        queue[(queue_head + queue_length) % n] = r
                        queue_length += 1
                        waiting[r] = W_QUEUE
                    action = A_BLOCK
                    continue
                next_stage[r] = WRITTEN_FEEDBACK if s == SAQ else LISTS if s == WRITTEN_FEEDBACK else COMPLETED
                action = A_ENTER
                continue

            if action == A_AFTER_SERVICE:
                if stage[r] == CONSULTATION:  # languages agreed at the consultation (¶27-28)
                    u = _uniform(review_seed[r, 2], review_draws, r, 2)
                    one, three = P[P_ONE_LANGUAGE], P[P_THREE_LANGUAGES]
                    languages[r] = 1 if u < one else 3 if u < one + three else 2
                    next_stage[r] = SAQ
                else:
                    next_stage[r] = SUMMARIES
                action = A_ENTER
                continue
            action = A_BLOCK  # unreachable: every action is handled above

        if open_reviews == 0:
            end_day = now
            break

    draws = party_draws.sum() + review_draws.sum()
    return (entered, deadline, languages, saq_lateness, nominated_at, first_replaced, replacements,
            redraw_log[:n_redraws].copy(), handover_log[:n_handovers].copy(), threshold_day, events, end_day, draws)


@njit(cache=True)
def _reaches(lever, g, a, b, c, lever_groups, lever_named, lever_party_named):
    """Target.reaches_review: the review's group, and (if named) one of its current parties."""
    if not lever_groups[lever, g]:
        return False
    if not lever_named[lever]:
        return True
    return lever_party_named[lever, a] or lever_party_named[lever, b] or lever_party_named[lever, c]


@njit(cache=True)
def _slowest(responsiveness, a, b, c, coupling):
    """The slowest of the three parties: the largest responsiveness^(-coupling)."""
    return max(responsiveness[a] ** (-coupling), responsiveness[b] ** (-coupling), responsiveness[c] ** (-coupling))


@njit(cache=True)
def _language_factor(now, g, a, b, c, languages, P, lever_start, lever_value, lever_groups, lever_named, lever_party_named):
    """Review.language_factor: extra time per agreed language beyond the first (machine translation scales it)."""
    translation = 1.0
    if now >= lever_start[L_TRANSLATION] and _reaches(L_TRANSLATION, g, a, b, c, lever_groups, lever_named, lever_party_named):
        translation = lever_value[V_TRANSLATION_FACTOR]
    return 1.0 + (P[P_EXTRA_LANGUAGE] * translation) * (languages - 1)


@njit(cache=True)
def _factor(lever, value, now, g, a, b, c, lever_start, lever_value, lever_groups, lever_named, lever_party_named):
    """Review.lever_factor: the lever's effect on work begun now, 1.0 where it does not apply."""
    if now < lever_start[lever] or not _reaches(lever, g, a, b, c, lever_groups, lever_named, lever_party_named):
        return 1.0
    return lever_value[value]


@njit(cache=True)
def _stage_duration(seed, counts, row, col, median, sigma, age_days):
    """Review.stage_duration: lognormal days of work, conditional on its age for work under way."""
    u = uniform_at(seed, counts[row, col])
    counts[row, col] += 1
    if age_days > 0:
        return lognormal_beyond_from(u, median, sigma, age_days / DAYS_PER_MONTH) * DAYS_PER_MONTH - age_days
    return lognormal_from(u, median, sigma) * DAYS_PER_MONTH


@njit(cache=True)
def _feedback_draw(seed, counts, row, col, P, slow_b, slow_c, factor, coordination):
    """The joint feedback: the slower of the two drafts, then merging (Review.write_feedback)."""
    first = lognormal_from(_uniform(seed, counts, row, col), P[P_FEEDBACK_MEDIAN] * slow_b * factor, P[P_FEEDBACK_SIGMA])
    second = lognormal_from(_uniform(seed, counts, row, col), P[P_FEEDBACK_MEDIAN] * slow_c * factor, P[P_FEEDBACK_SIGMA])
    return (max(first, second) + _exponential(seed, counts, row, col, coordination)) * DAYS_PER_MONTH


@njit(cache=True)
def _remove_review(party_reviews, party_n_reviews, p, r):
    """list.remove: drop review r from party p's list, keeping the others' order."""
    k = 0
    while party_reviews[p, k] != r:
        k += 1
    for j in range(k, party_n_reviews[p] - 1):
        party_reviews[p, j] = party_reviews[p, j + 1]
    party_n_reviews[p] -= 1


# --- from the model's objects to the engine's arrays and back ------------------------------
_PARAMETER_ORDER = (
    "nomination_rate", "responsiveness_shape", "expert_lag_months", "replacement_rate", "handover_months",
    "revive_probability", "responsiveness_coupling", "consultation_scheduling_months", "secretariat_officers",
    "consultation_preparation_months", "one_language_share", "three_language_share", "extra_language_delay",
    "saq_deadline_months", "saq_median_months", "saq_sigma", "feedback_deadline_months", "feedback_part_median_months",
    "feedback_sigma", "feedback_coordination_months", "lists_deadline_months", "lists_median_months", "lists_sigma",
    "lists_facilitation_months", "summaries_median_months", "summaries_sigma",
)
_LEVER_ORDER = ("nomination_follow_up", "handover_protocol", "redraw", "scheduling_support", "training", "task_split",
                "consensus_facilitation", "machine_translation", "secretariat_staffing")
_LEVER_VALUES = (("nomination_follow_up", "rate_multiplier"), ("nomination_follow_up", "silent_rate_per_month"),
                 ("handover_protocol", "duration_factor"), ("redraw", "after_months"), ("redraw", "delay_months"),
                 ("scheduling_support", "duration_factor"), ("training", "saq_factor"), ("training", "feedback_factor"),
                 ("task_split", "drafting_factor"), ("task_split", "coordination_factor"),
                 ("consensus_facilitation", "duration_factor"), ("machine_translation", "extra_language_factor"),
                 ("secretariat_staffing", "officers_change"))


def pack_parameters(params, group_sizes_1: int) -> np.ndarray:
    P = np.empty(N_PARAMETERS)
    for k, name in enumerate(_PARAMETER_ORDER):
        P[k] = getattr(params, name)
    P[P_GROUP1_TARGET] = params.completion_target(group_sizes_1)
    return P


def pack_levers(levers, pairings):
    """Start days, effect values and targets of the levers, as arrays (absent: start at +inf)."""
    m = pairings.n_parties
    start = np.full(N_LEVERS, np.inf)
    value = np.ones(N_LEVER_VALUES)
    value[V_FOLLOW_SILENT_RATE] = 0.0
    value[V_OFFICERS_CHANGE] = 0.0
    value[V_REDRAW_AFTER] = np.inf
    value[V_REDRAW_DELAY] = 3.0
    groups = np.zeros((N_LEVERS, 4), np.bool_)
    named = np.zeros(N_LEVERS, np.bool_)
    party_named = np.zeros((N_LEVERS, m), np.bool_)
    party_reach = np.zeros((N_LEVERS, m), np.bool_)
    party_groups = np.zeros((m, 4), np.bool_)
    for column in (pairings.under_review, pairings.reviewers[:, 0], pairings.reviewers[:, 1]):
        party_groups[column, pairings.group] = True
    for k, name in enumerate(_LEVER_ORDER):
        lever = getattr(levers, name)
        if lever is None:
            continue
        start[k] = lever.start_day
        groups[k, list(lever.target.groups)] = True
        if lever.target.parties:
            named[k] = True
            wanted = set(lever.target.parties)
            party_named[k] = [name in wanted for name in pairings.parties]
            party_reach[k] = party_named[k]
        else:
            party_reach[k] = party_groups[:, list(lever.target.groups)].any(axis=1)
    for v, (lever_name, field_name) in enumerate(_LEVER_VALUES):
        lever = getattr(levers, lever_name)
        if lever is not None:
            value[v] = getattr(lever, field_name)
    return start, value, groups, named, party_named, party_reach


def run_compiled(params, pairings, initial, streams, horizon_day: float, levers, traits=None):
    """The compiled twin of ``Mechanism(params, pairings, initial, streams, horizon_day, levers).run()``."""
    from .model import RunRecord, check_staffing, party_traits
    from .parties import first_involvement

    check_staffing(params, levers)  # as Mechanism does

    responsiveness, silent = traits if traits is not None else party_traits(initial, streams, params)
    members = np.column_stack([pairings.under_review, pairings.reviewers]).astype(np.int64)
    review_group_start = np.array([initial.group_start[int(g)] for g in pairings.group], dtype=float)
    lever_arrays = pack_levers(levers, pairings)
    out = run_mechanism(
        streams.key, pack_parameters(params, int(np.sum(pairings.group == 1))), *lever_arrays,
        pairings.group.astype(np.int64), members, initial.review_stage.astype(np.int64), initial.review_entered,
        initial.review_deadline, initial.review_languages.astype(np.int64), initial.saq_lateness,
        initial.party_nominated_at, initial.party_first_replaced_at, np.asarray(responsiveness, dtype=float),
        np.asarray(silent, dtype=np.bool_), review_group_start, first_involvement(pairings, initial.group_start),
        float(initial.day), float(horizon_day))
    (entered, deadline, languages, saq_lateness, nominated_at, first_replaced, replacements, redraws, handovers,
     threshold_day, events, end_day, draws) = out
    return RunRecord(
        start_day=initial.day, end_day=end_day, entered=entered, deadline=deadline, languages=languages,
        saq_lateness=saq_lateness, nominated_at=nominated_at, first_replaced_at=first_replaced, replacements=replacements,
        redraw_log=redraws, handover_log=handovers,
        threshold_day=threshold_day, events=int(events), draws=int(draws))
