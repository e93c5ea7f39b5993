"""The command line: a thin shell over the library's public functions.

    workbench forecast [--replications N] [--seed S] [--horizon DATE] [--output DIR] [--scenario FILE]
    workbench calibrate [--population N] [--generations G] [--max-minutes M] [--seed S] [--resume | --fresh]
    workbench check [--replications N]
    workbench start-check [--replications N] [--seed S]
    workbench reproduce OUTPUT
    workbench parameters

Bad input ends with one line naming the file, the field and what is allowed, and exit
status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

from workbench.core.atomic import check_destination, check_file_destination
from workbench.core.errors import InputError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _whole(low: int, meaning: str, high: int | None = None):
    """An argparse type: a whole number from ``low`` up (and at most ``high``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            allowed = f"a whole number from {low} up" if high is None else f"a whole number from {low} to {high:,}"
            raise argparse.ArgumentTypeError(f"{value} {meaning} (allowed: {allowed})")
        return value

    return parse


def _number(low: float, high: float, meaning: str, low_included: bool = False):
    """An argparse type: a finite number above ``low`` (or from it) and at most ``high``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not (low <= value if low_included else low < value) or not value <= high:  # NaN fails both
            raise argparse.ArgumentTypeError(f"{text} {meaning} (allowed: {'from' if low_included else 'above'} {low:g} to {high:g})")
        return value

    return parse


def _date_until(last: dt.date):
    """An argparse type: a date no later than ``last`` (a horizon of 9999 is a typo, not a question)."""

    def parse(text: str) -> dt.date:
        day = _date(text)
        if day > last:
            raise argparse.ArgumentTypeError(f"{text} is too far ahead (allowed: a date up to {last})")
        return day

    return parse


def _limits():
    from workbench.core.timeline import LAST_HORIZON
    from workbench.experiments.replications import MAX_REPLICATIONS

    return MAX_REPLICATIONS, LAST_HORIZON


_seed = _whole(0, "is negative")  # numpy's SeedSequence takes whole numbers from 0 up
_positive = _whole(1, "must be at least 1")
_replications = _whole(1, "replications", _limits()[0])
_horizon_date = _date_until(_limits()[1])
#: A population or a number of draws large enough for the method, small enough to fit in memory.
_population = _whole(2, "particles", 100_000)
_draws = _whole(20, "draws: the sensitivity estimator needs at least 20", 100_000)
_minutes = _number(0, 7 * 24 * 60, "minutes")
_share = _number(0, 1, "is not a share")


def _posterior_choice(args):
    """The posterior a command runs on: none (--hand-set), a folder, or the shipped one; restricted
    to one model structure with --structure."""
    from workbench.inputs.posterior import load_posterior, shipped_posterior

    if getattr(args, "hand_set", False):
        if getattr(args, "structure", None):
            raise InputError("command line", "--structure", "given with --hand-set", "one of them: structures belong to the posterior")
        return None
    posterior = load_posterior(args.posterior) if getattr(args, "posterior", None) else shipped_posterior()
    if getattr(args, "structure", None):
        if posterior is None:
            raise InputError("command line", "--structure", "no posterior to restrict", "a posterior folder (--posterior)")
        posterior = posterior.restricted(args.structure)
    return posterior


def _forecast_inputs(args, snapshot) -> dict:
    """What every forecast of a command starts from: the horizon, the pairings, the start snapshot,
    the posterior (or --hand-set) and the engine (the arguments of forecast_setup)."""
    from workbench.inputs.parties import load_pairings

    return dict(
        horizon=args.horizon,
        pairings=load_pairings(args.pairings) if args.pairings else None,
        snapshot=snapshot,
        posterior=_posterior_choice(args),
        engine=args.engine,
        record=_record_choice(args),
    )


def _histories(args, inputs: dict):
    """The histories from 2020 that lead to the report's state (--start matched), on the baseline:
    a scenario acts from today, not in the past."""
    from workbench.analysis.forecast import forecast_setup
    from workbench.experiments.matched_histories import TRIES_PER_DRAW, matched_histories

    if inputs.get("record") is not None or inputs.get("pairings") is not None:
        raise InputError("command line", "--start", "matched histories with --record or --pairings", "one of them")
    print(
        f"workbench: running histories from 2020 on {args.histories:,} posterior draws, each until one leads to the report...",
        file=sys.stderr,
        flush=True,
    )
    histories = matched_histories(forecast_setup(**inputs), args.histories, args.seed, args.workers)
    print(
        f"workbench: {len(histories.records):,} of {args.histories:,} draws found a history that leads to the report's state "
        f"({histories.runs:,} runs; {histories.unmatched:,} draws with none in {TRIES_PER_DRAW} runs left out)",
        file=sys.stderr,
        flush=True,
    )
    return histories


def _record_choice(args):
    """The review record a command starts from (--record), checked, or None; refused with --pairings
    (a record has its own)."""
    if not getattr(args, "record", None):
        return None
    from workbench.inputs.record import load_record

    if getattr(args, "pairings", None):
        raise InputError("command line", "--pairings", "given with --record, which has its own pairings", "one of them")
    record = load_record(args.record)
    if record.synthetic:
        print(f"workbench: starting from a SYNTHETIC record ({args.record}): its dates are the model's", file=sys.stderr)
    return record


def _run_options(args) -> dict:
    """How every forecast of a command runs: replications, seed, workers, scheduler."""
    return dict(replications=args.replications, seed=args.seed, workers=args.workers, scheduler=args.scheduler)


def cmd_forecast(args) -> int:
    from workbench.analysis.forecast import forecast, forecast_setup
    from workbench.faces.text import format_forecast, format_structure_table
    from workbench.inputs.observations import latest_snapshot
    from workbench.inputs.scenarios import BASELINE, load_scenario

    snapshot = latest_snapshot(args.observations) if args.observations else latest_snapshot()
    if args.horizon <= snapshot.as_at:
        raise InputError(
            "--horizon",
            "horizon",
            f"{args.horizon} is not after the snapshot date {snapshot.as_at}",
            f"a date after {snapshot.as_at}, e.g. 2060-12-31",
        )
    check_destination(args.output)
    inputs = _forecast_inputs(args, snapshot)
    if inputs["record"] is not None and args.horizon <= inputs["record"].as_at:
        raise InputError("--horizon", "horizon", f"{args.horizon} is not after the record's date {inputs['record'].as_at}", "a later date")
    if args.export:
        check_file_destination(args.export, "--export", args.overwrite)
        if Path(args.export).resolve().is_relative_to(Path(args.output).resolve()):
            raise InputError(args.export, "--export", "lies inside the --output folder, which is replaced whole", "a path outside it")
    scenario = load_scenario(args.scenario) if args.scenario else BASELINE
    if args.start == "matched":
        inputs["histories"] = _histories(args, inputs)
    setup = forecast_setup(scenario, **inputs)
    print(f"workbench: running {args.replications} replications...", file=sys.stderr, flush=True)
    progress, bar = _bar("replications", units=args.replications)
    fc = forecast(
        setup,
        scenario=scenario,
        keep_events=not (args.no_events or args.summaries_only),
        keep_monthly=not args.summaries_only,
        by_structure=args.by_structure,
        progress=progress,
        **_run_options(args),
    )
    bar.close()
    print(format_forecast(fc))
    if fc.by_structure is not None:
        print("\n  The same forecast on each model structure alone (same seed), most probable first:\n")
        print("\n".join("  " + line for line in format_structure_table(fc.by_structure).splitlines()))
    elif args.by_structure:
        print("\n  (--by-structure: this posterior has a single structure)")
    out = _write_forecast_and_export(fc, args, scenario)
    tables = ["threshold.csv", "monthly_quantiles.csv.gz", "summary.csv", "manifest.json"] + (["forecast.xlsx"] if args.xlsx else [])
    if fc.by_structure is not None:
        tables.insert(-1, "structures.csv")
    if (out / "nowcast.csv").is_file():
        tables.insert(-1, "nowcast.csv")
    tables[1:1] = [
        name
        for name, kept in (("monthly.csv.gz", fc.results.monthly is not None), ("events.csv.gz", fc.results.events is not None))
        if kept
    ]
    print(f"\n  tables written to {out}/ ({', '.join(tables)})")
    if args.export:
        print(f"  hubverse model output (cdf, quantile, sample) written to {args.export}")
    return 0


def _write_forecast_and_export(fc, args, scenario) -> Path:
    """The output folder and the ``--export`` file as one unit: the export is staged first and
    renamed only once the folder is in place, so a failure leaves neither half-replaced."""
    from workbench.faces.output_folder import write_forecast

    extra = {"scenario_file": str(scenario.path) if scenario.path else None}
    if not args.export:
        return write_forecast(fc, args.output, extra, xlsx=args.xlsx)
    from workbench.core.atomic import atomic_file
    from workbench.faces.hubverse import hubverse_table
    from workbench.faces.output_folder import spreadsheet_csv

    with atomic_file(args.export, "--export", args.overwrite) as staged:
        staged.write_text(spreadsheet_csv(hubverse_table(fc.results)), encoding="utf-8")
        return write_forecast(fc, args.output, extra, xlsx=args.xlsx)


def cmd_start_check(args) -> int:
    """Run from 2020 and set the model's own account of the report date beside the report."""
    import numpy as np
    import pandas as pd

    from workbench.experiments.setup import default_setup, simulate
    from workbench.inputs.observations import latest_snapshot
    from workbench.inputs.parameters import Parameters
    from workbench.observation.observe import compare, observe
    from workbench.simulation.streams import replication_seeds

    snapshot = latest_snapshot()
    setup = default_setup(Parameters(), start="history", snapshot=snapshot, horizon=snapshot.as_at)
    runs = []
    for seed in replication_seeds(args.seed, args.replications):
        record, pairings, _ = simulate(setup, seed)
        runs.append(observe(record, pairings, snapshot.as_at))
    table = compare(runs[0], snapshot).drop(columns="model")
    for q, label in ((0.025, "model 2.5%"), (0.5, "model median"), (0.975, "model 97.5%")):
        table[label] = [
            np.quantile([r.get((n, None if pd.isna(g) else int(g)), np.nan) for r in runs], q)
            for n, g in zip(table["name"], table["group"])
        ]
    table["group"] = table["group"].map(lambda g: "" if pd.isna(g) else str(int(g)))
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(
            f"The model run from 2020-12-01 ({args.replications} replications, hand-set parameters) "
            f"observed at {snapshot.as_at}, beside the report:"
        )
        print(table.to_string(index=False))
    return 0


def cmd_calibrate(args) -> int:
    from workbench.inference.calibrate import (
        DEFAULT_DB,
        DEFAULT_OUTPUT,
        Budget,
        Calibration,
        CalibrationSettings,
        check_run_database,
        finished_generations,
        posterior_summary,
    )
    from workbench.inputs.observations import DEFAULT_DIR
    from workbench.inputs.priors import DEFAULT_PRIORS, load_priors

    if args.resume and args.fresh:
        raise InputError("command line", "--resume/--fresh", "both given", "one of them")
    if args.output is None and not args.update_shipped:
        raise InputError(
            "command line",
            "--output",
            f"no destination: calibrate replaces the shipped posterior ({DEFAULT_OUTPUT}) only when asked",
            "--output DIR for a new posterior, or --update-shipped to replace the shipped one",
        )
    check_destination(args.output or DEFAULT_OUTPUT, kind="posterior")
    budget = Budget(
        population=args.population,
        generations=args.generations,
        max_minutes=args.max_minutes,
        min_epsilon_drop=args.min_epsilon_drop,
        watch_replications=args.watch_replications,
        headline_tolerance=args.headline_tolerance,
    )
    structures = _structures(args.structures)
    db = Path(args.db or DEFAULT_DB)
    if db.resolve().is_relative_to(Path(args.output or DEFAULT_OUTPUT).resolve()):
        raise InputError(db, "--db", "lies inside the --output folder, which is replaced whole at the end", "a path outside it")
    check_run_database(db, args.resume, args.fresh)
    print(
        f"ABC-SMC calibration with model selection over {len(structures)} structure(s): population {budget.population}, "
        f"until the forecast moves by less than {budget.headline_tolerance:.0%} or epsilon by less than "
        f"{budget.min_epsilon_drop:.0%} in three generations running, at most {budget.generations} generations "
        f"or {budget.max_minutes:g} minutes, seed {args.seed}; run database {db}"
    )
    try:
        settings = CalibrationSettings(
            budget,
            seed=args.seed,
            structures=structures,
            observations_dir=args.observations or DEFAULT_DIR,
            priors_path=args.priors or DEFAULT_PRIORS,
            engine=args.engine,
        )
        result = Calibration(settings, db=db, workers=args.workers, scheduler=args.scheduler).run(resume=args.resume, fresh=args.fresh)
        result.export(args.output or DEFAULT_OUTPUT)
    except KeyboardInterrupt:
        kept = finished_generations(db)
        if kept:
            said = f"{kept} finished generation(s) are kept in {db}. Resume with: workbench calibrate --resume (same options)"
        else:  # nothing to resume from: saying "resume" would start afresh without a word
            said = f"no generation had finished, so nothing is kept to resume. Start again with: workbench calibrate --fresh --db {db}"
        print(f"\nworkbench: calibration interrupted and no posterior was written; {said}", file=sys.stderr)
        return 130
    prov = result.provenance
    print(
        f"\nposterior written to {args.output or DEFAULT_OUTPUT}/ (particles.csv, summary.csv, provenance.json): "
        f"{prov['generations_run']} generations, {prov['total_simulations']} simulations, final epsilon "
        f"{prov['final_epsilon']:.4g}, {prov['wall_time_s'] / 60:.1f} min; stopped on {prov['stopped_because']}"
    )
    print("\nposterior probability of each structure (ABC model selection):")
    for row in sorted(prov["structures"], key=lambda r: -r["probability"]):
        print(f"  {row['name']:<28} {row['probability']:6.1%}  ({row['particles']} particles)")
    print()
    summary = posterior_summary(result.particles, load_priors(args.priors or DEFAULT_PRIORS))
    with pd_options():
        print(summary.round(3).to_string(index=False))
    return 0


def _structures(text: str | None):
    from workbench.inference.structures import ALL_STRUCTURES, structure_named

    if not text:
        return ALL_STRUCTURES
    names = [name.strip() for name in text.split(",") if name.strip()]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:  # it would be fitted as two competing models, splitting its own weight
        raise InputError("command line", "--structures", f"{twice[0]!r} is named twice", "each structure once")
    try:
        return tuple(structure_named(name) for name in names)
    except KeyError:
        raise InputError(
            "command line", "--structures", f"{text!r} names an unknown structure", ", ".join(s.name for s in ALL_STRUCTURES)
        ) from None


def cmd_structures(args) -> int:
    from workbench.inference.structures import ALL_STRUCTURES, QUESTIONS, answer_probabilities
    from workbench.inputs.posterior import shipped_posterior

    print("What the report leaves open, and the answers fitted as separate model structures:\n")
    for q in QUESTIONS:
        print(f"  {q.name}: {q.answers[0]} = {q.text[0]}")
        print(
            f"  {' ' * len(q.name)}  {q.answers[1]} = {q.text[1]} (fixes {', '.join(f'{k} = {v:g}' for k, v in q.fixed_by_second.items())})"
        )
    print(f"\n{len(ALL_STRUCTURES)} structures: " + ", ".join(s.name for s in ALL_STRUCTURES))
    posterior = shipped_posterior()
    if posterior is None or not posterior.structure_names():
        print("\nNo calibrated posterior shipped: the evidence has not weighed them yet (`workbench calibrate`).")
        return 0
    weights = posterior.structure_probabilities()
    n = posterior.provenance.get("population") or len(posterior.particles)
    print(f"\nThe weight the evidence gives each, in the shipped posterior ({posterior.label}; prior: {1 / len(ALL_STRUCTURES):.1%} each):")
    for name, p in sorted(weights.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<28} {p:6.1%}")
    print("and each question's answers, summed over the structures that give them:")
    for question, shares in answer_probabilities(weights).items():
        print(f"  {question}: " + ", ".join(f"{a} {p:.0%}" for a, p in shares.items()))
    print(f"(model probabilities from an ABC-SMC population of {n} particles; a replicate calibration moved them by up to 3 points)")
    return 0


def cmd_backtest(args) -> int:
    import pandas as pd

    from workbench.core.atomic import atomic_folder
    from workbench.faces.plots import band_chart
    from workbench.inference.backtest import ROLLING_BUDGET, band_over_time, coverage_summary, hindcast, pit_uniformity, rolling_origin
    from workbench.inputs.observations import DEFAULT_DIR, load_observations

    check_destination(args.output, kind="backtest")
    snapshots = load_observations(args.observations or DEFAULT_DIR)
    posterior = _posterior_choice(args)
    label = posterior.label if posterior is not None else "hand-set parameters"
    print(f"Backtest on {len(snapshots)} dated snapshot(s) ({', '.join(str(s.as_at) for s in snapshots)}); {label}\n")
    scores = hindcast(snapshots, posterior, args.replications, seed=args.seed, workers=args.workers)
    if args.rolling:
        budget = dataclasses.replace(ROLLING_BUDGET, population=args.rolling_population)
        rolling = rolling_origin(snapshots, budget, args.replications, seed=args.seed, workers=args.workers)
        scores = pd.concat([scores, rolling], ignore_index=True)
    band = band_over_time(snapshots, posterior, replications=min(args.replications, 200), seed=args.seed, workers=args.workers)
    summary = coverage_summary(scores)
    shown = scores[
        [
            "origin",
            "as_at",
            "figure",
            "reported",
            "median",
            "low_95%",
            "high_95%",
            "covered_50%",
            "covered_80%",
            "covered_95%",
            "pit",
            "crps",
        ]
    ]
    with pd_options():
        print(shown.round(2).to_string(index=False))
        print("\nCoverage (share of figures inside each central interval; nominal beside it) and mean scaled CRPS:")
        print(summary.round(3).to_string(index=False))
    for origin, part in scores.groupby("origin", sort=False):
        print(f"  PIT uniformity ({origin}, {len(part)} figures): Kolmogorov-Smirnov p = {pit_uniformity(part['pit']):.3f}")
    print("  (figures of one date come from the same runs and are not independent: read the p-values as indicative)")
    with atomic_folder(args.output, kind="backtest") as staging:
        scores.to_csv(staging / "scores.csv", index=False)
        summary.to_csv(staging / "coverage.csv", index=False)
        band.quantiles.to_csv(staging / "band.csv", index=False)
        band_chart(band.quantiles, band.reported).savefig(staging / "band.png", dpi=120)
        provenance = _backtest_provenance(args, label, budget if args.rolling else None)
        (staging / "provenance.json").write_text(_json_text(provenance), encoding="utf-8")
    print(f"\nwritten to {args.output}/ (scores.csv, coverage.csv, band.csv, band.png, provenance.json)")
    return 0


def _backtest_provenance(args, label: str, budget) -> dict:
    """What a backtest was made from: the observations' checksums (the findings publish only with a
    backtest of the observations they read), the posterior scored, the refits' budget, the code."""
    from workbench.core.provenance import code_version, folder_fingerprint
    from workbench.inputs.observations import DEFAULT_DIR

    return {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "code_version": code_version(),
        "observations": folder_fingerprint(args.observations or DEFAULT_DIR),
        "posterior": label,
        "replications": args.replications,
        "seed": args.seed,
        "rolling_origin": None if budget is None else dataclasses.asdict(budget),
    }


def cmd_sensitivity(args) -> int:
    from workbench.analysis.sensitivity import sensitivity, sensitivity_table
    from workbench.core.atomic import atomic_folder
    from workbench.faces.plots import sensitivity_chart

    check_destination(args.output, kind="sensitivity")
    posterior = _posterior_choice(args)
    if posterior is None:
        raise InputError("command line", "--posterior", "no posterior: nothing varies", "a posterior folder, or the shipped one")
    print(f"Sensitivity of the headline to each input: {args.draws} posterior draws x {args.replications} replications; {posterior.label}")
    result = sensitivity(posterior, args.draws, args.replications, seed=args.seed, horizon=args.horizon, workers=args.workers)
    table = sensitivity_table(result)
    with pd_options():
        print(table.round(3).to_string())
    print()
    for output in ("p_not_by_horizon", "median_years"):
        print(result.drivers_sentence(output))
    noise = ", ".join(f"{k} {v:.0%}" for k, v in result.noise_share.items() if v == v)
    print(f"(first-order indices S1; the replications' own randomness is {noise} of the spread)")
    with atomic_folder(args.output, kind="sensitivity") as staging:
        table.to_csv(staging / "sensitivity.csv")
        result.draws.to_csv(staging / "draws.csv", index=False)
        sensitivity_chart(table, result.outputs).savefig(staging / "sensitivity.png", dpi=120)
    print(f"\nwritten to {args.output}/ (sensitivity.csv, draws.csv, sensitivity.png)")
    return 0


def cmd_findings(args) -> int:
    from workbench.faces.findings import FINDINGS_JSON, FINDINGS_PAGE, compute_findings, write_findings

    print(f"computing the findings: {args.replications} replications per scenario, hindcast, sensitivity...", file=sys.stderr)
    findings = compute_findings(args.replications, args.seed, args.workers, args.sensitivity_draws)
    write_findings(findings)
    print(f"wrote {FINDINGS_JSON}, {FINDINGS_PAGE} and the README's findings block")
    for check in findings["publication"]["checks"]:
        print(f"  {'passed' if check['passed'] else 'FAILED'} ({check['name'].replace('_', ' ')}): {check['words']}")
    if not findings["publication"]["published"]:
        print("workbench: the headline is NOT published: the README and the brief say why instead", file=sys.stderr)
    return 0


def cmd_check(args) -> int:
    from workbench.core.atomic import atomic_folder
    from workbench.faces.plots import marginals_chart, pairs_chart, predictive_check_chart
    from workbench.inference.diagnostics import predictive_check, simulate_observations
    from workbench.inputs.observations import load_observations
    from workbench.inputs.posterior import load_posterior, shipped_posterior
    from workbench.inputs.priors import load_priors

    check_destination(args.output, kind="check")
    snapshots = load_observations(args.observations) if args.observations else load_observations()
    posterior = load_posterior(args.posterior) if args.posterior else shipped_posterior()
    label = posterior.label if posterior else "hand-set parameters (no posterior shipped)"
    runs = simulate_observations(snapshots, args.replications, seed=args.seed, posterior=posterior, workers=args.workers)
    check = predictive_check(snapshots, runs)
    scored = check[check["inside"].notna()]
    print(f"Posterior predictive check: {args.replications} runs from 2020 on {label}")
    print(
        f"{int(scored['inside'].astype(bool).sum())} of {len(scored)} report figures the model expresses inside its 95 % interval "
        "(the constants of the set-up are shown, not scored, as in the backtest)\n"
    )
    with pd_options():
        shown = check.assign(group=check["group"].map(lambda g: "" if g != g or g is None else str(int(g))))
        print(
            shown[["as_at", "name", "group", "paragraph", "report", "alternatives", "low", "median", "high", "inside"]].to_string(
                index=False
            )
        )
    out = Path(args.output)
    with atomic_folder(out, kind="check") as staging:
        check.to_csv(staging / "predictive_check.csv", index=False)
        predictive_check_chart(check, f"Report figures vs the model ({label})").savefig(staging / "predictive_check.png", dpi=110)
        if posterior is not None:
            priors = load_priors(args.priors) if args.priors else load_priors()
            table = posterior.table()
            marginals_chart(table, priors).savefig(staging / "marginals.png", dpi=100)
            pairs_chart(table, priors).savefig(staging / "pairs.png", dpi=100)
    print(f"\ncharts and table written to {out}/")
    return 0


def cmd_sbc(args) -> int:
    """Simulation-based calibration: the inference checked on truths drawn from the priors."""
    from workbench.core.atomic import atomic_folder
    from workbench.experiments.workers import default_workers
    from workbench.inference.sbc import simulation_based_calibration
    from workbench.inference.settings import Budget

    check_destination(args.output, kind="sbc")
    budget = Budget(population=args.population, generations=args.generations, max_minutes=args.max_minutes, watch_replications=0)
    print(
        f"Simulation-based calibration: {args.rounds} truths drawn from the priors (structure and parameters), each fitted "
        f"by ABC-SMC with model selection (population {budget.population}, at most {budget.generations} generations)",
        file=sys.stderr,
    )
    progress, bar = _bar("truths", units=args.rounds)
    result = simulation_based_calibration(args.rounds, budget, args.seed, args.workers or default_workers(), progress=progress)
    bar.close()
    coverage, by_parameter, share = result.coverage(), result.by_parameter(), result.structure_share()
    with pd_options():
        print("Coverage of the truth by the posterior's central intervals (z: standard errors from nominal; negative: overconfident):")
        print(coverage.to_string(index=False))
        print(
            f"\nThe true structure's posterior probability: {share['true_structure_mean_probability']:.1%} on average "
            f"(the prior gives each {share['prior_share']:.1%})\n"
        )
        print(by_parameter.to_string(index=False))
    with atomic_folder(args.output, kind="sbc") as staging:
        coverage.to_csv(staging / "coverage.csv", index=False)
        by_parameter.to_csv(staging / "by_parameter.csv", index=False)
        result.parameters.to_csv(staging / "truths.csv", index=False)
        result.structures.to_csv(staging / "structures.csv", index=False)
    print(f"\ntables written to {args.output}/")
    return 0


def cmd_start_consistency(args) -> int:
    """Do the forecast's report-state start and the histories that lead to the report agree?"""
    from workbench.analysis.forecast import forecast_setup
    from workbench.core.atomic import atomic_folder
    from workbench.experiments.workers import default_workers
    from workbench.inference.start_consistency import Z_LIMIT, record_start_consistency, start_consistency
    from workbench.inputs.observations import latest_snapshot
    from workbench.observation.matching import KEY_FIGURES

    check_destination(args.output, kind="start-consistency")
    from workbench.inputs.parties import load_pairings

    pairings = load_pairings(args.pairings) if args.pairings else None
    setup = forecast_setup(pairings=pairings, snapshot=latest_snapshot(), posterior=_posterior_choice(args), engine=args.engine)
    table, kept = start_consistency(setup, args.replications, args.seed, args.workers or default_workers())
    matched = ", ".join(f"{name} {value} ± {tolerance} ({where})" for name, (value, tolerance, where) in KEY_FIGURES.items())
    print(f"Runs from 1 December 2020 on {args.replications:,} posterior draws; {kept:,} match the report on 21 May 2024")
    print(f"({matched}). The same draws, started from the report's state, beside them (means):\n")
    with pd_options():
        print(table.to_string(index=False))
    disagree = table.loc[~table["agree"], "outcome"].tolist()
    verdict = "agree within Monte Carlo error" if not disagree else "disagree on: " + "; ".join(disagree)
    print(f"\nThe two starts {verdict} (|z| <= {Z_LIMIT:g}, from {kept:,} matched runs).")
    records, kept = record_start_consistency(setup, args.replications, args.seed, args.workers or default_workers())
    print(f"\nThe same matched histories, started again from their own record of that day (nothing placed; {kept:,} runs):\n")
    with pd_options():
        print(records.to_string(index=False))
    disagree = records.loc[~records["agree"], "outcome"].tolist()
    print("\nFrom the record: " + ("agree within Monte Carlo error." if not disagree else "disagree on: " + "; ".join(disagree)))
    with atomic_folder(args.output, kind="start-consistency") as staging:
        table.to_csv(staging / "start_consistency.csv", index=False)
        records.to_csv(staging / "record_start_consistency.csv", index=False)
    print(f"tables written to {args.output}/ (start_consistency.csv, record_start_consistency.csv)")
    return 0


def cmd_prior_check(args) -> int:
    """What the priors imply before any figure is fitted, against bounds said in words."""
    from workbench.core.atomic import atomic_folder
    from workbench.core.provenance import display_path
    from workbench.experiments.workers import default_workers
    from workbench.faces.plots import prior_check_chart
    from workbench.inference.prior_check import (
        BOUNDS,
        FAST_THEN_SLOW_SHARE,
        MATCHING_CONSULTATIONS,
        UNCAC_SECOND_CYCLE_7Y,
        path_shape,
        posterior_predictive,
        prior_predictive,
        verdicts,
        where_implausible,
    )
    from workbench.inputs.observations import latest_snapshot
    from workbench.inputs.posterior import shipped_posterior
    from workbench.inputs.priors import load_priors

    check_destination(args.output, kind="prior-check")
    priors = load_priors(args.priors) if args.priors else load_priors()
    workers = args.workers or default_workers()
    table = prior_predictive(priors, latest_snapshot(), args.draws, args.seed, workers)
    summary, where = verdicts(table, priors), where_implausible(table, priors)
    posterior = shipped_posterior() if not args.no_posterior else None
    fitted = posterior_predictive(posterior, latest_snapshot(), args.draws, args.seed, workers) if posterior else None
    after = verdicts(fitted, priors).set_index("quantity") if fitted is not None else None
    print(f"Prior-predictive check of {display_path(priors.path)}: {args.draws:,} draws (structure and parameters), 30 years from 2020")
    if posterior:
        print(f"beside the same quantities under the shipped posterior ({args.draws:,} particles drawn by weight)")
    print()
    for row in summary.itertuples():
        bound = BOUNDS[row.quantity]
        print(f"  {bound.words}: median {row.median:.3g} (80 %: {row.p10:.3g} to {row.p90:.3g}); plausible {row.plausible_range}")
        fit = after.loc[row.quantity] if after is not None else None
        fit_words = "" if fit is None else f"; under the posterior {fit['share_outside']:.0%} (median {fit['median']:.3g})"
        print(f"    prior: {row.share_outside:.0%} of draws outside (± {row.standard_error:.0%}){fit_words}.")
        print(f"    Why this range: {bound.why}")
    inside = f"{table['plausible'].mean():.0%} of prior draws"
    if fitted is not None:
        inside += f" and {fitted['plausible'].mean():.0%} of posterior draws"
    print(f"\n  {inside} are inside every range.")
    seven = table["group1_completed_7y"]
    print(
        f"  Outside view (not a bound): group 1 completed seven years in, median {seven.median():.0%} "
        f"(80 %: {seven.quantile(0.1):.0%} to {seven.quantile(0.9):.0%}); UNCAC's second cycle had {UNCAC_SECOND_CYCLE_7Y:.0%}."
    )
    path = path_shape(table)
    low, high = MATCHING_CONSULTATIONS
    print(
        f"  The path (not a bound): {path['matching']:.0f} of {path['draws']:.0f} prior draws hold {low}-{high} consultations in "
        f"May 2024; of those, the share already held by October 2022 is median {path['share_median']:.0%} (80 %: "
        f"{path['share_p10']:.0%} to {path['share_p90']:.0%}; at most {path['share_max']:.0%}), and {path['fast_then_slow']:.0f} ran "
        f"fast then slow ({FAST_THEN_SLOW_SHARE:.0%} or more by then)."
    )
    print("\n  Which ends of the priors the draws outside each range come from")
    print("  (median position in the prior's range, 0 = low end, 1 = high end):")
    for bound, rows in where.groupby("bound", sort=False):
        said = ", ".join(
            f"{r.parameter} {'high' if r.difference > 0 else 'low'} "
            f"({r.outside_median_position:.2f} outside vs {r.inside_median_position:.2f} inside)"
            for r in rows.head(3).itertuples()
        )
        print(f"    {bound}: {said}")
    with atomic_folder(args.output, kind="prior-check") as staging:
        table.to_csv(staging / "prior_draws.csv", index=False, float_format="%.6g")
        if fitted is not None:
            fitted.to_csv(staging / "posterior_draws.csv", index=False, float_format="%.6g")
        summary.to_csv(staging / "verdicts.csv", index=False, float_format="%.4g")
        where.to_csv(staging / "where_implausible.csv", index=False)
        prior_check_chart(table, BOUNDS).savefig(staging / "prior_check.png", dpi=110)
    print(f"\ntables and chart written to {args.output}/")
    return 0


def cmd_outside_view(args) -> int:
    """The forecast for group 1 beside how fast sister mechanisms went (a chart and a table)."""
    from workbench.analysis.forecast import forecast, forecast_setup
    from workbench.analysis.outside_view import comparison, model_band
    from workbench.core.atomic import atomic_folder
    from workbench.core.provenance import display_path
    from workbench.faces.plots import outside_view_chart
    from workbench.inputs.observations import latest_snapshot
    from workbench.inputs.reference_class import load_reference_class

    check_destination(args.output, kind="outside-view")
    reference = load_reference_class(args.reference) if args.reference else load_reference_class()
    setup = forecast_setup(**_forecast_inputs(args, latest_snapshot()))
    print(f"workbench: running {args.replications} replications...", file=sys.stderr, flush=True)
    progress, bar = _bar("replications", units=args.replications)
    fc = forecast(setup, keep_events=False, keep_monthly=False, progress=progress, **_run_options(args))
    bar.close()
    band = model_band(fc.results.monthly_summary, setup.group_sizes[1])
    table = comparison(reference, band)
    print(f"The outside view ({display_path(reference.path)}): share of reviews finished by years since launch,")
    print(f"beside the model's group 1 from the report's state ({args.replications:,} runs; median [central 80 %]):\n")
    for row in table.itertuples():
        model = (
            "" if row.model_median != row.model_median else f"   model: {row.model_median:.0%} [{row.model_low:.0%}-{row.model_high:.0%}]"
        )
        print(f"  {row.mechanism:<22} {row.years_since_launch:5.1f} years: {row.finished:>3} of {row.of:<3} = {row.share:4.0%}{model}")
    print("\nNot like for like: " + " ".join(reference.differences))
    print("A plausibility check, not an observation of this Mechanism: the calibration does not read it.")
    target = setup.params.completion_share
    with atomic_folder(args.output, kind="outside-view") as staging:
        table.to_csv(staging / "outside_view.csv", index=False)
        band.to_csv(staging / "model_band.csv", index=False, float_format="%.4f")
        outside_view_chart(reference, band, target, args.replications).savefig(staging / "outside_view.png", dpi=120, bbox_inches="tight")
    print(f"\nchart and tables written to {args.output}/ (outside_view.png, outside_view.csv, model_band.csv)")
    return 0


class pd_options:
    def __enter__(self):
        import pandas as pd

        self._ctx = pd.option_context("display.width", 220, "display.max_rows", 500, "display.max_columns", 30)
        self._ctx.__enter__()

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def _load_scenarios(paths: list[Path]):
    from workbench.inputs.scenarios import BASELINE, load_scenario

    scenarios = [load_scenario(p) for p in paths]
    others = [s for s in scenarios if not (s.changes == {} and not s.levers.active() and s.condition.is_default)]
    return BASELINE, others


def _run_scenarios(args, keep_events: bool = False, by_structure: bool = False, need_another: bool = False):
    """Baseline and every scenario on the same seed and replications (common random numbers).
    Every scenario's set-up is built (and so checked) before the first replication runs."""
    from workbench.analysis.compare import comparison_table
    from workbench.analysis.forecast import forecast, forecast_setup
    from workbench.inputs.observations import latest_snapshot

    baseline, scenarios = _load_scenarios(args.scenarios)
    if need_another and not scenarios:
        raise InputError("command line", "scenarios", "no scenario other than the baseline", "one or more scenario files")
    inputs = _forecast_inputs(args, latest_snapshot())
    setups = {scenario.name: forecast_setup(scenario, **inputs) for scenario in scenarios}
    common = {**_run_options(args), "keep_monthly": False}  # charts read the streamed monthly summary
    started = time.perf_counter()
    progress, bar = _bar("baseline", units=args.replications)
    base = forecast(
        forecast_setup(baseline, **inputs), scenario=baseline, keep_events=True, by_structure=by_structure, progress=progress, **common
    )
    bar.close()
    print(f"baseline: {args.replications} replications in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    runs = {}
    for scenario in scenarios:
        t = time.perf_counter()
        progress, bar = _bar(scenario.name[:30], units=args.replications)
        runs[scenario.name] = forecast(setups[scenario.name], scenario=scenario, keep_events=keep_events, progress=progress, **common)
        bar.close()
        print(f"{scenario.name}: {time.perf_counter() - t:.0f} s", file=sys.stderr)
    table = comparison_table(base.results, {name: fc.results for name, fc in runs.items()}) if runs else None
    return base, scenarios, runs, table


def cmd_compare(args) -> int:
    from workbench.faces.text import format_comparison

    check_file_destination(args.output, "--output", args.overwrite)
    if args.xlsx:
        check_file_destination(Path(args.output).with_suffix(".xlsx"), "--xlsx", args.overwrite)
    base, scenarios, runs, table = _run_scenarios(args, need_another=True)
    print(
        f"Scenario comparison against the baseline: {args.replications} paired replications each, seed {args.seed}, "
        f"parameters: {base.parameters_label}"
    )
    print(format_comparison(table, args.horizon))
    if getattr(args, "by_structure", False):
        table = _compare_by_structure(args, table)
    from workbench.core.atomic import atomic_file, write_output_file
    from workbench.faces.output_folder import spreadsheet_csv, write_xlsx

    # Four decimals: finer than any of these numbers' Monte Carlo error (their ± columns), not 16 digits.
    write_output_file(args.output, spreadsheet_csv(table.round(4)), "--output", args.overwrite)
    print(f"\ntable written to {args.output}")
    if args.xlsx:
        book = Path(args.output).with_suffix(".xlsx")
        with atomic_file(book, "--xlsx", args.overwrite) as tmp:
            write_xlsx(tmp, {"comparison": table})
        print(f"and as Excel to {book}")
    return 0


def _compare_by_structure(args, average):
    """The same comparison on each model structure alone, side by side with the model average."""
    import pandas as pd

    posterior = _posterior_choice(args)
    if posterior is None or not posterior.structure_names():
        print("\n(--by-structure: this posterior has a single structure)")
        return average
    tables = [average.assign(structure="model average", structure_probability=1.0)]
    probabilities = posterior.structure_probabilities()
    for name in posterior.structure_names():
        one = argparse.Namespace(**{**vars(args), "structure": name, "by_structure": False})
        _, _, _, table = _run_scenarios(one)
        tables.append(table.assign(structure=name, structure_probability=probabilities[name]))
    combined = pd.concat(tables, ignore_index=True)
    wide = combined.pivot_table(index="scenario", columns="structure", values="p_within_horizon_change", sort=False)
    wide = wide[["model average", *posterior.structure_names()]]
    print(f"\nChange in P(met by {args.horizon.year}) on each model structure alone (with the weight of the evidence):")
    rows = {name: f"{name} ({probabilities.get(name, 1.0):.0%})" for name in wide.columns}
    with pd_options():
        print(wide.T.rename(index=rows).map(lambda v: f"{v:+.1%}").to_string())
    return combined


def cmd_report(args) -> int:
    from workbench.analysis.compare import time_in_stage
    from workbench.faces.plots import (
        comparison_chart,
        fan_chart,
        occupancy_chart,
        predictive_check_chart,
        threshold_chart,
        time_in_stage_chart,
    )
    from workbench.faces.report import build_report, write_report
    from workbench.inference.diagnostics import predictive_check, simulate_observations
    from workbench.inputs.observations import load_observations

    check_file_destination(args.output, "--output", args.overwrite)
    if args.plan:  # checked now, not after every scenario, the check, the band and the sensitivity ran
        from workbench.analysis.plan import load_plan

        load_plan(args.plan)
    base, scenarios, runs, table = _run_scenarios(args, by_structure=not args.hand_set)
    res = base.results
    target = res.setup.completion_target
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.2))
    fan_chart(res.monthly_summary, 2, ax=axes[0])
    fan_chart(res.monthly_summary, 3, ax=axes[1])
    charts = {
        "fan_group1": fan_chart(res.monthly_summary, 1, target),
        "threshold": threshold_chart(res.threshold, args.horizon),
        "fan_groups23": fig,
        "occupancy": occupancy_chart(res.monthly_summary),
        "time_in_stage": time_in_stage_chart(time_in_stage(res)),
        "outside_view": _outside_view_chart(res),
    }
    if table is not None:
        charts["comparison"] = comparison_chart(table)
    snapshots = load_observations()
    check = None
    if not args.hand_set and base.results.setup.posterior is not None:
        runs_check = simulate_observations(
            snapshots, args.check_replications, seed=args.seed, posterior=base.results.setup.posterior, workers=args.workers
        )
        check = predictive_check(snapshots, runs_check)
        charts["check"] = predictive_check_chart(check, "Report figures vs the fitted model")
    drivers, trust = None, None
    posterior = base.results.setup.posterior
    if posterior is not None:
        from workbench.analysis.sensitivity import sensitivity
        from workbench.faces.plots import band_chart
        from workbench.inference.backtest import band_over_time, coverage_summary, score_snapshots

        scores = score_snapshots(snapshots, runs_check, seed=args.seed)
        trust = {"scores": scores, "coverage": coverage_summary(scores)}
        band = band_over_time(snapshots, posterior, replications=min(args.check_replications, 200), seed=args.seed, workers=args.workers)
        charts["band"] = band_chart(band.quantiles, band.reported)
        print(f"sensitivity: {args.sensitivity_draws} posterior draws...", file=sys.stderr)
        result = sensitivity(posterior, args.sensitivity_draws, 8, seed=args.seed, horizon=args.horizon, workers=args.workers)
        drivers = [result.drivers_sentence("p_not_by_horizon"), result.drivers_sentence("median_years")]
    planning = _report_planning(args, base.results.setup, charts)
    text = build_report(base, table, scenarios, check, charts, drivers=drivers, trust=trust, planning=planning)
    out = write_report(text, args.output, args.overwrite)
    print(f"report written to {out} ({len(text) / 1e6:.1f} MB, self-contained)")
    return 0


