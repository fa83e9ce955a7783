"""The console script ``loyalty-sim``: importing the command line takes a few seconds (NumPy,
polars, Mesa), and a Ctrl-C meanwhile ends with one line and exit code 130, not a traceback of
the import machinery. Everything else is :func:`sim.cli.main`."""

from __future__ import annotations

import os
import sys

EXIT_INTERRUPTED = 130


def main() -> None:
    try:
        from sim.cli import main as command_line
    except KeyboardInterrupt:
        if os.environ.get("LOYALTY_SIM_DEBUG"):
            raise
        sys.stderr.write("interrupted\n")
        raise SystemExit(EXIT_INTERRUPTED) from None
    command_line()
