"""Levers: each moves what it should and nothing else; zero effect is the baseline exactly;
the condition's extremes give the trivially expected dates; scenario files are validated."""

import dataclasses
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from workbench.core.errors import InputError
from workbench.core.timeline import CONFERENCE_SESSIONS, DAYS_PER_MONTH, earliest_start, to_day
from workbench.experiments.condition import condition_day
from workbench.experiments.replications import run_replications
from workbench.experiments.setup import simulate
from workbench.inputs.levers import (
    Condition,
    ConsensusFacilitation,
    HandoverProtocol,
    Levers,
    MachineTranslation,
    NominationFollowUp,
    Redraw,
    SchedulingSupport,
    SecretariatStaffing,
    Target,
    TaskSplit,
    Training,
)
from workbench.inputs.parameters import Parameters
from workbench.inputs.scenarios import load_scenario, scenario_table, scenario_text
from workbench.simulation.stages import Stage
from workbench.simulation.streams import replication_seeds

from conftest import FORECAST_DAY, SCENARIO_FILES, make_setup

START = dt.date(2025, 1, 1)
HORIZON = dt.date(2045, 1, 1)
# Ample Secretariat capacity and no redraws requested by the parties themselves: nothing couples
# reviews, so "nothing else" can be checked exactly, and every redraw is the lever's.
UNCOUPLED = Parameters(secretariat_officers=100, redraw_patience_months=math.inf)


def _run(snapshot, levers=Levers(), params=UNCOUPLED, seed=3, horizon=HORIZON, condition=Condition()):
    setup = make_setup(params, horizon=horizon, levers=levers, condition=condition)
    return simulate(setup, replication_seeds(seed, 1)[0])


ZERO_EFFECT = Levers(
    nomination_follow_up=NominationFollowUp(START, rate_multiplier=1.0, silent_rate_per_month=0.0),
    handover_protocol=HandoverProtocol(START, duration_factor=1.0),
    redraw=Redraw(START, after_months=120.0 * 100, delay_months=3.0),
    scheduling_support=SchedulingSupport(START, duration_factor=1.0),
    training=Training(START, saq_factor=1.0, feedback_factor=1.0),
    task_split=TaskSplit(START, drafting_factor=1.0, coordination_factor=1.0),
    consensus_facilitation=ConsensusFacilitation(START, duration_factor=1.0),
    machine_translation=MachineTranslation(START, extra_language_factor=1.0),
    secretariat_staffing=SecretariatStaffing(START, officers_change=0),
)


def test_levers_of_zero_effect_reproduce_the_baseline_exactly(snapshot):
    setup = make_setup(horizon=HORIZON)
    base = run_replications(setup, 4, seed=5, workers=1)
    same = run_replications(dataclasses.replace(setup, levers=ZERO_EFFECT), 4, seed=5, workers=1)
    pd.testing.assert_frame_equal(base.events, same.events)
    pd.testing.assert_frame_equal(base.threshold, same.threshold)


def test_machine_translation_changes_nothing_for_single_language_reviews(snapshot):
    base, pairings, _ = _run(snapshot)
    lever = Levers(machine_translation=MachineTranslation(START, extra_language_factor=0.0))
    other, _, _ = _run(snapshot, lever)
    single = base.languages == 1
    np.testing.assert_array_equal(base.entered[single], other.entered[single])
    multi = base.languages > 1
    assert not np.array_equal(np.nan_to_num(base.entered[multi]), np.nan_to_num(other.entered[multi]))


def test_redraw_never_fires_for_a_responsive_reviewer(snapshot):
    record, pairings, model = _run(snapshot, Levers(redraw=Redraw(START, after_months=12, delay_months=2)))
    assert record.redraws
    for day, review, slot, old, new in record.redraws:
        assert not record.nominated_at[old] <= day  # the reviewer replaced had no focal point
        assert record.nominated_at[new] <= day  # its replacement has one
        assert slot in (1, 2)  # never the party under review
        assert day >= to_day(START)