def _outside_view_chart(results):
    """The forecast's group 1 beside the reference class (the same chart as `workbench outside-view`)."""
    from workbench.analysis.outside_view import model_band
    from workbench.faces.plots import outside_view_chart
    from workbench.inputs.reference_class import load_reference_class

    band = model_band(results.monthly_summary, results.setup.group_sizes[1])
    return outside_view_chart(load_reference_class(), band, results.setup.params.completion_share, results.replications)


def _report_planning(args, setup, charts: dict) -> dict:
    """The report's "What would it take?": a plan's verified frontier (from --plan, or a quick search
    for the 2030 session at p = 0.5) and the Conference-decision curve with and without its best package."""
    import dataclasses as dc

    from workbench.analysis.decision import decision_curve, largest_share
    from workbench.analysis.plan import PlanSearch, load_plan, plan, plan_record, plan_target
    from workbench.core.timeline import CONFERENCE_SESSIONS, HEADLINE_SESSION
    from workbench.faces.plots import decision_chart, frontier_chart
    from workbench.inputs.effort import load_effort
    from workbench.inputs.levers import Levers
    from workbench.inputs.scenarios import load_scenario

    setup = dc.replace(setup, levers=Levers())
    if args.plan:
        record, frontier = load_plan(args.plan)
        best = record.get("chosen") or (str(frontier.iloc[-1]["name"]) if len(frontier) else None)
        package = load_scenario(args.plan / "packages" / f"{best}.toml").levers if best else Levers()
    else:
        print(f"what would it take: a quick search of {args.plan_trials} packages...", file=sys.stderr)
        runs = min(60, args.replications)
        search = PlanSearch(
            trials=args.plan_trials,
            max_minutes=3.0,
            replications=runs,
            screen=min(20, runs),
            verify_replications=min(200, max(args.replications, 20)),
            seed=args.seed,
        )
        result = plan(setup, plan_target(str(HEADLINE_SESSION), 0.5, setup.horizon), search=search, workers=args.workers)
        record, frontier = plan_record(result), result.frontier
        charts["frontier"] = frontier_chart(result)
        best = result.chosen or str(frontier.iloc[-1]["name"])
        package = result.packages[best].levers(load_effort())
    session = int(record["target"]["before"][:4]) if record["target"]["before"][:4].isdigit() else 2030
    session = session if session in CONFERENCE_SESSIONS else 2030
    packages = {"today's practice": Levers()}
    if package.active():
        packages[f"with {best}"] = package
    curve = decision_curve(
        setup, {str(session): CONFERENCE_SESSIONS[session]}, packages, args.replications, args.seed, workers=args.workers
    )
    column = f"p_before_{session}"
    charts["decision"] = decision_chart(curve, column, 0.5, f"Met before the {session} session, by the share the Conference requires")
    return {"plan": record, "frontier": frontier, "largest_share": largest_share(curve, column, 0.5), "session": session}


