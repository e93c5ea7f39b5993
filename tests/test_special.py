"""The compiled special functions agree with scipy to 1e-12 (what the README promises).

Both engines turn uniforms into durations with these functions, so an error here would be
shared by both engines and invisible to their comparison: only an outside reference
catches it.
"""

import numpy as np
import pytest
from scipy import special, stats

from workbench.simulation.special import gamma_quantile, ndtr, ndtri

TOLERANCE = 1e-12


def _close(ours: np.ndarray, reference: np.ndarray) -> float:
    """Largest error, relative where the value is away from zero and absolute near it."""
    return float(np.max(np.abs(ours - reference) / np.maximum(1.0, np.abs(reference))))


def test_normal_quantile_matches_scipy_across_the_unit_interval():
    p = np.concatenate([np.linspace(1e-12, 1 - 1e-12, 20000), np.logspace(-12, -1, 2000), 1 - np.logspace(-12, -1, 2000)])
    ours = np.array([ndtri(x) for x in p])
    assert _close(ours, special.ndtri(p)) < TOLERANCE


def test_normal_cdf_matches_scipy():
    x = np.linspace(-12, 12, 20000)
    ours = np.array([ndtr(v) for v in x])
    # Relative error in the lower tail, where the probability itself is tiny.
    assert float(np.max(np.abs(ours - special.ndtr(x)) / np.maximum(special.ndtr(x), 1e-300))) < TOLERANCE


@pytest.mark.parametrize("shape", [0.05, 0.3, 0.5, 1.0, 2.0, 4.0, 10.0, 50.0, 200.0])
def test_gamma_quantile_matches_scipy(shape):
    u = np.concatenate([np.linspace(1e-9, 1 - 1e-9, 2000), np.logspace(-12, -2, 200)])
    ours = np.array([gamma_quantile(shape, x) for x in u])
    reference = stats.gamma(shape).ppf(u)
    assert float(np.max(np.abs(ours - reference) / np.maximum(reference, 1e-300))) < TOLERANCE


def test_a_wrong_function_would_be_caught():
    """The tolerance is tight enough to see a 1e-9 slip."""
    p = np.linspace(0.01, 0.99, 100)
    assert _close(special.ndtri(p) * (1 + 1e-9), special.ndtri(p)) > TOLERANCE
