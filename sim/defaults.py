"""Defaults of a run, declared once: the model, the scenario loader, the CLI and the analyses
read them from here."""

from __future__ import annotations

CUSTOMERS = 10_000  # initial cohort of a run
MONTHS = 60  # horizon of a run: five years, the horizon of the practitioners' claims
SEED = 1  # root seed of a run or a scenario
REPLICATIONS = 20  # replications of a sweep or a claims audit (``loyalty-sim run`` runs one)