def test_parties_request_redraws_after_their_patience_at_most_four_times(snapshot):
    patient = UNCOUPLED.updated({"redraw_patience_months": 6.0, "redraw_delay_months": 1.0})
    record, pairings, _ = _run(snapshot, params=patient, horizon=dt.date(2060, 1, 1))
    assert record.redraws
    rounds = {}
    for day, review, slot, old, new in record.redraws:
        assert not record.nominated_at[old] <= day and record.nominated_at[new] <= day
        rounds.setdefault(review, set()).add(day)
    assert max(len(days) for days in rounds.values()) <= 4  # ¶6: up to four repeats


def test_a_review_waiting_at_the_start_has_used_its_redraws_in_proportion():
    from workbench.simulation import rules
    from workbench.simulation.layout import pack_parameters

    P = pack_parameters(Parameters(redraw_patience_months=6.0, redraw_delay_months=2.0), 62)
    cycle = 8.0 * DAYS_PER_MONTH
    assert rules.redraws_before(0.0, P) == (0, 0.0)
    rounds, since = rules.redraws_before(2.5 * cycle, P)
    assert rounds == 2 and since == pytest.approx(0.5 * cycle)
    assert rules.redraws_before(40 * cycle, P)[0] == rules.REDRAWS_ALLOWED == 4  # ¶6: up to four times
    never = pack_parameters(Parameters(redraw_patience_months=math.inf), 62)
    assert rules.redraws_before(40 * cycle, never) == (0, 40 * cycle)


def test_the_lever_redraws_sooner_than_the_parties_ask(snapshot):
    patient = UNCOUPLED.updated({"redraw_patience_months": 60.0, "redraw_delay_months": 1.0})
    own, _, _ = _run(snapshot, params=patient, horizon=dt.date(2030, 1, 1))
    lever, _, _ = _run(snapshot, Levers(redraw=Redraw(START, after_months=6, delay_months=1)), params=patient, horizon=dt.date(2030, 1, 1))
    assert len(lever.redraws) > len(own.redraws)
    assert min(r[0] for r in lever.redraws) < min([r[0] for r in own.redraws] or [math.inf])


def test_redraw_only_from_its_start_date(snapshot):
    later = dt.date(2030, 1, 1)
    record, _, _ = _run(snapshot, Levers(redraw=Redraw(later, after_months=12, delay_months=0)))
    assert record.redraws and min(r[0] for r in record.redraws) >= to_day(later)


def test_follow_up_moves_only_parties_still_without_a_focal_point(snapshot):
    base, pairings, _ = _run(snapshot)
    lever = Levers(nomination_follow_up=NominationFollowUp(START, rate_multiplier=3.0, silent_rate_per_month=0.05))
    other, _, model = _run(snapshot, lever)
    before = np.isinf(base.nominated_at)  # nominated before the report
    np.testing.assert_array_equal(base.nominated_at[before], other.nominated_at[before])
    pending = ~before
    base_days = np.where(np.isnan(base.nominated_at[pending]), np.inf, base.nominated_at[pending])
    other_days = np.where(np.isnan(other.nominated_at[pending]), np.inf, other.nominated_at[pending])
    assert np.all(other_days <= base_days)  # nobody nominates later
    assert np.sum(np.isfinite(other_days)) > np.sum(np.isfinite(base_days))  # silent parties now act


def test_follow_up_can_target_one_group(snapshot):
    lever = Levers(nomination_follow_up=NominationFollowUp(START, Target(groups=(3,)), rate_multiplier=3.0, silent_rate_per_month=0.05))
    base, pairings, _ = _run(snapshot)
    other, _, _ = _run(snapshot, lever)
    in_group3 = set()
    for r in range(pairings.n_reviews):
        if pairings.group[r] == 3:
            in_group3.update(pairings.members(r))
    outside = np.array([p not in in_group3 for p in range(pairings.n_parties)])
    np.testing.assert_array_equal(np.nan_to_num(base.nominated_at[outside], nan=-1), np.nan_to_num(other.nominated_at[outside], nan=-1))


