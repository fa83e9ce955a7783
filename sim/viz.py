"""A SolaraViz page of the model (Mesa's browser front end), with the optional extra
``loyalty-sim[viz]``::

    uv sync --extra viz              # or: pip install "loyalty-sim[viz]"
    uv run solara run sim/viz.py     # opens http://localhost:8765

Controls choose the strategy, the cohort size and the main market parameters (as the plain
keyword parameters of :class:`~sim.model.LoyaltyModel`); plots are drawn from the model's
``mesa.DataCollector`` month by month: survival of the initial cohort, monthly churn, mean
bond and the loyalty-type shares. ``loyalty-sim explore`` is the project's own what-if page,
which needs no extra and compares every strategy at once.
"""

from __future__ import annotations

from typing import Any

from mesa.visualization import SolaraViz, make_plot_component

from sim.model import LoyaltyModel
from sim.strategy import builtin_strategies

PLOTS: tuple[str | dict[str, str], ...] = (
    "active_initial",
    "churn_rate",
    {"mean_bond": "#0072B2", "mean_rational_value": "#E69F00", "mean_satisfaction": "#009E73"},
    {"share_apostle": "#4477AA", "share_mercenary": "#CCBB44", "share_at_risk": "#EE6677"},
)


def model_params() -> dict[str, Any]:
    """SolaraViz controls, each a keyword parameter of ``LoyaltyModel``."""
    return {
        "strategy": {"type": "Select", "value": "point_card", "values": list(builtin_strategies())},
        "customers": {
            "type": "SliderInt", "value": 2_000, "min": 500, "max": 20_000, "step": 500, "label": "Customers",
        },
        "months": {"type": "SliderInt", "value": 60, "min": 12, "max": 120, "step": 12, "label": "Months"},
        "offer_rate_per_month": {
            "type": "SliderFloat", "value": 0.05, "min": 0.0, "max": 0.3, "step": 0.01,
            "label": "Competitor offers per customer-month",
        },
        "failure_per_month": {
            "type": "SliderFloat", "value": 0.06, "min": 0.0, "max": 0.3, "step": 0.01,
            "label": "Service failures per customer-month",
        },
    }


def make_page(customers: int = 2_000, strategy: str = "point_card") -> Any:
    """The SolaraViz component: a model with the controls' defaults, its plots and controls."""
    params = {name: spec["value"] for name, spec in model_params().items()}
    params.update(customers=customers, strategy=strategy)
    model = LoyaltyModel(rng=1, **params)
    components = [make_plot_component(measure, backend="altair") for measure in PLOTS]
    return SolaraViz(model, components=components, model_params=model_params(), name="loyalty-sim")


page = make_page()  # what `solara run sim/viz.py` serves
