"""Mesa's own tools: plain keyword parameters, the DataCollector of the outcomes, mesa.batch_run
and the SolaraViz page of the optional extra loyalty-sim[viz], rendered headless."""

from __future__ import annotations

import polars as pl
import pytest
from mesa.batchrunner import batch_run

from sim.market import Market
from sim.mechanisms.offers import OffersParams
from sim.mechanisms.service import ServiceParams
from sim.mesa_tools import KeywordError, parameter_paths
from sim.model import LoyaltyModel
from sim.strategy import ProgramSpec, Strategy


def test_keyword_parameters_build_the_same_model_as_objects():
    by_keywords = LoyaltyModel(
        "point_card", customers=800, months=12, rng=4, offer_rate_per_month=0.1, gross_margin_share=0.4,
        **{"programs.point_card.reward_share_of_spend": 0.03, "service.failure_per_month": 0.08},
    ).run()
    card = Strategy("point_card", (ProgramSpec("point_card", {"reward_share_of_spend": 0.03}),))
    market = Market(
        offers=OffersParams(offer_rate_per_month=0.1),
        service=ServiceParams(failure_per_month=0.08),
        gross_margin_share=0.4,
    )
    by_objects = LoyaltyModel(card, market, 800, 12, rng=4).run()
    assert by_keywords.monthly.equals(by_objects.monthly)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"offer_rate_per_montth": 0.1}, "'offer_rate_per_montth'; did you mean 'offer_rate_per_month'?"),
        ({"offer_rate_per_month": 2.0}, "market.offers.offer_rate_per_month: must be in [0, 1], got 2.0"),
        ({"market.offers.nope": 1.0}, "market.offers.nope: expected a known parameter"),
    ],
)
def test_bad_keyword_parameters_are_one_line_errors(parameters, message):
    with pytest.raises(KeywordError) as caught:
        LoyaltyModel("rare_contact", customers=100, months=2, **parameters)
    assert message in str(caught.value)


def test_a_name_in_two_sections_must_be_given_as_a_path():
    strategy = Strategy("both", (ProgramSpec("point_card"), ProgramSpec("lock_in_contract")))
    clashes = {n: p for n, p in parameter_paths(strategy, ["word_of_mouth"]).items() if len(p) > 1}
    name, paths = sorted(clashes.items())[0]
    expected = f"'{name}' is a parameter of {', '.join(paths)}; name one of them"
    with pytest.raises(KeywordError, match=expected):
        LoyaltyModel(strategy, customers=100, months=2, behaviours=["word_of_mouth"], **{name: 1})


def test_the_datacollector_holds_the_monthly_table():
    model = LoyaltyModel("personal_appreciation", customers=500, months=6, behaviours=["word_of_mouth"])
    result = model.run()
    collected = pl.from_pandas(model.datacollector.get_model_vars_dataframe())
    assert collected.columns == result.monthly.columns  # plugins' reporters included
    assert collected.cast(result.monthly.schema).equals(result.monthly)
    assert not model.running


def test_batch_run_sweeps_plain_parameters_over_seeds():
    results = batch_run(
        LoyaltyModel,
        parameters={"strategy": ["rare_contact", "personal_appreciation"], "customers": 600, "months": 12,
                    "offer_rate_per_month": [0.02, 0.1]},
        rng=[1, 2],
        data_collection_period=-1,
        display_progress=False,
    )
    frame = pl.DataFrame(results)
    assert frame.height == 8 and set(frame["Step"]) == {12}
    assert set(frame["strategy"]) == {"rare_contact", "personal_appreciation"}
    # common random numbers: with the same seed, both strategies start from the same customers
    again = LoyaltyModel("rare_contact", customers=600, months=12, rng=1, offer_rate_per_month=0.1).run()
    row = frame.filter((pl.col("strategy") == "rare_contact") & (pl.col("offer_rate_per_month") == 0.1)
                       & (pl.col("iteration") == 0))
    assert row["active_initial"][0] == again.monthly["active_initial"][-1]


def test_the_solaraviz_page_renders_headless_and_plots_the_collected_months():
    import solara  # the optional extra loyalty-sim[viz], installed with the dev dependencies

    from sim import viz

    page = viz.make_page(customers=300)
    box, _ = solara.render(page, handle_error=False)
    assert box is not None
    model = LoyaltyModel(customers=300, months=12, rng=1, **{
        k: v["value"] for k, v in viz.model_params().items() if k not in ("customers", "months")
    })
    for _ in range(3):
        model.step()
    for measure in viz.PLOTS:
        component, _page = viz.make_plot_component(measure, backend="altair")
        rendered, _context = solara.render(component(model), handle_error=False)
        assert rendered is not None
