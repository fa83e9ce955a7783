"""Files on disk: atomic, durable writes. Imports nothing from the model or the runs."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry is on disk (power cuts).
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write through ``write(tmp)``, fsync, and rename, so a reader never sees a half-written file.

    The file's data and its directory entry are flushed to disk before returning, so a power cut
    leaves either the old file or the whole new one.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_directory(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
