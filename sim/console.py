"""The console script ``loyalty-sim``: importing the command line takes a few seconds (NumPy,
polars, Mesa), and a Ctrl-C meanwhile (or while Typer builds the commands, before one handles
Ctrl-C itself) ends with one line and exit code 130, not a traceback. Everything else is
:func:`sim.cli.main`.

When the command has finished, the process ends at once (``os._exit``) instead of tearing the
interpreter down: unloading numba's compiled kernels and some 2,000 modules (Mesa's pandas,
SciPy, networkx) takes about 0.4 s of CPU, a tenth of ``loyalty-sim run``'s own work at a
million customers, and does nothing a command needs. Every command closes and flushes what it
writes before it returns (``sim.io.write_atomic`` syncs files; executors are closed by their
``with``); the standard streams are flushed here. With other threads still running (none of
the commands leaves one), the process exits the ordinary way.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading

EXIT_INTERRUPTED = 130


def main() -> None:
    try:
        from sim.cli import main as command_line

        # Typer builds every command from its signature before one runs: a Ctrl-C there too
        command_line()
        code = 0
    except KeyboardInterrupt:
        if os.environ.get("LOYALTY_SIM_DEBUG"):
            raise
        sys.stderr.write("interrupted\n")
        raise SystemExit(EXIT_INTERRUPTED) from None
    except SystemExit as done:
        if not isinstance(done.code, int | None):
            raise
        code = done.code or 0
    _exit(code)


def _exit(code: int) -> None:
    """End the process with ``code`` without the interpreter's teardown (see the module)."""
    if threading.active_count() > 1:
        raise SystemExit(code)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a reader that went away (| head): nothing reaches it
            stream.flush()
    os._exit(code)
