"""The console script ``loyalty-sim``: importing the command line takes a few seconds (NumPy,
polars, Mesa), and a Ctrl-C meanwhile (or while Typer builds the commands, before one handles
Ctrl-C itself) ends with one line and exit code 130, not a traceback. Everything else is
:func:`sim.cli.main`."""

from __future__ import annotations

import os
import sys

EXIT_INTERRUPTED = 130


def main() -> None:
    try:
        from sim.cli import main as command_line

        # Typer builds every command from its signature before one runs: a Ctrl-C there too
        command_line()
    except KeyboardInterrupt:
        if os.environ.get("LOYALTY_SIM_DEBUG"):
            raise
        sys.stderr.write("interrupted\n")
        raise SystemExit(EXIT_INTERRUPTED) from None
