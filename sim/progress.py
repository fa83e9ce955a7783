"""Progress of long commands on stderr: a bar on a terminal, plain log lines anywhere else.

The rate and the ETA count from when the command started work (worker start-up included), not
from the first finished run, so they neither sit at "-:--" through start-up nor jump once the
workers are warm. When stderr is not a terminal (CI logs, notebooks, ``2> file``) one line is
written every ``LOG_EVERY_SECONDS`` (none for a command done sooner) and one at the end::

    sweep show: 12/27 runs (44%), 0.8 runs/s, elapsed 0:00:15, ETA 0:00:19
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import IO

LOG_EVERY_SECONDS = 10.0


def clock(seconds: float) -> str:
    """``75.4`` as ``0:01:15``."""
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class Progress:
    """``with Progress("sweep x", "runs") as p: p.update(done, total)``; ``describe`` renames it."""

    def __init__(
        self, label: str, unit: str = "runs", stream: IO[str] | None = None, every: float = LOG_EVERY_SECONDS
    ) -> None:
        self.label, self.unit, self.every = label, unit, every
        self.stream = stream or sys.stderr
        self.started = time.monotonic()
        self.done, self.total = 0, None
        self._logged_at: float | None = None
        self._bar = None
        self._task = None

    # --- figures -------------------------------------------------------------------------------

    def rate(self) -> float | None:
        """Finished units per second since the start (start-up included)."""
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if self.done and elapsed > 0 else None

    def eta(self) -> float | None:
        rate = self.rate()
        return (self.total - self.done) / rate if rate and self.total is not None else None

    def line(self) -> str:
        elapsed = clock(time.monotonic() - self.started)
        if self.total is None:
            return f"{self.label}: starting, elapsed {elapsed}"
        share = f" ({self.done / self.total:.0%})" if self.total else ""
        rate, eta = self.rate(), self.eta()
        speed = f", {rate:.2g} {self.unit}/s" if rate else ""
        left = f", ETA {clock(eta)}" if eta is not None else ", ETA: after the first finishes"
        return f"{self.label}: {self.done}/{self.total} {self.unit}{share}{speed}, elapsed {elapsed}{left}"

    # --- output --------------------------------------------------------------------------------

    def __enter__(self) -> Progress:
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, TextColumn
            from rich.progress import Progress as Bar

            console = Console(file=self.stream, soft_wrap=True)
            self._bar = Bar(BarColumn(), TextColumn("{task.description}"), console=console, transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task(self.line(), total=None)
        return self

    def update(self, done: int, total: int | None = None) -> None:
        self.done = done
        if total is not None:
            self.total = total
        if self._bar is not None:
            self._bar.update(self._task, completed=done, total=self.total, description=self.line())
        elif time.monotonic() - (self._logged_at or self.started) >= self.every:
            self._log()  # a command that finishes within ``every`` seconds logs nothing

    def advance(self, step: int = 1) -> None:
        self.update(self.done + step)

    def describe(self, label: str) -> None:
        self.label = label
        if self._bar is not None:
            self._bar.update(self._task, description=self.line())

    def _log(self) -> None:
        print(self.line(), file=self.stream, flush=True)
        self._logged_at = time.monotonic()

    def stop(self) -> None:
        """Take the bar off the screen (before a message); log lines need no stopping."""
        if self._bar is not None:
            self._bar.stop()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, error, trace)
        elif kind is None and self._logged_at is not None and self.total and self.done:
            self._log()  # the last line says it finished
