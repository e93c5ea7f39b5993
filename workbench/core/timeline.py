"""The simulation clock and the calendar of the Mechanism.

The SimPy clock counts **days since 1 December 2020**, the day group 1 started (¶22).
Durations in parameters are given in months because the rules are written in months
(two weeks, six months, 4 + 2 months); one month is a mean Gregorian month.
"""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd

from workbench.core.errors import InputError

EPOCH = dt.date(2020, 12, 1)  # ¶22: group 1 started on 1 December 2020
DAYS_PER_YEAR = 365.2425  # the mean Gregorian year
DAYS_PER_MONTH = DAYS_PER_YEAR / 12

#: Start dates of the three groups (¶22).
GROUP_STARTS = {1: dt.date(2020, 12, 1), 2: dt.date(2021, 11, 1), 3: dt.date(2022, 11, 1)}

#: The date of the report's data ("as at 21 May 2024", ¶12, ¶15, ¶23 and passim).
REPORT_DATE = dt.date(2024, 5, 21)

#: Conference sessions meet every two years in October (twelfth: 14-18 October 2024).
#: Future opening days are not known; the forecast asks "reached before 1 October of the
#: session's year", which is earlier than any plausible opening day.
CONFERENCE_SESSIONS = {2026: dt.date(2026, 10, 1), 2028: dt.date(2028, 10, 1), 2030: dt.date(2030, 10, 1)}

#: The session the headline asks about (the findings, the brief, calibration's watched forecast):
#: the condition met before it, with even odds where a probability is asked for.
HEADLINE_SESSION = 2030
#: The furthest a simulation may run: far past any question asked of it (the report's own horizon is
#: a few sessions), and near enough that a typo such as 9999 is refused rather than run for hours.
LAST_HORIZON = dt.date(2200, 12, 31)


def today() -> dt.date:
    """The day a forecast is made on: the calendar's, or ``WORKBENCH_TODAY`` (YYYY-MM-DD) to reproduce
    one made on another day.  Levers and the Conference's decisions can start from then on."""
    given = os.environ.get("WORKBENCH_TODAY")
    if not given:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(given)
    except ValueError:
        raise InputError("WORKBENCH_TODAY", "WORKBENCH_TODAY", f"{given!r} is not a date", "a date such as 2026-12-02") from None


def in_words(day: dt.date) -> str:
    """A date as the English texts write it, in full: "1 December 2026" (the translated faces use
    their language's own format, :meth:`workbench.faces.i18n.Language.date`)."""
    return f"{day.day} {day:%B %Y}"


def earliest_start(day: dt.date | None = None) -> dt.date:
    """The first day a lever decided on ``day`` (default: :func:`today`) can act from: the first of
    the next month, since arranging follow-up, training or a new post takes a few weeks at least."""
    day = today() if day is None else day
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def sessions_after(day: dt.date) -> dict[int, dt.date]:
    """The Conference sessions still to come after ``day``: those at which a decision can yet be taken."""
    return {year: session for year, session in CONFERENCE_SESSIONS.items() if session > day}


def to_day(date: dt.date | str) -> float:
    """Simulation time (days since the epoch) of a calendar date."""
    if isinstance(date, str):
        date = dt.date.fromisoformat(date)
    return float((date - EPOCH).days)


def months(n: float) -> float:
    """Days in ``n`` mean months."""
    return n * DAYS_PER_MONTH


def to_timestamps(days: np.ndarray) -> pd.DatetimeIndex | pd.Series:
    """Calendar timestamps of simulation times; NaN (never happened) becomes NaT."""
    days = np.asarray(days, dtype=float)
    base = np.datetime64(EPOCH.isoformat(), "s")
    finite = np.isfinite(days)
    seconds = np.where(finite, np.round(days * 86400.0), 0).astype("int64")
    stamps = base + seconds.astype("timedelta64[s]")
    stamps = np.where(finite, stamps, np.datetime64("NaT"))
    return pd.to_datetime(stamps).floor("D")


def month_starts(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first day of every month from ``start`` (rounded up) to ``end`` inclusive."""
    first = dt.date(start.year, start.month, 1)
    if first < start:
        first = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    out = []
    day = first
    while day <= end:
        out.append(day)
        day = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return out
