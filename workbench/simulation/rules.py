"""The Mechanism's rules, written once, compiled, and called by both engines.

Each function is one rule of the review process (¶6-39): when a party nominates, how long
a handover stalls its reviews, how long a stage's work takes and what scales it, which
languages a consultation agrees, what entering a stage records.  The SimPy processes of
:mod:`workbench.simulation.model` call them from Python and the compiled loop of
:mod:`workbench.simulation.engine` from machine code, so the two engines cannot drift
apart in what they compute; they differ only in how they schedule events.

Random draws follow one protocol, that of :mod:`workbench.core.counters`: a function that draws
takes a stream's ``seed`` and the number of uniforms it has ``used`` so far as its first two
arguments, and returns its result with the new count (:meth:`workbench.simulation.streams.UniformStream.draw`).
Durations are in days; parameters in months.
"""

from __future__ import annotations

import math

from workbench.core.counters import below
from workbench.core.timeline import DAYS_PER_MONTH, DAYS_PER_YEAR
from workbench.simulation.compiled import borrows_arrays
from workbench.simulation.layout import (
    COMPLETED,
    L_FOLLOW_UP,
    L_HANDOVER,
    L_REDRAW,
    L_STAFFING,
    L_TRANSLATION,
    P_COUPLING,
    P_EXPERT_LAG,
    P_EXTRA_LANGUAGE,
    P_GROUP1_TARGET,
    P_HANDOVER,
    P_NOMINATION_RATE,
    P_ONE_LANGUAGE,
    P_REDRAW_DELAY,
    P_REDRAW_PATIENCE,
    P_REPLACEMENT_RATE,
    P_REVIVE,
    P_SHAPE,
    P_THREE_LANGUAGES,
    STAGE_DEADLINE,
    STAGE_DEADLINE_PULL,
    STAGE_DRAW,
    STAGE_EXPERTS,
    STAGE_FACTORS,
    STAGE_LANGUAGES,
    STAGE_LATENESS_OBSERVED,
    STAGE_MERGE_FACTOR,
    STAGE_MERGE_TIME,
    STAGE_PACE,
    STAGE_SECRETARIAT,
    STAGE_SIGMA,
    STAGE_TIME,
    V_FOLLOW_MULTIPLIER,
    V_FOLLOW_SILENT_RATE,
    V_HANDOVER_FACTOR,
    V_OFFICERS_CHANGE,
    V_REDRAW_AFTER,
    V_REDRAW_DELAY,
    V_TRANSLATION_FACTOR,
    VALUE_LEVER,
)
from workbench.simulation.stages import EXPONENTIAL, JOINT_DRAFTS, UNDER_REVIEW
from workbench.simulation.streams import gamma_mean_one_from, lognormal_beyond_from, lognormal_from, uniform_at

#: Attempts at drawing joint feedback that outlasts the work already done, before the fallback.
_CONDITIONING_ATTEMPTS = 200


# --- drawing ----------------------------------------------------------------------------
@borrows_arrays
def exponential_draw(seed, used, mean):
    """An exponential time of ``mean``; no draw at all when the mean is not positive."""
    if mean > 0:
        return -mean * math.log1p(-uniform_at(seed, used)), used + 1
    return 0.0, used


# --- who a lever reaches, and by how much ---------------------------------------------
@borrows_arrays
def reaches_review(lever, g, a, b, c, levers):
    """The lever's target takes in a review of group ``g`` with parties a, b, c."""
    if not levers.groups[lever, g]:
        return False
    if not levers.named[lever]:
        return True
    return levers.party_named[lever, a] or levers.party_named[lever, b] or levers.party_named[lever, c]


@borrows_arrays
def reaches_party(lever, p, levers):
    """The lever is in the scenario and its target takes in party ``p``."""
    return math.isfinite(levers.start[lever]) and levers.party_reach[lever, p]


