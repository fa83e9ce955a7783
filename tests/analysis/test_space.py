"""Parameter spaces of scenarios: ranges, output names, evaluation with common random numbers."""

from __future__ import annotations

import numpy as np
import pytest

from sim import scenario as scenarios
from sim.analysis.space import AnalysisError, Output, evaluate, groups, parse_outputs, space_of
from sim.executors import LocalPoolExecutor, SerialExecutor


def test_space_reads_the_declared_ranges_in_sorted_order(space_scenario):
    space = space_of(space_scenario(samples=7))
    assert space.names == ("market.gross_margin_share", "market.offers.offer_rate_per_month")
    assert space.lows.tolist() == [0.1, 0.01] and space.highs.tolist() == [0.5, 0.3]
    assert space.samples == 7
    assert space.points(np.array([[0.0, 1.0]])).tolist() == [[0.1, 0.3]]


def test_a_scenario_without_ranges_names_the_file_and_section():
    plain = scenarios.loads('[strategies]\nrare_contact = ["rare_contact"]\n', file="plain.toml")
    expected = r"^plain\.toml: grid\.latin_hypercube: expected parameter ranges"
    with pytest.raises(AnalysisError, match=expected):
        space_of(plain)


def test_outputs_expand_to_every_strategy_or_name_one_or_a_difference(space_scenario):
    chosen = space_scenario()
    assert parse_outputs("cohort_loss", chosen) == (
        Output("cohort_loss", "rare_contact"),
        Output("cohort_loss", "point_card"),
    )
    (difference,) = parse_outputs("margin:point_card-rare_contact", chosen)
    assert difference == Output("margin", "point_card", "rare_contact")
    assert difference.label == "margin:point_card-rare_contact"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cohort_los", "--outputs: unknown outcome 'cohort_los'; expected one of cohort_loss"),
        ("cohort_loss:nobody", "--outputs: 'cohort_loss:nobody' names no strategy"),
        ("cohort_loss:point_card-nobody", "names no strategy"),
    ],
)
def test_unknown_outputs_are_one_line_errors_naming_the_option(space_scenario, text, message):
    with pytest.raises(AnalysisError, match=message) as error:
        parse_outputs(text, space_scenario())
    assert "\n" not in str(error.value)


def test_evaluation_is_paired_across_points_and_identical_for_any_executor(space_scenario):
    chosen = space_scenario(customers=150, months=6)
    space = space_of(chosen)
    outputs = parse_outputs("cohort_loss:rare_contact,margin:rare_contact", chosen)
    # two points that differ only in the gross margin share: same customers, same churn
    points = np.array([[0.1, 0.2], [0.5, 0.2], [0.3, 0.05]])
    serial = evaluate(chosen, space, points, outputs, SerialExecutor(), replications=2)
    with LocalPoolExecutor(workers=2) as executor:
        pooled = evaluate(chosen, space, points, outputs, executor, replications=2)
    np.testing.assert_array_equal(serial, pooled)
    assert serial[0, 0] == serial[1, 0]  # common random numbers: the margin share changes no customer
    assert serial[0, 1] < serial[1, 1]  # but it changes the margin


@pytest.mark.parametrize(
    ("count", "workers", "runs"), [(0, 2, 1), (1, 2, 10), (150, 2, 10), (500, 2, 1), (7, 16, 3)]
)
def test_groups_cover_every_item_once_in_order_shrinking_to_one(count, workers, runs):
    found = groups(count, workers, runs)
    assert [i for group in found for i in group] == list(range(count))
    sizes = [len(group) for group in found]
    assert sizes == sorted(sizes, reverse=True) and all(size * runs <= max(runs, 40) for size in sizes)
    if count >= 4 * workers:
        assert sizes[-1] == 1 and len(found) < count  # balanced at the end, few tasks overall


class _Wide(SerialExecutor):
    workers = 3  # tasks of other sizes than on one worker


def test_evaluation_does_not_depend_on_how_slots_are_grouped_into_tasks(space_scenario):
    chosen = space_scenario(customers=150, months=6)
    outputs = parse_outputs("cohort_loss:rare_contact", chosen)
    points = np.array([[0.1, 0.2], [0.5, 0.2], [0.3, 0.05], [0.2, 0.1], [0.4, 0.15]])
    one = evaluate(chosen, space_of(chosen), points, outputs, SerialExecutor(), replications=3)
    wide = evaluate(chosen, space_of(chosen), points, outputs, _Wide(), replications=3)
    np.testing.assert_array_equal(one, wide)
