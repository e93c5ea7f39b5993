"""The report's figures load, cite their paragraphs, and bad files are clear errors."""

import datetime as dt
from pathlib import Path

import pytest

from workbench.core.errors import InputError
from workbench.inputs.observations import DEFAULT_DIR, load_observations, load_snapshot

SHIPPED = DEFAULT_DIR / "2024-05-21.toml"


def test_shipped_snapshot_has_the_reports_core_figures(snapshot):
    assert snapshot.as_at == dt.date(2024, 5, 21)
    expect = {
        "parties_without_focal_point": 26,
        "reviews_held_up_by_nominations": 67,
        "reviews_not_commenced": 111,
        "reviews_saq_in_preparation": 35,
        "reviews_written_feedback_in_progress": 37,
        "reviews_lists_of_observations": 6,
        "consultations_held": 78,
        "saq_submitted": 43,
        "reviews_completed": 0,
    }
    for name, value in expect.items():
        assert snapshot.value(name) == value, name
    assert {g: (grp.reviews, grp.parties) for g, grp in snapshot.groups.items()} == {1: (62, 130), 2: (63, 131), 3: (64, 134)}


def test_every_figure_cites_a_paragraph_and_defines_itself(snapshot):
    for fig in snapshot.figures.values():
        assert fig.paragraph.strip() and fig.definition.strip(), fig.name


SHIPPED_FILES = sorted(DEFAULT_DIR.glob("*.toml"))


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=[p.stem for p in SHIPPED_FILES])
def test_every_shipped_snapshot_validates_cites_its_source_and_is_fitted(path):
    """Each dated file loads like the report's own, names its source, defines every figure, and
    holds at least one figure the model expresses (so that it takes part in the fit)."""
    from workbench.inference.simulator import CONSTANT_FIGURES, Simulator

    snap = load_snapshot(path)
    assert snap.as_at.isoformat() == path.stem and snap.source.strip()
    for fig in snap.figures.values():
        assert fig.paragraph.strip() and fig.definition.strip(), fig.name
        low, high = fig.range
        assert low <= fig.value <= high
    fitted = [k for k in Simulator([snap], report=load_snapshot(SHIPPED)).observed() if k.startswith(snap.as_at.isoformat())]
    assert fitted, f"{path.name} has no figure the model expresses"
    assert all(k.split("|")[1] not in CONSTANT_FIGURES for k in fitted)


def test_a_lower_bound_is_open_above_and_cannot_also_have_alternatives(tmp_path):
    header = '[snapshot]\nas_at = 2023-12-05\nsource = "x"\n'
    figure = '[[figure]]\nname = "reviewers_redrawn"\nvalue = 5\nat_least = true\nparagraph = "7"\ndefinition = "d"\n'
    ok = _write(tmp_path, header + figure)
    assert load_snapshot(ok).figures[("reviewers_redrawn", None)].range == (5.0, float("inf"))
    bad = _write(tmp_path, ok.read_text().replace("at_least = true", "at_least = true\nalternatives = [6]"))
    with pytest.raises(InputError, match="at_least"):
        load_snapshot(bad)
    bad = _write(tmp_path, ok.read_text().replace("at_least = true", 'at_least = "yes"'))
    with pytest.raises(InputError, match="not true or false"):
        load_snapshot(bad)


def test_an_upper_bound_closes_a_lower_bound_and_is_checked(tmp_path):
    """¶7: at least five redraws and, 'some States parties', at most one review in three."""
    header = '[snapshot]\nas_at = 2023-12-05\nsource = "x"\n'
    figure = '[[figure]]\nname = "reviewers_redrawn"\nvalue = 5\nat_least = true\nat_most = 63\nparagraph = "7"\ndefinition = "d"\n'
    ok = _write(tmp_path, header + figure)
    assert load_snapshot(ok).figures[("reviewers_redrawn", None)].range == (5.0, 63.0)
    for replacement, message in (
        ("at_most = 4", "not an upper bound of 5"),
        ("at_most = true", "not an upper bound"),
        ("at_least = false", "needs `at_least = true`"),
    ):
        bad = _write(tmp_path, (header + figure).replace("at_most = 63" if "at_most" in replacement else "at_least = true", replacement))
        with pytest.raises(InputError, match=message) as err:
            load_snapshot(bad)
        assert "at_most" in str(err.value) and bad.name in str(err.value)