def test_handover_protocol_shortens_only_handovers_begun_after_its_start(snapshot):
    base, _, _ = _run(snapshot, params=UNCOUPLED.updated({"replacement_rate": 1.0}))
    other, _, _ = _run(
        snapshot,
        Levers(handover_protocol=HandoverProtocol(dt.date(2027, 1, 1), duration_factor=0.5)),
        params=UNCOUPLED.updated({"replacement_rate": 1.0}),
    )
    cut = to_day("2027-01-01")
    early_base = sorted(h for h in base.handovers if h[1] < cut)
    early_other = sorted(h for h in other.handovers if h[1] < cut)
    assert early_base == early_other
    first_after = {}
    for party, start, end in sorted(base.handovers, key=lambda h: h[1]):
        if start >= cut and party not in first_after:
            first_after[party] = (start, end)
    matched = 0
    for party, start, end in other.handovers:
        if party in first_after and first_after[party][0] == start and math.isfinite(end) and math.isfinite(first_after[party][1]):
            assert end - start == pytest.approx(0.5 * (first_after[party][1] - start))
            matched += 1
    assert matched > 10


@pytest.mark.parametrize(
    "lever,stage",
    [
        (Levers(training=Training(START, saq_factor=0.5, feedback_factor=1.0)), Stage.SAQ),
        (Levers(task_split=TaskSplit(START, drafting_factor=0.5, coordination_factor=0.5)), Stage.WRITTEN_FEEDBACK),
        (Levers(consensus_facilitation=ConsensusFacilitation(START, duration_factor=0.5)), Stage.LISTS),
        (Levers(scheduling_support=SchedulingSupport(START, duration_factor=0.2)), Stage.CONSULTATION),
    ],
)
def test_stage_levers_shorten_their_stage_and_leave_earlier_history_alone(snapshot, lever, stage):
    base, pairings, _ = _run(snapshot)
    other, _, _ = _run(snapshot, lever)
    cut = to_day(START)
    entered_base, entered_other = base.entered[:, stage], other.entered[:, stage]
    # Stages entered before the lever's start keep their entry time and the duration drawn then.
    early = entered_base < cut
    np.testing.assert_array_equal(entered_base[early], entered_other[early])
    # Stages begun after the start end no later, and on average earlier.
    begun = (entered_base >= cut) & (entered_base == entered_other)
    done_base, done_other = base.entered[begun, stage + 1], other.entered[begun, stage + 1]
    both = np.isfinite(done_base) & np.isfinite(done_other)
    assert both.sum() > 5
    assert np.mean(done_other[both] - done_base[both]) < 0


def test_secretariat_staffing_changes_the_queue_not_the_parties(snapshot):
    tight = Parameters(secretariat_officers=1, consultation_preparation_months=2.0)
    base, _, _ = _run(snapshot, params=tight)
    more, _, _ = _run(snapshot, Levers(secretariat_staffing=SecretariatStaffing(START, officers_change=3)), params=tight)
    np.testing.assert_array_equal(np.nan_to_num(base.nominated_at, nan=-1), np.nan_to_num(more.nominated_at, nan=-1))
    consulted_base = np.nansum(base.entered[:, Stage.SAQ] < to_day("2030-01-01"))
    consulted_more = np.nansum(more.entered[:, Stage.SAQ] < to_day("2030-01-01"))
    assert consulted_more > consulted_base


def test_secretariat_cannot_go_below_one_officer(snapshot):
    with pytest.raises(InputError, match="officers_change"):
        _run(
            snapshot, Levers(secretariat_staffing=SecretariatStaffing(START, officers_change=-2)), params=Parameters(secretariat_officers=2)
        )


def test_condition_of_zero_is_met_when_decided(snapshot):
    decided = dt.date(2026, 10, 1)
    record, pairings, _ = _run(snapshot)
    day = condition_day(record, pairings, Condition(share=0.0, decided=decided), to_day(snapshot.as_at))
    assert day == to_day(decided)


