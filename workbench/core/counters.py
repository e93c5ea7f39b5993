"""A counter-based random number generator: any uniform of any stream, computed directly.

The k-th uniform of a stream is a hash of (key, stream id, k), in the manner of SplitMix64: a
stream's seed is the key hashed with the stream's id, and its k-th output is the SplitMix64
finalizer of seed + k x golden gamma.  No state passes between draws, so compiled code and
Python compute the same uniforms from the same few integers, and a draw needs none of the
draws before it.  :mod:`workbench.simulation.streams` gives each stochastic component of a
replication its own stream; the replication's pairings and its posterior draw have theirs.

Stream ids in use (component x 2**32 + entity): parties' components 0-4, reviews' 100-108,
the snapshot's assignment 200, the synthetic pairings 300, the posterior draw 400.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)

#: Stream components outside the model's own (see the module docstring).
SNAPSHOT_ASSIGNMENT, PAIRINGS, POSTERIOR_DRAW = 200, 300, 400


@njit(cache=True)
def mix64(z: np.uint64) -> np.uint64:
    """The SplitMix64 finalizer: a bijection of 64-bit integers that scatters every bit."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def stream_seed(key: np.uint64, component: int, entity: int) -> np.uint64:
    """The seed of stream (component, entity) of the replication with ``key``."""
    return mix64(key + _GOLDEN * np.uint64(component * 4294967296 + entity + 1))


@njit(cache=True)
def uniform_at(seed: np.uint64, k: int) -> float:
    """The k-th standard uniform of a stream, strictly inside (0, 1) so inverse CDFs stay finite."""
    x = mix64(seed + _GOLDEN * np.uint64(k + 1))
    u = (np.float64(x >> np.uint64(11)) + 0.5) * 1.1102230246251565e-16  # 2**-53
    return min(max(u, 1e-12), 1.0 - 1e-12)


def replication_key(seed: np.random.SeedSequence) -> np.uint64:
    """The 64-bit key every stream of a replication is derived from."""
    return seed.generate_state(1, dtype=np.uint64)[0]


# --- drawing ------------------------------------------------------------------------------------
# One protocol for every draw: a function that draws takes a stream's ``seed`` and the number of
# uniforms ``used`` from it so far, and returns what it drew with the new count.


@njit(cache=True)
def uniform(seed: np.uint64, used: int) -> tuple[float, int]:
    """The stream's next standard uniform."""
    return uniform_at(seed, used), used + 1


@njit(cache=True)
def between(seed: np.uint64, used: int, lo: float, hi: float) -> tuple[float, int]:
    """A uniform number from ``lo`` to ``hi``."""
    return lo + (hi - lo) * uniform_at(seed, used), used + 1


@njit(cache=True)
def below(seed: np.uint64, used: int, n: int) -> tuple[int, int]:
    """One of 0 .. n-1, each equally likely."""
    return min(int(uniform_at(seed, used) * n), n - 1), used + 1


@njit(cache=True)
def permutation(seed: np.uint64, used: int, n: int) -> tuple[np.ndarray, int]:
    """A random order of 0 .. n-1 (Fisher-Yates, from the last position down)."""
    order = np.arange(n)
    for k in range(n - 1, 0, -1):
        j, used = below(seed, used, k + 1)
        order[k], order[j] = order[j], order[k]
    return order, used


@njit(cache=True)
def shuffle_first(seed: np.uint64, used: int, items: np.ndarray, k: int) -> int:
    """Put a random sample of ``k`` of ``items``, in a random order, first (Fisher-Yates, from the
    first position up, stopped after ``k``); the new count."""
    n = items.shape[0]
    for i in range(k):
        j, used = below(seed, used, n - i)
        items[i], items[i + j] = items[i + j], items[i]
    return used