def cmd_brief(args) -> int:
    from workbench.core.atomic import write_output_file
    from workbench.faces.brief import render_brief
    from workbench.faces.findings import FINDINGS_JSON, load_findings
    from workbench.faces.i18n import language

    lang = language(args.lang)
    source = Path(args.findings or FINDINGS_JSON)
    findings = load_findings(source)
    output = args.output or Path(f"results/brief-{lang.code}.html")
    check_file_destination(output, "--output", args.overwrite)
    write_output_file(output, render_brief(findings, lang=lang), "--output", args.overwrite)
    print(f"brief ({lang.code}) written to {output}: two pages, from {source}")
    return 0


def cmd_reproduce(args) -> int:
    from workbench.faces.output_folder import reproduce

    ok, differences = reproduce(args.output, workers=args.workers)
    for line in differences:
        print(f"  {line}")
    print("reproduced: every number agrees" if ok else "NOT reproduced: the numbers above differ")
    return 0 if ok else 1


def cmd_parameters(args) -> int:
    from workbench.inputs.parameters import Parameters

    for name, spec in Parameters.describe().items():
        print(f"{name} = {spec['default']}  [{spec['unit']}; {spec['low']} to {spec['high']}]")
        print(f"    {spec['why']}")
    return 0


def _bar(what: str, unit: str = "run", units: int | None = None):
    """A progress bar with an ETA on stderr (tqdm; hidden when stderr is not a terminal), as a
    ``progress(done, total)`` callback, and the bar to close.  With ``units`` the bar counts those
    (replications) while the callback reports in its own steps (chunks of replications)."""
    from tqdm import tqdm

    bar = tqdm(desc=what, unit=unit, total=units, file=sys.stderr, disable=None, leave=False, dynamic_ncols=True)

    def progress(done: int, total: int, message: str = "") -> None:
        bar.total = units or total
        bar.n = round(done / total * units) if units else done
        if message:
            bar.set_postfix_str(message)
        bar.refresh()

    return progress, bar


