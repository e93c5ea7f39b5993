"""Every number the model runs on, in one strict, documented object.

Until calibration lands the defaults are **hand-set** from the report; the reasoning sits
next to each field (``why``), with the paragraph (¶) it leans on.  The object refuses
unknown names and values outside their range, so a typo in a scenario is an error rather
than a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workbench.core.errors import InputError

#: Label carried by every output made with the defaults below.
HAND_SET = "hand-set defaults (not yet calibrated)"


def _p(default: float, unit: str, low: float, high: float, why: str, integer: bool = False) -> Any:
    return field(default=default, metadata={"unit": unit, "low": low, "high": high, "why": why, "integer": integer})


@dataclass(frozen=True)
class Parameters:
    # --- Drawing of lots (¶6-7) ---------------------------------------------------------
    redraw_patience_months: float = _p(
        18.0,
        "months",
        1.0,
        math.inf,
        "How long the party under review waits for a reviewing State without a focal point "
        "before it requests that the drawing of lots be repeated (¶6: parties may request a "
        "redraw, up to four times; ¶7: five joint meetings repeated draws, the latest on 5 "
        "December 2023). Not stated in the report: calibrated; infinity means nobody asks.",
    )
    redraw_delay_months: float = _p(
        3.6,
        "months (mean wait)",
        0.0,
        36.0,
        "Time from a request to the joint intersessional meeting that repeats the draw. Five "
        "such meetings between the first group's start (December 2020) and 5 December 2023 "
        "(¶7) are one every 7.2 months, so a request waits half of that on average.",
    )
    # --- Focal points and governmental experts (¶11-18) -------------------------------
    nomination_rate: float = _p(
        0.5,
        "per month",
        1e-4,
        10.0,
        "Hazard of nominating a focal point for a party of average responsiveness. The rule is "
        "two weeks (¶11); a mean of two months, with the heterogeneity and silent share below, "
        "leaves about 14 % of parties without a focal point 1.5-3.5 years in (¶15: 26 of 189).",
    )
    responsiveness_shape: float = _p(
        1.0,
        "gamma shape",
        0.05,
        math.inf,
        "Parties differ in responsiveness: a gamma frailty of mean 1 and this shape multiplies "
        "every party's hazards. Shape 1 makes some parties many times slower than others "
        "(¶15, ¶29, ¶31); infinity makes all parties alike.",
    )
    silent_share: float = _p(
        0.08,
        "share of parties",
        0.0,
        0.5,
        "Share of parties that never nominate without intervention. The 26 parties still silent "
        "after years despite reminders through all channels (¶15, ¶17) need more than slow "
        "hazards to explain.",
    )
    expert_lag_months: float = _p(
        0.5,
        "months (mean)",
        0.0,
        24.0,
        "Mean extra time, after its focal point, for a party to name governmental experts: the "
        "rules allow four weeks against two for focal points (¶11, ¶18). The party's own "
        "substantive work (SAQ or feedback) cannot start before.",
    )
    replacement_rate: float = _p(
        0.24,
        "per year",
        0.0,
        5.0,
        "Rate at which a nominated party replaces its focal point. 74 of 163 (45 %) replaced at "
        "least once (¶14) over about 2.5 years of exposure: -ln(1-0.45)/2.5 = 0.24 per year.",
    )
    handover_months: float = _p(
        2.0,
        "months (mean)",
        0.0,
        36.0,
        "Mean stall of every review a party takes part in while a new focal point takes over "
        "(¶14: substitutions delayed some reviews). Not quantified in the report: a guess.",
    )
    revive_probability: float = _p(
        0.5,
        "probability",
        0.0,
        1.0,
        "Chance that a new focal point brings a fresh responsiveness, drawn anew from the "
        "population (¶14: substitutions also revived stalled reviews). Otherwise the party "
        "keeps its responsiveness.",
    )
    responsiveness_coupling: float = _p(
        0.5,
        "exponent",
        0.0,
        2.0,
        "How strongly a party's responsiveness also speeds or slows its stage work: durations "
        "are multiplied by responsiveness^(-coupling). Unresponsive focal points hold up "
        "consultations and drafting as well as nominations (¶29, ¶36).",
    )
    # --- Preliminary consultation and the Secretariat (¶26-29, ¶42-43) ----------------
    consultation_scheduling_months: float = _p(
        10.0,
        "months (mean)",
        0.01,
        120.0,
        "Mean time from the third focal point to an agreed consultation date, for parties of "
        "average responsiveness; the slowest of the three sets the pace (¶29: unresponsive "
        "focal points, replacements, tight calendars). Set so that a run from 2020 holds about "
        "78 consultations by May 2024 (¶26) with about 46 reviews ready but waiting (¶29).",
    )
    secretariat_officers: int = _p(
        2,
        "officers",
        1,
        100,
        "Secretariat staff who organize consultations and facilitate lists of observations, one "
        "review at a time each. A small team on regular budget and voluntary funds (¶42); the "
        "number is not in the report.",
        integer=True,
    )
    consultation_preparation_months: float = _p(
        0.5, "months (mean)", 0.0, 12.0, "Officer time to organize one preliminary consultation (¶26, ¶43)."
    )
    one_language_share: float = _p(
        49 / 78, "share of consultations", 0.0, 1.0, "Consultations agreeing one working language: 49 of 78 (¶28)."
    )
    three_language_share: float = _p(
        4 / 78, "share of consultations", 0.0, 1.0, "Consultations agreeing three languages: 4 of 78 (¶28); the rest agree two."
    )
    extra_language_delay: float = _p(
        0.15,
        "fraction per extra language",
        0.0,
        3.0,
        "Extra share of SAQ, feedback and lists time for each working language beyond the "
        "first (translation, ¶27-28, ¶55). Not quantified in the report: a guess.",
    )
    # --- Self-assessment questionnaire (¶30-32) ---------------------------------------
    saq_deadline_months: float = _p(6.0, "months", 0.5, 36.0, "Agreed SAQ deadline after the consultation: not exceeding six months (¶30).")
    saq_median_months: float = _p(
        8.0,
        "months (median)",
        0.1,
        120.0,
        "Median SAQ preparation time. Of 43 submitted, 16 met the deadline and 22 were within "
        "three months of it, while 35 more were still being prepared (¶31-32): slower than the "
        "six-month rule.",
    )
    saq_sigma: float = _p(0.8, "log-scale sd", 0.05, 3.0, "Spread of SAQ times (lognormal): 16 on time but 9 over six months late (¶31).")
    saq_deadline_pull: float = _p(
        0.0,
        "probability",
        0.0,
        1.0,
        "Chance that a party whose SAQ would otherwise be late submits it within the ten days "
        "after the deadline instead: a deadline effect. ¶31 counts 6 of 43 submissions in "
        "those ten days, more than a smooth spread of times puts there. 0 is the smooth "
        "structure; the 'clustered' structure calibrates it.",
    )
    # --- Written feedback (¶34-36) -----------------------------------------------------
    feedback_deadline_months: float = _p(
        6.0, "months", 0.5, 36.0, "Agreed deadline for the written feedback after the SAQ: six months (¶34)."
    )
    feedback_part_median_months: float = _p(
        13.0,
        "months (median)",
        0.1,
        120.0,
        "Median time for one reviewing State to draft its part. The joint document waits for the "
        "slower of the two; 68 % of feedback in progress is late and over half of those by more "
        "than a year (¶36), and only 6 had concluded by May 2024 (¶35).",
    )
    feedback_sigma: float = _p(0.9, "log-scale sd", 0.05, 3.0, "Spread of each reviewer's drafting time (lognormal).")
    feedback_coordination_months: float = _p(
        1.0,
        "months (mean)",
        0.0,
        24.0,
        "Mean time to merge the two parts into joint feedback (¶34: coordination between the two reviewers is a known difficulty).",
    )
    # --- Lists of observations and summaries (¶37-39) ---------------------------------
    lists_deadline_months: float = _p(6.0, "months", 0.5, 36.0, "Indicative time for lists and summaries together: six months (¶39).")
    lists_median_months: float = _p(
        8.0,
        "months (median)",
        0.1,
        120.0,
        "Median time to reach consensus on the lists of observations; agreed as four months "
        "(¶39) but four of six in that stage are past the time frame, one by over two years, "
        "and none had finished (¶38).",
    )
    lists_sigma: float = _p(1.0, "log-scale sd", 0.05, 3.0, "Spread of lists times (lognormal, ¶39).")
    lists_facilitation_months: float = _p(
        0.5, "months (mean)", 0.0, 12.0, "Officer time the Secretariat spends helping the parties to consensus (¶37)."
    )
    summaries_median_months: float = _p(2.0, "months (median)", 0.1, 60.0, "Median time for the summaries: usually two months (¶39).")
    summaries_sigma: float = _p(0.7, "log-scale sd", 0.05, 3.0, "Spread of summaries times (lognormal).")
    # --- The condition for the next cluster (¶25) -------------------------------------
    completion_share: float = _p(
        0.70,
        "share of group-1 reviews",
        0.01,
        1.0,
        "The next cluster may start once this share of group 1's reviews is completed (¶25): 70 % of 62 is 43.4, so 44 reviews.",
    )

    def __post_init__(self) -> None:
        # Checked in every calibration proposal and posterior draw: the fields' bounds are read once
        # (_bounds), and a message is only worded when a value is refused.
        for name, low, high, integer in _BOUNDS:
            value = getattr(self, name)
            if integer:
                if isinstance(value, bool) or not isinstance(value, int):
                    if isinstance(value, float) and value.is_integer():
                        value = int(value)
                        object.__setattr__(self, name, value)
                    else:
                        raise InputError("parameters", name, f"expected a whole number, got {value!r}", _allowed(name))
            elif isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InputError("parameters", name, f"expected a number, got {value!r}", _allowed(name))
            elif type(value) is not float:
                value = float(value)
                object.__setattr__(self, name, value)
            if not (low <= value <= high):  # NaN fails too
                raise InputError("parameters", name, f"{value!r} is out of range", _allowed(name))
        if self.one_language_share + self.three_language_share > 1.0:
            raise InputError(
                "parameters",
                "one_language_share + three_language_share",
                "shares of one and three languages add up to more than 1",
                "a sum of at most 1",
            )

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def describe(cls) -> dict[str, dict[str, Any]]:
        """Unit, range, default and reasoning of every parameter, for documentation."""
        return {f.name: {"default": f.default, **f.metadata} for f in dataclasses.fields(cls)}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str = "parameters") -> Parameters:
        """Build from a mapping (a scenario file, a posterior row); unknown names are errors."""
        return cls().updated(values, source)

    def updated(self, values: Mapping[str, Any], source: str = "parameters") -> Parameters:
        """A copy with some values changed; an unknown name is an error naming it."""
        known = _FIELD_NAMES
        for name in values:
            if name not in known:
                close = [k for k in known if k.split("_")[0] == str(name).split("_")[0]]
                hint = f"did you mean {', '.join(sorted(close))}?" if close else "see `workbench parameters`"
                raise InputError(source, str(name), "unknown parameter", hint)
        try:
            return dataclasses.replace(self, **dict(values))
        except InputError as err:
            raise InputError(source, err.field, err.problem, err.allowed) from None

    def as_dict(self) -> dict[str, float | int]:
        return dataclasses.asdict(self)

    # Derived quantities used by the model, in simulation units (days).
    def completion_target(self, group_size: int) -> int:
        """Completed reviews needed in the first group: ceil(share x size), 44 of 62 (¶25)."""
        return math.ceil(round(self.completion_share * group_size, 9))


#: Each field's name, bounds and whether it is a whole number, in order (read by __post_init__).
_BOUNDS: tuple[tuple[str, float, float, bool], ...] = tuple(
    (f.name, f.metadata["low"], f.metadata["high"], f.metadata["integer"]) for f in dataclasses.fields(Parameters)
)


def _allowed(name: str) -> str:
    meta = Parameters.__dataclass_fields__[name].metadata
    return f"{meta['low']} to {meta['high']} {meta['unit']}"


_FIELD_NAMES = frozenset(Parameters.names())