@borrows_arrays
def lever_factor(value, now, g, a, b, c, levers):
    """A lever's effect on work a review begins ``now``: 1.0 before its start or outside its target."""
    lever = VALUE_LEVER[value]
    if now < levers.start[lever] or not reaches_review(lever, g, a, b, c, levers):
        return 1.0
    return levers.value[value]


# --- parties: nominations, experts, replacements (¶11-18) ----------------------------
@borrows_arrays
def slowness(responsiveness, coupling):
    """How much slower than average a party works: responsiveness^(-coupling)."""
    return responsiveness ** (-coupling)


@borrows_arrays
def nominates(p, silent, levers):
    """Whether a party will ever nominate: a silent party only under a follow-up campaign (¶15-17)."""
    return not silent or (reaches_party(L_FOLLOW_UP, p, levers) and levers.value[V_FOLLOW_SILENT_RATE] > 0)


@borrows_arrays
def nomination_delay(seed, used, t, p, silent, responsiveness, P, levers):
    """Days from ``t`` (the party is first involved) to its first focal point; call only if :func:`nominates`.

    The hazard is ``nomination_rate`` x responsiveness; a follow-up campaign multiplies it
    from its start date (a piecewise-constant hazard) and gives silent parties one.
    """
    effort = -math.log1p(-uniform_at(seed, used))  # unit exponential
    used += 1
    follow = reaches_party(L_FOLLOW_UP, p, levers)
    campaign = levers.start[L_FOLLOW_UP]
    if silent:
        begin = max(t, campaign)
        return begin - t + (effort / levers.value[V_FOLLOW_SILENT_RATE]) * DAYS_PER_MONTH, used
    mean_months = 1.0 / (P[P_NOMINATION_RATE] * responsiveness)
    delay = (mean_months * effort) * DAYS_PER_MONTH
    multiplier = levers.value[V_FOLLOW_MULTIPLIER]
    if follow and multiplier != 1.0 and campaign < t + delay:
        begin = max(t, campaign)
        spent = (begin - t) / (mean_months * DAYS_PER_MONTH)
        delay = begin - t + (mean_months * (effort - spent) / multiplier) * DAYS_PER_MONTH
    return delay, used


@borrows_arrays
def experts_delay(seed, used, P):
    """Days from the focal point to the governmental experts (¶18)."""
    lag, used = exponential_draw(seed, used, P[P_EXPERT_LAG])
    return lag * DAYS_PER_MONTH, used


@borrows_arrays
def replacement_gap(seed, used, P):
    """Days until a party next replaces its focal point (¶14); call only with a positive rate."""
    return exponential_draw(seed, used, DAYS_PER_YEAR / P[P_REPLACEMENT_RATE])


@borrows_arrays
def handover_stall(seed, used, now, p, P, levers):
    """Days every review of party ``p`` stalls while a new focal point takes over (¶14)."""
    stall, used = exponential_draw(seed, used, P[P_HANDOVER])
    stall *= DAYS_PER_MONTH
    if now >= levers.start[L_HANDOVER] and levers.party_reach[L_HANDOVER, p]:
        stall *= levers.value[V_HANDOVER_FACTOR]
    return stall, used


@borrows_arrays
def revival_after_handover(seed, used, P):
    """Whether a new focal point brings a fresh responsiveness from the population (¶14: revived
    reviews): the uniform that draws it, or -1.0 if the party keeps the one it had."""
    u = uniform_at(seed, used)
    used += 1
    if u < P[P_REVIVE]:
        return uniform_at(seed, used), used + 1
    return -1.0, used


@borrows_arrays
def revived_responsiveness(v, P):
    """The fresh responsiveness drawn by ``v`` (see :func:`revival_after_handover`)."""
    return gamma_mean_one_from(v, P[P_SHAPE])


@borrows_arrays
def responsiveness_after_handover(seed, used, responsiveness, P):
    """A party's responsiveness once its new focal point has taken over."""
    v, used = revival_after_handover(seed, used, P)
    if v >= 0.0:
        responsiveness = revived_responsiveness(v, P)
    return responsiveness, used