def _planning_setup(args):
    """The forecast's setup that planning starts from: the latest report, posterior, pairings; the
    horizon must reach past the session asked about (a later answer could not be seen)."""
    from workbench.core.timeline import CONFERENCE_SESSIONS
    from workbench.experiments.setup import default_setup
    from workbench.inputs.observations import latest_snapshot
    from workbench.inputs.parties import load_pairings

    session = getattr(args, "session", None)
    if session is not None and CONFERENCE_SESSIONS[session] > args.horizon:
        raise InputError(
            "--horizon", "horizon", f"{args.horizon} is before the {session} session", f"a date after {CONFERENCE_SESSIONS[session]}"
        )

    record = _record_choice(args)
    return default_setup(
        horizon=args.horizon,
        pairings=load_pairings(args.pairings) if args.pairings else None,
        snapshot=latest_snapshot(),
        posterior=_posterior_choice(args),
        record=record,
    )


def cmd_plan(args) -> int:
    from workbench.analysis.plan import PlanSearch, plan, plan_record, plan_target
    from workbench.core.atomic import atomic_folder
    from workbench.faces.plots import frontier_chart
    from workbench.faces.text import format_plan
    from workbench.inputs.effort import load_effort
    from workbench.inputs.scenarios import scenario_table, scenario_text

    check_destination(args.output, kind="plan")
    effort = load_effort(args.effort) if args.effort else load_effort()
    levers = [x.strip() for x in args.levers.split(",") if x.strip()] if args.levers else None
    target = plan_target(args.target, args.probability, args.horizon)
    setup = _planning_setup(args)
    print(
        f"Planning for the condition met before {target.label} with probability {target.probability:.0%}: "
        f"at most {args.trials} candidates or {args.max_minutes:g} minutes, {args.replications} runs each; parameters: "
        f"{setup.posterior.label if setup.posterior else 'hand-set'}",
        file=sys.stderr,
    )
    show, bar = _bar("searching packages", "candidate")

    def progress(done: int, total: int, message: str) -> None:
        if message.startswith("verifying"):  # the search is over: its bar goes, the verification is said
            bar.close()
            print(message + "...", file=sys.stderr)
        else:
            show(done, total, message.split(", about")[0])

    search = PlanSearch(
        trials=args.trials,
        max_minutes=args.max_minutes,
        replications=args.replications,
        screen=min(args.screen, args.replications),
        verify_replications=args.verify_replications,
        seed=args.seed,
        earliest_start=args.earliest_start,
    )
    result = plan(setup, target, levers=levers, effort=effort, search=search, workers=args.workers, progress=progress)
    bar.close()
    text = format_plan(result)
    print(text)
    with atomic_folder(args.output, kind="plan") as staging:
        result.frontier.to_csv(staging / "frontier.csv", index=False)
        result.candidates.to_csv(staging / "candidates.csv", index=False)
        (staging / "packages").mkdir()
        for name, package in result.packages.items():
            row = result.frontier.set_index("name").loc[name]
            description = (
                f"P(met before {target.before}) {row['probability_verified']:.1%} (verified on {args.verify_replications} runs), "
                f"effort {row['effort']:.1f} {result.effort_unit}"
            )
            scenario = package.scenario(effort, f"{name}: {package.describe()}"[:120])
            assumed = effort.path.name if effort.path else "the effort model"
            comment = f"Written by `workbench plan`: {description}\nEffort assumptions from {assumed} ({effort.unit})."
            (staging / "packages" / f"{name}.toml").write_text(scenario_text(scenario_table(scenario), comment), encoding="utf-8")
        frontier_chart(result).savefig(staging / "frontier.png", dpi=120)
        (staging / "plan.txt").write_text(text + "\n", encoding="utf-8")
        (staging / "plan.json").write_text(json.dumps(plan_record(result), indent=2), encoding="utf-8")
    print(
        f"\nwritten to {args.output}/ (frontier.csv, candidates.csv, frontier.png, plan.json, "
        "packages/*.toml: load them with forecast --scenario)"
    )
    return 0


