"""What a review record says about the parameters: a survival likelihood, and the posterior with it.

A record observes, party by party, how long each took to nominate its first focal point (or how
long it has waited: right-censored) and, for the party under review, how long its self-assessment
took after the consultation (or how long it has run).  Under the model these are survival data
with three features the aggregate counts cannot separate:

* a **cure fraction**: with probability ``silent_share`` a party never nominates unprompted (¶15);
  the others nominate at hazard ``nomination_rate`` x its responsiveness x;
* a **shared frailty**: x ~ Gamma(shape, rate = shape) is the same party's in both delays; the
  SAQ takes a lognormal time of median ``saq_median_months`` x x^(-coupling) x the language factor
  (¶27-28), so with coupling the parties slow to nominate are slow with their SAQ too;
* a **deadline effect**: work that would end late ends, with chance ``saq_deadline_pull``, within
  the ten days after the six-month deadline (¶31).

The three questions the structures ask (silent or tail; coupled or independent; clustered or
smooth) are therefore answered by the cure fraction, the within-party dependence and the dates
around the deadline.  For each party the likelihood integrates its frailty numerically (a midpoint
rule on the gamma's quantiles).  Two things the record shows are taken as the model has them: an
SAQ's work stands still while any of its review's three parties hands over to a new focal point
(those days are taken out of its time), and a new focal point may bring a fresh pace (a party
whose focal point changed before its SAQ began did that SAQ at a pace independent of its
nomination's with chance ``revive_probability``).  Left out: the governmental experts' few weeks,
and what the consultation's date says of the three parties' pace (it waits for the slowest; the
joint integral over three parties is not separable by party).

:func:`fit_record` fits it under each model structure: the posterior of the parameters the
record speaks to, under the calibration's priors, and each structure's evidence, by importance
sampling from the Laplace approximation and a proposal adapted to its first draws.  (The Laplace
approximation alone covered the truth too rarely: on records made by the model, its 80 % intervals
held the true responsiveness shape and coupling about two times in three; the posteriors are
skewed where a parameter nears its prior's edge.)  :func:`combined_posterior` joins it to the
posterior of the aggregate figures for what the record does not cover.  Reweighting the aggregate
posterior's particles instead does not
work: a record of the Mechanism's size is so much more informative than the counts that all the
weight falls on one particle (an effective sample size of 1 of 2,000 on the synthetic record).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from workbench.core.timeline import DAYS_PER_MONTH
from workbench.inputs.parameters import Parameters
from workbench.inputs.posterior import Posterior
from workbench.inputs.priors import Prior, Priors, load_priors
from workbench.inputs.record import ReviewRecord

if TYPE_CHECKING:
    from workbench.inference.structures import Structure

#: The days after the SAQ deadline the report counts apart (¶31), in months.
GRACE_MONTHS = 10.0 / DAYS_PER_MONTH
#: Points of the midpoint rule over each party's frailty.
FRAILTY_POINTS = 128  # within 0.4 of 2,048 points in log-likelihood at every shape of the prior, 20 times faster
#: A delay observed as zero days is taken as half a day (a density at zero is not defined).
SHORTEST_MONTHS = 0.5 / DAYS_PER_MONTH


@dataclass(frozen=True)
class RecordDelays:
    """The record's two delays, party by party (months), as survival data."""

    nominated: np.ndarray  # (m,) bool: nominated by the record's date
    nomination: np.ndarray  # (m,) months from first involvement to the focal point, or waited so far
    involved: np.ndarray  # (m,) bool: involved before the record's date (others say nothing)
    saq_started: np.ndarray  # (m,) bool: its own review's consultation was held
    saq_done: np.ndarray  # (m,) bool: and its SAQ submitted
    saq: np.ndarray  # (m,) months of work on the SAQ (from the consultation, less the pauses), or so far
    languages: np.ndarray  # (m,) of its own review
    handovers_before_saq: np.ndarray  # (m,) focal points it had replaced (each maybe a new pace) before its SAQ began

    @classmethod
    def from_record(cls, record: ReviewRecord) -> RecordDelays:
        pairings, day0 = record.pairings, record.day
        first = record.first_involved()
        nominated = np.isfinite(record.nominated_at)
        nomination = np.where(nominated, record.nominated_at - first, day0 - first) / DAYS_PER_MONTH
        m = pairings.n_parties
        saq_started, saq_done, saq, languages = np.zeros(m, bool), np.zeros(m, bool), np.zeros(m), np.ones(m)
        handovers_before = np.zeros(m)
        consultation, submitted = record.stage_event_day("consultation_held"), record.stage_event_day("saq_submitted")
        for r in range(pairings.n_reviews):
            p = int(pairings.under_review[r])
            if np.isfinite(consultation[r]):
                saq_started[p], saq_done[p] = True, bool(np.isfinite(submitted[r]))
                end = submitted[r] if saq_done[p] else day0
                members = (p, int(pairings.reviewers[r, 0]), int(pairings.reviewers[r, 1]))
                paused = _paused(record.handovers, members, consultation[r], end, day0)
                saq[p], languages[p] = (end - consultation[r] - paused) / DAYS_PER_MONTH, max(int(record.languages[r]), 1)
                own = record.handovers[record.handovers[:, 0] == p]
                handovers_before[p] = np.sum(np.where(np.isnan(own[:, 2]), own[:, 1], own[:, 2]) <= consultation[r])
        return cls(
            nominated,
            np.maximum(nomination, SHORTEST_MONTHS),
            first <= day0,
            saq_started,
            saq_done,
            np.maximum(saq, SHORTEST_MONTHS),
            languages,
            handovers_before,
        )


