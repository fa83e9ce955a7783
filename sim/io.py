"""Files on disk: atomic, durable writes. Imports nothing from the model or the runs."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

from sim.errors import UserError


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
    leaves either the old file or the whole new one. Missing parent folders are created.
    """
    path = Path(path)
    # check_output accepts a path under folders still to be made; make them here, at the write
    path.parent.mkdir(parents=True, exist_ok=True)
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


# --- inputs and outputs checked before any work -----------------------------------------------

MAX_INPUT_BYTES = 1_000_000  # a scenario file or a curve is a few kB; 1 MB leaves room for comments


class PathError(UserError):
    """An input that is not a readable regular file, or an output that cannot be written."""

    def __init__(self, path: str | Path, expected: str, found: str) -> None:
        self.path, self.expected, self.found = str(path), expected, found
        super().__init__(f"{path}: expected {expected}, found {found}")


def _kind(mode: int) -> str:
    kinds = (
        (stat.S_ISREG, "a file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def read_input(path: str | Path, what: str = "file", limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; a :class:`PathError` otherwise.

    A named pipe, a device (``/dev/zero``) or a directory is refused before it is opened, so a
    read can neither block forever nor fill the memory.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise PathError(path, f"an existing {what}", "no such file") from None
    except OSError as error:
        raise PathError(path, f"a readable {what}", error.strerror or str(error)) from None
    if not stat.S_ISREG(mode):
        raise PathError(path, f"a {what}", _kind(mode))
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as error:
        raise PathError(path, f"a readable {what}", error.strerror or str(error)) from None
    if len(data) > limit:
        raise PathError(path, f"a {what} of at most {limit:,} bytes", "a larger file")
    return data


def decode_text(data: bytes, path: str | Path, save_as: str = "UTF-8") -> str:
    """``data`` as UTF-8 text; a byte order mark (spreadsheets write one) is skipped. Other
    encodings are refused with a :class:`PathError`; a UTF-16 file is told to be saved as
    ``save_as`` (a spreadsheet's "CSV UTF-8", say)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            found = f"UTF-16 text ('Unicode text'): save it as {save_as}"
        else:
            found = f"bytes that are not UTF-8 text ({error.reason} at byte {error.start:,})"
        raise PathError(path, "a readable UTF-8 text file", found) from None


def spreadsheet_delimiter(header: str) -> str:
    """The cell separator of a CSV whose first line is ``header``: ';' where a spreadsheet set
    to German (or French, ...) saved it, with decimal commas in the numbers; ',' otherwise."""
    return ";" if ";" in header and "," not in header else ","


def decimal_number(cell: str, delimiter: str) -> float:
    """A number cell of a CSV separated by ``delimiter``: '0,63' is 0.63 in a ';' file (whose
    dots are left as they are, so a number is never read as another); ValueError otherwise."""
    return float(cell.replace(",", ".") if delimiter == ";" else cell)


def _name_max(directory: Path) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # Windows has no pathconf
        return 255


def _exists(path: Path) -> bool:
    try:
        os.stat(path)
    except OSError:  # missing, or a name too long to look up: checked by name below
        return False
    return True


def check_output(path: str | Path, option: str, directory: bool = True) -> None:
    """Raise a :class:`PathError` naming ``option`` unless ``path`` can be written: a directory
    (or a file, ``directory=False``) that exists and is writable, or can be created under the
    nearest existing folder. Creates nothing, so a bad path fails before any work."""
    path = Path(path)
    target = "a writable directory" if directory else "a writable file path"
    label = f"{option} {path}"
    absolute = Path(os.path.abspath(path))
    existing = absolute
    while not _exists(existing) and existing != existing.parent:
        existing = existing.parent
    limit = _name_max(existing if existing.is_dir() else existing.parent)
    for part in absolute.parts:
        if len(os.fsencode(part)) > limit:
            raise PathError(label, target, f"a name of {len(os.fsencode(part))} bytes (at most {limit})")
    if existing == absolute:
        if directory and not absolute.is_dir():
            raise PathError(label, target, _kind(absolute.stat().st_mode) if absolute.exists() else "nothing")
        if not directory and absolute.is_dir():
            raise PathError(label, target, "a directory")
        writable = absolute if directory else absolute.parent
        if not os.access(writable, os.W_OK | os.X_OK):
            raise PathError(label, target, f"{writable} is read-only or not ours to write")
        return
    if not existing.is_dir():
        raise PathError(label, target, f"a path under {existing}, which is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PathError(label, target, f"{existing} is read-only or not ours to write")
