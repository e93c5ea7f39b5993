"""The parties' traits a run starts with: how responsive each party is, and which are silent.

Responsiveness is drawn from the population (a gamma distribution of mean 1) by inversion of
the first uniform of each party's "responsiveness" stream, and silence (never nominating
without intervention, ¶15) from the second; an initial state that has them already (the
report's start conditions them on what each party has done) keeps its own.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from workbench.inputs.parameters import Parameters
from workbench.simulation.schema import InitialState
from workbench.simulation.special import gamma_quantile
from workbench.simulation.streams import ReplicationStreams


def responsiveness_from_uniform(u: np.ndarray, shape: float, extra_rate: np.ndarray | float = 0.0) -> np.ndarray:
    """Gamma(shape, rate = shape + extra_rate) by inversion: mean 1 when ``extra_rate`` is 0.

    ``extra_rate`` = nomination_rate x time waited gives the responsiveness of a party that
    has been waiting that long without nominating (gamma-Poisson conjugacy).
    """
    u = np.atleast_1d(np.asarray(u, dtype=float))
    if math.isinf(shape):
        return np.ones_like(u)
    return _gamma_quantiles(u, shape, np.broadcast_to(np.asarray(extra_rate, dtype=float), u.shape))


@njit(cache=True)
def _gamma_quantiles(u: np.ndarray, shape: float, extra_rate: np.ndarray) -> np.ndarray:
    out = np.empty(u.shape[0])
    for i in range(u.shape[0]):
        out[i] = gamma_quantile(shape, u[i]) / (shape + extra_rate[i])
    return out


def party_traits(initial: InitialState, streams: ReplicationStreams, params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Each party's responsiveness and whether it is silent: the initial state's, or drawn
    from the population (the first two uniforms of each party's responsiveness stream)."""
    if initial.party_responsiveness is not None and initial.party_silent is not None:
        return initial.party_responsiveness, initial.party_silent
    u, u_silent = streams.first_draws("responsiveness", 2)
    return responsiveness_from_uniform(u, params.responsiveness_shape), u_silent < params.silent_share
