"""The simulator's failures, each a ``LoyaError`` with a registered LOY6xx code (runtime/codes.py).

Two kinds, because they exit differently (docs/simulate.md, "Errors and exit codes"):

* ``SimulationError`` and its subclasses: the run cannot start or cannot go on (an input file that
  cannot be read, a bad mapping or assertion, a customers file that cannot be used, programmes that
  cannot be compared, a worker that died, an interruption). Nothing is written; the CLI exits 2
  (``Interrupted``: 128 + the signal's number).
* ``RecordError`` and its subclasses: one record cannot be used. It is quarantined with its code and
  the run goes on; only ``--strict`` stops at it (``StrictError``, exit 1).
"""

from __future__ import annotations

import signal
from typing import Any, ClassVar

from loyadsl.runtime.errors import LoyaError


class SimulationError(LoyaError):
    """The run cannot start or go on (exit 2): a backend that is not installed, a cluster that
    cannot be reached, a customers file that cannot be used (LOY608)."""

    default: ClassVar[str] = "LOY608"

    def __init__(self, message: str, where: str | None = None, code: str | None = None) -> None:
        super().__init__(code or self.default, message, where)


class InputError(SimulationError):
    """A history file cannot be read at all (missing, unknown format, damaged compression, not
    Parquet), or the quarantine cannot be written (LOY600)."""

    default = "LOY600"


class MappingError(SimulationError):
    """The column mapping cannot be used: an unknown field, a column the file lacks, a bad option.
    The message names the place (``--map``, ``MAP.yaml: scale.amount``, the data file) (LOY601)."""

    default = "LOY601"


class AssertionSyntaxError(SimulationError):
    """An assertion that cannot be read or does not name a report figure (LOY602)."""

    default = "LOY602"


class BackendError(SimulationError):
    """The backend cannot run the partitions: dask is not installed, the scheduler cannot be
    reached (LOY609)."""

    default = "LOY609"


class DiffError(SimulationError):
    """OLD and NEW cannot be compared (money in different currencies) (LOY610)."""

    default = "LOY610"


class WorkerDied(SimulationError):
    """A worker process died (killed by a signal, out of memory) while doing ``what`` (LOY611)."""

    default = "LOY611"

    def __init__(self, what: str, how: str) -> None:
        super().__init__(f"a worker process died ({how}) while {what}; nothing was written")


class Interrupted(SimulationError):
    """The run got SIGTERM or SIGINT: the workers were stopped and the temporary files removed (LOY612)."""

    default = "LOY612"

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}: the workers were stopped and the "
                         "temporary files removed; nothing was written")


class RecordError(LoyaError):
    """One record cannot be used; quarantined with its code (LOY603 by default: unreadable)."""

    default: ClassVar[str] = "LOY603"

    def __init__(self, message: str, where: str | None = None, code: str | None = None) -> None:
        super().__init__(code or self.default, message, where)


class FieldError(RecordError):
    """One value cannot be converted by the mapping; ``where`` is its path in the receipt
    (``lines[2].amount``) (LOY604)."""

    default = "LOY604"

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message, where)


class Problem(RecordError):
    """A receipt the replay cannot use (the return of an unknown receipt, LOY607)."""

    default = "LOY607"


class Skipped(RecordError):
    """A record left out because of another one: the return of a quarantined receipt (LOY613)."""

    default = "LOY613"


class StrictError(LoyaError):
    """``--strict`` met a bad record (``bad``: an ``inputs.Bad``): a finding (exit 1), reported with
    the record's own code, where and why."""

    def __init__(self, bad: Any) -> None:
        super().__init__(bad.code, bad.reason, bad.source)
        self.bad = bad
