"""What the differential fuzz tests compare: each receipt's outcome JSON, or the coded error it
raises, so two engines (or two paths of one) agree on refusals as well as on results."""

from __future__ import annotations

from typing import Any

from loyadsl.runtime import Engine, LoyaError


def general_loop(engine: Engine) -> Engine:
    """``engine`` with its generated driver (runtime/driver.py) replaced by the general loop: the exclusive
    campaigns first, then ``Engine._group`` for every group, points per line allocated at once. What
    the driver must agree with; returns the engine."""

    def every_group_the_general_way(r: Any, cu: Any, t: Any) -> None:
        if engine._exclusive and engine._exclusives(r, cu, t, None, None):
            return
        for group in engine.groups:
            engine._group(group, r, cu, t, None, None)

    engine._drive = every_group_the_general_way
    return engine


def outcomes(engine: Engine, receipts: list[dict[str, Any]], explain: bool = False) -> list[Any]:
    out: list[Any] = []
    for receipt in receipts:
        try:
            out.append(engine.evaluate(receipt, explain=explain).to_dict())
        except LoyaError as exc:
            out.append((exc.code, str(exc)))
    return out
