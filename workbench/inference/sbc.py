"""Simulation-based calibration: is the inference right on data whose truth is known?

Each round draws a model structure and every calibrated parameter from the priors (as the prior-
predictive check does), runs the Mechanism once from December 2020, and reads off every figure the
real observation files hold, on their dates: a synthetic set of dated figures made by that truth.
The calibration then fits them, with the priors and structures it uses on the real figures, and the
round records where the truth falls in the posterior: inside its central 50 % and 80 % intervals or
not, its rank (the posterior's weighted share below it), and the posterior probability of the
structure that made the data.

Over many rounds, an inference that is right covers the truth at the nominal rates (50 %, 80 %),
ranks it uniformly, and gives the true structure on average the share of the mass it claims.  A
short budget over-covers (its posteriors are wider than the exact ones: honest but vague); under-
coverage means overconfidence, the failure that matters.  ``make sbc`` runs the full check; the suite
runs a small version.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.experiments.setup import Setup, simulate
from workbench.inference.calibrate import Calibration
from workbench.inference.prior_check import draw_parameters
from workbench.inference.settings import Budget, CalibrationSettings
from workbench.inference.simulator import Simulator
from workbench.inference.structures import ALL_STRUCTURES, Structure
from workbench.inputs.observations import Snapshot, load_observations
from workbench.inputs.parameters import Parameters
from workbench.inputs.priors import DEFAULT_PRIORS, Priors, load_priors
from workbench.observation.observe import observe_dates
from workbench.simulation.streams import replication_seeds

#: The central intervals whose coverage is checked.
LEVELS = (0.5, 0.8)


def synthetic_snapshots(snapshots: list[Snapshot], truth: Parameters, seed: int) -> list[Snapshot]:
    """The figures one run from 2020 with ``truth`` shows on the dates of ``snapshots``: the same
    figures, each a point reading of the run (one history, observed at every date)."""
    last = max(s.as_at for s in snapshots)
    setup = Setup(truth, snapshots[-1], None, start="history", horizon=last + pd.Timedelta(days=1).to_pytimedelta())
    record, pairings, _ = simulate(setup, replication_seeds(seed, 1)[0])
    seen = observe_dates(record, pairings, [s.as_at for s in snapshots])
    out = []
    for snap, state in zip(snapshots, seen):
        figures = {
            key: dataclasses.replace(fig, value=float(state[key]), alternatives=(), started_between=None, at_least=False, at_most=None)
            for key, fig in snap.figures.items()
            if key in state
        }
        out.append(dataclasses.replace(snap, figures=figures, path=Path(f"synthetic-{snap.as_at}.toml")))
    return out


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a weighted sample (the smallest value whose cumulative weight reaches q)."""
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][min(int(np.searchsorted(cumulative, q)), len(values) - 1)])


@dataclass
class SBCResult:
    parameters: pd.DataFrame  # one row per round and calibrated parameter the true structure leaves free
    structures: pd.DataFrame  # one row per round: the true structure and its posterior probability
    rounds: int

    def coverage(self) -> pd.DataFrame:
        """Per level: the share of truths inside the central interval, its binomial standard error at
        the nominal rate, and how many standard errors it lies from nominal (negative: overconfident)."""
        n = len(self.parameters)
        rows = []
        for level in LEVELS:
            covered = float(self.parameters[f"inside_{int(100 * level)}"].mean()) if n else math.nan
            se = math.sqrt(level * (1 - level) / n) if n else math.nan
            rows.append(
                {
                    "interval": f"{level:.0%}",
                    "truths": n,
                    "covered": round(covered, 3),
                    "se": round(se, 3),
                    "z": round((covered - level) / se, 2),
                }
            )
        return pd.DataFrame(rows)

    def by_parameter(self) -> pd.DataFrame:
        """Coverage of each parameter across rounds, and the mean rank of its truth (0.5 when right)."""
        return (
            self.parameters.groupby("parameter")
            .agg(rounds=("truth", "size"), inside_50=("inside_50", "mean"), inside_80=("inside_80", "mean"), mean_rank=("rank", "mean"))
            .round(3)
            .reset_index()
        )

    def structure_share(self) -> dict[str, float]:
        """The mean posterior probability of the true structure, beside the prior's 1/number of structures."""
        return {
            "true_structure_mean_probability": round(float(self.structures["true_structure_probability"].mean()), 3),
            "prior_share": round(float(self.structures["prior_share"].iloc[0]), 3) if len(self.structures) else math.nan,
        }


def simulation_based_calibration(
    rounds: int,
    budget: Budget,
    seed: int = 1,
    workers: int = 1,
    structures: tuple[Structure, ...] = ALL_STRUCTURES,
    priors_path: Path = DEFAULT_PRIORS,
    snapshots: list[Snapshot] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SBCResult:
    """``rounds`` truths drawn from the priors, each fitted by the calibration with ``budget``."""
    snapshots = snapshots or load_observations()
    priors = load_priors(priors_path)
    rng = np.random.default_rng(seed)
    parameter_rows, structure_rows = [], []
    scratch = Path(tempfile.mkdtemp(prefix="workbench-sbc-"))
    try:
        for k in range(rounds):
            structure, values = draw_parameters(priors, structures, rng)
            truth = Parameters().updated(values, source=f"SBC truth {k}")
            observed = synthetic_snapshots(snapshots, truth, seed=seed * 1000 + k)
            result = Calibration(
                CalibrationSettings(budget, seed=seed * 1000 + k, structures=structures, priors_path=priors_path),
                db=scratch / f"round-{k}.db",
                workers=workers,
                simulator=Simulator(observed),
                snapshots=observed,
                progress=lambda line: None,
            ).run()
            parameter_rows += _where_the_truth_falls(result.particles, priors, structure, values, k)
            structure_rows.append(
                {
                    "round": k,
                    "true_structure": structure.name,
                    "true_structure_probability": result.structure_probabilities.get(structure.name, 0.0),
                    "prior_share": 1.0 / len(structures),
                }
            )
            if progress:
                progress(k + 1, rounds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return SBCResult(pd.DataFrame(parameter_rows), pd.DataFrame(structure_rows), rounds)


def _where_the_truth_falls(particles: pd.DataFrame, priors: Priors, structure: Structure, truth: dict, k: int) -> list[dict]:
    """For each parameter the true structure leaves free: the truth against the posterior's central
    intervals, and its rank."""
    weights = particles["weight"].to_numpy(float)
    rows = []
    for prior in priors.priors:
        if prior.name in structure.fixed:
            continue  # fixed by the structure (a coupling of 0): the structure's probability says it
        values = particles[prior.name].to_numpy(float)
        row = {"round": k, "structure": structure.name, "parameter": prior.name, "truth": truth[prior.name]}
        for level in LEVELS:
            low = weighted_quantile(values, weights, (1 - level) / 2)
            high = weighted_quantile(values, weights, (1 + level) / 2)
            row[f"inside_{int(100 * level)}"] = bool(low <= truth[prior.name] <= high)
        row["rank"] = float(weights[values < truth[prior.name]].sum() / weights.sum())
        rows.append(row)
    return rows
