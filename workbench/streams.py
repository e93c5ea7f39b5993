"""Random streams: one per stochastic component, so scenarios share random numbers.

A replication's :class:`numpy.random.SeedSequence` is split, by a fixed key, into one
stream per *(component, entity)*: party 17's nominations, review 42's SAQ, and so on.  A
stream hands out standard uniforms in order; every duration is drawn from one of them by
inversion.  Hence a scenario that changes how one review's SAQ goes leaves every other
draw of the replication identical, and a slower SAQ distribution lengthens every SAQ
rather than reshuffling them (common random numbers, monotone in the parameters).

Uniforms are generated in blocks for speed: a ``(n_entities, BLOCK)`` table per component,
and a further block, from its own child seed, for an entity that uses more.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

BLOCK = 8

#: Components in a fixed order; the order is part of the seed derivation, append only.
PARTY_COMPONENTS = ("responsiveness", "nomination", "experts", "replacement", "snapshot_party")
REVIEW_COMPONENTS = ("consultation", "secretariat", "languages", "saq", "feedback", "lists", "summaries", "redraw", "snapshot_review")
GLOBAL_COMPONENTS = ("snapshot_assignment",)


class UniformStream:
    """Standard uniforms for one entity of one component, in a reproducible order."""

    __slots__ = ("_values", "_used", "_entropy", "_key", "_blocks")

    def __init__(self, first_block: np.ndarray, entropy, key: tuple[int, ...]):
        self._values = first_block
        self._used = 0
        self._entropy = entropy
        self._key = key
        self._blocks = 1

    def uniform(self) -> float:
        if self._used == len(self._values):
            child = np.random.SeedSequence(self._entropy, spawn_key=self._key + (self._blocks,))
            self._values = np.random.default_rng(child).random(4 * BLOCK)
            self._used = 0
            self._blocks += 1
        u = self._values[self._used]
        self._used += 1
        # Keep strictly inside (0, 1) so inverse CDFs stay finite.
        return min(max(float(u), 1e-12), 1.0 - 1e-12)

    def exponential(self, mean: float) -> float:
        return -mean * math.log1p(-self.uniform()) if mean > 0 else 0.0

    def lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(sigma * float(ndtri(self.uniform())))

    def lognormal_beyond(self, median: float, sigma: float, age: float) -> float:
        """A lognormal draw conditioned on exceeding ``age`` (for work already under way)."""
        from scipy.special import ndtr

        floor = float(ndtr(math.log(age / median) / sigma)) if age > 0 else 0.0
        u = floor + (1.0 - floor) * self.uniform()
        u = min(u, 1.0 - 1e-12)
        return max(median * math.exp(sigma * float(ndtri(u))), age)

    def choice(self, n: int) -> int:
        return min(int(self.uniform() * n), n - 1)


class ReplicationStreams:
    """All the streams of one replication, derived from its seed sequence."""

    def __init__(self, seed: np.random.SeedSequence, n_parties: int, n_reviews: int):
        self.seed = seed
        entropy, base = seed.entropy, tuple(seed.spawn_key)
        self.party: dict[str, list[UniformStream]] = {}
        self.review: dict[str, list[UniformStream]] = {}
        offset = 0
        for table, components, n in ((self.party, PARTY_COMPONENTS, n_parties), (self.review, REVIEW_COMPONENTS, n_reviews)):
            for c, name in enumerate(components, start=offset):
                key = base + (c,)
                block = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=key)).random((n, BLOCK))
                table[name] = [UniformStream(block[i], entropy, key + (i,)) for i in range(n)]
            offset += 100
        self._global_key = base + (200,)
        self._entropy = entropy

    def generator(self, name: str) -> np.random.Generator:
        """A numpy Generator for a whole-replication decision (e.g. the snapshot's assignments)."""
        return np.random.default_rng(np.random.SeedSequence(self._entropy, spawn_key=self._global_key + (GLOBAL_COMPONENTS.index(name),)))


def replication_seeds(seed: int, n: int) -> list[np.random.SeedSequence]:
    """Seed sequences of replications 0..n-1: the i-th is the same whatever ``n`` or the workers."""
    root = np.random.SeedSequence(seed)
    return [np.random.SeedSequence(root.entropy, spawn_key=(i,)) for i in range(n)]
