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


@njit(cache=True)
def ndtr(x: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-x / _SQRT2)


# Wichura's coefficients, highest power first: numerator and denominator of each region.
_CENTRAL = (
    (2509.0809287301226727, 33430.575583588128105, 67265.770927008700853, 45921.953931549871457,
     13731.693765509461125, 1971.5909503065514427, 133.14166789178437745, 3.387132872796366608),
    (5226.495278852545925, 28729.085735721942674, 39307.89580009271061, 21213.794301586595867,
     5394.1960214247511077, 687.1870074920579083, 42.313330701600911252, 1.0),
)  # fmt: skip
_NEAR_TAIL = (
    (7.7454501427834140764e-4, 0.0227238449892691845833, 0.24178072517745061177, 1.27045825245236838258,
     3.64784832476320460504, 5.7694972214606914055, 4.6303378461565452959, 1.42343711074968357734),
    (1.05075007164441684324e-9, 5.475938084995344946e-4, 0.0151986665636164571966, 0.14810397642748007459,
     0.68976733498510000455, 1.6763848301838038494, 2.05319162663775882187, 1.0),
)  # fmt: skip
_FAR_TAIL = (
    (2.01033439929228813265e-7, 2.71155556874348757815e-5, 0.0012426609473880784386, 0.026532189526576123093,
     0.29656057182850489123, 1.7848265399172913358, 5.4637849111641143699, 6.6579046435011037772),
    (2.04426310338993978564e-15, 1.4215117583164458887e-7, 1.8463183175100546818e-5, 7.868691311456132591e-4,
     0.0148753612908506148525, 0.13692988092273580531, 0.59983220655588793769, 1.0),
)  # fmt: skip


@njit(cache=True)
def _ratio(r: float, region) -> float:
    """Numerator over denominator of a region, each by Horner's rule."""
    numerator, denominator = region
    top = 0.0
    for c in numerator:
        top = top * r + c
    bottom = 0.0
    for c in denominator:
        bottom = bottom * r + c
    return top / bottom


@njit(cache=True)
def ndtri(p: float) -> float:
    """Standard normal quantile by Wichura's algorithm AS 241 (PPND16, Applied Statistics 37,
    1988): a rational approximation in three regions, relative error about 1e-16, with no
    iteration (a ninth of the time of polishing a first guess, and the engines draw
    thousands of these per replication)."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    q = p - 0.5
    if abs(q) <= 0.425:  # the central region
        return q * _ratio(0.180625 - q * q, _CENTRAL)
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))  # 1 - p is exact for p >= 0.5 (Sterbenz)
    x = _ratio(r - 1.6, _NEAR_TAIL) if r <= 5.0 else _ratio(r - 5.0, _FAR_TAIL)
    return -x if q < 0.0 else x


@njit(cache=True)
def _gamma_pq(a: float, x: float, log_front: float) -> tuple[float, float]:
    """P(a, x) and Q(a, x) = 1 - P, each computed where it is accurate: the series gives P
    below a + 1, the continued fraction gives Q above (so a tail probability near 1 keeps
    its digits as Q).  ``log_front`` is a log(x) - x - lgamma(a)."""
    if x <= 0.0:
        return 0.0, 1.0
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
        log_front = a * math.log(x) - x - lg
        lower, upper = _gamma_pq(a, x, log_front)
        f = lower - p if p < 0.5 else q - upper
        density = math.exp(log_front) / x
        if density <= 0.0:
            break
        step = f / density
        curvature = (a - 1.0) / x - 1.0
        step = step / (1.0 - 0.5 * min(1.0, max(-1.0, step * curvature)))
        new = x - step
        if new <= 0.0:
            new = 0.5 * x
        # Halley's steps shrink the error to about its cube: after a step below 1e-6 of x, the
        # error left is far below 1e-15 of x, and another evaluation would not change x.
        if abs(new - x) <= 1e-6 * x:
            x = new
            break
        x = new
    return x