def cmd_decision(args) -> int:
    from workbench.analysis.decision import decision_curve, largest_share
    from workbench.core.atomic import atomic_folder
    from workbench.core.timeline import CONFERENCE_SESSIONS
    from workbench.faces.plots import decision_chart
    from workbench.inputs.levers import Levers
    from workbench.inputs.scenarios import load_scenario

    check_destination(args.output, kind="decision")
    if not 0 < args.probability < 1:
        raise InputError("--probability", "probability", f"{args.probability!r}", "strictly between 0 and 1")
    setup = _planning_setup(args)
    packages = {"baseline": Levers()}
    for path in args.package or []:
        scenario = load_scenario(path)
        packages[scenario.name] = scenario.levers
    before = {str(year): day for year, day in CONFERENCE_SESSIONS.items() if day > setup.start_date}
    decided = CONFERENCE_SESSIONS[args.decided_at] if args.decided_at else None
    curve = decision_curve(
        setup, before, packages, args.replications, args.seed, tuple(args.groups), args.counted_stage, decided, args.workers
    )
    column = f"p_before_{args.session}"
    best = largest_share(curve, column, args.probability)
    print(
        f"The Conference's decision: the largest share of group(s) {', '.join(map(str, args.groups))} reviews ({args.counted_stage}) "
        f"that is met before the {args.session} session (1 Oct {args.session}) with probability at least {args.probability:.0%}"
        + (f", decided at the {args.decided_at} session" if decided else "")
        + f"; {args.replications} runs:"
    )
    for _, r in best.iterrows():
        if r["reviews_needed"] == 0:
            print(f"  {r['package']}: none: even one review is met with probability {r['probability']:.1%} only")
        else:
            print(
                f"  {r['package']}: {r['largest_share']:.0%} ({r['reviews_needed']} reviews; "
                f"probability {r['probability']:.1%}), against 70 % today (¶25)"
            )
    with atomic_folder(args.output, kind="decision") as staging:
        curve.to_csv(staging / "decision_curve.csv", index=False)
        best.to_csv(staging / "largest_share.csv", index=False)
        decision_chart(curve, column, args.probability, f"Met before the {args.session} session, by the share required").savefig(
            staging / "decision_curve.png", dpi=120
        )
    print(f"\nwritten to {args.output}/ (decision_curve.csv, largest_share.csv, decision_curve.png)")
    return 0


def cmd_act_first(args) -> int:
    from workbench.analysis.priorities import act_first
    from workbench.core.timeline import CONFERENCE_SESSIONS

    check_destination(args.output, "--output", "act-first")
    setup = _planning_setup(args)
    before = CONFERENCE_SESSIONS[args.session]
    if args.start < setup.start_date or args.start >= before:
        raise InputError("--start", "start", f"{args.start}", f"from {setup.start_date} and before {before}")
    progress, bar = _bar("parties", "party")
    table = act_first(setup, before, args.start, args.replications, args.seed, args.workers, progress=progress)
    bar.close()
    who = "party" if "party" in table.columns else "position"
    print(
        f"Whom to act on first: each {who} alone followed up as hard as the lever allows from {args.start}, "
        f"{args.replications} paired runs each; P(met before the {args.session} session) is {table.attrs['baseline_p']:.1%} without."
    )
    if who == "position":
        print(
            "Pairings are synthetic: these are positions in one drawn pairing list, not States. Pass --pairings (the real list) for names."
        )
    shown = table.head(args.top)
    for _, r in shown.iterrows():
        print(
            f"{r['rank']:>3}. {r[who]:<12} {r['months_earlier_mean']:+6.1f} ± {r['months_earlier_se']:.1f} months earlier (mean), "
            f"P {r['p_change']:+.1%} ± {r['p_change_se']:.1%}; {r['roles']}"
            + ("" if r["ahead_of_next_resolved"] else "  (not told apart from the next: more runs would order them)")
        )
    # Four decimals: finer than any of these numbers' Monte Carlo error (their ± columns), not 16 digits.
    _write_table(args, "act-first", "act_first.csv", table.round(4))
    return 0


def cmd_synthetic_record(args) -> int:
    import numpy as np

    from workbench.core.atomic import atomic_folder
    from workbench.experiments.synthetic_record import synthetic_record
    from workbench.inputs.observations import load_observations
    from workbench.inputs.parameters import Parameters
    from workbench.inputs.record import record_files

    check_destination(args.output, "--output", "synthetic-record")
    *earlier, snapshot = load_observations()
    record = synthetic_record(snapshot, Parameters(), args.seed, tuple(earlier))
    with atomic_folder(args.output, "synthetic-record") as staging:
        for name, text in record_files(record).items():
            (staging / name).write_text(text, encoding="utf-8")
    print(f"SYNTHETIC review record (generated by the model from the hand-set parameters, seed {record.generated['seed']}),")
    print(f"with every count of the report of {snapshot.as_at} and the figures dated before it: written to {args.output}/")
    focal_points = int(np.isfinite(record.nominated_at).sum())
    print(f"  {record.pairings.n_reviews} reviews, {focal_points} focal points, {len(record.redraws)} redraws")
    return 0


def cmd_record_check(args) -> int:
    from workbench.faces.text import format_record_check
    from workbench.inputs.observations import load_observations
    from workbench.inputs.record import load_record
    from workbench.observation.record_check import disagreements, record_against_report

    record = load_record(args.record)
    reports = [s for s in (load_observations(args.observations) if args.observations else load_observations()) if s.as_at <= record.as_at]
    tables = {s.as_at: record_against_report(record, s) for s in reports}
    print(format_record_check(record, tables))
    return 1 if any(len(disagreements(t)) for t in tables.values()) else 0


