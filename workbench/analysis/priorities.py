"""Whom to act on first: which party's nomination would bring the condition forward most.

For each party, the forecast is rerun with that party alone followed up as hard as a lever
allows from the start date (its nomination hazard times 20, and one a month for a party that
would never nominate by itself: the nomination follow-up lever at its maximum), on the same
seeds as the baseline.  The difference is that party's effect, with its Monte Carlo error
from the paired runs.  Which parties have not nominated is drawn in each run from the
report's counts (¶12, ¶15): the report does not name them, so a party that has nominated in a
run gains nothing there, and the effect shown is an average over that uncertainty.

With a review record (``--record``) the parties are the record's, and only those still without a
focal point at its date are tried: the others have nominated, in the record, in every run.

The list can name parties only with the real pairing list (``--pairings``) or a record.  Without it, one
synthetic list drawn from the seed is used for every run, and a "party" is a position in that
list (its review and its roles), not a State.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable

import numpy as np
import pandas as pd

from workbench.core.timeline import DAYS_PER_MONTH, EPOCH, to_day
from workbench.experiments.replications import run_replications
from workbench.experiments.setup import Setup
from workbench.inputs.levers import LEVER_TYPES, Levers, NominationFollowUp, Target
from workbench.inputs.parties import Pairings, synthetic_pairings

#: The strongest follow-up the nomination lever allows: "this party nominates now", as near as the model can say it.
_, _RANGES = LEVER_TYPES["nomination_follow_up"]
STRONGEST_FOLLOW_UP = {"rate_multiplier": _RANGES["rate_multiplier"][1], "silent_rate_per_month": _RANGES["silent_rate_per_month"][1]}


def with_fixed_pairings(setup: Setup, seed: int) -> Setup:
    """The setup with one pairing list for every run: the real one if given, else one synthetic list."""
    if setup.pairings is not None:
        return setup
    return dataclasses.replace(setup, pairings=synthetic_pairings(np.random.SeedSequence([seed, 0xA11])))


def follow_up_one(party: str, start: dt.date) -> Levers:
    return Levers(nomination_follow_up=NominationFollowUp(start=start, target=Target(parties=(party,)), **STRONGEST_FOLLOW_UP))


def _met_and_days(
    setup: Setup, levers: Levers, before: dt.date, replications: int, seed: int, workers: int | None
) -> tuple[np.ndarray, np.ndarray]:
    results = run_replications(
        dataclasses.replace(setup, levers=levers), replications, seed=seed, workers=workers, keep_events=False, keep_monthly=False
    )
    t = results.threshold
    met = (t["reached"] & (t["date"] < pd.Timestamp(before))).to_numpy()
    # Runs that never meet it count at the day after the horizon: a lower bound on their gain.
    days = np.where(t["reached"], (t["date"] - pd.Timestamp(EPOCH)).dt.days, to_day(setup.horizon) + 1)
    return met, days.astype(float)


def act_first(
    setup: Setup,
    before: dt.date,
    start: dt.date,
    replications: int = 200,
    seed: int = 1,
    workers: int | None = None,
    parties: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """One row per party: the change in P(met before ``before``) and in the mean date (months
    earlier, runs not met by the horizon counted at it) if that party alone were followed up from
    ``start``, with their standard errors; ranked, largest gain first."""
    setup = with_fixed_pairings(setup, seed)
    pairings = setup.pairings
    assert pairings is not None
    real = pairings.source != "synthetic"
    base_met, base_days = _met_and_days(setup, Levers(), before, replications, seed, workers)
    roles = _roles(pairings)
    reviews_of = pairings.reviews_of()
    in_group_1 = {name: int(sum(pairings.group[r] == 1 for r in reviews_of[p])) for p, name in enumerate(pairings.parties)}
    names = parties or _candidates(setup)
    rows = []
    for k, name in enumerate(names):
        met, days = _met_and_days(setup, follow_up_one(name, start), before, replications, seed, workers)
        dp = met.astype(float) - base_met
        gain = (base_days - days) / DAYS_PER_MONTH
        rows.append(
            {
                "party" if real else "position": name,
                "roles": roles[name],
                "group_1_reviews": in_group_1[name],
                "p_change": float(dp.mean()),
                "p_change_se": float(dp.std(ddof=1) / math.sqrt(len(dp))) if len(dp) > 1 else math.nan,
                "months_earlier_mean": float(gain.mean()),
                "months_earlier_se": float(gain.std(ddof=1) / math.sqrt(len(gain))) if len(gain) > 1 else math.nan,
                "runs_changed": float(np.mean(gain != 0)),
            }
        )
        if progress:
            progress(k + 1, len(names))
    table = pd.DataFrame(rows).sort_values(["months_earlier_mean", "p_change"], ascending=False).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    # Whether each party's gain is told apart from the next one's: more than two standard errors of
    # their difference (taken as independent, which overstates it for paired runs: a cautious word).
    gap = table["months_earlier_mean"].diff(-1).to_numpy()
    spread = np.hypot(table["months_earlier_se"], table["months_earlier_se"].shift(-1)).to_numpy()
    table["ahead_of_next_resolved"] = np.where(np.isnan(gap), True, gap > 2 * spread)
    table.attrs["pairings"] = pairings.source
    table.attrs["baseline_p"] = float(base_met.mean())
    return table


def _candidates(setup: Setup) -> list[str]:
    """The parties to try: with a record, those without a focal point at its date (any other has
    nominated already, and a follow-up of its nomination changes nothing); else every party."""
    pairings = setup.pairings
    assert pairings is not None
    if setup.record is not None:
        return [pairings.parties[p] for p in np.flatnonzero(np.isnan(setup.record.nominated_at))]
    return list(pairings.parties)


def _roles(pairings: Pairings) -> dict[str, str]:
    """Each party's roles, e.g. "under review in R1-05; reviewer in R2-11"."""
    out: dict[str, list[str]] = {name: [] for name in pairings.parties}
    for r in range(pairings.n_reviews):
        under, a, b = pairings.members(r)
        rid = pairings.review_ids[r]
        out[pairings.parties[under]].append(f"under review in {rid}")
        for p in (a, b):
            out[pairings.parties[p]].append(f"reviewer in {rid}")
    return {name: "; ".join(v) for name, v in out.items()}
