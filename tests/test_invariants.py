"""Model invariants under property-based tests: any parameters in range, any seed, either start."""

import datetime as dt
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.experiments.setup import simulate
from workbench.inputs.levers import Levers, Redraw
from workbench.inputs.observations import latest_snapshot
from workbench.inputs.parameters import Parameters
from workbench.simulation.streams import replication_seeds

from conftest import make_setup
from invariants import check_all

SNAPSHOT = latest_snapshot()

parameters = st.fixed_dictionaries(
    {
        "nomination_rate": st.floats(0.05, 3.0),
        "responsiveness_shape": st.one_of(st.floats(0.3, 10.0), st.just(math.inf)),
        "silent_share": st.floats(0.0, 0.3),
        "replacement_rate": st.floats(0.0, 1.5),
        "handover_months": st.floats(0.0, 12.0),
        "revive_probability": st.floats(0.0, 1.0),
        "responsiveness_coupling": st.floats(0.0, 1.5),
        "consultation_scheduling_months": st.floats(0.5, 30.0),
        "secretariat_officers": st.integers(1, 6),
        "saq_median_months": st.floats(1.0, 30.0),
        "feedback_part_median_months": st.floats(1.0, 30.0),
        "lists_median_months": st.floats(1.0, 30.0),
        "completion_share": st.sampled_from([0.5, 0.7, 1.0]),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=parameters,
    seed=st.integers(0, 2**32 - 1),
    start=st.sampled_from(["history", "report"]),
    redraw_after=st.sampled_from([None, 6.0, 24.0]),
)
def test_every_run_keeps_the_invariants(values, seed, start, redraw_after):
    params = Parameters.from_mapping(values)
    levers = Levers(redraw=Redraw(SNAPSHOT.as_at, after_months=redraw_after)) if redraw_after else Levers()
    setup = make_setup(params, start, horizon=dt.date(2036, 1, 1), levers=levers)
    record, pairings, _ = simulate(setup, replication_seeds(seed, 1)[0])
    check_all(record, pairings, params.completion_target(62))
