"""Write data/customers-example.csv: 5,000 synthetic customers of a subscription business.

The table has every column ``--population`` reads (docs/customers.md); the values are made up,
in the ranges of the default market (sim.population.DEFAULT_SEGMENTS). Run it again with
``uv run python scripts/make_customers_example.py``; the seed makes the file identical.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import polars as pl

SEED = 2026
CUSTOMERS = 5_000
AS_OF = datetime.date(2026, 1, 1)  # the as_of date of scenarios/own-customers.toml
SEGMENTS = {  # name: (share, median spend in EUR per month, chances of detractor/passive/promoter)
    "bargain_hunters": (0.25, 40.0, (0.45, 0.40, 0.15)),
    "relationship_seekers": (0.35, 55.0, (0.15, 0.35, 0.50)),
    "convenience_buyers": (0.40, 50.0, (0.25, 0.45, 0.30)),
}
OUT = Path(__file__).resolve().parents[1] / "data" / "customers-example.csv"


def main() -> None:
    rng = np.random.default_rng(SEED)
    names = list(SEGMENTS)
    segment = rng.choice(len(names), size=CUSTOMERS, p=[SEGMENTS[n][0] for n in names])
    median = np.array([SEGMENTS[n][1] for n in names])[segment]
    spend = np.round(median * rng.lognormal(0.0, 0.4, CUSTOMERS), 2)
    tenure = np.minimum(rng.geometric(1 / 30, CUSTOMERS) - 1, 240)  # survivors: many young, a long tail
    band_chances = np.array([SEGMENTS[n][2] for n in names])[segment]
    band = (rng.random(CUSTOMERS)[:, None] > np.cumsum(band_chances, axis=1)).sum(axis=1)
    bands = np.array(["detractor", "passive", "promoter"])[np.minimum(band, 2)]
    bands[rng.random(CUSTOMERS) < 0.3] = ""  # not every customer answered the survey
    contract = rng.random(CUSTOMERS) < 0.3
    days = rng.integers(1, 730, CUSTOMERS)
    contract_end = [
        str(AS_OF + datetime.timedelta(days=int(d))) if c else None
        for c, d in zip(contract, days, strict=True)
    ]
    points = np.where(rng.random(CUSTOMERS) < 0.6, np.round(rng.uniform(0.0, 30.0, CUSTOMERS), 2), 0.0)
    table = pl.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(1, CUSTOMERS + 1)],
            "tenure_months": tenure,
            "spend_per_month": spend,
            "segment": np.array(names)[segment],
            "contract_end": contract_end,
            "exit_fee_months": np.where(contract, 2.0, 0.0),
            "points": points,
            "nps_band": [b or None for b in bands.tolist()],
        }
    )
    header = (
        "# 5,000 synthetic customers (made up, not a real firm's): scripts/make_customers_example.py\n"
        "# contract_end counts from as_of = 2026-01-01; empty contract_end = no contract;"
        " empty nps_band = no answer\n"
    )
    OUT.write_text(header + table.write_csv())


if __name__ == "__main__":
    main()
