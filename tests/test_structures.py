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


def test_the_headline_under_each_answer_is_the_evidence_weighted_share_of_its_structures():
    from workbench.inference.structures import ALL_STRUCTURES, headline_by_answer

    rows = [{"structure": "model average", "probability": 1.0, "p_not_within_horizon": 0.5, "replications": 1000}]
    for s in ALL_STRUCTURES:
        coupled = s.answers[1] == "coupled"
        rows.append(
            {
                "structure": s.name,
                "probability": 0.2 if coupled else 0.05,  # four coupled structures carry 80 % of the evidence
                "p_not_within_horizon": 0.6 if coupled else 0.2,
                "replications": 1000,
            }
        )
    by_question = {row["question"]: row for row in headline_by_answer(rows)}
    coupled, independent = by_question["pace"]["answers"]
    assert coupled["answer"] == "coupled" and coupled["weight"] == pytest.approx(0.8) and coupled["p_not_by_horizon"] == pytest.approx(0.6)
    assert independent["p_not_by_horizon"] == pytest.approx(0.2)
    # Four structures of 1,000 runs each, equally weighed: the binomial error of 4,000 runs.
    assert coupled["se"] == pytest.approx((0.6 * 0.4 / 4000) ** 0.5)
    silent, tail = by_question["nominations"]["answers"]  # each answer has two coupled and two independent structures
    assert silent["p_not_by_horizon"] == pytest.approx((2 * 0.2 * 0.6 + 2 * 0.05 * 0.2) / 0.5)
    assert all(row["settled_by"] for row in by_question.values())
