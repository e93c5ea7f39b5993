"""The compiled engine's calendar: the events to come, handed out in SimPy's order.

SimPy handles events by time and, at equal times, in the order they were scheduled.  Every
event gets the next number, and the calendar hands events out in the order of (time, number),
a total order, so exactly as SimPy does.  What each event is lives once, in row k of ``what``
for event number k.

The events to come are kept in buckets of equal width in time from the start of the run to its
end (a calendar queue): an event goes into the bucket of its time, and the next event is the
earliest of the first bucket that holds any.  A run holds a few hundred events to come, spread
over decades, so a bucket holds one or two and both adding and taking an event take a few
steps, where a binary heap took some twenty hard-to-predict comparisons (a third of the engine's
time).  An event after the run's end would never be handed out, so it is not kept.

Events for the current instant (a review woken by a nomination or by a handover's end, a third of
all events) wait in a queue of their own, ``woken``: they come before every later event, so only
their order against the buckets' events of the same instant needs checking.

Every function borrows its arrays (:mod:`workbench.simulation.compiled`): nothing here
allocates, so a full calendar is the caller's to notice (:func:`room_left`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from workbench.simulation.compiled import borrows_arrays

#: Buckets from the start of a run to its end.  Enough that a bucket seldom holds more than a few
#: of the several hundred events to come; few enough that passing the empty ones costs little.
BUCKETS = 4096

# Columns of ``what``: the event's kind, whom it concerns, the subject's version when it was
# scheduled (a later version makes it stale), and the action a review takes when it comes.
WHAT_KIND, WHAT_SUBJECT, WHAT_VERSION, WHAT_ACTION = range(4)

# Slots of ``counts``: events numbered so far, events in the buckets, the first bucket that may
# hold any, and this instant's queue (next, end).
NUMBERED, KEPT, CURRENT, NOW_NEXT, NOW_END = range(5)

# Slots of ``span``: the time the first bucket begins, buckets per day, and the run's last day.
ORIGIN, PER_DAY, LAST_DAY = range(3)


class Calendar(NamedTuple):
    """The events to come: numbered, in buckets by time, and this instant's queue."""

    what: np.ndarray  # (events room, 4) kind, subject, version, action of event k in row k
    when: np.ndarray  # (events room,) the time of event k
    after: np.ndarray  # (events room,) the next event in k's bucket (-1: none)
    first: np.ndarray  # (BUCKETS,) the first event in each bucket (-1: none)
    woken: np.ndarray  # (now room,) numbers of this instant's events, in order
    counts: np.ndarray  # (5,) NUMBERED, KEPT, CURRENT, NOW_NEXT, NOW_END
    span: np.ndarray  # (3,) ORIGIN, PER_DAY, LAST_DAY


@njit(cache=True)
def new_calendar(first_day, last_day, events_room, now_room):
    """An empty calendar for a run from ``first_day`` to ``last_day``, with room for so many events
    in all and at one instant."""
    span = np.empty(3)
    span[ORIGIN] = first_day
    span[PER_DAY] = BUCKETS / max(last_day - first_day, 1.0)
    span[LAST_DAY] = last_day
    return Calendar(
        np.empty((events_room, 4), np.int64),
        np.empty(events_room),
        np.empty(events_room, np.int64),
        np.full(BUCKETS, -1, np.int64),
        np.empty(now_room, np.int64),
        np.zeros(5, np.int64),
        span,
    )


@borrows_arrays
def at(now, day):
    """The time at which SimPy's ``timeout(day - now)``, started now, fires: ``now + (day - now)``.

    In floating point that is not always ``day``: it may be one rounding step away.  The SimPy
    model schedules every wait that way, so the engine must too, or the two would part at a tie.
    """
    return now + (day - now)


@borrows_arrays
def _earlier(t1, k1, t2, k2):
    return t1 < t2 or (t1 == t2 and k1 < k2)


