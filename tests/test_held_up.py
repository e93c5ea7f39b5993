"""What the reviews still held up by nominations wait for: the account that tells a planner why
redrawing sooner reaches few reviews from 2027 (¶6: a redraw replaces only reviewing States, at
most four times per review)."""

import datetime as dt

import pytest

from workbench.analysis.held_up import held_up

from conftest import make_setup

RUNS = 30


@pytest.fixture(scope="module")
def setup():
    return make_setup()


def test_every_held_up_review_waits_for_exactly_one_thing(setup):
    h = held_up(setup, dt.date(2027, 1, 1), RUNS, seed=3)
    parts = h.party_under_review + h.redraws_used + h.redraws_left + h.nominated
    assert h.total == pytest.approx(parts, abs=1e-9) and h.replications == RUNS
    assert 0.0 <= h.redraw_can_reach <= 1.0


def test_fewer_reviews_can_still_be_redrawn_as_time_passes(setup):
    """Reviews waiting for a reviewing State get their redraws under today's practice as time goes
    on, and use them up; those waiting for the party under review stay: the reach of a redraw falls."""
    early, late = (held_up(setup, day, RUNS, seed=3) for day in (dt.date(2024, 6, 1), dt.date(2030, 1, 1)))
    assert late.total < early.total and late.redraws_left < early.redraws_left
    assert late.party_under_review / late.total > early.party_under_review / early.total
