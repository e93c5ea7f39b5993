"""Model structures: the assumptions the report is silent on, each fitted as its own model.

Where the report does not decide between two accounts of the process, both are kept and
calibrated side by side; ABC model selection weighs them by how well they reproduce every
dated figure, and forecasts average over them (or show them one by one).  A structure is
a choice on each of three questions, and a choice that leaves a mechanism out fixes its
parameter at the value that switches it off:

* **nominations**: ``silent`` (a share of parties never nominates unprompted, ¶15, ¶17) or
  ``tail`` (no such share: the slowest parties of the gamma frailty nominate eventually);
* **pace**: ``coupled`` (parties slow to nominate are slow at their stage work too, ¶29, ¶36)
  or ``independent`` (stage times do not depend on nomination speed);
* **SAQ**: ``clustered`` (a deadline effect bunches submissions in the ten days after the
  deadline, ¶31) or ``smooth`` (a lognormal spread alone).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    """One thing the report leaves open, and its two answers (the second fixes parameters)."""

    name: str
    answers: tuple[str, str]
    fixed_by_second: dict[str, float]
    text: tuple[str, str]
    settled_by: str  # the evidence that would decide between the two answers, in plain words


QUESTIONS: tuple[Question, ...] = (
    Question(
        "nominations",
        ("silent", "tail"),
        {"silent_share": 0.0},
        (
            "a share of parties never nominates a focal point unprompted (¶15, ¶17)",
            "every party nominates in the end; the slowest take years (¶15)",
        ),
        "dated counts of the parties still without a focal point (¶15 says only that they were decreasing): "
        "whether the longest-pending nominations still arrive",
    ),
    Question(
        "pace",
        ("coupled", "independent"),
        {"responsiveness_coupling": 0.0},
        (
            "parties slow to nominate are slow in their stage work too (¶29, ¶36)",
            "stage work does not depend on how fast a party nominated",
        ),
        "the Secretariat's review-by-review record: whether parties slow to nominate are also slow with their "
        "self-assessment and written feedback",
    ),
    Question(
        "saq",
        ("clustered", "smooth"),
        {"saq_deadline_pull": 0.0},
        (
            "self-assessments bunch in the ten days after their deadline (¶31)",
            "self-assessment times spread smoothly (lognormal)",
        ),
        "the dates the self-assessments arrived, beside their deadlines (¶31 gives only four counts)",
    ),
)


@dataclass(frozen=True)
class Structure:
    """One answer to each question: a model of its own, with the parameters its answers fix."""

    answers: tuple[str, ...]

    @property
    def name(self) -> str:
        return "-".join(self.answers)

    @property
    def fixed(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for question, answer in zip(QUESTIONS, self.answers):
            if answer == question.answers[1]:
                out.update(question.fixed_by_second)
        return out

    def describe(self) -> str:
        return "; ".join(q.text[q.answers.index(a)] for q, a in zip(QUESTIONS, self.answers))


#: Every combination of answers: 2 x 2 x 2 = 8 structures.
ALL_STRUCTURES: tuple[Structure, ...] = tuple(Structure(answers) for answers in itertools.product(*(q.answers for q in QUESTIONS)))


def structure_named(name: str) -> Structure:
    for structure in ALL_STRUCTURES:
        if structure.name == name:
            return structure
    raise KeyError(f"unknown structure {name!r}; one of {', '.join(s.name for s in ALL_STRUCTURES)}")


def headline_by_answer(structures: list[dict]) -> list[dict]:
    """The chance of not meeting the condition by the horizon under each answer to each question:
    the structures giving that answer, weighed by the evidence (each row of ``structures`` has the
    structure's name, its ``probability``, its ``p_not_within_horizon`` and its ``replications``),
    with the Monte Carlo standard error of that weighted share, and the evidence that would settle
    the question.  Rows not named after a structure (the model average) are left out."""
    known = {s.name for s in ALL_STRUCTURES}
    rows = [r for r in structures if r["structure"] in known]
    out = []
    for k, question in enumerate(QUESTIONS):
        answers = []
        for answer in question.answers:
            alike = [r for r in rows if r["structure"].split("-")[k] == answer]
            weight = sum(r["probability"] for r in alike)
            if weight <= 0:
                answers.append({"answer": answer, "weight": 0.0, "p_not_by_horizon": None, "se": None})
                continue
            p_not = sum(r["probability"] * r["p_not_within_horizon"] for r in alike) / weight
            # Each structure's chance is a share of its own runs: their binomial errors, weighed alike.
            variance = sum(
                r["probability"] ** 2 * r["p_not_within_horizon"] * (1 - r["p_not_within_horizon"]) / r["replications"] for r in alike
            )
            answers.append({"answer": answer, "weight": weight, "p_not_by_horizon": p_not, "se": variance**0.5 / weight})
        out.append({"question": question.name, "answers": answers, "settled_by": question.settled_by})
    return out


def _binomial_variance(p: float, n: int) -> float:
    return p * (1 - p) / n


def answer_probabilities(probabilities: dict[str, float]) -> dict[str, dict[str, float]]:
    """For each open question, the probability of each answer: the total of the structures (by
    name) that give it."""
    return {q.name: {a: sum(p for name, p in probabilities.items() if a in name.split("-")) for a in q.answers} for q in QUESTIONS}
