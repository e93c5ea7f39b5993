"""The prior-predictive check: what the priors imply before any figure is fitted, set against bounds
a delegate can follow.

Each draw picks a model structure (each equally likely, as the calibration's model prior does) and
every calibrated parameter from its prior (``calibration/priors.toml``), then runs the Mechanism from
its launch in December 2020 for thirty years.  From each run it reads what the priors claim about
the world, in quantities with a plain meaning:

* **the slowest party's slowness**: how many times longer than a typical party the slowest of the
  189 takes over every stage (responsiveness to the power of minus the coupling; 1 when stage work
  does not depend on nominating);
* **redraws by 5 December 2023**: how many reviewers had been replaced at a party's request when
  the fifth redraw meeting was held (¶7);
* **reviews never finished in thirty years**;
* **group 1 seven years in**: the share of group 1's reviews completed in December 2027, beside
  UNCAC's second cycle at the same age (the outside view, not a bound).

Each quantity has a plausible range with its reason (:data:`BOUNDS`); the check reports the share
of prior draws outside each, and which parameters those draws come from (the median of each
parameter's position in its prior range, inside and outside).  A range that rules out a prior's
corner says where the prior is too wide; it is a reasoned judgement, stated, not a fit.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.core.timeline import EPOCH, to_day
from workbench.experiments.setup import Setup, simulate
from workbench.experiments.workers import iter_map
from workbench.inference.structures import ALL_STRUCTURES, Structure
from workbench.inputs.observations import Snapshot
from workbench.inputs.parameters import Parameters
from workbench.inputs.posterior import Posterior
from workbench.inputs.priors import Priors
from workbench.inputs.report_categories import CATEGORY_INDEX
from workbench.observation.observe import observation_table
from workbench.simulation.stages import Stage
from workbench.simulation.streams import replication_seeds
from workbench.simulation.traits import responsiveness_from_uniform

CONSULTATIONS = CATEGORY_INDEX["consultations_held"]

#: The fifth redraw meeting (¶7): the redraws the report speaks of had happened by then.
LAST_REDRAW_MEETING = dt.date(2023, 12, 5)
#: Seven years after group 1's launch: the age at which UNCAC's second cycle had 39 % of its
#: executive summaries (calibration/reference-class.toml).
SEVEN_YEARS = dt.date(2027, 12, 1)
#: How long each run goes on: thirty years from the launch.
YEARS_RUN = 30
#: The path (#21, item 1): public statements describe a Mechanism that moved fastest in its first
#: two years, then slowed (domain.md).  Its measure here: of the consultations held by the report
#: (21 May 2024), the share already held on the eve of group 3's launch (31 October 2022), among
#: runs that match the report's count (73 in April, 78 in May 2024, ¶23).
PATH_DATES = (dt.date(2022, 10, 31), dt.date(2024, 5, 21))
MATCHING_CONSULTATIONS = (73, 83)
#: A path that ran 60 % of the way in its first 23 months and 40 % in the next 19 is fast then slow.
FAST_THEN_SLOW_SHARE = 0.6


@dataclass(frozen=True)
class Bound:
    """A quantity's plausible range, and why, in words a delegate can follow."""

    words: str
    low: float
    high: float
    why: str


BOUNDS: dict[str, Bound] = {
    "slowest_party_factor": Bound(
        "the slowest party's slowness at every stage (times a typical party's)",
        1.0,
        20.0,
        "The slowest party may take many times longer than a typical one, but not over twenty times longer at every "
        "stage: a six-month self-assessment would then take ten years, and no party has been reported that slow at "
        "everything (the report names slow parties, ¶15, ¶29, ¶36, not ones that never move).",
    ),
    "redraws_by_dec_2023": Bound(
        "reviewers redrawn at a party's request by 5 December 2023 (¶7)",
        5.0,
        63.0,
        "¶7: the draw was repeated at five meetings 'following a request by some States parties': at least five "
        "reviewers replaced, and 'some' is far fewer than the 189 reviews; at most one review in three.",
    ),
    "never_finished_30y": Bound(
        "share of the 189 reviews not finished thirty years after the launch",
        0.0,
        0.30,
        "Thirty years on, most reviews have ended: UNCAC's first cycle had 95 % of its summaries 13 years in "
        "(reference-class.toml). More than three in ten UNTOC reviews unfinished after 30 years would need a "
        "Mechanism that has effectively stopped.",
    ),
}