def cmd_critical_path(args) -> int:
    from workbench.analysis.compare import critical_reviews
    from workbench.analysis.forecast import forecast, forecast_setup
    from workbench.faces.text import format_critical_path

    check_destination(args.output, "--output", "critical-path")
    if not (args.record or args.pairings):
        raise InputError("command line", "--record", "neither a record nor a pairing list given", "--record FOLDER or --pairings FILE")
    inputs = _forecast_inputs(args, None)
    setup = forecast_setup(**inputs)
    progress, bar = _bar("replications", units=args.replications)
    fc = forecast(setup, keep_events=True, keep_monthly=False, progress=progress, **_run_options(args))
    bar.close()
    table = critical_reviews(fc.results)
    print(format_critical_path(table, fc, args.top))
    _write_table(args, "critical-path", "critical_path.csv", table.round(4))
    return 0


def cmd_record_fit(args) -> int:
    import pandas as pd

    from workbench.analysis.forecast import forecast, forecast_setup
    from workbench.core.atomic import atomic_folder
    from workbench.experiments.workers import default_workers
    from workbench.inference.record_likelihood import combined_posterior, fit_record, fit_table
    from workbench.inference.structures import answer_probabilities

    check_destination(args.output, "--output", "posterior-with-record")  # never the shipped posterior
    record = _record_choice(args)
    before = _posterior_choice(args)
    if before is None or before.structures is None:
        raise InputError(
            "command line", "--hand-set", "the record is joined to a posterior with structures", "the shipped one, or --posterior"
        )
    print("workbench: fitting the record under each of the 8 structures (some seconds each)...", file=sys.stderr, flush=True)
    fit = fit_record(record, workers=args.workers or default_workers())
    after = combined_posterior(before, fit, seed=args.seed)
    print(f"{record.label()}: its survival likelihood, fitted under each structure, joined to {before.label}\n")
    print(f"  {'structure':<28} {'log evidence':>12} {'(Laplace)':>10} {'draws':>6} {'record alone':>13} {'aggregate':>10} {'both':>8}")
    alone, was, both = fit.probabilities(), before.structure_probabilities(), fit.probabilities(before.structure_probabilities())
    for name, f in sorted(fit.fits.items(), key=lambda kv: -both[kv[0]]):
        print(
            f"  {name:<28} {f.log_evidence:12.1f} {f.log_evidence_laplace:10.1f} {f.effective_draws:6.0f} "
            f"{alone[name]:13.1%} {was.get(name, 0):10.1%} {both[name]:8.1%}"
        )
    print("  (log evidence by importance sampling, and by the Laplace approximation it corrects; draws: its effective sample size)")
    print()
    for (question, a), (_, b), (_, c) in zip(
        answer_probabilities(alone).items(), answer_probabilities(was).items(), answer_probabilities(both).items()
    ):
        print(
            f"  {question}: "
            + "; ".join(f"{k} {b[k]:.0%} (aggregate) -> {c[k]:.0%} (with the record; {a[k]:.0%} on the record alone)" for k in a)
        )
    table = pd.DataFrame(fit_table(before, after))
    print()
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    with atomic_folder(args.output, "posterior-with-record") as staging:
        particles = after.table()
        particles.insert(0, "structure", after.structures)
        particles.to_csv(staging / "particles.csv", index=False)
        table.to_csv(staging / "summary.csv", index=False)
        (staging / "provenance.json").write_text(_json_text(after.provenance), encoding="utf-8")
    print(f"\nposterior with the record written to {args.output}/ (use it: forecast --posterior {args.output} --record {args.record})")
    if args.replications:
        _record_fit_forecasts(args, before, after, record, forecast, forecast_setup)
    return 0


def _record_fit_forecasts(args, before, after, record, forecast, forecast_setup) -> None:
    """The 70 % date without the record, from the record's state, and with the record's posterior too."""
    runs = {
        "the report's state, aggregate posterior": forecast_setup(posterior=before, horizon=args.horizon),
        "the record's state, aggregate posterior": forecast_setup(posterior=before, horizon=args.horizon, record=record),
        "the record's state, posterior with the record": forecast_setup(posterior=after, horizon=args.horizon, record=record),
    }
    print(f"\nThe 70 % date ({args.replications} replications each, seed {args.seed}): median [80 % interval]; P(not by the horizon)")
    day = lambda d: "not by the horizon" if d is None else str(d.date())  # noqa: E731
    for name, setup in runs.items():
        summary = forecast(
            setup, replications=args.replications, seed=args.seed, workers=args.workers, keep_events=False, keep_monthly=False
        ).summary
        low, high = (day(d) for d in summary["intervals"]["80%"])
        print(f"  {name:<46} {day(summary['median'])} [{low} to {high}]; {summary['p_not_within_horizon']:.1%}")


def cmd_record_recovery(args) -> int:
    import numpy as np
    import pandas as pd

    from workbench.experiments.workers import default_workers
    from workbench.inference.record_recovery import recover

    if args.output:  # before minutes of work, not after
        check_file_destination(args.output, "--output", args.overwrite)
    print(
        f"workbench: {args.records} records of each of the 8 structures, each fitted under all 8 (minutes)...", file=sys.stderr, flush=True
    )
    result = recover(args.records, args.seed, args.workers or default_workers(), args.mcmc)
    sel, cov = result.selections, result.coverage
    print("Selection: the probability the fit gives each question's true answer (record alone, even prior odds)")
    print(sel.groupby(["question", "truth"])["p_true_answer"].mean().unstack("question").round(2).to_string())
    chosen = (sel["p_true_answer"] > 0.5).mean()
    print(f"\n  the true answer is the more probable in {chosen:.0%} of {len(sel)} (record, question) pairs")
    print("\nCoverage of the true parameters by the true structure's 80 % intervals")
    table = cov.groupby("parameter")["covered"].agg(["mean", "count"])
    table["binomial_se"] = np.sqrt(0.8 * 0.2 / table["count"])
    if args.mcmc:
        table["mcmc_covered"] = ((cov["mcmc_low"] <= cov["true"]) & (cov["true"] <= cov["mcmc_high"])).groupby(cov["parameter"]).mean()
    print(table.round(2).to_string())
    if args.mcmc:
        width = cov["high"] - cov["low"]
        moved = np.maximum(abs(cov["mcmc_low"] - cov["low"]), abs(cov["mcmc_high"] - cov["high"])) / width
        print(
            f"\nThe sampler against Metropolis ({args.mcmc} steps x 32 chains): the 80 % bounds differ by a median of "
            f"{moved.median():.0%} of the interval's width (at most {moved.max():.0%})"
        )
    if args.output:
        from workbench.core.atomic import write_output_file

        rows = pd.concat([sel.assign(kind="selection"), cov.assign(kind="coverage")])
        write_output_file(args.output, rows.to_csv(index=False), "--output", args.overwrite)
    return 0


def cmd_what_to_measure(args) -> int:
    from workbench.analysis.forecast import forecast_setup
    from workbench.analysis.what_to_measure import what_to_measure
    from workbench.core.timeline import today
    from workbench.faces.text import format_what_to_measure

    check_destination(args.output, "--output", "what-to-measure")
    setup = forecast_setup(**_forecast_inputs(args, None))
    result = what_to_measure(setup, today(), args.replications, args.seed, args.workers)
    print(format_what_to_measure(result))
    _write_table(args, "what-to-measure", "ranking.csv", result.ranking.round(4))
    return 0


def _write_table(args: argparse.Namespace, kind: str, name: str, table) -> None:
    """A command's table into its output folder (replaced whole, only if the workbench wrote it), with
    the settings that made it (``settings.json``: every option as given, the forecast's date and
    the code's version), as every other command's folder."""
    from workbench.core.atomic import atomic_folder
    from workbench.core.provenance import code_version
    from workbench.core.timeline import today
    from workbench.faces.output_folder import spreadsheet_csv

    given = {k: v for k, v in vars(args).items() if k not in ("func", "command")}  # paths and dates written as text
    settings = {"command": kind, "made_on": today().isoformat(), "code_version": code_version(), **given}
    with atomic_folder(args.output, kind=kind) as staging:
        (staging / name).write_text(spreadsheet_csv(table), encoding="utf-8")
        (staging / "settings.json").write_text(_json_text(settings), encoding="utf-8")
    print(f"\nthe whole table: {args.output}/{name} (with settings.json)")


def _json_text(data: dict) -> str:
    return json.dumps(data, indent=2, default=str)


# --- the command line's arguments, one function per command -------------------------------------
# Defaults come from the library (a function's own default, or its settings object's), so the
# command line and a notebook calling the same function cannot disagree.
class _Help(argparse.HelpFormatter):
    """--help gives every option's default, where it has one that its own words do not name."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" in text or action.default in (None, False, [], argparse.SUPPRESS) or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


def _default(function, name: str):
    """The default of ``function``'s parameter ``name``."""
    import inspect

    return inspect.signature(function).parameters[name].default


def _sessions() -> tuple[int, ...]:
    from workbench.core.timeline import CONFERENCE_SESSIONS

    return tuple(CONFERENCE_SESSIONS)


def _engines() -> tuple[str, ...]:
    from workbench.experiments.setup import ENGINES

    return ENGINES


def _horizon() -> dt.date:
    from workbench.experiments.setup import DEFAULT_HORIZON

    return DEFAULT_HORIZON


def _engine_option(p: argparse.ArgumentParser, what: str = "same results") -> None:
    p.add_argument("--engine", choices=_engines(), default=_engines()[0], help=f"compiled, or simpy: the reference model ({what}, slower)")


def _posterior_options(p: argparse.ArgumentParser, hand_set: str = "run on the hand-set parameters instead of the posterior") -> None:
    p.add_argument("--posterior", type=Path, help="a posterior folder (default: the shipped calibration/posterior)")
    p.add_argument("--hand-set", action="store_true", help=hand_set)
    p.add_argument("--structure", help="one model structure of the posterior alone (see `workbench structures`)")


def _run_arguments(p: argparse.ArgumentParser, replications: int, horizon: bool = True) -> None:
    p.add_argument("--replications", type=_replications, default=replications, help="simulated futures")
    p.add_argument("--seed", type=_seed, default=1, help="random seed: the same seed gives the same simulated futures")
    if horizon:
        p.add_argument("--horizon", type=_horizon_date, default=_horizon(), help="last simulated day")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")


def _overwrite_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing file at a file destination even if the workbench did not write it (by default it is refused)",
    )


