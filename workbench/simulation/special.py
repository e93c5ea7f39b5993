"""Compiled special functions shared by both engines, so they draw bit-identical durations.

The SimPy reference and the compiled engine turn the same uniforms into the same
durations only if they use the same arithmetic; scipy's functions cannot be called from
compiled code, so both engines call these (Numba-compiled, no fast-math, hence IEEE
results that do not depend on the caller).  Each is accurate to a few ulps, which a test
checks against scipy.
"""

from __future__ import annotations

import math

from numba import njit

_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


@njit(cache=True)
def ndtr(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True)
def ndtri(p: float) -> float:
    """Standard normal quantile: a rational first guess (Abramowitz & Stegun 26.2.23, error
    below 4.5e-4) polished by three Halley steps on the CDF written with ``erfc``, which
    keeps full relative accuracy in the tails."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    lower = p < 0.5
    q = p if lower else 1.0 - p  # exact for p >= 0.5 (Sterbenz)
    t = math.sqrt(-2.0 * math.log(q))
    x = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t))
    for _ in range(3):
        e = 0.5 * math.erfc(-x / _SQRT2) - q
        u = e * _SQRT2PI * math.exp(0.5 * x * x)
        x = x - u / (1.0 + 0.5 * x * u)
    return x if lower else -x


@njit(cache=True)
def _gamma_pq(a: float, x: float) -> tuple[float, float]:
    """P(a, x) and Q(a, x) = 1 - P, each computed where it is accurate: the series gives P
    below a + 1, the continued fraction gives Q above (so a tail probability near 1 keeps
    its digits as Q)."""
    if x <= 0.0:
        return 0.0, 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        term = 1.0 / a
        total = term
        n = a
        for _ in range(1000):
            n += 1.0
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-17:
                break
        lower = total * math.exp(log_front)
        return lower, 1.0 - lower
    # Q(a, x) by the modified Lentz method.
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        if abs(d) < tiny:
            d = tiny
        c = b + an / c
        if abs(c) < tiny:
            c = tiny
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-17:
            break
    upper = math.exp(log_front) * h
    return 1.0 - upper, upper


@njit(cache=True)
def gamma_quantile(a: float, p: float) -> float:
    """Quantile of the Gamma(a, 1) distribution: a Wilson-Hilferty (or small-x) first guess
    polished by safeguarded Halley steps on P(a, x) = p."""
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return math.inf
    z = ndtri(p)
    c = 1.0 / (9.0 * a)
    x = a * (1.0 - c + z * math.sqrt(c)) ** 3
    small = math.exp((math.log(p) + math.lgamma(a + 1.0)) / a)  # P(a, x) ~ x^a / Gamma(a + 1) near 0
    # The small-x guess is the better one deep in the lower tail, where Wilson-Hilferty can
    # start Halley's steps on the wrong side of a flat P(a, x) and send them astray.
    if x <= 0.0 or (a < 1.0 and small < a) or small < 0.1 * (a + 1.0):
        x = small
    lg = math.lgamma(a)
    q = 1.0 - p  # exact for p >= 0.5, where the upper tail is the accurate side
    for _ in range(60):
        lower, upper = _gamma_pq(a, x)
        f = lower - p if p < 0.5 else q - upper
        density = math.exp((a - 1.0) * math.log(x) - x - lg)
        if density <= 0.0:
            break
        step = f / density
        curvature = (a - 1.0) / x - 1.0
        step = step / (1.0 - 0.5 * min(1.0, max(-1.0, step * curvature)))
        new = x - step
        if new <= 0.0:
            new = 0.5 * x
        if abs(new - x) <= 1e-15 * x:
            x = new
            break
        x = new
    return x