def test_contradictions_are_kept_with_both_figures(snapshot):
    assert snapshot.figures[("reviews_ready_no_consultation", None)].alternatives == (44,)
    assert snapshot.figures[("consultations_two_languages", None)].alternatives == (23,)
    assert len(snapshot.inconsistencies) >= 2


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _mutate(tmp_path, old, new):
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    return _write(tmp_path, text.replace(old, new, 1))


def test_wrong_type_names_file_and_field(tmp_path):
    path = _mutate(tmp_path, "value = 26\n", 'value = "twenty-six"\n')
    with pytest.raises(InputError) as err:
        load_snapshot(path)
    assert "bad.toml" in str(err.value) and "parties_without_focal_point" in str(err.value) and ".value" in str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("start = 2022-11-01", "start = 2022-11-01T10:00:00", "group[2].start"),
        ("as_at = 2024-05-21", "as_at = 2024-05-21T00:00:00", "snapshot.as_at"),
    ],
)
def test_a_date_and_time_where_a_date_belongs_is_refused(tmp_path, old, new, field):
    """TOML date-times are dates to Python; found by the observations fuzzer, which crashed comparing one."""
    path = _mutate(tmp_path, old + "\n", new + "\n")
    with pytest.raises(InputError, match="wrong type datetime") as err:
        load_snapshot(path)
    assert field in str(err.value)


def test_missing_field_is_an_error(tmp_path):
    path = _mutate(tmp_path, 'paragraph = "15"\npart_of = "parties_total"\n', 'part_of = "parties_total"\n')
    with pytest.raises(InputError, match="paragraph: missing field"):
        load_snapshot(path)


def test_count_exceeding_its_total_is_an_error(tmp_path):
    path = _mutate(tmp_path, "value = 67\n", "value = 167\n")
    with pytest.raises(InputError, match="exceeds its total reviews_not_commenced"):
        load_snapshot(path)


def test_unknown_field_is_an_error(tmp_path):
    path = _mutate(tmp_path, "value = 26\n", "value = 26\nvalu = 3\n")
    with pytest.raises(InputError, match="unknown field"):
        load_snapshot(path)


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="not valid TOML"):
        load_snapshot(_write(tmp_path, "[snapshot\n"))
    with pytest.raises(InputError, match="not found"):
        load_snapshot(tmp_path / "nowhere.toml")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no observations files"):
        load_observations(empty)


def test_snapshots_load_oldest_first(tmp_path):
    text = SHIPPED.read_text(encoding="utf-8")
    (tmp_path / "a.toml").write_text(text.replace("as_at = 2024-05-21", "as_at = 2025-05-21"), encoding="utf-8")
    (tmp_path / "b.toml").write_text(text, encoding="utf-8")
    assert [s.as_at.year for s in load_observations(tmp_path)] == [2024, 2025]


def test_an_inconsistency_must_list_figure_names(tmp_path):
    """Found by the long fuzzing mode (make fuzz): `figures = 0` used to end in a TypeError."""
    path = _mutate(tmp_path, 'figures = ["consultations_two_languages"]', "figures = 0")
    with pytest.raises(InputError, match=r"inconsistency\[1\].figures: 0 is not a list of figure names"):
        load_snapshot(path)


def test_parts_may_not_add_up_to_more_than_their_total(tmp_path):
    """Stage counts summing past the reviews advancing (35 + 37 + 6 = 78) are refused."""
    path = _mutate(tmp_path, "value = 35\n", "value = 45\n")
    with pytest.raises(InputError, match=r"sum\[2\].parts: .* = 88 exceeds reviews_advancing = 78"):
        load_snapshot(path)


def test_a_recorded_contradiction_is_not_mistaken_for_an_excess(snapshot):
    # 67 held up + 44 ready (the lower reading of 46) = 111 not commenced: the file loads.
    assert snapshot.value("reviews_held_up_by_nominations") + min(snapshot.figures[("reviews_ready_no_consultation", None)].range) == 111