def test_condition_of_one_hundred_percent_is_the_last_group1_completion(snapshot):
    # Silent parties under review cannot be redrawn: the follow-up campaign brings them in.
    everyone = Levers(
        redraw=Redraw(START, after_months=6, delay_months=1),
        nomination_follow_up=NominationFollowUp(START, rate_multiplier=2.0, silent_rate_per_month=0.2),
    )
    alike = UNCOUPLED.updated({"responsiveness_shape": math.inf})  # no party slower than the rest
    record, pairings, _ = _run(snapshot, everyone, params=alike, horizon=dt.date(2080, 1, 1))
    done = record.entered[pairings.group == 1, Stage.COMPLETED]
    day = condition_day(record, pairings, Condition(share=1.0), to_day(snapshot.as_at))
    assert np.all(np.isfinite(done)) and day == np.max(done)
    # Without them a silent party under review never lets 100 % happen.
    record, pairings, _ = _run(snapshot, params=alike, horizon=dt.date(2080, 1, 1))
    assert np.isnan(condition_day(record, pairings, Condition(share=1.0), to_day(snapshot.as_at)))


def test_default_condition_equals_the_models_own_threshold(snapshot):
    record, pairings, _ = _run(snapshot, Levers(redraw=Redraw(START, after_months=12, delay_months=1)), horizon=dt.date(2070, 1, 1))
    assert condition_day(record, pairings, Condition(), to_day(snapshot.as_at)) == record.threshold_day


def test_condition_decided_later_keeps_an_earlier_crossing(snapshot):
    record, pairings, _ = _run(snapshot, Levers(redraw=Redraw(START, after_months=6, delay_months=1)), horizon=dt.date(2080, 1, 1))
    late = dt.date(2075, 1, 1)
    day = condition_day(record, pairings, Condition(share=0.9, decided=late), to_day(snapshot.as_at))
    assert day == record.threshold_day < to_day(late)