#: The outside view shown beside the check, not a bound: UNCAC's second cycle seven years in.
UNCAC_SECOND_CYCLE_7Y = 73 / 188


def draw_parameters(priors: Priors, structures: tuple[Structure, ...], rng: np.random.Generator) -> tuple[Structure, dict[str, float]]:
    """One draw from the model prior and the parameter priors (the structure's answers fix some)."""
    structure = structures[int(rng.integers(len(structures)))]
    values = {}
    for prior in priors.priors:
        u = rng.random()
        if prior.distribution == "loguniform":
            values[prior.name] = math.exp(math.log(prior.low) + u * (math.log(prior.high) - math.log(prior.low)))
        else:
            values[prior.name] = prior.low + u * (prior.high - prior.low)
    values.update(structure.fixed)
    return structure, values


def slowest_party_factor(shape: float, coupling: float, parties: int) -> float:
    """How many times longer the slowest of ``parties`` takes at every stage: the median of the
    smallest responsiveness among them (gamma, mean 1) to the power of minus the coupling."""
    u = 1.0 - 0.5 ** (1.0 / parties)  # the median of the smallest of n uniforms
    slowest = float(responsiveness_from_uniform(np.array([u]), shape)[0])
    return slowest ** (-coupling) if slowest > 0 else math.inf


def _one_draw(values: dict[str, float], snapshot: Snapshot, seed: np.random.SeedSequence) -> dict[str, float]:
    params = Parameters().updated(values, source="prior draw")
    horizon = dt.date(EPOCH.year + YEARS_RUN, EPOCH.month, EPOCH.day)
    record, pairings, _ = simulate(Setup(params, snapshot, None, "history", horizon), seed)
    completed = record.entered[:, Stage.COMPLETED]
    group1 = pairings.group == 1
    redraw_days = record.redraw_log[:, 0] if len(record.redraw_log) else np.array([])
    held = observation_table(record, pairings, np.array([to_day(d) for d in PATH_DATES], dtype=float))[:, CONSULTATIONS, 0]
    return {
        "consultations_oct_2022": float(held[0]),
        "consultations_may_2024": float(held[1]),
        "slowest_party_factor": slowest_party_factor(params.responsiveness_shape, params.responsiveness_coupling, pairings.n_parties),
        "redraws_by_dec_2023": float(np.sum(redraw_days <= to_day(LAST_REDRAW_MEETING))),
        "never_finished_30y": float(np.mean(np.isnan(completed))),
        "group1_completed_7y": float(np.mean(completed[group1] <= to_day(SEVEN_YEARS))),
    }


def prior_predictive(
    priors: Priors,
    snapshot: Snapshot,
    draws: int = 400,
    seed: int = 1,
    workers: int = 1,
    structures: tuple[Structure, ...] = ALL_STRUCTURES,
) -> pd.DataFrame:
    """One row per prior draw: its structure, its parameters, and what its run implies."""
    rng = np.random.default_rng(seed)
    drawn = [draw_parameters(priors, structures, rng) for _ in range(draws)]
    return implied([(structure.name, values) for structure, values in drawn], snapshot, seed, workers)


def posterior_predictive(posterior: Posterior, snapshot: Snapshot, draws: int = 400, seed: int = 1, workers: int = 1) -> pd.DataFrame:
    """The same quantities under a fitted posterior: particles drawn by their weights."""
    rng = np.random.default_rng(seed)
    indices = rng.choice(len(posterior.weights), size=draws, p=posterior.weights)
    names = posterior.structures if posterior.structures is not None else np.full(len(posterior.weights), "single")
    return implied([(str(names[i]), posterior.particle(int(i))) for i in indices], snapshot, seed, workers)


