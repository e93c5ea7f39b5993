"""Random streams: one per stochastic component, so scenarios share random numbers.

A replication's :class:`numpy.random.SeedSequence` gives it a 64-bit key; every
*(component, entity)* pair (party 17's nominations, review 42's SAQ, ...) has its own
stream, and the k-th uniform of a stream is a hash of (key, component, entity, k): the
counter-based generator of :mod:`workbench.core.counters`.  Hence:

* a scenario that changes how one review's SAQ goes leaves every other draw of the
  replication identical, and a slower SAQ distribution lengthens every SAQ rather than
  reshuffling them (common random numbers, monotone in the parameters);
* no stream ever runs out, and any draw can be computed without the ones before it, so
  the compiled engine (:mod:`workbench.simulation.engine`) and the SimPy reference compute exactly the
  same uniforms from the same few integers, with no state to pass between them.

Every duration is drawn from uniforms by inversion, with the compiled special functions of
:mod:`workbench.simulation.special`, so both engines turn a uniform into bit-identical durations.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from workbench.core.counters import SNAPSHOT_ASSIGNMENT, replication_key, stream_seed, uniform_at
from workbench.core.errors import InputError
from workbench.simulation.special import gamma_quantile, ndtr, ndtri

#: Components in a fixed order; the index is part of every stream's id, append only.
PARTY_COMPONENTS = ("responsiveness", "nomination", "experts", "replacement", "snapshot_party")
REVIEW_COMPONENTS = ("consultation", "secretariat", "languages", "saq", "feedback", "lists", "summaries", "redraw", "snapshot_review")
GLOBAL_COMPONENTS = ("snapshot_assignment",)
REVIEW_OFFSET = 100  # review components are numbered from here
_GLOBAL_KEY = SNAPSHOT_ASSIGNMENT  # whole-replication components are numbered from here


@njit(cache=True)
def lognormal_from(u, median, sigma):
    return median * math.exp(sigma * ndtri(u))


@njit(cache=True)
def lognormal_beyond_from(u, median, sigma, age):
    """A lognormal draw conditioned on exceeding ``age`` (for work already under way)."""
    floor = ndtr(math.log(age / median) / sigma) if age > 0 else 0.0
    v = min(floor + (1.0 - floor) * u, 1.0 - 1e-12)
    return max(median * math.exp(sigma * ndtri(v)), age)


@njit(cache=True)
def gamma_mean_one_from(u, shape):
    """Gamma(shape, rate = shape) by inversion: mean 1, the population's responsiveness."""
    if math.isinf(shape):
        return 1.0
    return gamma_quantile(shape, u) / shape


@njit(cache=True)
def first_uniforms(key, component, n, k):
    """The first ``k`` uniforms of the streams of entities 0..n-1 of a component: a (k, n) table."""
    out = np.empty((k, n))
    for entity in range(n):
        seed = stream_seed(key, component, entity)
        for i in range(k):
            out[i, entity] = uniform_at(seed, i)
    return out


class UniformStream:
    """Standard uniforms for one entity of one component, in a reproducible order."""

    __slots__ = ("_seed", "_used")

    def __init__(self, seed: np.uint64):
        self._seed = seed
        self._used = 0

    @property
    def used(self) -> int:
        """How many uniforms this stream has handed out."""
        return self._used

    def draw(self, rule, *args):
        """Apply a compiled rule that draws from this stream (:mod:`workbench.simulation.rules`):
        ``rule(seed, used, *args)`` returns its result and the new count, which the stream keeps."""
        result, self._used = rule(self._seed, self._used, *args)
        return result

    def uniform(self) -> float:
        u = uniform_at(self._seed, self._used)
        self._used += 1
        return u


class StreamTable:
    """The streams of one component, one per entity, made when first asked for."""

    __slots__ = ("_key", "_component", "_n", "_made")

    def __init__(self, key: np.uint64, component: int, n: int):
        self._key, self._component, self._n = key, component, n
        self._made: dict[int, UniformStream] = {}

    def __len__(self) -> int:
        return self._n

    def made(self) -> list[UniformStream]:
        """The streams asked for so far."""
        return list(self._made.values())

    def __getitem__(self, entity: int) -> UniformStream:
        stream = self._made.get(entity)
        if stream is None:
            if not 0 <= entity < self._n:
                raise IndexError(entity)
            stream = self._made[entity] = UniformStream(np.uint64(stream_seed(self._key, self._component, int(entity))))
        return stream


class ReplicationStreams:
    """All the streams of one replication, derived from its seed sequence."""

    def __init__(self, seed: np.random.SeedSequence, n_parties: int, n_reviews: int):
        self.seed = seed
        self.key = replication_key(seed)
        self.party = {name: StreamTable(self.key, c, n_parties) for c, name in enumerate(PARTY_COMPONENTS)}
        self.review = {name: StreamTable(self.key, REVIEW_OFFSET + c, n_reviews) for c, name in enumerate(REVIEW_COMPONENTS)}

    def first_draws(self, name: str, k: int) -> np.ndarray:
        """The first ``k`` draws of every entity's stream of party component ``name``, as a (k, n) table.

        For whole-population draws at the start (responsiveness); the streams' own counters
        are not advanced, so use it only for a component nothing else draws from.
        """
        table = self.party[name]
        return first_uniforms(self.key, PARTY_COMPONENTS.index(name), len(table), k)

    def draws(self) -> int:
        """Uniforms drawn so far from all the streams (first_draws not counted)."""
        return sum(stream.used for table in (*self.party.values(), *self.review.values()) for stream in table.made())

    def global_seed(self, name: str) -> np.uint64:
        """The seed of the stream of a whole-replication decision (e.g. the snapshot's assignments)."""
        return np.uint64(stream_seed(self.key, _GLOBAL_KEY + GLOBAL_COMPONENTS.index(name), 0))


def replication_seeds(seed: int, n: int | range | list[int]) -> list[np.random.SeedSequence]:
    """Seed sequences of replications 0..n-1 (or of the replications numbered in ``n``): the i-th
    is the same whatever ``n`` or the workers."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError("seed", "seed", f"{seed!r} is not a whole number from 0 up", "0, 1, 2, ...")
    root = np.random.SeedSequence(seed)
    return [np.random.SeedSequence(root.entropy, spawn_key=(i,)) for i in (range(n) if isinstance(n, int) else n)]
