"""What the differential fuzz tests compare: each receipt's outcome JSON, or the coded error it
raises, so two engines (or two paths of one) agree on refusals as well as on results."""

from __future__ import annotations

from typing import Any

from loyadsl.runtime import Engine, LoyaError


def outcomes(engine: Engine, receipts: list[dict[str, Any]], explain: bool = False) -> list[Any]:
    out: list[Any] = []
    for receipt in receipts:
        try:
            out.append(engine.evaluate(receipt, explain=explain).to_dict())
        except LoyaError as exc:
            out.append((exc.code, str(exc)))
    return out
