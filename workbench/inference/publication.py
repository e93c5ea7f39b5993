"""Whether the headline may be published: the forecast's own record against the figures.

A forecast is shown to delegations only with its evidence (#21).  Two checks, each on scores the
backtest makes (:mod:`workbench.inference.backtest`), each with a bound a calibrated model would
pass 19 times in 20 or more:

* **out of sample** (rolling origin: fitted to the snapshots up to a date, scored on the later
  ones): the share of later figures inside their central 80 % band must not fall below 80 % by
  more than two binomial standard errors, sqrt(0.8 x 0.2 / n);
* **in sample** (the hindcast of every dated figure under the shipped posterior): no more figures
  may fall outside their 95 % band than chance allows.  Each figure of a calibrated model falls
  outside with chance 5 %, so of 37 figures about 2 do; refusing at the first would refuse a
  perfect model six times in seven (1 - 0.95^37).  The bound is the count a binomial(n, 5 %)
  exceeds with chance under 5 % (4 of 37: 5 or more are refused).

A missing out-of-sample backtest, or one made on other observations than the ones the findings
read, fails the first check: there is no evidence to publish with.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import pandas as pd
from scipy import stats

#: The central band the out-of-sample check scores, and the in-sample one.
OUT_OF_SAMPLE_LEVEL, IN_SAMPLE_LEVEL = "80%", "95%"
#: How far below its nominal rate the out-of-sample coverage may fall, in binomial standard errors.
STANDARD_ERRORS = 2.0
#: The chance a calibrated model would fail the in-sample check at most.
FALSE_ALARM = 0.05


@dataclass(frozen=True)
class Check:
    """One check: what it measured, the bound, and whether it passed (with the words for a reader)."""

    name: str  # "out_of_sample" or "in_sample"
    figures: int  # scored
    measured: float | None  # the share covered (out of sample), or the count outside (in sample); None: not scored
    bound: float | None  # the least share allowed, or the most figures allowed outside
    passed: bool
    words: str  # what it found, in a sentence

    def as_dict(self) -> dict:
        return asdict(self)


def out_of_sample_check(rolling: pd.DataFrame | None, why_missing: str = "no rolling-origin backtest") -> Check:
    """The rolling origin's 80 % coverage against its nominal rate less two binomial standard errors."""
    if rolling is None or rolling.empty:
        return Check("out_of_sample", 0, None, None, False, f"{why_missing}: the forecast has not been scored out of sample")
    n = len(rolling)
    nominal = 0.8
    covered = float(rolling[f"covered_{OUT_OF_SAMPLE_LEVEL}"].mean())
    floor = nominal - STANDARD_ERRORS * math.sqrt(nominal * (1 - nominal) / n)
    passed = covered >= floor - 1e-12  # a count exactly at the floor passes, whatever the rounding of its share
    words = (
        f"fitted to the earlier snapshots only, {_percent(covered)} of {n} later figures fell inside its central 80 % band "
        f"({'at least' if passed else 'below'} the {_percent(floor)} a calibrated forecast would show)"
    )
    return Check("out_of_sample", n, covered, floor, passed, words)


def _percent(share: float) -> str:
    return f"{100 * share:.0f} %"


def most_outside(figures: int, level: float = 0.95, false_alarm: float = FALSE_ALARM) -> int:
    """The most figures a calibrated model may put outside their ``level`` bands: the least k with
    P(binomial(figures, 1 - level) > k) < ``false_alarm``."""
    return int(stats.binom.ppf(1 - false_alarm, figures, 1 - level))


def in_sample_check(hindcast: pd.DataFrame) -> Check:
    """The hindcast's figures outside their 95 % bands against the count chance allows."""
    n = len(hindcast)
    outside = int((~hindcast[f"covered_{IN_SAMPLE_LEVEL}"].astype(bool)).sum())
    bound = most_outside(n)
    passed = outside <= bound
    words = (
        f"{outside} of the {n} dated figures fell outside the hindcast's 95 % band "
        f"(a calibrated model puts about {0.05 * n:.1f} there; {'at most' if passed else 'more than'} {bound} allowed)"
    )
    return Check("in_sample", n, float(outside), float(bound), passed, words)


def publication_checks(hindcast: pd.DataFrame, rolling: pd.DataFrame | None, why_missing: str = "no rolling-origin backtest") -> dict:
    """Both checks, and whether the headline may be published (both passed)."""
    checks = [out_of_sample_check(rolling, why_missing), in_sample_check(hindcast)]
    return {"published": all(c.passed for c in checks), "checks": [c.as_dict() for c in checks]}