@borrows_arrays
def _number(calendar, kind, subject, version, action):
    """Give a new event the next number, k, and write what it is in row k."""
    counts, what = calendar.counts, calendar.what
    k = counts[NUMBERED]
    counts[NUMBERED] = k + 1
    what[k, WHAT_KIND] = kind
    what[k, WHAT_SUBJECT] = subject
    what[k, WHAT_VERSION] = version
    what[k, WHAT_ACTION] = action
    return k


@borrows_arrays
def schedule(calendar, when, kind, subject, version, action):
    """Add an event at ``when`` (not before the last event handed out) to its bucket."""
    k = _number(calendar, kind, subject, version, action)
    span, counts = calendar.span, calendar.counts
    if not when <= span[LAST_DAY]:
        return  # after the end of the run (or never): it would never come
    bucket = min(int((when - span[ORIGIN]) * span[PER_DAY]), BUCKETS - 1)
    bucket = max(bucket, counts[CURRENT])  # rounding cannot put it among buckets already passed
    calendar.when[k] = when
    calendar.after[k] = calendar.first[bucket]
    calendar.first[bucket] = k
    counts[KEPT] += 1


@borrows_arrays
def schedule_now(calendar, kind, subject, version, action):
    """Add an event at the current time: it joins this instant's queue, whose events all come
    before any later event, so it needs no bucket."""
    counts = calendar.counts
    calendar.woken[counts[NOW_END]] = _number(calendar, kind, subject, version, action)
    counts[NOW_END] += 1


@borrows_arrays
def has_events(calendar):
    counts = calendar.counts
    return counts[KEPT] > 0 or counts[NOW_NEXT] < counts[NOW_END]


@borrows_arrays
def clear(calendar):
    """Forget every event to come (the run ends before any)."""
    counts = calendar.counts
    counts[KEPT] = 0
    counts[NOW_NEXT] = 0
    counts[NOW_END] = 0


@borrows_arrays
def _earliest(calendar):
    """The earliest event in the buckets (there must be one), and the one before it in its bucket
    (-1 if it is the bucket's first)."""
    first, after, when, counts = calendar.first, calendar.after, calendar.when, calendar.counts
    bucket = counts[CURRENT]
    while first[bucket] < 0:
        bucket += 1
    counts[CURRENT] = bucket
    best, before = first[bucket], -1
    previous, k = best, after[best]
    while k >= 0:
        if _earlier(when[k], k, when[best], best):
            best, before = k, previous
        previous, k = k, after[k]
    return best, before


@borrows_arrays
def _take(calendar, k, before):
    """Take event ``k`` out of its bucket (the current one)."""
    if before < 0:
        calendar.first[calendar.counts[CURRENT]] = calendar.after[k]
    else:
        calendar.after[before] = calendar.after[k]
    calendar.counts[KEPT] -= 1


@borrows_arrays
def next_event(calendar, now):
    """Remove the earliest event: its time and number; the calendar must not be empty.  An event
    of this instant's queue comes first unless a bucket holds one of the same instant scheduled earlier."""
    counts = calendar.counts
    if counts[NOW_NEXT] < counts[NOW_END]:
        k = calendar.woken[counts[NOW_NEXT]]
        take_woken = counts[KEPT] == 0
        if not take_woken:
            best, before = _earliest(calendar)
            take_woken = calendar.when[best] > now or best > k
        if take_woken:
            counts[NOW_NEXT] += 1
            if counts[NOW_NEXT] == counts[NOW_END]:
                counts[NOW_NEXT] = counts[NOW_END] = 0
            return now, k
    best, before = _earliest(calendar)
    _take(calendar, best, before)
    return calendar.when[best], best


# Which of the calendar's arrays would overflow (room_left's answer), as rows of the engine's room.
EVENTS_ROOM, NOW_ROOM = range(2)


@borrows_arrays
def room_left(calendar, most):
    """-1 if the calendar can take ``most`` more events, else which of its arrays cannot."""
    counts = calendar.counts
    if counts[NUMBERED] + most > calendar.what.shape[0]:
        return EVENTS_ROOM
    if counts[NOW_END] + most > calendar.woken.shape[0]:
        return NOW_ROOM
    return -1
