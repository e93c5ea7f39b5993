"""The numbers both engines index by, derived from the model's own definitions.

The compiled engine cannot take Python objects, so parameters, lever effects and the stage
table travel as arrays.  Every index here is computed from :class:`Parameters`, the lever
classes of :mod:`workbench.inputs.levers`, the stream components of
:mod:`workbench.simulation.streams` and :data:`workbench.simulation.stages.STAGE_RULES`;
none is typed by hand, so a new parameter, lever or stage cannot leave a stale constant.
Compiled code freezes these numbers in; :mod:`workbench.core.compiled_cache` keeps its cache
only while the files they come from are unchanged.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import numpy as np

from workbench.inputs.levers import LEVER_TYPES, Levers
from workbench.inputs.parameters import Parameters
from workbench.inputs.parties import Pairings
from workbench.simulation.stages import N_STAGES, STAGE_RULES, Stage
from workbench.simulation.streams import PARTY_COMPONENTS, REVIEW_COMPONENTS, REVIEW_OFFSET

# --- the parameter vector: the fields of Parameters in order, then derived quantities ---
PARAMETER_NAMES: tuple[str, ...] = tuple(Parameters.names())
PARAMETER_INDEX: dict[str, int] = {name: k for k, name in enumerate(PARAMETER_NAMES)}
P_GROUP1_TARGET = len(PARAMETER_NAMES)  # completed group-1 reviews the ¶25 condition needs
N_PARAMETERS = len(PARAMETER_NAMES) + 1

# Parameters the rules read directly (the stage table names the others).
P_NOMINATION_RATE = PARAMETER_INDEX["nomination_rate"]
P_SHAPE = PARAMETER_INDEX["responsiveness_shape"]
P_EXPERT_LAG = PARAMETER_INDEX["expert_lag_months"]
P_REPLACEMENT_RATE = PARAMETER_INDEX["replacement_rate"]
P_HANDOVER = PARAMETER_INDEX["handover_months"]
P_REVIVE = PARAMETER_INDEX["revive_probability"]
P_COUPLING = PARAMETER_INDEX["responsiveness_coupling"]
P_REDRAW_PATIENCE = PARAMETER_INDEX["redraw_patience_months"]
P_REDRAW_DELAY = PARAMETER_INDEX["redraw_delay_months"]
P_OFFICERS = PARAMETER_INDEX["secretariat_officers"]
P_ONE_LANGUAGE = PARAMETER_INDEX["one_language_share"]
P_THREE_LANGUAGES = PARAMETER_INDEX["three_language_share"]
P_EXTRA_LANGUAGE = PARAMETER_INDEX["extra_language_delay"]

# --- levers: one row per lever, one value per effect field -----------------------------
LEVER_NAMES: tuple[str, ...] = tuple(LEVER_TYPES)
LEVER_INDEX: dict[str, int] = {name: k for k, name in enumerate(LEVER_NAMES)}
LEVER_VALUES: tuple[tuple[str, str], ...] = tuple((lever, effect) for lever, (_, effects) in LEVER_TYPES.items() for effect in effects)
VALUE_INDEX: dict[tuple[str, str], int] = {pair: k for k, pair in enumerate(LEVER_VALUES)}
N_LEVERS = len(LEVER_NAMES)
N_LEVER_VALUES = len(LEVER_VALUES)
#: An absent lever's effect: its class's default (no effect).
VALUE_DEFAULTS = np.array(
    [{f.name: f.default for f in dataclasses.fields(LEVER_TYPES[lever][0])}[effect] for lever, effect in LEVER_VALUES], dtype=float
)
VALUE_LEVER = np.array([LEVER_INDEX[lever] for lever, _ in LEVER_VALUES], dtype=np.int64)

L_FOLLOW_UP = LEVER_INDEX["nomination_follow_up"]
L_HANDOVER = LEVER_INDEX["handover_protocol"]
L_REDRAW = LEVER_INDEX["redraw"]
L_TRANSLATION = LEVER_INDEX["machine_translation"]
L_STAFFING = LEVER_INDEX["secretariat_staffing"]
V_FOLLOW_MULTIPLIER = VALUE_INDEX["nomination_follow_up", "rate_multiplier"]
V_FOLLOW_SILENT_RATE = VALUE_INDEX["nomination_follow_up", "silent_rate_per_month"]
V_HANDOVER_FACTOR = VALUE_INDEX["handover_protocol", "duration_factor"]
V_REDRAW_AFTER = VALUE_INDEX["redraw", "after_months"]
V_REDRAW_DELAY = VALUE_INDEX["redraw", "delay_months"]
V_TRANSLATION_FACTOR = VALUE_INDEX["machine_translation", "extra_language_factor"]
V_OFFICERS_CHANGE = VALUE_INDEX["secretariat_staffing", "officers_change"]

# --- random streams: a party's components, then a review's (columns of the engine's tables) ---
PARTY_STREAM = {name: k for k, name in enumerate(PARTY_COMPONENTS)}
REVIEW_STREAM = {name: k for k, name in enumerate(REVIEW_COMPONENTS)}
C_RESPONSIVENESS = PARTY_STREAM["responsiveness"]
C_NOMINATION = PARTY_STREAM["nomination"]
C_EXPERTS = PARTY_STREAM["experts"]
C_REPLACEMENT = PARTY_STREAM["replacement"]
N_PARTY_STREAMS = C_REPLACEMENT + 1  # the streams a run draws from (later ones serve the initial state)
R_SECRETARIAT = REVIEW_STREAM["secretariat"]
R_LANGUAGES = REVIEW_STREAM["languages"]
R_REDRAW = REVIEW_STREAM["redraw"]
N_REVIEW_STREAMS = R_REDRAW + 1
REVIEW_STREAM_OFFSET = REVIEW_OFFSET


# --- the stage table as arrays, indexed by Stage --------------------------------------
def _stage_arrays() -> dict[str, np.ndarray]:
    def param(name: str | None) -> int:
        return -1 if name is None else PARAMETER_INDEX[name]

    table = {
        "stream": np.full(N_STAGES, -1, np.int64),
        "draw": np.full(N_STAGES, -1, np.int64),
        "time": np.full(N_STAGES, -1, np.int64),
        "sigma": np.full(N_STAGES, -1, np.int64),
        "pace": np.full(N_STAGES, -1, np.int64),
        "languages": np.zeros(N_STAGES, np.bool_),
        "factors": np.full((N_STAGES, max(len(r.levers) for r in STAGE_RULES)), -1, np.int64),
        "merge_time": np.full(N_STAGES, -1, np.int64),
        "merge_factor": np.full(N_STAGES, -1, np.int64),
        "experts": np.zeros((N_STAGES, 3), np.bool_),
        "secretariat": np.full(N_STAGES, -1, np.int64),
        "agrees_languages": np.zeros(N_STAGES, np.bool_),
        "deadline": np.full(N_STAGES, -1, np.int64),
        "lateness_observed": np.zeros(N_STAGES, np.bool_),
        "deadline_pull": np.full(N_STAGES, -1, np.int64),
    }
    for rule in STAGE_RULES:
        s = int(rule.stage)
        table["stream"][s] = REVIEW_STREAM[rule.stream]
        table["draw"][s] = rule.draw
        table["time"][s] = param(rule.time)
        table["sigma"][s] = param(rule.sigma)
        table["pace"][s] = rule.pace
        table["languages"][s] = rule.languages
        for k, effect in enumerate(rule.levers):
            table["factors"][s, k] = VALUE_INDEX[effect]
        if rule.merge is not None:
            table["merge_time"][s] = param(rule.merge[0])
            table["merge_factor"][s] = VALUE_INDEX[rule.merge[1]]
        table["experts"][s, list(rule.experts)] = True
        table["secretariat"][s] = param(rule.secretariat)
        table["agrees_languages"][s] = rule.agrees_languages
        table["deadline"][s] = param(rule.deadline)
        table["lateness_observed"][s] = rule.lateness_observed
        table["deadline_pull"][s] = param(rule.deadline_pull)
    return table


_TABLE = _stage_arrays()
STAGE_STREAM = _TABLE["stream"]
STAGE_DRAW = _TABLE["draw"]
STAGE_TIME = _TABLE["time"]
STAGE_SIGMA = _TABLE["sigma"]
STAGE_PACE = _TABLE["pace"]
STAGE_LANGUAGES = _TABLE["languages"]
STAGE_FACTORS = _TABLE["factors"]
STAGE_MERGE_TIME = _TABLE["merge_time"]
STAGE_MERGE_FACTOR = _TABLE["merge_factor"]
STAGE_EXPERTS = _TABLE["experts"]
STAGE_SECRETARIAT = _TABLE["secretariat"]
STAGE_AGREES_LANGUAGES = _TABLE["agrees_languages"]
STAGE_DEADLINE = _TABLE["deadline"]
STAGE_LATENESS_OBSERVED = _TABLE["lateness_observed"]
STAGE_DEADLINE_PULL = _TABLE["deadline_pull"]
COMPLETED = int(Stage.COMPLETED)
NOMINATIONS = int(Stage.NOMINATIONS)


# --- packing the model's objects ----------------------------------------------------
class LeverArrays(NamedTuple):
    """The levers of a scenario as arrays (an absent lever starts at +inf and has no effect)."""

    start: np.ndarray  # (N_LEVERS,) start day
    value: np.ndarray  # (N_LEVER_VALUES,) effect sizes
    groups: np.ndarray  # (N_LEVERS, 4) groups reached (column = group number)
    named: np.ndarray  # (N_LEVERS,) the target names parties
    party_named: np.ndarray  # (N_LEVERS, n_parties) named in the target
    party_reach: np.ndarray  # (N_LEVERS, n_parties) a party the lever reaches (named, or in a targeted group)


def pack_parameters(params: Parameters, group1_size: int) -> np.ndarray:
    """The parameter vector: every field of ``params`` in order, then the group-1 target."""
    vector = np.empty(N_PARAMETERS)
    vector[: len(PARAMETER_NAMES)] = [getattr(params, name) for name in PARAMETER_NAMES]
    vector[P_GROUP1_TARGET] = params.completion_target(group1_size)
    return vector


def pack_levers(levers: Levers, pairings: Pairings) -> LeverArrays:
    """Start days, effect sizes and targets of a scenario's levers, as arrays."""
    m = pairings.n_parties
    if not levers.active():  # the baseline: the same arrays for any pairings of m parties (read only)
        return _no_levers(m)
    start = np.full(N_LEVERS, np.inf)
    value = VALUE_DEFAULTS.copy()
    groups = np.zeros((N_LEVERS, 4), np.bool_)
    named = np.zeros(N_LEVERS, np.bool_)
    party_named = np.zeros((N_LEVERS, m), np.bool_)
    party_reach = np.zeros((N_LEVERS, m), np.bool_)
    party_groups = np.zeros((m, 4), np.bool_)
    for column in (pairings.under_review, pairings.reviewers[:, 0], pairings.reviewers[:, 1]):
        party_groups[column, pairings.group] = True
    for name, lever in levers.active().items():
        k = LEVER_INDEX[name]
        start[k] = lever.start_day
        groups[k, list(lever.target.groups)] = True
        if lever.target.parties:
            named[k] = True
            wanted = set(lever.target.parties)
            party_named[k] = [party in wanted for party in pairings.parties]
            party_reach[k] = party_named[k]
        else:
            party_reach[k] = party_groups[:, list(lever.target.groups)].any(axis=1)
    for v, (lever_name, effect) in enumerate(LEVER_VALUES):
        lever = getattr(levers, lever_name)
        if lever is not None:
            value[v] = getattr(lever, effect)
    return LeverArrays(start, value, groups, named, party_named, party_reach)


@functools.lru_cache(maxsize=4)
def _no_levers(m: int) -> LeverArrays:
    # Shared by every baseline run: nothing writes to lever arrays (marking them read-only would
    # give Numba a second type to compile the whole engine for).
    return LeverArrays(
        np.full(N_LEVERS, np.inf),
        VALUE_DEFAULTS.copy(),
        np.zeros((N_LEVERS, 4), np.bool_),
        np.zeros(N_LEVERS, np.bool_),
        np.zeros((N_LEVERS, m), np.bool_),
        np.zeros((N_LEVERS, m), np.bool_),
    )
