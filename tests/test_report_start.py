"""The report's state is drawn as the report describes it: reviews placed in proportion to how
long their group has run, counts that cannot be met refused with the figure named."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
from scipy import stats

from workbench.core.counters import stream_seed
from workbench.core.errors import InputError
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import synthetic_pairings
from workbench.simulation.snapshot import Placement, _take, report_start
from workbench.simulation.streams import ReplicationStreams, replication_seeds

WEIGHTS = np.array([1.0, 2.0, 3.0, 4.0, 0.5])  # the candidates' exposures, in days
DRAWS = 20_000


def _placement() -> Placement:
    """Five reviews, all free, whose groups have run for WEIGHTS days."""
    n, nan = len(WEIGHTS), np.full(len(WEIGHTS), np.nan)
    return Placement(
        np.full(n, -9, np.int64), np.full((n, 7), np.nan), np.full((n, 7), np.nan), nan, np.zeros(n, np.int64), nan, nan,
        np.ones(n, np.bool_), np.zeros(n), WEIGHTS.copy(),
    )  # fmt: skip


def _picks(count: int) -> list[tuple[int, ...]]:
    """``DRAWS`` weighted draws of ``count`` of the five candidates, each from its own stream."""
    out = []
    for k in range(DRAWS):
        at = _placement()
        picked, used = _take(np.uint64(stream_seed(np.uint64(2024), 7, k)), 0, count, np.arange(5), at)
        assert not at.free[picked].any()  # picked reviews are no longer free
        assert used == count  # one uniform a pick
        out.append(tuple(int(p) for p in picked))
    return out


def test_one_review_is_picked_in_proportion_to_its_exposure():
    counts = np.bincount([p[0] for p in _picks(1)], minlength=5)
    assert stats.chisquare(counts, DRAWS * WEIGHTS / WEIGHTS.sum()).pvalue > 1e-3


def test_two_reviews_are_picked_one_after_the_other_without_replacement():
    """The ordered pair (i, j) comes with probability w_i / W x w_j / (W - w_i)."""
    pairs = _picks(2)
    assert all(i != j for i, j in pairs)
    total = WEIGHTS.sum()
    ordered = list(itertools.permutations(range(5), 2))
    expected = np.array([WEIGHTS[i] / total * WEIGHTS[j] / (total - WEIGHTS[i]) for i, j in ordered]) * DRAWS
    observed = np.array([sum(1 for p in pairs if p == pair) for pair in ordered])
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_more_reviews_than_candidates_is_reported_not_drawn():
    picked, used = _take(np.uint64(1), 0, 6, np.arange(5), _placement())
    assert picked[0] == -1 and used == 0


def _with(snapshot, name: str, value: float, group: int | None = None):
    figure = snapshot.figures[(name, group)]
    return dataclasses.replace(snapshot, figures={**snapshot.figures, (name, group): dataclasses.replace(figure, value=value)})


@pytest.mark.parametrize(
    ("name", "value", "group", "problem"),
    [
        ("reviews_held_up_by_nominations", 189, None, "no set of parties"),
        ("reviews_lists_of_observations", 60, 3, "more reviews needed"),
        ("reviews_saq_in_preparation", 150, None, "more reviews needed"),
    ],
)
def test_counts_that_cannot_be_met_are_refused_naming_the_file_and_the_figure(snapshot, name, value, group, problem):
    seed = replication_seeds(1, 1)[0]
    pairings = synthetic_pairings(seed)
    bad = _with(snapshot, name, value, group)
    with pytest.raises(InputError, match=problem) as err:
        report_start(bad, pairings, Parameters(), ReplicationStreams(seed, pairings.n_parties, pairings.n_reviews))
    assert str(snapshot.path) in str(err.value)
    assert name in err.value.field
