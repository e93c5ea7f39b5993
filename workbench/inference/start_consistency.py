"""Does the forecast's start agree with history?

A forecast starts from the report's state of 21 May 2024: each replication places the reviews in
the report's stages (:mod:`workbench.simulation.snapshot`) and runs on.  A review that has waited
three years is not a fresh draw, though: its parties' responsiveness, its elapsed times and the
redraws it has used should be those of histories that lead to the report's state.  This check
compares the two on the same draws:

* **from history**: each replication runs from 1 December 2020 on its posterior draw; it is kept
  when its state on 21 May 2024 matches the report's key figures (:data:`KEY_FIGURES`, each within
  its tolerance);
* **from the report's state**: the same replications (same seeds, so the same posterior draws)
  start from the placement.

Both are then followed on: reviews newly past their consultation after 4 and 12 months, group 1's
reviews completed after 2 and 6 years, group 1's reviews held up by nominations at the start and a
year on.  Where the placement is right, the two agree within Monte Carlo error: each difference of
means is scored against its standard error from the two samples' sizes (:data:`Z_LIMIT`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from workbench.experiments.setup import Setup, simulate
from workbench.experiments.synthetic_record import record_of_run
from workbench.experiments.workers import iter_map
from workbench.inputs.parties import Pairings
from workbench.observation.matching import matches_report
from workbench.observation.observe import observe_dates
from workbench.simulation.schema import RunRecord
from workbench.simulation.streams import replication_seeds

#: A difference of means further than this many standard errors from zero is a disagreement
#: (three: about one false alarm in 370 per outcome when the starts agree).
Z_LIMIT = 3.0


def _months_after(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return dt.date(day.year + year, month + 1, day.day)


def follow_up_dates(as_at: dt.date) -> dict[str, dt.date]:
    return {
        "start": as_at,
        "4 months": _months_after(as_at, 4),
        "12 months": _months_after(as_at, 12),
        "2 years": _months_after(as_at, 24),
        "6 years": _months_after(as_at, 72),
    }


def outcomes(record: RunRecord, pairings: Pairings, as_at: dt.date) -> dict[str, float]:
    """What a run does after ``as_at``, in the quantities both starts are compared on."""
    dates = follow_up_dates(as_at)
    seen = dict(zip(dates, observe_dates(record, pairings, list(dates.values()))))
    held = ("reviews_held_up_by_nominations", 1)
    return {
        "newly consulted after 4 months": seen["4 months"][("consultations_held", None)] - seen["start"][("consultations_held", None)],
        "newly consulted after 12 months": seen["12 months"][("consultations_held", None)] - seen["start"][("consultations_held", None)],
        "group 1 completed after 2 years": seen["2 years"][("reviews_completed", 1)],
        "group 1 completed after 6 years": seen["6 years"][("reviews_completed", 1)],
        "group 1 held up by nominations at the start": seen["start"][held],
        "group 1 held up by nominations after 12 months": seen["12 months"][held],
    }


def _pair(report_setup: Setup, history_setup: Setup, seed: np.random.SeedSequence) -> tuple[bool, dict, dict]:
    assert report_setup.snapshot is not None  # checked by start_consistency
    as_at = report_setup.snapshot.as_at
    record, pairings, _ = simulate(history_setup, seed)
    kept = matches_report(observe_dates(record, pairings, [as_at])[0])
    if not kept:
        return False, {}, {}
    from_history = outcomes(record, pairings, as_at)
    record, pairings, _ = simulate(report_setup, seed)
    return True, from_history, outcomes(record, pairings, as_at)


def start_consistency(report_setup: Setup, replications: int, seed: int = 1, workers: int = 1) -> tuple[pd.DataFrame, int]:
    """Run both starts on ``replications`` seeds; compare the histories that match the report with
    the report-state runs on the same seeds.  Returns the comparison and how many histories matched."""
    if report_setup.start != "report" or report_setup.snapshot is None:
        raise ValueError("the comparison starts from a report-state setup")
    history, report = _paired_runs(_pair, report_setup, replications, seed, workers)
    return compare_starts(history, report), len(history)


def _paired_runs(
    pair: Callable[[Setup, Setup, np.random.SeedSequence], tuple[bool, dict, dict]],
    report_setup: Setup,
    replications: int,
    seed: int,
    workers: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each seed's history from 2020 and, where it matches the report, its other start (``pair``):
    both followed six years on from the report's date."""
    assert report_setup.snapshot is not None
    report_setup = dataclasses.replace(report_setup, horizon=_months_after(report_setup.snapshot.as_at, 73))
    history_setup = dataclasses.replace(report_setup, start="history")
    tasks = [(report_setup, history_setup, s) for s in replication_seeds(seed, replications)]
    pairs = [(h, r) for kept, h, r in iter_map(pair, tasks, workers=workers) if kept]
    return pd.DataFrame([h for h, _ in pairs]), pd.DataFrame([r for _, r in pairs])


def _pair_with_record(report_setup: Setup, history_setup: Setup, seed: np.random.SeedSequence) -> tuple[bool, dict, dict]:
    """A matched history, and the same draw started from that history's record of the report's
    date (what the Secretariat would hold): nothing placed, the parties' responsiveness drawn
    again given what each has done."""
    assert report_setup.snapshot is not None
    as_at = report_setup.snapshot.as_at
    run, pairings, params = simulate(history_setup, seed)
    if not matches_report(observe_dates(run, pairings, [as_at])[0]):
        return False, {}, {}
    record = record_of_run(run, pairings, as_at, "a history that matches the report", {})
    record_setup = dataclasses.replace(
        report_setup, params=params, posterior=None, fixed=(), start="record", record=record, pairings=record.pairings
    )
    # Fresh random numbers for the future: the history's own would replay its draws, and those of
    # work still under way are the long ones (they had not ended by the report's date).
    fresh = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 0xF0))
    again, again_pairings, _ = simulate(record_setup, fresh)
    return True, outcomes(run, pairings, as_at), outcomes(again, again_pairings, as_at)


def record_start_consistency(report_setup: Setup, replications: int, seed: int = 1, workers: int = 1) -> tuple[pd.DataFrame, int]:
    """As :func:`start_consistency`, with each matched history's own record as the other start:
    a start from a record must continue like the histories it records."""
    if report_setup.snapshot is None:
        raise ValueError("the comparison needs the report's date")
    history, record = _paired_runs(_pair_with_record, report_setup, replications, seed, workers)
    return compare_starts(history, record, "from_record"), len(history)


def compare_starts(history: pd.DataFrame, report: pd.DataFrame, label: str = "from_report_state") -> pd.DataFrame:
    """Per outcome: each start's mean, the difference, its standard error from the two samples'
    sizes and spreads, and whether it lies within :data:`Z_LIMIT` standard errors."""
    from scipy import stats

    rows = []
    for column in history.columns:
        a, b = history[column].to_numpy(float), report[column].to_numpy(float)
        se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)) if len(a) > 1 and len(b) > 1 else math.nan
        difference = float(b.mean() - a.mean())
        z = difference / se if se > 0 else (0.0 if difference == 0 else math.inf)
        rows.append(
            {
                "outcome": column,
                "from_history": round(float(a.mean()), 3),
                label: round(float(b.mean()), 3),
                "difference": round(difference, 3),
                "standard_error": round(se, 3),
                "z": round(z, 2),
                "ks_p": round(float(stats.ks_2samp(a, b).pvalue), 4) if len(a) and len(b) else math.nan,
                "agree": bool(abs(z) <= Z_LIMIT),
            }
        )
    return pd.DataFrame(rows)