def implied(drawn: list[tuple[str, dict[str, float]]], snapshot: Snapshot, seed: int = 1, workers: int = 1) -> pd.DataFrame:
    """One row per (structure, parameters) drawn: the draw, what its run from 2020 implies, and
    whether each implied quantity lies in its plausible range."""
    seeds = replication_seeds(seed, len(drawn))
    out = list(iter_map(_one_draw, [(values, snapshot, s) for (_, values), s in zip(drawn, seeds)], workers=workers))
    table = pd.DataFrame([{"structure": name, **values, **row} for (name, values), row in zip(drawn, out)])
    for name, bound in BOUNDS.items():
        table[f"{name}_plausible"] = table[name].between(bound.low, bound.high)
    table["plausible"] = table[[f"{name}_plausible" for name in BOUNDS]].all(axis=1)
    return table


def path_shape(table: pd.DataFrame) -> dict[str, float]:
    """How the draws' runs got to the report's consultations: among those that match it
    (:data:`MATCHING_CONSULTATIONS`), the share of them held by October 2022, its quantiles, and
    how many ran fast then slow (at least :data:`FAST_THEN_SLOW_SHARE` by then)."""
    low, high = MATCHING_CONSULTATIONS
    matching = table[table["consultations_may_2024"].between(low, high)]
    share = (matching["consultations_oct_2022"] / matching["consultations_may_2024"]).to_numpy(float)
    quantiles = np.quantile(share, [0.1, 0.5, 0.9]) if len(share) else np.full(3, math.nan)
    return {
        "draws": float(len(table)),
        "matching": float(len(share)),
        "share_p10": float(quantiles[0]),
        "share_median": float(quantiles[1]),
        "share_p90": float(quantiles[2]),
        "share_max": float(share.max()) if len(share) else math.nan,
        "fast_then_slow": float(np.sum(share >= FAST_THEN_SLOW_SHARE)),
    }


def verdicts(table: pd.DataFrame, priors: Priors) -> pd.DataFrame:
    """Per bound: the share of prior draws outside it (with its binomial standard error), and the
    quantities' quartiles across the draws."""
    n = len(table)
    rows = []
    for name, bound in BOUNDS.items():
        outside = 1.0 - table[f"{name}_plausible"].mean()
        q = table[name].quantile([0.1, 0.5, 0.9])
        rows.append(
            {
                "quantity": name,
                "plausible_range": f"{bound.low:g} to {bound.high:g}",
                "share_outside": round(outside, 4),
                "standard_error": round(math.sqrt(max(outside * (1 - outside), 1e-12) / n), 4),
                "p10": q.iloc[0],
                "median": q.iloc[1],
                "p90": q.iloc[2],
            }
        )
    return pd.DataFrame(rows)


def where_implausible(table: pd.DataFrame, priors: Priors) -> pd.DataFrame:
    """For each bound and each calibrated parameter: where in the parameter's prior range (0 = low
    end, 1 = high end, on the prior's own scale) the draws inside and outside the bound lie, by
    their medians.  The larger the difference, the more that end of the prior is what the bound
    rules out; rows sorted by bound, then by the size of the difference."""
    rows = []
    for name in BOUNDS:
        ok = table[f"{name}_plausible"].to_numpy(bool)
        for prior in priors.priors:
            position = _position(table[prior.name].to_numpy(float), prior.low, prior.high, prior.distribution == "loguniform")
            inside = float(np.median(position[ok])) if ok.any() else math.nan
            outside = float(np.median(position[~ok])) if (~ok).any() else math.nan
            rows.append(
                {
                    "bound": name,
                    "parameter": prior.name,
                    "inside_median_position": round(inside, 3),
                    "outside_median_position": round(outside, 3),
                    "difference": round(outside - inside, 3),
                }
            )
    out = pd.DataFrame(rows)
    out["size"] = out["difference"].abs()
    out = out.sort_values(["bound", "size"], ascending=[True, False]).drop(columns="size")
    return out.reset_index(drop=True)


def _position(values: np.ndarray, low: float, high: float, log: bool) -> np.ndarray:
    """Where ``values`` lie in [low, high], from 0 to 1, on the prior's own scale (a value a
    structure fixed below the range, such as a coupling of 0, counts as 0)."""
    if log:
        return np.clip((np.log(np.maximum(values, 1e-300)) - math.log(low)) / (math.log(high) - math.log(low)), 0, 1)
    return np.clip((values - low) / (high - low), 0, 1)
