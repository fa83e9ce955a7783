"""The one exception type for user mistakes.

Anything a user can fix (a scenario file, an option, a curve, a results folder) raises a
subclass of :class:`UserError`: the command line prints its message on one line and exits
with code 2. Every other exception is a bug or a failed piece of work: exit code 1, one line,
and a pointer to ``LOYALTY_SIM_DEBUG=1`` for the traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input: the message names the file, key or option, what was expected and what was found."""


class OptionError(UserError, ValueError):
    """A command-line option (or its library argument) with a value that cannot be used."""


def debugging() -> bool:
    """Whether ``LOYALTY_SIM_DEBUG`` is set (to anything but ``""`` or ``0``): then every error
    that is otherwise reported on one line also prints its traceback."""
    import os

    return os.environ.get("LOYALTY_SIM_DEBUG", "") not in ("", "0")