def _forecast_arguments(p: argparse.ArgumentParser) -> None:
    from workbench.analysis.forecast import forecast

    _run_arguments(p, _default(forecast, "replications"))
    p.add_argument("--output", type=Path, default=Path("results/forecast"), help="folder for the tables")
    p.add_argument("--scenario", type=Path, help="a scenario file (see scenarios/)")
    p.add_argument("--pairings", type=Path, help="the real pairing list (CSV); default: synthetic per replication")
    p.add_argument("--record", type=Path, help="start from a review record (folder; see docs/reference/record.md) instead of the report")
    p.add_argument(
        "--start",
        choices=("report", "matched"),
        default="report",
        help="report: the report's state, placed; matched: the histories from 2020 that lead to it (a start that agrees with history)",
    )
    p.add_argument(
        "--histories",
        type=_whole(10, "histories", 100_000),
        default=500,
        help="posterior draws for --start matched, each run from 2020 until a history leads to the report",
    )
    p.add_argument("--observations", type=Path, help="folder of observation snapshots (default calibration/observations)")
    p.add_argument("--no-events", action="store_true", help="do not keep per-review stage-entry events")
    p.add_argument("--summaries-only", action="store_true", help="keep neither events nor per-replication counts, only their distribution")
    _engine_option(p)
    _posterior_options(p)
    p.add_argument("--by-structure", action="store_true", help="also run the forecast on each model structure alone, side by side")
    p.add_argument("--scheduler", help="address of a Dask scheduler to run the replications on")
    p.add_argument("--export", type=Path, help="also write the forecast in the hubverse model-output layout (CSV)")
    p.add_argument("--xlsx", action="store_true", help="also write forecast.xlsx: the summary in numbers, each run's date (Excel-ready)")
    _overwrite_option(p)


def _start_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replications", type=_replications, default=100, help="simulated runs from 2020")
    p.add_argument("--seed", type=_seed, default=1, help="random seed: the same seed gives the same simulated futures")


def _calibrate_arguments(p: argparse.ArgumentParser) -> None:
    from workbench.inference.settings import Budget, CalibrationSettings

    budget, settings = Budget(), CalibrationSettings()
    p.add_argument("--population", type=_population, default=budget.population, help="particles per generation")
    p.add_argument("--generations", type=_whole(1, "generations", 1000), default=budget.generations, help="at most this many generations")
    p.add_argument("--max-minutes", type=_minutes, default=budget.max_minutes, help="stop before a generation that would pass this")
    p.add_argument(
        "--min-epsilon-drop",
        type=_number(0, 1, "is not a share", low_included=True),
        default=budget.min_epsilon_drop,
        help="converged once epsilon falls by less than this share",
    )
    p.add_argument(
        "--watch-replications",
        type=_whole(0, "replications", _limits()[0]),
        default=budget.watch_replications,
        help="forecast runs per generation to watch (0: off)",
    )
    p.add_argument(
        "--headline-tolerance", type=_share, default=budget.headline_tolerance, help="converged once the watched forecast moves less"
    )
    p.add_argument("--structures", help="comma-separated structures to fit (default: all eight; see `workbench structures`)")
    p.add_argument("--seed", type=_seed, default=settings.seed, help="run seed (that of the shipped posterior by default)")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    p.add_argument("--scheduler", help="address of a Dask scheduler to evaluate on")
    _engine_option(p, "same statistics")
    p.add_argument("--db", type=Path, help="run database (default calibration/runs/abc.db)")
    p.add_argument("--output", type=Path, help="posterior folder to write (a new one, or one calibrate wrote)")
    p.add_argument(
        "--update-shipped", action="store_true", help="replace the shipped posterior in calibration/posterior (then: make findings)"
    )
    p.add_argument("--observations", type=Path, help="folder of observation snapshots (default calibration/observations)")
    p.add_argument("--priors", type=Path, help="priors file (default calibration/priors.toml)")
    p.add_argument("--resume", action="store_true", help="continue the run in --db")
    p.add_argument("--fresh", action="store_true", help="delete the run in --db and start over")


def _backtest_arguments(p: argparse.ArgumentParser) -> None:
    from workbench.inference.backtest import hindcast

    p.add_argument(
        "--replications", type=_replications, default=_default(hindcast, "replications"), help="runs per predictive distribution"
    )
    p.add_argument("--seed", type=_seed, default=1, help="random seed: the same seed gives the same simulated futures")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    _posterior_options(p, "score the hand-set parameters instead")
    p.add_argument("--observations", type=Path, help="folder of observation snapshots (default calibration/observations)")
    p.add_argument("--no-rolling", dest="rolling", action="store_false", help="skip the rolling-origin refits (minutes)")
    p.add_argument("--rolling-population", type=_population, default=600, help="particles of each rolling-origin fit")
    p.add_argument("--output", type=Path, default=Path("results/backtest"), help="where the results are written")


def _sensitivity_arguments(p: argparse.ArgumentParser) -> None:
    from workbench.analysis.sensitivity import sensitivity

    p.add_argument("--draws", type=_draws, default=_default(sensitivity, "draws"), help="posterior draws")
    p.add_argument(
        "--replications", type=_replications, default=_default(sensitivity, "replications"), help="runs per draw, on shared seeds"
    )
    p.add_argument("--seed", type=_seed, default=1, help="random seed: the same seed gives the same simulated futures")
    p.add_argument("--horizon", type=_horizon_date, default=_horizon(), help="last simulated day")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    p.add_argument("--posterior", type=Path, help="a posterior folder (default: the shipped one)")
    p.add_argument("--structure", help="one model structure of the posterior alone")
    p.add_argument("--output", type=Path, default=Path("results/sensitivity"), help="where the results are written")


def _findings_arguments(p: argparse.ArgumentParser) -> None:
    from workbench.faces.findings import compute_findings

    p.add_argument(
        "--replications", type=_replications, default=_default(compute_findings, "replications"), help="simulated futures per scenario"
    )
    p.add_argument("--seed", type=_seed, default=1, help="random seed: the same seed gives the same simulated futures")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    p.add_argument(
        "--sensitivity-draws",
        type=_positive,
        default=_default(compute_findings, "sensitivity_draws"),
        help="posterior draws of the sensitivity analysis",
    )


def _check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--replications", type=_replications, default=200, help="runs per predictive distribution")
    p.add_argument("--seed", type=_seed, default=1, help="random seed: the same seed gives the same simulated futures")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    p.add_argument("--posterior", type=Path, help="a posterior folder (default: the shipped one)")
    p.add_argument("--observations", type=Path, help="folder of observation snapshots (default calibration/observations)")
    p.add_argument("--priors", type=Path, help="priors file (default calibration/priors.toml)")
    p.add_argument("--output", type=Path, default=Path("results/check"), help="where the results are written")


def _sbc_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rounds", type=_whole(1, "rounds", 10_000), default=20, help="truths drawn from the priors, one calibration each")
    p.add_argument("--population", type=_population, default=300, help="particles per generation of each calibration")
    p.add_argument("--generations", type=_whole(1, "generations", 1000), default=4, help="generations of each calibration")
    p.add_argument("--max-minutes", type=_minutes, default=10.0, help="time limit of each calibration")
    p.add_argument("--seed", type=_seed, default=1, help="random seed: the same seed gives the same truths and fits")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    p.add_argument("--output", type=Path, default=Path("results/sbc"), help="folder for the tables")


def _start_consistency_arguments(p: argparse.ArgumentParser) -> None:
    _run_arguments(p, 6000, horizon=False)
    p.add_argument("--pairings", type=Path, help="the real pairing list (CSV); default: synthetic per replication")
    _engine_option(p)
    _posterior_options(p)
    p.add_argument("--output", type=Path, default=Path("results/start-consistency"), help="folder for the table")


def _prior_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--draws", type=_draws, default=1000, help="prior draws, one run each")
    p.add_argument("--seed", type=_seed, default=1, help="random seed: the same seed gives the same draws")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    p.add_argument("--priors", type=Path, help="priors file (default calibration/priors.toml)")
    p.add_argument("--no-posterior", action="store_true", help="do not set the shipped posterior's draws beside the priors'")
    p.add_argument("--output", type=Path, default=Path("results/prior-check"), help="folder for the tables and the chart")


def _outside_view_arguments(p: argparse.ArgumentParser) -> None:
    _run_arguments(p, 500)
    p.add_argument("--reference", type=Path, help="reference-class file (default calibration/reference-class.toml)")
    p.add_argument("--pairings", type=Path, help="the real pairing list (CSV); default: synthetic per replication")
    p.add_argument("--scheduler", help="address of a Dask scheduler to run the replications on")
    _engine_option(p)
    _posterior_options(p)
    p.add_argument("--output", type=Path, default=Path("results/outside-view"), help="folder for the chart and the tables")


def _scenario_arguments(p: argparse.ArgumentParser, replications: int, by_structure: bool = False) -> None:
    p.add_argument("scenarios", type=Path, nargs="*", help="scenario files (default: every file in scenarios/)")
    _run_arguments(p, replications)
    p.add_argument("--pairings", type=Path, help="the real pairing list (CSV); default: synthetic per replication")
    p.add_argument("--scheduler", help="address of a Dask scheduler to run the replications on")
    p.add_argument("--hand-set", action="store_true", help="hand-set parameters instead of the shipped posterior")
    p.add_argument("--structure", help="run on one model structure of the posterior alone (see `workbench structures`)")
    if by_structure:
        p.add_argument("--by-structure", action="store_true", help="also compare on each model structure alone, side by side")
    _engine_option(p)


def _compare_arguments(p: argparse.ArgumentParser) -> None:
    _scenario_arguments(p, 1000, by_structure=True)
    p.add_argument("--output", type=Path, default=Path("results/compare.csv"), help="the table as CSV")
    p.add_argument("--xlsx", action="store_true", help="also write the table as Excel, beside the CSV (.xlsx)")
    _overwrite_option(p)


def _report_arguments(p: argparse.ArgumentParser) -> None:
    _scenario_arguments(p, 500)
    p.add_argument("--output", type=Path, default=Path("results/report.html"), help="where the results are written")
    p.add_argument("--check-replications", type=_replications, default=200, help="runs of the predictive check section")
    p.add_argument("--sensitivity-draws", type=_draws, default=300, help="posterior draws of the sensitivity section")
    p.add_argument("--plan", type=Path, help="a folder written by `workbench plan` for the 'What would it take?' section")
    p.add_argument("--plan-trials", type=_positive, default=40, help="without --plan: packages of the section's quick search")
    _overwrite_option(p)


def _brief_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lang", default="en", help="language: en, fr, es, or any with a catalog in workbench/faces/locale")
    p.add_argument("--findings", type=Path, help="findings file (default docs/findings.json, from `make findings`)")
    p.add_argument("--output", type=Path, help="HTML file (default results/brief-LANG.html)")
    _overwrite_option(p)


def _reproduce_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("output", type=Path, help="a folder written by `workbench forecast`")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")


def _planning_arguments(p: argparse.ArgumentParser, replications: int) -> None:
    _run_arguments(p, replications)
    p.add_argument("--pairings", type=Path, help="the real pairing list (CSV); default: synthetic")
    p.add_argument("--record", type=Path, help="start from a review record (folder) instead of the report: real reviews and parties")
    _posterior_options(p, "hand-set parameters instead of the posterior")


def _plan_arguments(p: argparse.ArgumentParser) -> None:
    from workbench.analysis.plan import DEFAULT_TARGET, PlanSearch

    search = PlanSearch()
    _planning_arguments(p, search.replications)
    sessions = ", ".join(map(str, _sessions()))
    p.add_argument("--target", default=DEFAULT_TARGET, help=f"a Conference session ({sessions}), a date (2040-01-01), or horizon")
    p.add_argument("--probability", type=_share, default=0.5, help="required probability")
    p.add_argument("--levers", help="comma-separated levers the plan may use (default: every lever the effort file costs)")
    p.add_argument("--effort", type=Path, help="effort file (default scenarios/planning/effort.toml)")
    p.add_argument("--trials", type=_whole(1, "trials", 100_000), default=search.trials, help="at most this many candidates")
    p.add_argument("--max-minutes", type=_minutes, default=search.max_minutes, help="stop the search after this long")
    p.add_argument("--screen", type=_positive, default=search.screen, help="runs after which a clearly beaten candidate is dropped")
    p.add_argument(
        "--verify-replications", type=_replications, default=search.verify_replications, help="fresh runs verifying each package"
    )
    p.add_argument("--earliest-start", type=_date, default=search.earliest_start, help="first start date of any lever")
    p.add_argument("--output", type=Path, default=Path("results/plan"), help="where the results are written")