# --- focal points in place (¶11, ¶14, ¶26) ----------------------------------------------
@borrows_arrays
def all_nominated(has_focal_point, a, b, c):
    """All three parties of a review have a focal point: no review can begin before (¶26)."""
    return has_focal_point[a] and has_focal_point[b] and has_focal_point[c]


@borrows_arrays
def all_in_place(has_focal_point, in_handover, a, b, c):
    """The three focal points exist and none is handing over: only then does work advance (¶14)."""
    return all_nominated(has_focal_point, a, b, c) and not (in_handover[a] or in_handover[b] or in_handover[c])


@borrows_arrays
def replacement_matters(open_reviews_of, p):
    """A party's focal point changing can affect something only while it has a review open."""
    return open_reviews_of[p] > 0


# --- redraws (¶6-7) -----------------------------------------------------------------------
#: A party may request that the drawing of lots be repeated up to four times (¶6).
REDRAWS_ALLOWED = 4


@borrows_arrays
def redraw_schedule(waiting_since, g, a, b, c, P, levers):
    """When a redraw is requested for a review still waiting for a reviewing State's focal point,
    and how long the new draw then takes, in days.

    The party under review asks once its patience runs out and waits for the next joint
    meeting (¶6-7); the redraw lever has the Secretariat act sooner, from its start date, for
    the reviews it reaches.  An infinite day means no request.
    """
    ends = waiting_since + P[P_REDRAW_PATIENCE] * DAYS_PER_MONTH
    delay = P[P_REDRAW_DELAY] * DAYS_PER_MONTH
    if math.isfinite(levers.start[L_REDRAW]) and reaches_review(L_REDRAW, g, a, b, c, levers):
        lever_ends = max(waiting_since + levers.value[V_REDRAW_AFTER] * DAYS_PER_MONTH, levers.start[L_REDRAW])
        if lever_ends < ends:
            ends, delay = lever_ends, levers.value[V_REDRAW_DELAY] * DAYS_PER_MONTH
    return ends, delay


