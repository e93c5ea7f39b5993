"""Parties, groups and pairings: who is reviewed, in which group, by whom.

Each of the 189 parties is under review exactly once; each review has two reviewing
parties, drawn by lot (¶5-7).  The real list is on the Mechanism's website, not in the
report, so the workbench either loads it from a CSV file or draws a synthetic one that
reproduces the report's group counts: 62/63/64 reviews involving 130/131/134 distinct
parties (¶7).
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from workbench.core.counters import PAIRINGS, permutation, replication_key, stream_seed, uniform, uniform_at
from workbench.core.errors import InputError
from workbench.inputs.csv_rows import read_rows

#: Reviews and distinct parties per group (¶7).
REPORTED_GROUPS = {1: (62, 130), 2: (63, 131), 3: (64, 134)}

CSV_COLUMNS = ("review", "group", "party_under_review", "reviewer_1", "reviewer_2")


@dataclass(frozen=True)
class Pairings:
    """The reviews of the cycle. Index ``r`` is one review; parties are indices into ``parties``."""

    parties: tuple[str, ...]
    review_ids: tuple[str, ...]
    group: np.ndarray  # (n_reviews,) group number 1..3
    under_review: np.ndarray  # (n_reviews,) party index
    reviewers: np.ndarray  # (n_reviews, 2) party indices
    source: str = "synthetic"

    @property
    def n_reviews(self) -> int:
        return len(self.review_ids)

    @property
    def n_parties(self) -> int:
        return len(self.parties)

    def group_sizes(self) -> dict[int, int]:
        return {g: int(np.sum(self.group == g)) for g in (1, 2, 3)}

    def distinct_parties(self, group: int) -> int:
        mask = self.group == group
        return len(set(self.under_review[mask]) | set(self.reviewers[mask].ravel()))

    def members(self, review: int) -> tuple[int, int, int]:
        """The three parties of a review: under review first, then the two reviewers."""
        return int(self.under_review[review]), int(self.reviewers[review, 0]), int(self.reviewers[review, 1])

    def reviews_of(self) -> list[list[int]]:
        """For each party, the reviews it takes part in (in any role)."""
        out: list[list[int]] = [[] for _ in self.parties]
        for r in range(self.n_reviews):
            for p in self.members(r):
                out[p].append(r)
        return out

    def to_csv(self, path: str | Path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_COLUMNS)
            for r in range(self.n_reviews):
                pur, a, b = self.members(r)
                writer.writerow([self.review_ids[r], int(self.group[r]), self.parties[pur], self.parties[a], self.parties[b]])


def first_involvement(pairings: Pairings, group_start: dict[int, float]) -> np.ndarray:
    """Day each party is first asked to act: the start of the first group it takes part in."""
    starts = np.array([group_start.get(g, np.inf) for g in range(int(pairings.group.max()) + 1)])
    return _first_involvement(pairings.group, pairings.under_review, pairings.reviewers, starts, pairings.n_parties)


@njit(cache=True)
def _first_involvement(
    group: np.ndarray, under_review: np.ndarray, reviewers: np.ndarray, start_of_group: np.ndarray, n_parties: int
) -> np.ndarray:
    first = np.full(n_parties, np.inf)
    for r in range(group.shape[0]):
        start = start_of_group[group[r]]
        for p in (under_review[r], reviewers[r, 0], reviewers[r, 1]):
            first[p] = min(first[p], start)
    return first


@functools.lru_cache(maxsize=8)
def _party_names(n_parties: int) -> tuple[str, ...]:
    return tuple(f"Party {i + 1:03d}" for i in range(n_parties))


@functools.lru_cache(maxsize=8)
def _review_ids(sizes: tuple[int, ...]) -> tuple[str, ...]:
    return tuple(f"R{g}-{k + 1:02d}" for g, n in enumerate(sizes, start=1) for k in range(n))


@njit(cache=True)
def _draw_pairings(seed: np.uint64, sizes: np.ndarray, distinct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each review's party under review and two reviewers, group by group (see synthetic_pairings)."""
    n_parties = sizes.sum()
    order, used = permutation(seed, 0, n_parties)
    group_of_party = np.empty(n_parties, np.int64)
    start = 0
    for g in range(sizes.shape[0]):
        group_of_party[order[start : start + sizes[g]]] = g + 1
        start += sizes[g]
    load = np.zeros(n_parties)  # reviews each party already reviews, for balance
    under_review = np.empty(n_parties, np.int64)
    reviewers = np.full((n_parties, 2), -1, np.int64)
    first = 0  # the group's first review
    for g in range(sizes.shape[0]):
        n, outsiders_needed = sizes[g], distinct[g] - sizes[g]
        insiders = np.flatnonzero(group_of_party == g + 1)
        outside = np.flatnonzero(group_of_party != g + 1)
        # Least-loaded outsiders first, ties broken at random.
        priority = np.empty(outside.shape[0])
        for k in range(outside.shape[0]):
            u, used = uniform(seed, used)
            priority[k] = load[outside[k]] + u
        outsiders = outside[np.argsort(priority)[:outsiders_needed]]
        slots = reviewers[first : first + n]
        flat, used = permutation(seed, used, 2 * n)
        for k in range(outsiders_needed):
            slots[flat[k] // 2, flat[k] % 2] = outsiders[k]
            load[outsiders[k]] += 1
        # The other slots, in a random order, each to the least-loaded party of the group that is
        # neither under this review nor its other reviewer (ties broken by a uniform each: the
        # block of the n uniforms after ``used``, one per party of the group, eligible or not).
        for k in range(outsiders_needed, 2 * n):
            review, side = flat[k] // 2, flat[k] % 2
            best, best_score = -1, np.inf
            for j in range(n):
                party = insiders[j]
                if party == insiders[review] or party == slots[review, 1 - side]:
                    continue
                score = load[party] + uniform_at(seed, used + j)
                if score < best_score:
                    best, best_score = party, score
            used += n
            slots[review, side] = best
            load[best] += 1
        under_review[first : first + n] = insiders
        first += n
    return under_review, reviewers


def synthetic_pairings(seed: int | np.random.SeedSequence = 0, groups: dict[int, tuple[int, int]] = REPORTED_GROUPS) -> Pairings:
    """Draw pairings that reproduce the report's group counts exactly.

    Group ``g`` has ``n`` reviews whose ``n`` parties under review are all distinct, and its
    ``2n`` reviewer slots involve ``d - n`` "outsiders" (parties under review in other
    groups) so that exactly ``d`` distinct parties take part.  Each outsider fills one slot;
    the remaining slots go to parties of the same group.  Reviewer loads are balanced
    across the cycle, as a draw of lots among all parties roughly would be.  The draw is
    compiled (it runs once in every replication) and takes its uniforms from the seed's
    pairings stream (:mod:`workbench.core.counters`).
    """
    sizes = {g: n for g, (n, _) in groups.items()}
    n_parties = sum(sizes.values())
    for g in sorted(groups):
        n, distinct = groups[g]
        if not 0 <= distinct - n <= min(2 * n, n_parties - n):
            raise InputError(
                "synthetic pairings",
                f"group {g}",
                f"{distinct} distinct parties for {n} reviews is impossible",
                f"between {n} and {n + min(2 * n, n_parties - n)}",
            )
    sequence = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    under_review, reviewers = _draw_pairings(
        np.uint64(stream_seed(replication_key(sequence), PAIRINGS, 0)),
        np.array([groups[g][0] for g in sorted(groups)], np.int64),
        np.array([groups[g][1] for g in sorted(groups)], np.int64),
    )
    return Pairings(
        _party_names(n_parties),
        _review_ids(tuple(groups[g][0] for g in sorted(groups))),
        np.repeat(np.array(sorted(groups)), [groups[g][0] for g in sorted(groups)]),
        under_review,
        reviewers,
        source="synthetic",
    )


def load_pairings(path: str | Path) -> Pairings:
    """Read the real pairing list: CSV with columns review, group, party_under_review, reviewer_1, reviewer_2.

    Rejects, naming the line: a missing column or value, an unknown group, a party under
    review twice, a review id twice, a party reviewing itself, the same reviewer twice in a
    review, and a reviewer who is not a party under review anywhere (every party is).
    """
    path = Path(path)
    rows = read_rows(path, CSV_COLUMNS, "pairing file")
    if not rows:
        raise InputError(path, "(rows)", "no reviews in the file", "one row per review")

    seen_reviews: set[str] = set()
    under_review: dict[str, int] = {}
    records = []
    for line, values in rows:
        for c in CSV_COLUMNS:
            if not values[c]:
                raise InputError(path, f"line {line}, {c}", "empty value", "a non-empty value")
        if values["group"] not in ("1", "2", "3"):
            raise InputError(path, f"line {line}, group", f"unknown group {values['group']!r}", "1, 2 or 3")
        if values["review"] in seen_reviews:
            raise InputError(path, f"line {line}, review", f"review {values['review']!r} appears twice", "unique review ids")
        seen_reviews.add(values["review"])
        pur = values["party_under_review"]
        if pur in under_review:
            raise InputError(
                path,
                f"line {line}, party_under_review",
                f"{pur!r} is already under review on line {under_review[pur]}",
                "each party under review exactly once",
            )
        under_review[pur] = line
        if pur in (values["reviewer_1"], values["reviewer_2"]):
            raise InputError(path, f"line {line}, reviewer", f"{pur!r} would review itself", "reviewers other than the party under review")
        if values["reviewer_1"] == values["reviewer_2"]:
            raise InputError(
                path, f"line {line}, reviewer_2", f"{values['reviewer_1']!r} is both reviewers", "two different reviewing parties"
            )
        records.append((line, values))

    parties = tuple(sorted(under_review))
    index = {p: i for i, p in enumerate(parties)}
    for line, values in records:
        for c in ("reviewer_1", "reviewer_2"):
            if values[c] not in index:
                raise InputError(
                    path,
                    f"line {line}, {c}",
                    f"{values[c]!r} is not under review anywhere in the file",
                    "parties that appear as party_under_review",
                )
    return Pairings(
        parties=parties,
        review_ids=tuple(v["review"] for _, v in records),
        group=np.array([int(v["group"]) for _, v in records]),
        under_review=np.array([index[v["party_under_review"]] for _, v in records]),
        reviewers=np.array([[index[v["reviewer_1"]], index[v["reviewer_2"]]] for _, v in records]),
        source=str(path),
    )