BAD = [
    ("[levers.redraww]\nstart = 2027-01-01\nafter_months = 12\n", "levers.redraww: unknown lever"),
    (
        "[levers.redraw]\nstart = 2025-01-01\nafter_months = 12\n",
        r"levers.redraw.start: 2025-01-01 is before today, the forecast's date \(2026-12-02\)",
    ),
    ("[condition]\nshare = 0.5\ndecided_at = 2026\n", r"condition.decided_at: the 2026 session \(2026-10-01\) is before today"),
    ("[condition]\nshare = 0.5\ndecided_at = 2026-11-30\n", "condition.decided_at: 2026-11-30 is before today"),
    ('[scenario]\nallow_past = "yes"\n', "scenario.allow_past: expected true or false"),
    (
        "[scenario]\nallow_past = true\n[levers.redraw]\nstart = 2020-01-01\nafter_months = 12\n",
        "levers.redraw.start: 2020-01-01 is before the snapshot date",
    ),
    ('[levers.redraw]\nstart = "soon"\nafter_months = 12\n', "levers.redraw.start: expected a date"),
    ("[levers.redraw]\nstart = 2027-01-01\nafter_months = 0.5\n", "levers.redraw.after_months: 0.5 is out of range"),
    ('[levers.redraw]\nstart = 2027-01-01\nafter_months = "24 months"\n', "expected a number"),
    ("[levers.redraw]\nstart = 2027-01-01\n", "no effect given"),
    ("[levers.redraw]\nstart = 2027-01-01\nafter_months = 12\nwait = 3\n", "levers.redraw.wait: unknown key"),
    ("[levers.training]\nstart = 2027-01-01\nsaq_factor = 1.5\n", "saq_factor: 1.5 is out of range"),
    ('[levers.training]\nstart = 2027-01-01\nsaq_factor = 0.8\ntarget = "group 4"\n', "is not a target"),
    ("[levers.secretariat_staffing]\nstart = 2027-01-01\nofficers_change = 1.5\n", "expected a whole number"),
    ("[condition]\nshare = 70\n", "condition.share: 70 is not a share"),
    ("[condition]\nshare = 0.5\ndecided_at = 2027\n", "not a Conference session year"),
    ('[condition]\ncounted_stage = "feedback"\n', "condition.counted_stage"),
    ("[condition]\ngroups = [4]\n", "condition.groups"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[m for _, m in BAD])
def test_bad_scenario_files_give_the_expected_error(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as err:
        load_scenario(path)
    assert "bad.toml" in str(err.value)


def test_pairing_shrinks_the_variance_of_the_difference(snapshot):
    setup = make_setup(horizon=dt.date(2060, 12, 31))
    lever = Levers(redraw=Redraw(START, after_months=24, delay_months=3))
    base = run_replications(setup, 30, seed=7, workers=1, keep_events=False)
    paired = run_replications(dataclasses.replace(setup, levers=lever), 30, seed=7, workers=1, keep_events=False)
    independent = run_replications(dataclasses.replace(setup, levers=lever), 30, seed=8, workers=1, keep_events=False)

    def capped(res):
        cap = to_day(res.setup.horizon)
        days = (res.threshold["date"] - pd.Timestamp("2020-12-01")).dt.days.to_numpy(dtype=float)
        return np.where(res.threshold["reached"], days, cap)

    var_paired = np.var(capped(paired) - capped(base), ddof=1)
    var_independent = np.var(capped(independent) - capped(base), ddof=1)
    assert var_paired < var_independent


def _named(parties):
    return Levers(handover_protocol=HandoverProtocol(START, Target(parties=parties), duration_factor=0.5))


def test_a_lever_naming_parties_needs_the_real_pairing_list_and_names_in_it(tmp_path):
    from workbench.experiments.setup import default_setup
    from workbench.inputs.parties import load_pairings, synthetic_pairings

    with pytest.raises(InputError, match="names parties, but the pairings are synthetic"):
        default_setup(levers=_named(("Atlantis",)))
    path = tmp_path / "pairs.csv"
    synthetic_pairings(5).to_csv(path)
    pairings = load_pairings(path)
    with pytest.raises(InputError, match="Atlantis not in the pairing list"):
        default_setup(levers=_named(("Atlantis", pairings.parties[0])), pairings=pairings)
    assert default_setup(levers=_named((pairings.parties[0],)), pairings=pairings).levers.handover_protocol is not None


def test_an_option_in_the_past_is_refused_with_a_way_to_ask_for_a_hindcast(tmp_path):
    path = tmp_path / "late.toml"
    path.write_text("[levers.redraw]\nstart = 2025-01-01\nafter_months = 12\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_scenario(path)
    assert err.value.allowed == "on or after 2026-12-02; or allow_past = true in [scenario] for a hindcast"
    # The same file made on an earlier day, as `reproduce` reads a manifest's scenario, is fine.
    assert load_scenario(path, made_on=dt.date(2024, 12, 1)).levers.redraw.start == dt.date(2025, 1, 1)
    # A hindcast asks for it, and may then start anywhere from the snapshot date; writing keeps it.
    path.write_text("[scenario]\nallow_past = true\n" + path.read_text(), encoding="utf-8")
    hindcast = load_scenario(path)
    assert hindcast.allow_past and hindcast.levers.redraw.start == dt.date(2025, 1, 1)
    again = tmp_path / "again.toml"
    again.write_text(scenario_text(scenario_table(hindcast)), encoding="utf-8")
    assert load_scenario(again) == dataclasses.replace(hindcast, path=again.resolve())


def test_a_condition_can_be_decided_at_a_session_still_to_come(tmp_path):
    path = tmp_path / "later.toml"
    path.write_text("[condition]\nshare = 0.5\ndecided_at = 2028\n", encoding="utf-8")
    assert load_scenario(path).condition.decided == CONFERENCE_SESSIONS[2028]


def test_every_shipped_scenario_starts_from_the_forecasts_day_on():
    for path in SCENARIO_FILES:
        scenario = load_scenario(path)
        assert not scenario.allow_past, path.name
        starts = [lever.start for lever in scenario.levers.active().values()]
        assert all(start >= earliest_start(FORECAST_DAY) for start in starts), path.name
        assert scenario.condition.decided is None or scenario.condition.decided > FORECAST_DAY, path.name


def test_a_redraw_lever_without_its_patience_is_an_error_not_a_silent_baseline(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        '[scenario]\nname = "x"\ndescription = "x"\n\n[levers.redraw]\nstart = 2027-01-01\ndelay_months = 2\n', encoding="utf-8"
    )
    with pytest.raises(InputError, match="levers.redraw.after_months: missing: without it the lever would never act"):
        load_scenario(path)
