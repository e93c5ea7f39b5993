"""What drives the answer: variance-based sensitivity of the headline to each parameter and structure.

The inputs are not independent: they are draws from the calibrated posterior, whose
parameters are correlated (a faster nomination rate goes with a larger silent share, say)
and which mixes model structures.  Sobol' total-effect indices and the Saltelli sampling
behind them assume independent inputs and would evaluate the model at combinations the
evidence rules out.  So the analysis is **given-data**: draw parameter sets from the
posterior itself, run each a few times (the same replication seeds for every draw, so
that the differences between draws are not noise), and estimate for each input the
first-order index S1 = Var(E[Y | input]) / Var(Y) from those draws alone, by SALib's
equal-frequency partition estimator (``SALib.analyze.delta``, Plischke 2010).  S1 stays
well defined under dependence: it is the share of the headline's spread that knowing one
input would remove.  Under dependence the indices need not add up to 1 (correlated inputs
share credit), and the part left to the replications' own randomness is reported apart.

A structure enters as its three answers (silent or tail nominations, coupled or
independent pace, clustered or smooth SAQs), each a 0/1 input.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.core.timeline import CONFERENCE_SESSIONS, DAYS_PER_YEAR, to_day
from workbench.core.translatable import N_
from workbench.experiments.setup import DEFAULT_HORIZON, Setup, default_setup, simulate
from workbench.experiments.workers import default_workers, parallel_map
from workbench.inputs.posterior import Posterior
from workbench.simulation.streams import replication_seeds

#: The three questions of the model structures, as 0/1 inputs: (input, structure answer that is 1).
STRUCTURE_INPUTS = (("structure: nominations", "silent"), ("structure: pace", "coupled"), ("structure: saq", "clustered"))

#: Each input in the words a delegation would use.
PLAIN_WORDS = {
    "nomination_rate": N_("how quickly parties nominate focal points"),
    "responsiveness_shape": N_("how alike parties are in responsiveness"),
    "silent_share": N_("how many parties never nominate unprompted"),
    "replacement_rate": N_("how often focal points change"),
    "handover_months": N_("how long a change of focal point stalls reviews"),
    "responsiveness_coupling": N_("how strongly slowness in nominating carries into every stage"),
    "consultation_scheduling_months": N_("how long preliminary consultations take to schedule"),
    "saq_median_months": N_("how long self-assessments take"),
    "saq_sigma": N_("how much self-assessment times vary"),
    "saq_deadline_pull": N_("how strongly self-assessments bunch at their deadline"),
    "feedback_part_median_months": N_("how long reviewers take to draft written feedback"),
    "feedback_sigma": N_("how much drafting times vary"),
    "lists_median_months": N_("how long lists of observations take"),
    "lists_sigma": N_("how much lists times vary"),
    "summaries_median_months": N_("how long summaries take"),
    "summaries_sigma": N_("how much summaries times vary"),
    "redraw_patience_months": N_("how long parties wait before asking for a redraw"),
    "structure: nominations": N_("whether some parties never nominate at all, or all do in the end (structure)"),
    "structure: pace": N_("whether slowness in nominating carries into every stage at all (structure)"),
    "structure: saq": N_("whether self-assessments bunch at their deadline at all (structure)"),
}


def output_names(horizon: dt.date) -> dict[str, str]:
    """The headline quantities, by column name, with their reading."""
    names = {f"p_before_{year}_session": f"P(met before the {year} Conference session)" for year in CONFERENCE_SESSIONS}
    names["p_not_by_horizon"] = f"P(not met by {horizon.year})"
    names["median_years"] = f"median years to the 70 % date (capped at {horizon.year})"
    return names


@dataclass
class Sensitivity:
    """The draws, their outputs, and the first-order index of each input on each output."""

    draws: pd.DataFrame  # one row per posterior draw: its inputs, then its outputs
    indices: pd.DataFrame  # input, plain words, output, S1, S1_conf
    noise_share: dict[str, float]  # per output: the replications' own randomness, as a share of Var(Y)
    inputs: list[str]
    outputs: dict[str, str]
    replications: int
    seed: int

    def top(self, output: str, n: int = 3) -> pd.DataFrame:
        """The ``n`` inputs with the largest S1 on ``output``."""
        rows = self.indices[self.indices.output == output]
        return rows.sort_values("S1", ascending=False).head(n)

    def drivers_sentence(self, output: str = "p_not_by_horizon", n: int = 3) -> str:
        """The top drivers in plain words, for the report and the explorer."""
        top = self.top(output, n)
        parts = [f"{row.words} ({row.S1:.0%} of the spread)" for row in top.itertuples()]
        return f"What most drives {self.outputs[output]}: " + "; ".join(parts) + "."


def _run_draws(setup: Setup, rows: list[dict], seed: int, replications: int, horizon_day: float, start_day: float) -> list[dict]:
    """Each parameter set run on the same ``replications`` seeds: the headline quantities per set."""
    seeds = replication_seeds(seed, replications)
    session_days = {year: to_day(day) for year, day in CONFERENCE_SESSIONS.items()}
    out = []
    for theta in rows:
        one = dataclasses.replace(setup, params=setup.params.updated(theta, source="posterior draw"))
        days = np.array([simulate(one, s)[0].threshold_day for s in seeds], dtype=float)
        reached = np.isfinite(days)
        result = {f"p_before_{year}_session": float(np.mean(reached & (days < d))) for year, d in session_days.items()}
        result["p_not_by_horizon"] = float(np.mean(~reached))
        capped = np.where(reached, days, horizon_day)
        result["median_years"] = float((np.median(capped) - start_day) / DAYS_PER_YEAR)
        out.append(result)
    return out


def sensitivity(
    posterior: Posterior,
    draws: int = 600,
    replications: int = 10,
    seed: int = 1,
    horizon: dt.date = DEFAULT_HORIZON,
    workers: int | None = None,
    scheduler: str | None = None,
) -> Sensitivity:
    """Draw ``draws`` parameter sets from ``posterior``, run each ``replications`` times, and
    estimate each input's first-order index on each headline quantity."""
    from SALib.analyze import delta

    setup = default_setup(start="report", horizon=horizon)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7,)))
    picked = rng.choice(len(posterior.weights), size=draws, p=posterior.weights, replace=True)
    varying = [j for j, _ in enumerate(posterior.names) if np.ptp(posterior.values[picked, j]) > 0]
    params = [{posterior.names[j]: float(posterior.values[i, j]) for j in range(len(posterior.names))} for i in picked]
    inputs = pd.DataFrame({posterior.names[j]: posterior.values[picked, j] for j in varying})
    if posterior.structures is not None:
        for column, answer in STRUCTURE_INPUTS:
            flags = np.array([answer in str(name).split("-") for name in posterior.structures[picked]], dtype=float)
            if np.ptp(flags) > 0:
                inputs[column] = flags

    workers = default_workers() if workers is None else workers
    chunks = [[int(i) for i in c] for c in np.array_split(np.arange(draws), max(1, min(draws, workers * 4))) if len(c)]
    horizon_day, start_day = to_day(horizon), to_day(setup.report.as_at)
    parts = parallel_map(
        _run_draws, [(setup, [params[i] for i in c], seed, replications, horizon_day, start_day) for c in chunks], workers, scheduler
    )
    outputs = pd.DataFrame([row for part in parts for row in part])
    names = output_names(horizon)

    problem = {
        "num_vars": inputs.shape[1],
        "names": list(inputs.columns),
        "bounds": [[float(inputs[c].min()), float(inputs[c].max())] for c in inputs.columns],
    }
    rows, noise = [], {}
    for output in names:
        y = outputs[output].to_numpy(dtype=float)
        if np.ptp(y) == 0:
            noise[output] = float("nan")
            rows += [{"input": c, "words": PLAIN_WORDS.get(c, c), "output": output, "S1": 0.0, "S1_conf": 0.0} for c in inputs.columns]
            continue
        result = delta.analyze(problem, inputs.to_numpy(dtype=float), y, method="sobol", num_resamples=100, seed=seed)
        for c, s1, conf in zip(inputs.columns, result["S1"], result["S1_conf"]):
            rows.append({"input": c, "words": PLAIN_WORDS.get(c, c), "output": output, "S1": float(s1), "S1_conf": float(conf)})
        # A probability estimated from r replications has binomial variance p(1-p)/r: the part
        # of the spread between draws that no input can explain.
        noise[output] = float(np.mean(y * (1 - y) / replications) / np.var(y)) if output.startswith("p_") else float("nan")
    return Sensitivity(pd.concat([inputs, outputs], axis=1), pd.DataFrame(rows), noise, list(inputs.columns), names, replications, seed)


def sensitivity_table(result: Sensitivity) -> pd.DataFrame:
    """Wide table: one row per input, one S1 column per output, sorted by the horizon probability."""
    wide = result.indices.pivot(index="input", columns="output", values="S1")[list(result.outputs)]
    wide.insert(0, "in plain words", [PLAIN_WORDS.get(i, i) for i in wide.index])
    return wide.sort_values("p_not_by_horizon", ascending=False)
