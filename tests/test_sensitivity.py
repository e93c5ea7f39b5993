"""Sensitivity: the given-data first-order indices find a driver planted in a synthetic posterior,
give a barely varying one almost nothing, and read the structures as 0/1 inputs."""

from pathlib import Path

import numpy as np
import pytest

from workbench.analysis.sensitivity import PLAIN_WORDS, STRUCTURE_INPUTS, sensitivity, sensitivity_table
from workbench.inputs.posterior import Posterior
from workbench.inputs.priors import load_priors


def _posterior(rng, n=400, structures=None):
    """Consultations from 1 to 40 months (a strong lever on the date), summaries' spread from 0.70
    to 0.71 (none): independent, so the true ranking is known."""
    values = np.column_stack([rng.uniform(1.0, 40.0, n), rng.uniform(0.70, 0.71, n)])
    return Posterior(
        ("consultation_scheduling_months", "summaries_sigma"),
        values,
        np.full(n, 1.0 / n),
        {},
        Path("synthetic-posterior"),
        structures,
    )


@pytest.mark.slow
def test_a_planted_driver_dominates_and_a_flat_input_does_not(rng):
    result = sensitivity(_posterior(rng), draws=240, replications=4, seed=3, workers=2)
    s1 = result.indices.set_index(["input", "output"])["S1"]
    assert s1["consultation_scheduling_months", "median_years"] > 0.5
    assert s1["summaries_sigma", "median_years"] < 0.1
    table = sensitivity_table(result)
    assert table.index[0] == "consultation_scheduling_months"
    assert "how long preliminary consultations take to schedule" in result.drivers_sentence("median_years")


def test_structures_enter_as_their_answers(rng):
    structures = np.array(["silent-coupled-smooth", "tail-coupled-smooth"] * 20)
    result = sensitivity(_posterior(rng, 40, structures), draws=12, replications=2, seed=3, workers=1)
    assert "structure: nominations" in result.inputs  # silent vs tail varies
    assert "structure: pace" not in result.inputs  # always coupled: nothing to attribute
    assert all(name in PLAIN_WORDS for name in result.inputs)


def test_every_calibrated_input_has_plain_words():
    names = [*load_priors().names, *(column for column, _ in STRUCTURE_INPUTS)]
    assert [n for n in names if n not in PLAIN_WORDS] == []