def _decision_arguments(p: argparse.ArgumentParser) -> None:
    from workbench.core.timeline import HEADLINE_SESSION
    from workbench.inputs.levers import COUNTED_STAGES

    _planning_arguments(p, 500)
    p.add_argument("--session", type=int, choices=_sessions(), default=HEADLINE_SESSION, help="met before this session")
    p.add_argument("--probability", type=_share, default=0.5, help="required probability")
    p.add_argument("--package", type=Path, action="append", help="a scenario file whose levers to add (repeatable; e.g. a plan's package)")
    p.add_argument("--groups", type=int, nargs="+", choices=(1, 2, 3), default=[1], help="groups counted")
    p.add_argument("--counted-stage", choices=COUNTED_STAGES, default=COUNTED_STAGES[0], help="the stage a review must reach to count")
    p.add_argument("--decided-at", type=int, choices=_sessions(), help="the session deciding (default: the new rule counts from now)")
    p.add_argument("--output", type=Path, default=Path("results/decision"), help="where the results are written")


def _act_first_arguments(p: argparse.ArgumentParser) -> None:
    from workbench.analysis.priorities import act_first
    from workbench.core.timeline import HEADLINE_SESSION, earliest_start

    _planning_arguments(p, _default(act_first, "replications"))
    p.add_argument("--session", type=int, choices=_sessions(), default=HEADLINE_SESSION, help="P(met before this session)")
    p.add_argument("--start", type=_date, default=earliest_start(), help="when the follow-up starts")
    p.add_argument("--top", type=_positive, default=10, help="how many to print (all are written)")
    p.add_argument("--output", type=Path, default=Path("results/act-first"), help="folder for act_first.csv and settings.json")


def _synthetic_record_arguments(p: argparse.ArgumentParser) -> None:
    from workbench.core.paths import SYNTHETIC_RECORD_DIR

    p.add_argument("--seed", type=_seed, default=2024, help="random seed of the record's draws")
    p.add_argument("--output", type=Path, default=SYNTHETIC_RECORD_DIR, help="folder for the record's three files")


def _record_check_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("record", type=Path, help="the record's folder (record.toml, pairings.csv, events.csv)")
    p.add_argument("--observations", type=Path, help="folder of observation snapshots (default calibration/observations)")


def _record_fit_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--record", type=Path, required=True, help="the review record (folder)")
    _posterior_options(p)
    p.add_argument("--output", type=Path, default=Path("results/posterior-with-record"), help="folder for the reweighted posterior")
    p.add_argument("--replications", type=_whole(0, "replications", 200_000), default=1000, help="forecasts to compare (0: none)")
    p.add_argument("--seed", type=_seed, default=1, help="random seed of the forecasts")
    p.add_argument("--horizon", type=_horizon_date, default=_horizon(), help="last simulated day")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")


def _record_recovery_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--records", type=_positive, default=3, help="synthetic records of each structure")
    p.add_argument("--seed", type=_seed, default=7, help="random seed of the records")
    p.add_argument("--workers", type=_positive, help="worker processes (default: all cores)")
    p.add_argument("--mcmc", type=_whole(0, "steps", 100_000), default=0, help="also draw each true posterior by Metropolis (steps)")
    p.add_argument("--output", type=Path, help="also write every selection and coverage row (CSV)")
    _overwrite_option(p)


def _start_options(p: argparse.ArgumentParser, replications: int) -> None:
    """Replications from a review record or the report's state (with the real pairings), on the posterior."""
    _run_arguments(p, replications)
    p.add_argument("--record", type=Path, help="start from a review record (folder) instead of the report")
    p.add_argument("--pairings", type=Path, help="the real pairing list (CSV), starting from the report's placed state")
    _engine_option(p)
    _posterior_options(p)


def _what_to_measure_arguments(p: argparse.ArgumentParser) -> None:
    _start_options(p, 2000)
    p.add_argument("--output", type=Path, default=Path("results/what-to-measure"), help="folder for ranking.csv and settings.json")


def _critical_path_arguments(p: argparse.ArgumentParser) -> None:
    _start_options(p, 1000)
    p.add_argument("--scheduler", help="address of a Dask scheduler to run the replications on")
    p.add_argument("--top", type=_positive, default=15, help="how many reviews to print (all are written)")
    p.add_argument("--output", type=Path, default=Path("results/critical-path"), help="folder for critical_path.csv and settings.json")


#: Every command: its name, what it does, its arguments, and the function that runs it.
COMMANDS = (
    ("forecast", "forecast the date 70 %% of group 1's reviews are completed", _forecast_arguments, "cmd_forecast"),
    ("start-check", "the model run from 2020, observed at the report date, beside the report", _start_check_arguments, "cmd_start_check"),
    ("calibrate", "fit the model to the report's figures (ABC-SMC) and write the posterior", _calibrate_arguments, "cmd_calibrate"),
    ("structures", "list the model structures that calibration weighs against each other", None, "cmd_structures"),
    ("backtest", "score the model against every dated figure: hindcast and rolling-origin forecasts", _backtest_arguments, "cmd_backtest"),
    (
        "sensitivity",
        "which parameters and structures drive the headline (variance-based, SALib)",
        _sensitivity_arguments,
        "cmd_sensitivity",
    ),
    ("findings", "recompute the numbers the README and the findings page show (docs/findings.json)", _findings_arguments, "cmd_findings"),
    ("check", "posterior predictive check against the report, with posterior plots", _check_arguments, "cmd_check"),
    (
        "sbc",
        "simulation-based calibration: the inference checked on truths drawn from the priors (coverage, structure)",
        _sbc_arguments,
        "cmd_sbc",
    ),
    (
        "start-consistency",
        "does the report-state start continue like the runs from 2020 that match the report? (same draws)",
        _start_consistency_arguments,
        "cmd_start_consistency",
    ),
    (
        "prior-check",
        "what the priors imply before any fit (slowest party, redraws, reviews never finished), against stated bounds",
        _prior_check_arguments,
        "cmd_prior_check",
    ),
    (
        "outside-view",
        "the forecast beside how fast sister review mechanisms went (UNCAC's two cycles, the plan)",
        _outside_view_arguments,
        "cmd_outside_view",
    ),
    ("compare", "paired comparison of scenarios against the baseline, ranked by months gained", _compare_arguments, "cmd_compare"),
    ("report", "the analyst's technical annex (HTML): method, calibration, checks, scenarios", _report_arguments, "cmd_report"),
    ("brief", "the two-page brief for delegations, in English, French or Spanish (from docs/findings.json)", _brief_arguments, "cmd_brief"),
    ("reproduce", "rerun a forecast from its output folder's manifest and check the numbers agree", _reproduce_arguments, "cmd_reproduce"),
    (
        "plan",
        "what would it take? packages of levers that meet the condition in time at least effort (Optuna NSGA-II)",
        _plan_arguments,
        "cmd_plan",
    ),
    ("decision", "the Conference's decision: the largest share of reviews still met before a session", _decision_arguments, "cmd_decision"),
    (
        "act-first",
        "whom to act on first: each party's nomination, ranked by how much it brings the condition forward",
        _act_first_arguments,
        "cmd_act_first",
    ),
    ("parameters", "list every parameter with its unit, range and reasoning", None, "cmd_parameters"),
    (
        "synthetic-record",
        "write the SYNTHETIC review record: a RevMod export's shape, generated by the model, with the report's counts",
        _synthetic_record_arguments,
        "cmd_synthetic_record",
    ),
    ("record-check", "check a review record; count it beside each report", _record_check_arguments, "cmd_record_check"),
    (
        "record-fit",
        "what a review record says: its survival likelihood reweights the posterior (structures, parameters, the 70 %% date)",
        _record_fit_arguments,
        "cmd_record_fit",
    ),
    (
        "record-recovery",
        "does the record's fit find the truth? synthetic records of each structure, fitted under all (selection, coverage)",
        _record_recovery_arguments,
        "cmd_record_recovery",
    ),
    (
        "what-to-measure",
        "which figure, published or extracted today, would narrow the forecast most (preposterior, given-data S1)",
        _what_to_measure_arguments,
        "cmd_what_to_measure",
    ),
    (
        "critical-path",
        "group 1 review by review: P(among the 44 that meet the condition), P(completed before each session), median date",
        _critical_path_arguments,
        "cmd_critical_path",
    ),
)

#: Longer descriptions, for a command's own --help.
DESCRIPTIONS = {
    "plan": "Search packages of levers (intensity, start date, target) for the frontier of probability against effort, "
    "verify the frontier on fresh seeds, and write each frontier package as a scenario file. Effort comes from "
    "scenarios/planning/effort.toml (assumptions; --effort for another file).",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description="Simulate and forecast the UNTOC review Mechanism.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, summary, add_arguments, handler in COMMANDS:
        p = sub.add_parser(name, help=summary, description=DESCRIPTIONS.get(name), formatter_class=_Help)
        if add_arguments is not None:
            add_arguments(p)
        p.set_defaults(func=globals()[handler])
    return parser


def _interrupt(signum, frame):
    """SIGINT and SIGTERM: record the request (so no output is renamed into place) and stop,
    at once or, inside a write that must not be cut short, at its end."""
    from workbench.core import interrupts

    interrupts.request()
    if not interrupts.deferring():
        raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import signal

    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    args = build_parser().parse_args(argv)
    from workbench.core import interrupts

    interrupts.reset()
    if getattr(args, "scenarios", None) == []:
        from workbench.inputs.scenarios import SCENARIO_DIR

        args.scenarios = sorted(SCENARIO_DIR.glob("*.toml"))
    try:
        return args.func(args)
    except InputError as err:
        if args.debug:
            raise
        print(f"workbench: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        import errno

        if err.errno not in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or args.debug:
            raise
        # Outputs are staged beside their destination and renamed whole, so a full disk loses nothing.
        where = f" ({err.filename})" if err.filename else ""
        print(
            f"workbench: error: the disk is full or the file too large{where}: {err.strerror}. Nothing was replaced: "
            "the previous result, if any, is intact. Free some space (or choose another --output) and run again.",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print(
            "workbench: interrupted; no output was written and the previous result, if any, is intact. "
            "Run the same command again to produce it.",
            file=sys.stderr,
        )
        return 130


def run() -> None:
    """The ``workbench`` command: :func:`main`, then exit with its status.

    After an interrupt (status 130) the process leaves at once, ignoring further signals:
    the outputs are already safe (written atomically, or not at all), and a library's
    clean-up at interpreter exit (pyabc's database, worker pools) could otherwise turn the
    interrupt into a second, unhandled one and an exit by signal instead of status 130.
    """
    import os
    import signal

    try:
        code = main()
    except KeyboardInterrupt:  # before main's handlers were in place, or while it parsed the options
        sys.stderr.write("workbench: interrupted; nothing was done.\n")
        code = 130
    if code == 130:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    run()
