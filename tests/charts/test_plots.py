"""sim.plots: the report's charts from frames, without building style objects."""

from __future__ import annotations

from sim import plots


def _domain(spec: dict) -> list[str]:
    """The strategy colour scale's domain, wherever the chart's encoding holds it."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            scale = node.get("scale") if node.get("field") == "strategy" else None
            if isinstance(scale, dict) and "domain" in scale:
                found.append(scale["domain"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec)
    return found[0]


def test_charts_from_frames_take_the_baseline_from_the_summary(monthly, summary, grid_summary):
    assert _domain(plots.cohort_loss(summary).to_dict())[0] == "base"
    assert _domain(plots.grid(grid_summary).to_dict())[0] == "base"
    for draw in (plots.survival, plots.churn):
        spec = draw(monthly, baseline="bond", lang="de").to_dict()
        assert _domain(spec)[0] == "bond"
    # loyalty types are coloured by type, not by strategy
    assert "bond" in str(plots.loyalty_types(monthly, baseline="bond").to_dict())
    projected = plots.metric(monthly, "churn_rate", projector=True).to_dict()
    plain = plots.metric(monthly, "churn_rate").to_dict()
    plain_size = plain["config"].get("axis", {}).get("labelFontSize", 11)
    assert projected["config"]["axis"]["labelFontSize"] > plain_size


def test_without_a_baseline_the_first_strategy_is_it(monthly):
    assert _domain(plots.survival(monthly).to_dict())[0] == "base"