def _paused(handovers: np.ndarray, members: tuple[int, int, int], begin: float, end: float, day0: float) -> float:
    """Days of [begin, end] on which a review's work stood still: one of its three parties was
    handing over to a new focal point (the union of their handovers; ¶14).  A handover whose end the
    record does not give is not counted: the time it took is not known."""
    spans = sorted(
        (max(left, begin), min(day0 if back == np.inf else back, end))
        for p, left, back in handovers
        if int(p) in members and not np.isnan(back)
    )
    paused, reached = 0.0, begin
    for left, back in spans:
        left = max(left, reached)
        if back > left:
            paused, reached = paused + back - left, back
    return paused


def _log_saq(saq: np.ndarray, done: np.ndarray, median: np.ndarray, sigma: np.ndarray, pull: np.ndarray, deadline: float) -> np.ndarray:
    """log density (submitted: ``done``, per party) or log survival (still running) of each party's
    SAQ time ``saq`` (months, shaped to broadcast against ``median``: parameter sets x parties x
    frailty points): a lognormal, with the deadline effect's mass moved into the ten days after the
    deadline."""
    z = (np.log(saq) - np.log(median)) / sigma
    log_pdf = -0.5 * z**2 - np.log(saq * sigma * math.sqrt(2 * math.pi))
    log_sf = special.log_ndtr(-z)
    late_share = special.ndtr(-(np.log(deadline) - np.log(median)) / sigma)  # 1 - F(deadline)
    in_window = (saq > deadline) & (saq <= deadline + GRACE_MONTHS)
    beyond = saq > deadline + GRACE_MONTHS
    keep = np.where(in_window | beyond, 1.0 - pull, 1.0)
    moved_density = pull * late_share / GRACE_MONTHS
    moved_survival = pull * late_share * np.clip((deadline + GRACE_MONTHS - saq) / GRACE_MONTHS, 0.0, 1.0)
    density = np.exp(log_pdf) * keep + np.where(in_window, moved_density, 0.0)
    survival = np.exp(log_sf) * keep + np.where(in_window, moved_survival, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(done[:, None], np.log(density), np.log(survival))


#: Parameter sets the likelihood takes at once (arrays of sets x parties x frailty points: some MB each).
BATCH = 32


def log_likelihoods(d: RecordDelays, base: Parameters, values: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The record's log-likelihood under each of several parameter sets: ``base``, with each
    parameter named in ``values`` taken from its array (one entry per set).  See the module's docstring."""
    values = values or {}
    n = len(next(iter(values.values()))) if values else 1
    column = {name: np.broadcast_to(np.asarray(values.get(name, getattr(base, name)), dtype=float), (n,)) for name in RECORD_PARAMETERS}
    out = np.empty(n)
    for begin in range(0, n, BATCH):
        part = slice(begin, min(begin + BATCH, n))
        out[part] = _log_likelihoods(d, base, {name: array[part] for name, array in column.items()})
    return out


def _log_likelihoods(d: RecordDelays, base: Parameters, v: dict[str, np.ndarray]) -> np.ndarray:
    """Sum over the parties asked to act of log p(what the record shows of each), for each set of ``v``:
    a party still waiting; one that nominated, with no SAQ under way; one whose SAQ began."""
    shape, s = v["responsiveness_shape"], v["silent_share"][:, None]
    x = np.ones((len(shape), FRAILTY_POINTS))  # each set's frailty points (all 1: no heterogeneity)
    finite = np.isfinite(shape)
    if finite.any():
        points = (np.arange(FRAILTY_POINTS) + 0.5) / FRAILTY_POINTS
        x[finite] = special.gammaincinv(shape[finite, None], points[None, :]) / shape[finite, None]
    x = x[:, None, :]  # (sets, 1, J)
    rate = v["nomination_rate"][:, None, None] * x  # per month
    mean = lambda a: special.logsumexp(a, axis=-1) - math.log(a.shape[-1])  # noqa: E731  (the frailty's midpoint rule)
    waiting, nominated, with_saq = d.involved & ~d.nominated, d.involved & d.nominated & ~d.saq_started, d.involved & d.saq_started
    with np.errstate(divide="ignore"):
        log_s, log_acts = np.log(s), np.log1p(-s)
        total = np.sum(np.logaddexp(log_s, log_acts + mean(-rate * d.nomination[waiting][None, :, None])), axis=1)
        total += np.sum(log_acts + mean(np.log(rate) - rate * d.nomination[nominated][None, :, None]), axis=1)
        log_nomination = np.log(rate) - rate * d.nomination[with_saq][None, :, None]  # (sets, m, J): nominated at t
        language = (1.0 + base.extra_language_delay * (d.languages[with_saq] - 1))[None, :, None]
        median = v["saq_median_months"][:, None, None] * language * x ** (-v["responsiveness_coupling"][:, None, None])
        saq = _log_saq(
            d.saq[with_saq][None, :, None],
            d.saq_done[with_saq],
            median,
            v["saq_sigma"][:, None, None],
            v["saq_deadline_pull"][:, None, None],
            base.saq_deadline_months,
        )
        # Each new focal point brings a fresh pace from the population with chance revive_probability
        # (¶14): a party whose focal point changed before its SAQ began worked on it at a pace drawn
        # anew, independent of the one it nominated at, unless none of its handovers revived it.
        kept = ((1.0 - base.revive_probability) ** d.handovers_before_saq[with_saq])[None, :]
        shared, renewed = mean(log_nomination + saq), mean(log_nomination) + mean(saq)
        total += np.sum(log_acts + np.logaddexp(np.log(kept) + shared, np.log1p(-kept) + renewed), axis=1)
    return total


def log_likelihood(d: RecordDelays, params: Parameters) -> float:
    """The record's log-likelihood under ``params`` (see the module's docstring)."""
    return float(log_likelihoods(d, params)[0])


#: The parameters the record's likelihood depends on (the others it leaves to the aggregate figures).
RECORD_PARAMETERS = (
    "nomination_rate",
    "responsiveness_shape",
    "silent_share",
    "responsiveness_coupling",
    "saq_median_months",
    "saq_sigma",
    "saq_deadline_pull",
)


def _to_unit(prior: Prior, value: float) -> float:
    if prior.distribution == "loguniform":
        return (math.log(value) - math.log(prior.low)) / (math.log(prior.high) - math.log(prior.low))
    return (value - prior.low) / (prior.high - prior.low)


def from_unit(prior: Prior, z: np.ndarray) -> np.ndarray:
    if prior.distribution == "loguniform":
        return np.exp(math.log(prior.low) + z * (math.log(prior.high) - math.log(prior.low)))
    return prior.low + z * (prior.high - prior.low)


@dataclass(frozen=True)
class StructureFit:
    """The record's posterior under one structure, and the structure's log evidence.

    Coordinates are u = logit(the parameter's place in its prior range).  The Laplace approximation
    (a Gaussian at the mode) proposes; importance sampling corrects it to the posterior itself
    (``particles`` with ``weights``), and estimates the evidence without the Gaussian's assumption."""

    structure: str
    free: tuple[str, ...]  # the record's parameters this structure leaves free
    fixed: dict[str, float]  # those it fixes (its second answers)
    mode: np.ndarray  # (len(free),) in u
    covariance: np.ndarray  # (len(free), len(free)) in u
    log_evidence: float  # log p(record | structure), importance sampling
    log_evidence_laplace: float  # the same by the Laplace approximation
    log_likelihood_at_mode: float
    particles: np.ndarray  # (n, len(free)) in u, drawn from the proposal
    weights: np.ndarray  # (n,) normalized importance weights
    effective_draws: float  # Kish's effective sample size of the weights

    def draws(self, priors: Priors, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """``n`` draws of the free parameters (and the fixed ones), on their own scales: the
        particles resampled by their weights."""
        u = self.particles[rng.choice(len(self.weights), n, p=self.weights)] if self.free else np.empty((n, 0))
        out = {name: from_unit(priors[name], special.expit(u[:, j])) for j, name in enumerate(self.free)}
        return {**out, **{name: np.full(n, value) for name, value in self.fixed.items()}}

    def mode_values(self, priors: Priors) -> dict[str, float]:
        return {name: float(from_unit(priors[name], special.expit(self.mode[j]))) for j, name in enumerate(self.free)}


#: Draws of the importance sampler for each structure (and half as many in its first round); its
#: proposals are Student t (5 degrees of freedom), widened by half: tails heavier than the
#: posterior's, so that the weights stay bounded (see :func:`_importance_sample`).
IMPORTANCE_DRAWS = 1000
PROPOSAL_FREEDOM = 5.0
PROPOSAL_WIDENING = 1.5
#: Seed of the importance sampler: a record's fit is the same each time it is made.
IMPORTANCE_SEED = 20240521


def log_posteriors(u: np.ndarray, free: tuple[str, ...], priors: Priors, base: Parameters, delays: RecordDelays) -> np.ndarray:
    """log prior density + log-likelihood at each row of ``u``: the prior is uniform in each
    z = expit(u), whose density in u is z (1 - z)."""
    z = special.expit(u)
    values = {name: from_unit(priors[name], z[:, j]) for j, name in enumerate(free)}
    with np.errstate(divide="ignore"):
        log_prior = np.sum(np.log(z) + np.log1p(-z), axis=1)
    return log_prior + log_likelihoods(delays, base, values)


def _neg_log_posterior(u: np.ndarray, free: tuple[str, ...], priors: Priors, base: Parameters, delays: RecordDelays) -> float:
    return -float(log_posteriors(u[None, :], free, priors, base, delays)[0])


def _hessian(f: Callable[[np.ndarray], float], x: np.ndarray, step: float = 1e-2) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x`` (a few hundred evaluations for seven parameters)."""
    d = len(x)
    h = np.zeros((d, d))
    f0 = f(x)
    for i in range(d):
        for j in range(i, d):
            ei, ej = np.eye(d)[i] * step, np.eye(d)[j] * step
            if i == j:
                h[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / step**2
            else:
                h[i, j] = h[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * step**2)
    return h


def fit_structure(delays: RecordDelays, structure: Structure, priors: Priors, base: Parameters) -> StructureFit:
    """The record's posterior and evidence under ``structure`` (its fixed parameters held): the
    Laplace approximation, corrected by importance sampling."""
    from scipy import optimize

    fixed = {k: v for k, v in structure.fixed.items() if k in RECORD_PARAMETERS}
    free = tuple(name for name in RECORD_PARAMETERS if name not in fixed and name in priors.names)
    base = base.updated(fixed)
    objective = lambda u: _neg_log_posterior(u, free, priors, base, delays)  # noqa: E731
    # Two starts: the middle of the priors, and the base's own values (a hand-set or posterior guess).
    starts = [np.zeros(len(free)), special.logit(np.clip([_to_unit(priors[n], getattr(base, n)) for n in free], 0.02, 0.98))]
    best = min((optimize.minimize(objective, x0, method="BFGS", options={"gtol": 1e-4}) for x0 in starts), key=lambda r: r.fun)
    hessian = _hessian(objective, best.x)
    values, vectors = np.linalg.eigh((hessian + hessian.T) / 2)
    values = np.maximum(values, 1e-6)  # a flat direction (a parameter the record cannot see) keeps a wide, finite spread
    covariance = (vectors / values) @ vectors.T
    laplace = -best.fun + 0.5 * len(free) * math.log(2 * math.pi) - 0.5 * float(np.sum(np.log(values)))
    u, log_w = _importance_sample(lambda u: log_posteriors(u, free, priors, base, delays), best.x, covariance)
    log_evidence = float(special.logsumexp(log_w) - math.log(len(log_w)))
    weights = np.exp(log_w - special.logsumexp(log_w))
    return StructureFit(
        structure.name,
        free,
        fixed,
        best.x,
        covariance,
        log_evidence,
        float(laplace),
        float(log_likelihoods(delays, base, _values_at(best.x, free, priors))[0]),
        u,
        weights,
        float(1.0 / np.sum(weights**2)),
    )


def _importance_sample(
    log_target: Callable[[np.ndarray], np.ndarray], mode: np.ndarray, covariance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Draws from the posterior's importance sampler and their log weights, in two rounds: a first
    on the Laplace Gaussian (as a Student t, widened) locates the posterior's mass; the second draws
    from an even mixture of that and a t on the first round's weighted mean and covariance, which
    follows a posterior the Gaussian at the mode misplaces (skewed, near a prior's edge) while the
    Laplace half keeps the weights bounded (a defensive mixture, Hesterberg 1995)."""
    from scipy import stats

    rng = np.random.default_rng(IMPORTANCE_SEED)
    k = len(mode)
    laplace = stats.multivariate_t(mode, covariance * PROPOSAL_WIDENING**2, df=PROPOSAL_FREEDOM)
    first = laplace.rvs(IMPORTANCE_DRAWS // 2, random_state=rng).reshape(-1, k)
    log_w = log_target(first) - laplace.logpdf(first).reshape(-1)
    w = np.exp(log_w - special.logsumexp(log_w))
    mean = w @ first
    spread = ((first - mean) * w[:, None]).T @ (first - mean) + 1e-6 * np.eye(k)
    adapted = stats.multivariate_t(mean, spread * PROPOSAL_WIDENING**2, df=PROPOSAL_FREEDOM)
    from_laplace = rng.random(IMPORTANCE_DRAWS) < 0.5
    u = np.where(
        from_laplace[:, None],
        laplace.rvs(IMPORTANCE_DRAWS, random_state=rng).reshape(-1, k),
        adapted.rvs(IMPORTANCE_DRAWS, random_state=rng).reshape(-1, k),
    )
    log_q = np.logaddexp(laplace.logpdf(u).reshape(-1), adapted.logpdf(u).reshape(-1)) - math.log(2)
    return u, log_target(u) - log_q


def _values_at(u: np.ndarray, free: tuple[str, ...], priors: Priors) -> dict[str, np.ndarray]:
    return {name: np.atleast_1d(from_unit(priors[name], special.expit(u[j]))) for j, name in enumerate(free)}


@dataclass(frozen=True)
class RecordFit:
    """The record's fit under every structure, and what it says of the open questions."""

    fits: dict[str, StructureFit]
    priors: Priors

    def probabilities(self, prior: dict[str, float] | None = None) -> dict[str, float]:
        """Each structure's probability given the record (and, with ``prior``, given what came before:
        the aggregate posterior's structure probabilities)."""
        names = list(self.fits)
        log_p = np.array(
            [
                self.fits[n].log_evidence + (math.log(prior[n]) if prior and prior.get(n, 0) > 0 else (-np.inf if prior else 0.0))
                for n in names
            ]
        )
        p = np.exp(log_p - log_p.max())
        return dict(zip(names, (p / p.sum()).tolist()))


def fit_record(record: ReviewRecord, priors: Priors | None = None, base: Parameters | None = None, workers: int = 1) -> RecordFit:
    """The record fitted under each model structure (:func:`fit_structure`), on ``workers`` processes."""
    from workbench.experiments.workers import parallel_map
    from workbench.inference.structures import ALL_STRUCTURES

    priors = priors or load_priors()
    base = base or Parameters()
    delays = RecordDelays.from_record(record)
    fits = parallel_map(fit_structure, [(delays, s, priors, base) for s in ALL_STRUCTURES], workers)
    return RecordFit({fit.structure: fit for fit in fits}, priors)


def combined_posterior(aggregate: Posterior, fit: RecordFit, seed: int = 1, n: int | None = None) -> Posterior:
    """The aggregate figures' posterior joined to the record's: each structure weighted by both,
    the parameters the record speaks to drawn from its fit, the others from the aggregate particles
    of the same structure.  The record dominates what it covers (its sd is a small fraction of the
    aggregate posterior's), so their information about those is not multiplied in again."""
    rng = np.random.default_rng(seed)
    n = n or len(aggregate.weights)
    before = aggregate.structure_probabilities()
    probabilities = fit.probabilities(before)
    counts = rng.multinomial(n, [probabilities[s] for s in fit.fits])
    values, structures = [], []
    for name, k in zip(fit.fits, counts):
        if k == 0:
            continue
        members = np.flatnonzero(aggregate.structures == name)
        picked = rng.choice(members, k, p=aggregate.weights[members] / aggregate.weights[members].sum())
        rows = aggregate.values[picked].copy()
        for column, draw in fit.fits[name].draws(fit.priors, rng, k).items():
            if column in aggregate.names:
                rows[:, aggregate.names.index(column)] = np.clip(draw, fit.priors[column].low, fit.priors[column].high)
        values.append(rows)
        structures += [name] * k
    provenance = {**aggregate.provenance, "joined_with_record": {name: fit.fits[name].log_evidence for name in fit.fits}}
    return Posterior(
        aggregate.names, np.vstack(values), np.full(n, 1.0 / n), provenance, aggregate.path, np.array(structures, dtype=object)
    )


def fit_table(before: Posterior, after: Posterior) -> list[dict]:
    """Each parameter's mean and sd without and with the record, the sd ratio and a verdict: the
    record informs it (sd ratio below 0.5), informs it weakly (below 0.9), or leaves it (0.9 and above)."""
    rows = []
    mean_without, sd_without, mean_with, sd_with = before.mean(), before.sd(), after.mean(), after.sd()
    for name in before.names:
        ratio = sd_with[name] / sd_without[name] if sd_without[name] > 0 else math.nan
        rows.append(
            {
                "parameter": name,
                "mean_without": mean_without[name],
                "sd_without": sd_without[name],
                "mean_with": mean_with[name],
                "sd_with": sd_with[name],
                "sd_ratio": ratio,
                "verdict": "informed" if ratio < 0.5 else ("weakly informed" if ratio < 0.9 else "not informed"),
            }
        )
    return rows
