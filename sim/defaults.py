"""Defaults of a run, declared once: the model, the scenario loader, the CLI and the analyses
read them from here."""

from __future__ import annotations

CUSTOMERS = 10_000  # initial cohort of a run
MONTHS = 60  # horizon of a run: five years, the horizon of the practitioners' claims
SEED = 1  # root seed of a run or a scenario
REPLICATIONS = 20  # replications of a sweep or a claims audit (``loyalty-sim run`` runs one)

# Upper limits, so that a typo (an extra zero, 1e9) is a one-line error before any work rather than
# a sweep that overflows, hangs while planning or runs out of memory. Each is far beyond what a
# study needs and within what a laptop can hold; ``sim.sweep.check_fits`` adds the machine's memory.
MAX_MONTHS = 1_200  # 100 years; months are stored as int16 (exit_month, tenure_months)
MAX_CUSTOMERS = 10_000_000  # per run: about 3 GB of state (sim.sweep.memory_per_run)
MAX_SHARDED_CUSTOMERS = 1_000_000_000  # run --shards: a market of up to MAX_CUSTOMERS per shard
MAX_REPLICATIONS = 10_000
MAX_GRID_POINTS = 10_000  # grid axes x latin hypercube samples; validation builds every point
MAX_RUNS = 200_000  # strategies x grid points x replications: the manifest lists every run
MAX_DEPTH = 16  # nesting of tables and arrays; a scenario needs 5
MAX_NAME_LENGTH = 100  # scenario, strategy and segment names: folder names and table cells
