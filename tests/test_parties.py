"""Pairings: the synthetic draw reproduces the report's groups; the loader rejects bad files."""

import numpy as np
import pytest

from workbench.core.errors import InputError
from workbench.inputs.parties import load_pairings, synthetic_pairings


@pytest.mark.parametrize("seed", range(40))
def test_synthetic_pairings_reproduce_the_report_counts(seed):
    p = synthetic_pairings(seed)
    assert p.n_parties == 189 and p.n_reviews == 189
    assert p.group_sizes() == {1: 62, 2: 63, 3: 64}  # ¶7
    assert [p.distinct_parties(g) for g in (1, 2, 3)] == [130, 131, 134]  # ¶7
    assert sorted(p.under_review) == list(range(189))  # each party under review exactly once
    assert not np.any(p.reviewers == p.under_review[:, None])  # nobody reviews itself
    assert np.all(p.reviewers[:, 0] != p.reviewers[:, 1])  # two different reviewers


def test_synthetic_pairings_are_seeded():
    a, b = synthetic_pairings(3), synthetic_pairings(3)
    assert np.array_equal(a.reviewers, b.reviewers) and np.array_equal(a.under_review, b.under_review)
    assert not np.array_equal(a.reviewers, synthetic_pairings(4).reviewers)


def test_csv_round_trip(tmp_path):
    p = synthetic_pairings(5)
    p.to_csv(tmp_path / "pairs.csv")
    q = load_pairings(tmp_path / "pairs.csv")
    assert q.group_sizes() == p.group_sizes()
    for r in range(p.n_reviews):
        assert [p.parties[i] for i in p.members(r)] == [q.parties[i] for i in q.members(r)]


def _csv(tmp_path, rows, header="review,group,party_under_review,reviewer_1,reviewer_2"):
    path = tmp_path / "pairs.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


GOOD = ["R1,1,A,B,C", "R2,1,B,C,A", "R3,2,C,A,B"]


def test_a_small_consistent_file_loads(tmp_path):
    p = load_pairings(_csv(tmp_path, GOOD))
    assert p.n_reviews == 3 and p.parties == ("A", "B", "C")


@pytest.mark.parametrize(
    "rows,message",
    [
        (["R1,1,A,A,C", *GOOD[1:]], "would review itself"),
        ([*GOOD, "R4,2,A,B,C"], "already under review on line 2"),
        (["R1,4,A,B,C", *GOOD[1:]], "unknown group '4'"),
        (["R1,1,A,B,B", *GOOD[1:]], "is both reviewers"),
        (["R1,1,A,B,Z", *GOOD[1:]], "'Z' is not under review anywhere"),
        ([*GOOD[:2], "R1,2,C,A,B"], "appears twice"),
        (["R1,1,A,,C", *GOOD[1:]], "empty value"),
    ],
)
def test_loader_rejects_inconsistent_files_naming_the_line(tmp_path, rows, message):
    with pytest.raises(InputError, match=message) as err:
        load_pairings(_csv(tmp_path, rows))
    assert "pairs.csv" in str(err.value) and "line" in str(err.value)


def test_loader_rejects_a_missing_column(tmp_path):
    with pytest.raises(InputError, match="missing column"):
        load_pairings(_csv(tmp_path, ["R1,1,A,B"], header="review,group,party_under_review,reviewer_1"))
