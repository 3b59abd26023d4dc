"""Anti-fraud flags in a simulation (docs/limits-fraud.md): how many receipts raised each flag, as
the report's ``flags`` section (only for a programme with anti-fraud limits) and its grid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loyadsl.runtime.model import Outcome

if TYPE_CHECKING:
    pass


def count(flags: dict[str, int], outcome: Outcome) -> None:
    for flag in outcome.flags or ():
        name = str(flag["flag"])
        flags[name] = flags.get(name, 0) + 1


def merge(mine: dict[str, int], other: Mapping[str, int]) -> None:
    for name, n in other.items():
        mine[name] = mine.get(name, 0) + n


def section(flags: Mapping[str, int]) -> list[dict[str, Any]]:
    return [{"flag": name, "receipts": n} for name, n in sorted(flags.items())]
