"""The parties' traits a run starts with: how responsive each party is, and which are silent.

Responsiveness is drawn from the population (a gamma distribution of mean 1) by inversion of
the first uniform of each party's "responsiveness" stream, and silence (never nominating
without intervention, ¶15) from the second; an initial state that has them already (the
report's start and a record's condition them on what each party has done,
:func:`traits_at_start`) keeps its own.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from workbench.core.timeline import months
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
    return _gamma_quantiles(u, shape, shape + np.broadcast_to(np.asarray(extra_rate, dtype=float), u.shape))


@njit(cache=True)
def _gamma_quantiles(u: np.ndarray, shape: float, rate: np.ndarray) -> np.ndarray:
    """The ``u``-quantiles of Gamma(shape, rate) by inversion."""
    out = np.empty(u.shape[0])
    for i in range(u.shape[0]):
        out[i] = gamma_quantile(shape, u[i]) / rate[i]
    return out


def traits_at_start(
    day0: float,
    first_involved: np.ndarray,
    nominated_at: np.ndarray,
    params: Parameters,
    streams: ReplicationStreams,
    handovers_done: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """How responsive each party is, and whether a party without a focal point is silent (¶15),
    given what it has done by ``day0``.

    ``nominated_at`` is the day of its first focal point: NaN if it has none, -inf if it had one
    on a day not known (the report's start).  By Bayes' rule (gamma-Poisson conjugacy), a party
    still without a focal point after waiting is more likely one that never acts and, if not, a
    slow one: Gamma(shape, shape + rate x waited); a party that nominated after a known delay
    is Gamma(shape + 1, shape + rate x delay), quicker the sooner it acted (a record's start).
    Where the record says how many handovers a party has completed since (``handovers_done``),
    each may have brought a new focal point of fresh responsiveness (``revive_probability``, ¶14):
    with the chance that at least one did, it is drawn from the population instead (a third
    uniform of its stream decides).
    """
    u_resp, u_silent = streams.first_draws("responsiveness", 2)
    waiting = np.isnan(nominated_at)
    waited = np.where(waiting, np.maximum(day0 - first_involved, 0.0), 0.0)
    rate_days = params.nomination_rate / months(1)
    shape = params.responsiveness_shape
    survival = np.exp(-rate_days * waited) if math.isinf(shape) else (1.0 + rate_days * waited / shape) ** (-shape)
    share = params.silent_share
    p_silent = np.where(waiting, share / np.maximum(share + (1 - share) * survival, 1e-300), 0.0)
    silent = u_silent < p_silent
    if math.isinf(shape):
        return np.ones_like(np.atleast_1d(u_resp), dtype=float), silent
    responsiveness = np.asarray(responsiveness_from_uniform(u_resp, shape, rate_days * waited), dtype=float)
    known = np.flatnonzero(np.isfinite(nominated_at))
    if known.size:  # one nomination observed after the delay: one more event in the gamma's shape
        delay = np.maximum(nominated_at[known] - first_involved[known], 0.0)
        responsiveness[known] = _gamma_quantiles(np.asarray(u_resp, dtype=float)[known], shape + 1.0, shape + rate_days * delay)
    if handovers_done is not None and params.revive_probability > 0:
        revived = streams.first_draws("responsiveness", 3)[2] < 1.0 - (1.0 - params.revive_probability) ** handovers_done
        responsiveness[revived] = np.asarray(responsiveness_from_uniform(np.asarray(u_resp)[revived], shape), dtype=float)
    return responsiveness, silent


def party_traits(initial: InitialState, streams: ReplicationStreams, params: Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Each party's responsiveness and whether it is silent: the initial state's, or drawn
    from the population (the first two uniforms of each party's responsiveness stream)."""
    if initial.party_responsiveness is not None and initial.party_silent is not None:
        return initial.party_responsiveness, initial.party_silent
    u, u_silent = streams.first_draws("responsiveness", 2)
    return responsiveness_from_uniform(u, params.responsiveness_shape), u_silent < params.silent_share
