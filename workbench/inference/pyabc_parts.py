"""The pieces of pyabc the calibration replaces, each with one job: reproducible sampling,
the prior box, the structures' prior and jumps, and the proposal kernel.

* :class:`OrderedSampler` seeds evaluation *i* of generation *t* from (run seed, t, i) and
  accepts in index order, so the posterior is the same on one worker, many, or a Dask cluster
  (pyabc's own parallel samplers reseed from the OS, pyabc #400).
* :class:`BoxPrior` computes the independent uniform priors' density from their bounds.
* :class:`UniformModelPrior` and :class:`DirectModelKernel` give the structures' prior and
  pyabc's model perturbation kernel without a scipy distribution per jump.
* :class:`CholeskyTransition` is pyabc's multivariate normal kernel, drawn with a Cholesky
  factor computed once per generation.

Each draws from numpy's global generator, which the sampler seeds for every evaluation, so
runs stay reproducible; and each is a module-level class, so tasks pickle plainly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyabc
from pyabc.parameters import Parameter
from pyabc.sampler import Sampler
from pyabc.transition import ModelPerturbationKernel, MultivariateNormalTransition

from workbench.experiments.workers import chunk_count, parallel_map
from workbench.inference.simulator import LOG_PREFIX
from workbench.inputs.priors import Priors

#: Widening of pyabc's kernel density proposal relative to Silverman's rule.  In 14
#: dimensions Silverman's bandwidth left an effective sample size of 1-10 % of the
#: population after one generation (measured: 1.3 and 10 of 100); three times wider keeps
#: about 60 % at the cost of a lower acceptance rate.
TRANSITION_SCALING = 3.0

#: Chance that a proposal keeps its particle's structure (pyabc's default for model jumps).
MODEL_STAY = 0.7


# --- sampling --------------------------------------------------------------------------------
def evaluation_state(seed: int, t: int, index: int) -> np.ndarray:
    """The generator state of evaluation ``index`` of generation ``t``."""
    # t is -1 for pyabc's calibration sample from the prior; keys must be non-negative.
    return np.random.SeedSequence(seed, spawn_key=(t + 1, index)).generate_state(4)


def _evaluate(simulate_one: Callable[[], Any], seed: int, t: int, indices: list[int]) -> list:
    out = []
    for i in indices:
        np.random.seed(evaluation_state(seed, t, i))  # noqa: NPY002 (pyabc draws from the global generator)
        out.append(simulate_one())
    return out


class OrderedSampler(Sampler):
    """Evaluation *i* of generation *t* always draws from seed (run seed, t, i); the first
    ``n`` accepted in index order form the population, whatever order workers finish in."""

    def __init__(self, seed: int, workers: int = 1, scheduler: str | None = None):
        super().__init__()
        self.seed = int(seed)
        self.workers = max(1, int(workers))
        self.scheduler = scheduler

    def sample_until_n_accepted(
        self,
        n: int,
        simulate_one: Callable[[], Any],
        t: int,
        *,
        max_eval: float = np.inf,
        all_accepted: bool = False,
        ana_vars: Any = None,
    ) -> Any:
        particles: list = []
        accepted = 0
        next_index = 0
        rate = 1.0
        while accepted < n:
            batch = int(min(50000, max(self.workers * 4, math.ceil((n - accepted) / max(rate, 0.005) * 1.2))))
            indices = list(range(next_index, next_index + batch))
            chunks = [list(map(int, c)) for c in np.array_split(indices, min(batch, chunk_count(batch, self.workers, self.scheduler)))]
            parts = parallel_map(_evaluate, [(simulate_one, self.seed, t, c) for c in chunks], self.workers, self.scheduler)
            results = [p for part in parts for p in part]
            rate = max(sum(p.accepted for p in results) / len(results), 0.0)
            for particle in results:
                if accepted >= n:
                    break
                particles.append(particle)
                accepted += particle.accepted
            next_index += batch
            if next_index >= max_eval:
                break
        sample = self._create_empty_sample()
        for particle in particles:
            sample.append(particle)
        self.nr_evaluations_ = len(particles)
        if sample.n_accepted < n:
            sample.ok = False
        return sample


# --- the priors ------------------------------------------------------------------------------
class BoxPrior(pyabc.Distribution):
    """Independent uniform priors, with the density computed from the bounds.

    pyabc proposes parameters until one has positive prior density; with 14 parameters
    most proposals fall outside the box, and scipy's per-parameter ``pdf`` made those
    retries cost ten times the simulation itself.  Same values, same draws.
    """

    def __init__(self, **uniforms: pyabc.RV):
        super().__init__(**uniforms)
        self.bounds = {name: (float(rv.args[0]), float(rv.args[1])) for name, rv in uniforms.items()}  # (low, width)

    def pdf(self, x: dict[str, float]) -> float:
        density = 1.0
        for key, value in x.items():
            low, width = self.bounds[key]
            density *= 1.0 / width if low <= value <= low + width else 0.0
        return density


def box_prior(priors: Priors, fixed: dict[str, float] | None = None) -> BoxPrior:
    """The priors on the sampling scale, where each one is flat; the parameters a structure
    ``fixed`` are left out."""
    uniforms = {}
    for p in priors.priors:
        if p.name in (fixed or {}):
            continue
        if p.distribution == "uniform":
            uniforms[p.name] = pyabc.RV("uniform", p.low, p.high - p.low)
        else:  # sampled on the log scale, where the prior is flat
            low = math.log(p.low)
            uniforms[LOG_PREFIX + p.name] = pyabc.RV("uniform", low, math.log(p.high) - low)
    return BoxPrior(**uniforms)


# --- the structures --------------------------------------------------------------------------
class UniformModelPrior:
    """Every structure equally likely a priori.

    pyabc builds a scipy distribution for every model jump and prior lookup; with eight
    structures that cost twice the simulations themselves (measured: 9.5 s of proposals
    against 5 s of simulation for 924 particles).
    """

    def __init__(self, n_models: int):
        self.n_models = n_models

    def rvs(self) -> int:
        return int(np.random.randint(self.n_models))  # noqa: NPY002 (pyabc's protocol)

    def pmf(self, m: int) -> float:
        return 1.0 / self.n_models if 0 <= int(m) < self.n_models else 0.0


class DirectModelKernel(ModelPerturbationKernel):
    """pyabc's model perturbation kernel (stay with probability ``MODEL_STAY``, else move to
    another structure uniformly), computed directly."""

    def rvs(self, m: int) -> int:
        if self.nr_of_models == 1 or np.random.random() < self.probability_to_stay:  # noqa: NPY002
            return int(m)
        other = int(np.random.randint(self.nr_of_models - 1))  # noqa: NPY002
        return other + (other >= m)

    def pmf(self, n: int, m: int) -> float:
        if self.nr_of_models == 1:
            return 1.0 if n == m else 0.0
        return self.probability_to_stay if n == m else (1 - self.probability_to_stay) / (self.nr_of_models - 1)


def model_kernels(n_models: int) -> tuple[UniformModelPrior, DirectModelKernel]:
    return UniformModelPrior(n_models), DirectModelKernel(n_models, probability_to_stay=MODEL_STAY)


# --- the proposal -----------------------------------------------------------------------------
class CholeskyTransition(MultivariateNormalTransition):
    """pyabc's multivariate normal kernel, drawn with a Cholesky factor computed once per generation.

    In 14-16 dimensions most proposals fall outside the prior box and are redrawn (measured:
    46 proposals per valid one); pyabc's own draw rebuilds the normal (an SVD) and a pandas
    Series each time, which cost six times the simulations.  Same kernel, same density.
    """

    def __init__(self, scaling: float = TRANSITION_SCALING):
        super().__init__(scaling=scaling)

    def fit(self, X: pd.DataFrame, w: np.ndarray) -> None:
        super().fit(X, w)
        values, vectors = np.linalg.eigh(self.cov)  # the covariance may be singular
        # Directions scipy's density treats as flat (its cutoff for a singular covariance) get
        # no spread, or a proposal could have density 0 and an infinite importance weight.
        cutoff = 1e6 * np.finfo(float).eps * np.max(np.abs(values))
        self._factor = vectors * np.sqrt(np.where(values > cutoff, values, 0.0))
        self._cumulative = np.cumsum(self.w)
        self._columns = list(X.columns)

    def rvs_single(self) -> Any:
        index = int(np.searchsorted(self._cumulative, np.random.random() * self._cumulative[-1], side="right"))  # noqa: NPY002
        index = min(index, len(self._cumulative) - 1)
        x = self._X_arr[index] + self._factor @ np.random.standard_normal(len(self._columns))  # noqa: NPY002
        return Parameter(dict(zip(self._columns, x.tolist())))
