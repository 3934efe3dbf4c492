"""carbonclock's exceptions and warnings.

Every failure carbonclock reports is a :class:`Error`; its subclass says what kind of failure it
is (the CLI maps the same kinds to its exit codes) and its message is the CLI's message, word
for word.
"""

from __future__ import annotations


class Error(Exception):
    """A failure carbonclock reports; ``str(error)`` is the CLI's message."""

    #: The kind of failure, as the CLI names it.
    code = "error"


class InvalidInputError(Error, ValueError):
    """A bad option or value, a malformed file or response (the CLI exits 2)."""

    code = "invalid input"


class NotFoundError(Error, LookupError):
    """A run, zone, series or data that does not exist (the CLI exits 3)."""

    code = "not found"


class IoError(Error, OSError):
    """The operating system refused a read or write, or the database failed (the CLI exits 4)."""

    code = "I/O error"


class UnavailableError(Error, RuntimeError):
    """A provider, device or service could not be reached or answered an error (exit 5)."""

    code = "unavailable"


class InternalError(Error, RuntimeError):
    """A broken invariant: a bug in carbonclock, please report it (exit 70)."""

    code = "internal error"


class CarbonclockWarning(UserWarning):
    """Something went wrong but carbonclock went on (the CLI prints ``warning:`` lines)."""


class MeteringWarning(CarbonclockWarning):
    """A sensor is missing or partial (no NVML, RAPL unreadable): metering goes on without it,
    or with a labelled estimate, exactly as ``carbonclock run`` does."""
