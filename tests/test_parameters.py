"""The parameter object is strict: typos and impossible values are errors naming the field."""

import math

import pytest

from workbench.core.errors import InputError
from workbench.inputs.parameters import Parameters


def test_seventy_percent_of_62_is_44_completed_reviews():
    assert Parameters().completion_target(62) == 44  # ¶25: 0.7 x 62 = 43.4


def test_completion_target_follows_the_share():
    assert Parameters(completion_share=0.5).completion_target(62) == 31
    assert Parameters(completion_share=1.0).completion_target(62) == 62


def test_unknown_name_is_an_error_with_a_suggestion():
    with pytest.raises(InputError) as err:
        Parameters().updated({"nomination_rat": 1.0}, source="my.toml")
    assert "my.toml" in str(err.value) and "nomination_rat" in str(err.value) and "nomination_rate" in str(err.value)


@pytest.mark.parametrize(
    "name,value",
    [("saq_sigma", -1.0), ("silent_share", 0.9), ("secretariat_officers", 0), ("nomination_rate", math.nan), ("completion_share", 1.5)],
)
def test_out_of_range_values_name_the_field_and_range(name, value):
    with pytest.raises(InputError) as err:
        Parameters().updated({name: value})
    assert name in str(err.value) and "allowed" in str(err.value)


def test_wrong_types_are_rejected():
    with pytest.raises(InputError, match="whole number"):
        Parameters(secretariat_officers=2.5)
    with pytest.raises(InputError, match="expected a number"):
        Parameters(saq_median_months="eight")
    with pytest.raises(InputError, match="expected a number"):
        Parameters(saq_median_months=True)


def test_language_shares_cannot_exceed_one():
    with pytest.raises(InputError, match="one_language_share"):
        Parameters(one_language_share=0.9, three_language_share=0.2)


def test_every_parameter_is_documented_with_a_reason_and_unit():
    for name, spec in Parameters.describe().items():
        assert spec["why"] and spec["unit"], name
        assert spec["low"] <= spec["default"] <= spec["high"], name
