"""Does the record's fit find the truth that made the record?  (Recovery on synthetic records.)

For each model structure, records are made from runs of the model from 2020 under known
parameters (the hand-set ones, with each question's answer switched on or off), recorded as the
Secretariat would hold them on a date; each is fitted under every structure
(:func:`workbench.inference.record_likelihood.fit_record`).  The fit should select each
question's true answer on records of the Mechanism's size, cover each true parameter with its
80 % interval about 80 % of the time, and, on a record too short to decide, not claim certainty.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from workbench.experiments.setup import default_setup, simulate
from workbench.experiments.synthetic_record import record_of_run
from workbench.experiments.workers import parallel_map
from workbench.inference.record_likelihood import RecordDelays, StructureFit, fit_record, fit_structure, from_unit, log_posteriors
from workbench.inference.structures import ALL_STRUCTURES, Structure, answer_probabilities
from workbench.inputs.parameters import Parameters
from workbench.inputs.priors import Priors, load_priors
from workbench.inputs.record import ReviewRecord
from workbench.simulation.streams import replication_seeds

#: Each question's first answer switched on at these values (the second answer's are the structures' own).
ANSWERS_ON = {"silent_share": 0.10, "responsiveness_coupling": 1.0, "saq_deadline_pull": 0.4}
#: The tail structure's heavier tail: with no silent parties, the slowest must be slower.
TAIL_SHAPE = 0.5


def truth(structure: Structure) -> Parameters:
    """The known parameters of a structure's synthetic records."""
    values = {**ANSWERS_ON, **structure.fixed}
    if structure.fixed.get("silent_share") == 0.0:
        values["responsiveness_shape"] = TAIL_SHAPE
    return Parameters().updated(values)


def synthetic_records(
    structure: Structure, n: int, seed: int, as_at: dt.date = dt.date(2024, 5, 21), only: int | None = None
) -> list[ReviewRecord]:
    """``n`` records on ``as_at`` of runs from 2020 under :func:`truth` (``structure``); with
    ``only``, that one of them alone (the same record, without making the others)."""
    params = truth(structure)
    setup = default_setup(params=params, start="history", horizon=as_at + dt.timedelta(days=31))
    sequences = replication_seeds(seed, n)
    out = []
    for sequence in sequences if only is None else [sequences[only]]:
        run, pairings, _ = simulate(setup, sequence)
        out.append(record_of_run(run, pairings, as_at, f"synthetic: a run of {structure.name}", {"structure": structure.name}))
    return out


@dataclass(frozen=True)
class Recovery:
    selections: pd.DataFrame  # one row per (truth, record, question): P(true answer | record)
    coverage: pd.DataFrame  # one row per (truth, record, parameter): inside the 80 % interval?


#: Chains of the Metropolis cross-check, run side by side (the likelihood is evaluated for all at once).
MCMC_CHAINS = 32


def metropolis_draws(
    fit: StructureFit, delays: RecordDelays, priors: Priors, base: Parameters, steps: int, seed: int
) -> dict[str, np.ndarray]:
    """The same posterior as ``fit``'s importance sampler, drawn by random-walk Metropolis instead:
    :data:`MCMC_CHAINS` chains started from the sampler's particles, proposals scaled to its
    covariance (2.38² / dimensions), the first third of each chain dropped.  Independent of the
    sampler but for the start and the proposal's shape, so that where the two agree, the sampler
    is not what makes an interval miss."""
    rng = np.random.default_rng([seed, 11])
    free, w, u = fit.free, fit.weights, fit.particles
    mean = w @ u
    covariance = ((u - mean) * w[:, None]).T @ (u - mean) * 2.38**2 / len(free) + 1e-9 * np.eye(len(free))
    factor = np.linalg.cholesky(covariance)
    held = base.updated(fit.fixed)
    x = u[rng.choice(len(w), MCMC_CHAINS, p=w)]
    log_p = log_posteriors(x, free, priors, held, delays)
    kept = []
    for step in range(steps):
        y = x + rng.standard_normal(x.shape) @ factor.T
        log_q = log_posteriors(y, free, priors, held, delays)
        move = np.log(rng.random(MCMC_CHAINS)) < log_q - log_p
        x[move], log_p[move] = y[move], log_q[move]
        if step >= steps // 3:
            kept.append(x.copy())
    chain = np.concatenate(kept)
    return {name: from_unit(priors[name], special.expit(chain[:, j])) for j, name in enumerate(free)}


def recover(records_per_structure: int = 4, seed: int = 7, workers: int = 1, mcmc_steps: int = 0) -> Recovery:
    """Every structure's records, each fitted under every structure (about 40 s a record on one
    core: 8 structures x records x 8 fits), on ``workers`` processes; with ``mcmc_steps``, the true
    structure's intervals also by Metropolis (:func:`metropolis_draws`)."""
    tasks = [
        (structure.name, records_per_structure, seed, k, mcmc_steps) for structure in ALL_STRUCTURES for k in range(records_per_structure)
    ]
    parts = parallel_map(_recover_one, tasks, workers)
    return Recovery(pd.DataFrame([row for part in parts for row in part[0]]), pd.DataFrame([row for part in parts for row in part[1]]))


def _recover_one(name: str, records_per_structure: int, seed: int, k: int, mcmc_steps: int = 0) -> tuple[list[dict], list[dict]]:
    """Record ``k`` of structure ``name``: the probability of each question's true answer, and
    whether each true parameter is inside the true structure's 80 % interval."""
    structure = {s.name: s for s in ALL_STRUCTURES}[name]
    priors, params = load_priors(), truth(structure)
    (record,) = synthetic_records(structure, records_per_structure, seed, only=k)
    fit = fit_record(record, priors)
    answers = answer_probabilities(fit.probabilities())
    selections = [
        {"truth": name, "record": k, "question": question, "p_true_answer": answers[question][answer]}
        for question, answer in zip(answers, structure.answers)
    ]
    true_fit = fit.fits[name]
    draws = true_fit.draws(priors, np.random.default_rng([seed, k]), 4000)
    chains = metropolis_draws(true_fit, RecordDelays.from_record(record), priors, Parameters(), mcmc_steps, seed + k) if mcmc_steps else {}
    coverage = []
    for parameter in true_fit.free:
        low, high = np.quantile(draws[parameter], [0.1, 0.9])
        value = getattr(params, parameter)
        row = {"truth": name, "record": k, "parameter": parameter, "true": value, "low": low, "high": high, "covered": low <= value <= high}
        if chains:
            row["mcmc_low"], row["mcmc_high"] = np.quantile(chains[parameter], [0.1, 0.9])
        coverage.append(row)
    return selections, coverage


def pace_evidence(record: ReviewRecord, priors: Priors | None = None) -> float:
    """log p(record | coupled) - log p(record | independent), other answers silent and clustered:
    the suite's quick check of one question."""
    priors = priors or load_priors()
    delays = RecordDelays.from_record(record)
    by_name = {s.name: s for s in ALL_STRUCTURES}
    coupled = fit_structure(delays, by_name["silent-coupled-clustered"], priors, Parameters())
    independent = fit_structure(delays, by_name["silent-independent-clustered"], priors, Parameters())
    return coupled.log_evidence - independent.log_evidence


def probability_from(log_ratio: float) -> float:
    """P(first | record) from a log evidence ratio, at even prior odds."""
    return float(special.expit(log_ratio))
