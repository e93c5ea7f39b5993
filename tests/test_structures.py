"""Model structures: what each answer fixes, how a posterior of several is split and averaged,
and the forecast shown per structure beside the model average."""

from pathlib import Path

import numpy as np
import pytest

from workbench.analysis.forecast import forecast, forecast_setup
from workbench.core.errors import InputError
from workbench.inference.structures import ALL_STRUCTURES, QUESTIONS, structure_named
from workbench.inputs.parameters import Parameters
from workbench.inputs.posterior import Posterior


def test_eight_structures_each_fixing_what_its_answers_leave_out():
    assert len({s.name for s in ALL_STRUCTURES}) == 8
    for s in ALL_STRUCTURES:
        Parameters().updated(s.fixed)  # every fixed name is a parameter, every value in range
        assert len(s.fixed) == sum(a == q.answers[1] for q, a in zip(QUESTIONS, s.answers))
    assert structure_named("tail-independent-smooth").fixed == {
        "silent_share": 0.0,
        "responsiveness_coupling": 0.0,
        "saq_deadline_pull": 0.0,
    }
    assert structure_named("silent-coupled-clustered").fixed == {}
    with pytest.raises(KeyError, match="unknown structure"):
        structure_named("silent")


def _two_structure_posterior():
    values = np.array([[0.1, 0.8], [0.2, 0.6], [0.0, 0.0], [0.0, 0.0]])
    return Posterior(
        ("silent_share", "responsiveness_coupling"),
        values,
        np.array([0.3, 0.3, 0.2, 0.2]),
        {},
        Path("synthetic"),
        np.array(["silent-coupled-smooth", "silent-coupled-smooth", "tail-independent-smooth", "tail-independent-smooth"]),
    )


def test_a_posterior_splits_into_its_structures_with_their_weights():
    posterior = _two_structure_posterior()
    assert posterior.structure_probabilities() == pytest.approx({"silent-coupled-smooth": 0.6, "tail-independent-smooth": 0.4})
    assert posterior.structure_names() == ["silent-coupled-smooth", "tail-independent-smooth"]
    one = posterior.restricted("tail-independent-smooth")
    assert one.weights.sum() == pytest.approx(1.0) and len(one.weights) == 2 and "structure tail-independent-smooth" in one.label
    with pytest.raises(InputError, match="no particles of structure"):
        posterior.restricted("tail-coupled-clustered")


def test_the_forecast_by_structure_sits_beside_the_model_average():
    fc = forecast(forecast_setup(posterior=_two_structure_posterior()), 24, seed=5, workers=1, keep_monthly=False, by_structure=True)
    table = fc.by_structure
    assert list(table["structure"]) == ["model average", "silent-coupled-smooth", "tail-independent-smooth"]
    assert table["probability"].tolist() == pytest.approx([1.0, 0.6, 0.4])
    assert (table["replications"] == 24).all()
    assert table.iloc[0]["p_not_within_horizon"] == pytest.approx(fc.summary["p_not_within_horizon"])