@borrows_arrays
def redraws_before(age, P):
    """Redraws a review that has waited ``age`` days for its focal points at the start is taken to
    have used already, and the days since the last: the history before a report is not known,
    so the review is assumed to have lacked a reviewer throughout."""
    cycle = (P[P_REDRAW_PATIENCE] + P[P_REDRAW_DELAY]) * DAYS_PER_MONTH
    if not math.isfinite(cycle) or cycle <= 0 or age <= 0:
        return 0, age
    rounds = min(int(age // cycle), REDRAWS_ALLOWED)
    return rounds, age - rounds * cycle


@borrows_arrays
def redraws_so_far(used, waiting_since, age, now, P):
    """The redraws a review gathering its focal points has used, and the day its wait for a
    reviewing State began: those its initial state records (``used`` >= 0), else those
    :func:`redraws_before` assumes for a review ``age`` days into the stage (0 on entering it)."""
    if used >= 0:
        return used, waiting_since
    rounds, since = redraws_before(age, P)
    return rounds, now - since


#: The positions of the two reviewing States in a review: the ones a redraw may replace (¶6).
REVIEWER_SLOTS = (1, 2)


@borrows_arrays
def redraw_wanted(has_focal_point, b, c):
    """The party under review may ask for a redraw while a reviewing State has no focal point (¶6-7)."""
    return not (has_focal_point[b] and has_focal_point[c])


@borrows_arrays
def redraw_reviewer(seed, used, has_focal_point, a, b, c):
    """The party drawn by lot among those with a focal point outside the review (-1: none; no draw)."""
    n_candidates = 0
    for q in range(has_focal_point.shape[0]):
        if has_focal_point[q] and q != a and q != b and q != c:
            n_candidates += 1
    if n_candidates == 0:
        return -1, used
    pick, used = below(seed, used, n_candidates)
    for q in range(has_focal_point.shape[0]):
        if has_focal_point[q] and q != a and q != b and q != c:
            if pick == 0:
                return q, used
            pick -= 1
    return -1, used


# --- the stages of a review (¶26-39), as the stage table says -------------------------
@borrows_arrays
def experts_ready(s, has_experts, a, b, c):
    """The governmental experts the stage's work needs have been named."""
    return (
        (not STAGE_EXPERTS[s, 0] or has_experts[a])
        and (not STAGE_EXPERTS[s, 1] or has_experts[b])
        and (not STAGE_EXPERTS[s, 2] or has_experts[c])
    )


@borrows_arrays
def language_factor(now, g, a, b, c, languages, P, levers):
    """Extra time for each working language beyond the first; machine translation scales it (¶27-28, ¶55)."""
    translation = 1.0
    if now >= levers.start[L_TRANSLATION] and reaches_review(L_TRANSLATION, g, a, b, c, levers):
        translation = levers.value[V_TRANSLATION_FACTOR]
    return 1.0 + (P[P_EXTRA_LANGUAGE] * translation) * (languages - 1)


@borrows_arrays
def work_scale(s, now, g, a, b, c, languages, P, levers):
    """What multiplies stage ``s``'s working time for work begun now: languages and levers."""
    scale = language_factor(now, g, a, b, c, languages, P, levers) if STAGE_LANGUAGES[s] else 1.0
    for k in range(STAGE_FACTORS.shape[1]):
        if STAGE_FACTORS[s, k] >= 0:
            scale *= lever_factor(STAGE_FACTORS[s, k], now, g, a, b, c, levers)
    return scale


@borrows_arrays
def _joint_drafts(seed, used, median_b, median_c, sigma, merge_mean):
    """Each reviewer drafts a part; the joint document waits for the slower, then is merged (¶34-36)."""
    first = lognormal_from(uniform_at(seed, used), median_b, sigma)
    second = lognormal_from(uniform_at(seed, used + 1), median_c, sigma)
    merging, used = exponential_draw(seed, used + 2, merge_mean)
    return (max(first, second) + merging) * DAYS_PER_MONTH, used


@borrows_arrays
def work_days(seed, used, s, now, g, a, b, c, languages, responsiveness, P, levers, age):
    """Days of work left on stage ``s`` of a review begun (or, with ``age`` > 0, under way) now.

    Work already under way for ``age`` days is drawn conditional on not having finished.
    """
    coupling = P[P_COUPLING]
    scale = work_scale(s, now, g, a, b, c, languages, P, levers)
    time = P[STAGE_TIME[s]]
    draw = STAGE_DRAW[s]
    if draw == JOINT_DRAFTS:
        sigma = P[STAGE_SIGMA[s]]
        slow_b = slowness(responsiveness[b], coupling)
        slow_c = slowness(responsiveness[c], coupling)
        merge_mean = P[STAGE_MERGE_TIME[s]] * lever_factor(STAGE_MERGE_FACTOR[s], now, g, a, b, c, levers)
        days, used = _joint_drafts(seed, used, time * slow_b * scale, time * slow_c * scale, sigma, merge_mean)
        if age > 0:
            found = False
            for _ in range(_CONDITIONING_ATTEMPTS):
                if days > age:
                    found = True
                    break
                days, used = _joint_drafts(seed, used, time * slow_b * scale, time * slow_c * scale, sigma, merge_mean)
            if not found:  # rare: condition the slower draft alone on its age
                slower = max(slow_b, slow_c)
                days = lognormal_beyond_from(uniform_at(seed, used), time * slower * scale, sigma, age / DAYS_PER_MONTH) * DAYS_PER_MONTH
                used += 1
            days -= age
        return days, used
    pace_of = STAGE_PACE[s]
    if pace_of == UNDER_REVIEW:
        pace = slowness(responsiveness[a], coupling)
    else:  # SLOWEST: consensus waits for the slowest of the three
        pace = max(slowness(responsiveness[a], coupling), slowness(responsiveness[b], coupling), slowness(responsiveness[c], coupling))
    if draw == EXPONENTIAL:  # memoryless: work under way needs no conditioning
        mean = time * pace * scale
        days, used = exponential_draw(seed, used, mean)
        return days * DAYS_PER_MONTH, used
    median = time * pace * scale
    sigma = P[STAGE_SIGMA[s]]
    u = uniform_at(seed, used)
    if age > 0:
        days = lognormal_beyond_from(u, median, sigma, age / DAYS_PER_MONTH) * DAYS_PER_MONTH - age
    else:
        days = lognormal_from(u, median, sigma) * DAYS_PER_MONTH
    used += 1
    if STAGE_DEADLINE_PULL[s] >= 0:
        days, used = pulled_to_deadline(seed, used, days, P[STAGE_DEADLINE[s]] * DAYS_PER_MONTH - age, P[STAGE_DEADLINE_PULL[s]])
    return days, used


#: Days of work left below which a stage's work counts as done: the time a handover
#: interrupts work at is a difference of floating-point days, which may leave a crumb.
WORK_LEFT_EPSILON = 1e-9


@borrows_arrays
def work_left(remaining):
    """Whether work of ``remaining`` days is still to be done (see WORK_LEFT_EPSILON)."""
    return remaining > WORK_LEFT_EPSILON


#: The days after a deadline that the report counts apart (¶31: "within 10 days after it").
DEADLINE_GRACE_DAYS = 10.0


@borrows_arrays
def pulled_to_deadline(seed, used, days, deadline_left, pull):
    """A deadline effect: work that would end late ends, with chance ``pull``, within the grace
    days after the deadline instead (¶31).  Draws two uniforms whatever ``pull`` is, so that the
    structures with and without the effect share their other random numbers."""
    u, v = uniform_at(seed, used), uniform_at(seed, used + 1)
    window_start = max(deadline_left, 0.0)
    window_end = deadline_left + DEADLINE_GRACE_DAYS
    if days > window_start and window_end > window_start and u < pull:
        days = window_start + v * (window_end - window_start)
    return days, used + 2


@borrows_arrays
def needs_secretariat(s):
    """An officer organizes or facilitates once the stage's own work is done (¶26, ¶37, ¶43)."""
    return STAGE_SECRETARIAT[s] >= 0


@borrows_arrays
def secretariat_days(seed, used, s, P):
    """Days of one officer's time the stage needs."""
    days, used = exponential_draw(seed, used, P[STAGE_SECRETARIAT[s]])
    return days * DAYS_PER_MONTH, used


@borrows_arrays
def languages_agreed(seed, used, P):
    """One, two or three working languages, with the shares of ¶28."""
    u = uniform_at(seed, used)
    one, three = P[P_ONE_LANGUAGE], P[P_THREE_LANGUAGES]
    return (1 if u < one else 3 if u < one + three else 2), used + 1


@borrows_arrays
def record_entry(r, s, now, entered, deadline, lateness, P):
    """Review ``r`` enters stage ``s`` now: its entry day, the deadline agreed on entry, and how
    late the previous stage ended when the report counts that (¶31)."""
    entered[r, s] = now
    if STAGE_DEADLINE[s] >= 0:
        deadline[r, s] = now + P[STAGE_DEADLINE[s]] * DAYS_PER_MONTH
    if s > 0 and STAGE_LATENESS_OBSERVED[s - 1]:
        lateness[r] = now - deadline[r, s - 1]


# --- the Secretariat (¶42-43) -----------------------------------------------------------
# A few officers, each organizing one thing at a time, shared by all reviews: ``desks`` holds
# the counts below, ``queue`` the reviews waiting for an officer, in the order they asked (a
# ring: no review waits twice at once).  A staffing lever adds officers from its start date
# (recruits, held until then) or takes some away from it (leavers, who take the next desks to
# come free, ahead of any review).
DESK_BUSY, DESK_CAPACITY, DESK_LEAVERS, DESK_QUEUE_HEAD, DESK_QUEUED = range(5)
N_DESK_COUNTS = 5


@borrows_arrays
def staffing_change(levers):
    """Officers the staffing lever adds (negative: takes away) from its start date; 0 without it."""
    return int(levers.value[V_OFFICERS_CHANGE]) if math.isfinite(levers.start[L_STAFFING]) else 0


@borrows_arrays
def staffing_day(levers):
    """The day the staffing change takes effect (its start date; at once if that has passed)."""
    return levers.start[L_STAFFING]


@borrows_arrays
def secretariat_opens(desks, officers, change):
    """The desks on the first day: ``officers`` at work, and ``change`` more (or fewer) to come."""
    desks[DESK_CAPACITY] = max(officers, officers + change)
    desks[DESK_BUSY] = change if change > 0 else 0  # the recruits' desks, empty until they arrive
    desks[DESK_LEAVERS] = 0
    desks[DESK_QUEUE_HEAD] = 0
    desks[DESK_QUEUED] = 0


@borrows_arrays
def officer_requested(desks, queue, r):
    """Review ``r`` asks for an officer: True if one takes it now, otherwise it joins the queue."""
    if desks[DESK_BUSY] < desks[DESK_CAPACITY]:
        desks[DESK_BUSY] += 1
        return True
    queue[(desks[DESK_QUEUE_HEAD] + desks[DESK_QUEUED]) % queue.shape[0]] = r
    desks[DESK_QUEUED] += 1
    return False


@borrows_arrays
def desk_freed(desks, queue):
    """A desk comes free (a service ends, a recruit arrives): an officer waiting to leave takes it,
    else the review first in the queue, which is returned; -1 when no review is served."""
    desks[DESK_BUSY] -= 1
    if desks[DESK_LEAVERS] > 0:
        desks[DESK_BUSY] += 1
        desks[DESK_LEAVERS] -= 1
        return -1
    if desks[DESK_QUEUED] == 0:
        return -1
    r = queue[desks[DESK_QUEUE_HEAD]]
    desks[DESK_QUEUE_HEAD] = (desks[DESK_QUEUE_HEAD] + 1) % queue.shape[0]
    desks[DESK_QUEUED] -= 1
    desks[DESK_BUSY] += 1
    return r


@borrows_arrays
def officers_leave(desks, k):
    """``k`` officers leave: each takes a free desk now, or the next to come free."""
    desks[DESK_LEAVERS] += k
    while desks[DESK_LEAVERS] > 0 and desks[DESK_BUSY] < desks[DESK_CAPACITY]:
        desks[DESK_BUSY] += 1
        desks[DESK_LEAVERS] -= 1


# --- completion and the ¶25 condition -----------------------------------------------------
# ``tally`` counts what the ¶25 condition needs: the reviews still open, and group 1's completed.
TALLY_OPEN, TALLY_GROUP1_COMPLETED = range(2)
N_TALLY = 2


@borrows_arrays
def tally_start(tally, stage, group):
    """Count the open reviews and group 1's completed ones in the initial state."""
    tally[TALLY_OPEN] = 0
    tally[TALLY_GROUP1_COMPLETED] = 0
    for r in range(stage.shape[0]):
        if stage[r] == COMPLETED:
            if group[r] == 1:
                tally[TALLY_GROUP1_COMPLETED] += 1
        else:
            tally[TALLY_OPEN] += 1


@borrows_arrays
def review_completed(tally, open_reviews_of, g, a, b, c, P):
    """A review of group ``g`` with parties a, b, c is completed: True if it is the one that meets
    the ¶25 condition (group 1's completed reviews reach the target)."""
    tally[TALLY_OPEN] -= 1
    open_reviews_of[a] -= 1
    open_reviews_of[b] -= 1
    open_reviews_of[c] -= 1
    if g != 1:
        return False
    tally[TALLY_GROUP1_COMPLETED] += 1
    return tally[TALLY_GROUP1_COMPLETED] == int(P[P_GROUP1_TARGET])
