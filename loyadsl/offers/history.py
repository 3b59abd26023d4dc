"""A purchase history as the models need it: per customer, their purchase days in order, each with
what was spent (minor units) in total and per category. Receipts are read by the simulator's reader
(JSONL, CSV, Parquet through a column mapping: docs/simulate.md), so the same files and mappings work.
Several receipts of one customer on one day are one purchase (as in the BG/NBD literature)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from loyadsl.simulate.inputs import Bad, read_receipts
from loyadsl.simulate.mapping import Mapping


class Visit(NamedTuple):
    """One customer's purchases of one local day."""

    day: int  # proleptic ordinal of the local date
    amount: int  # minor units, every line
    categories: dict[str, int]  # minor units per category (lines without a category are left out)


@dataclass
class History:
    """Visits by customer (each list in day order), and what was read but not used."""

    visits: dict[str, list[Visit]] = field(default_factory=dict)
    currency: str | None = None
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count

    @property
    def first_day(self) -> int:
        return min(v[0].day for v in self.visits.values())

    @property
    def last_day(self) -> int:
        return max(v[-1].day for v in self.visits.values())

    def purchases(self) -> int:
        return sum(len(v) for v in self.visits.values())

    def window(self, start: int | None = None, end: int | None = None) -> History:
        """The visits on days in [start, end) (None: open)."""
        lo, hi = start if start is not None else -1, end if end is not None else 10**9
        kept = {c: [v for v in vs if lo <= v.day < hi] for c, vs in self.visits.items()}
        return History({c: vs for c, vs in kept.items() if vs}, self.currency, dict(self.skipped))


def local_day(text: str) -> int:
    """The local date (as written, with its offset) of an ISO 8601 time, as an ordinal."""
    return dt.datetime.fromisoformat(text).date().toordinal()


def from_receipts(receipts: Iterable[dict[str, Any]]) -> History:
    """Purchases of known customers (returns and anonymous receipts are counted as skipped)."""
    history = History()
    days: dict[str, dict[int, Visit]] = {}
    for receipt in receipts:
        customer = receipt.get("customer_id")
        if "return_of" in receipt or not customer:
            reason = "return" if "return_of" in receipt else "anonymous"
            history.skipped[reason] = history.skipped.get(reason, 0) + 1
            continue
        history.currency = history.currency or receipt.get("currency")
        day = local_day(receipt["datetime"])
        visit = days.setdefault(customer, {}).get(day) or Visit(day, 0, {})
        amount, cats = visit.amount, visit.categories
        for line in receipt.get("lines", ()):
            amount += line["amount"]
            if line.get("category"):
                cats[line["category"]] = cats.get(line["category"], 0) + line["amount"]
        days[customer][day] = Visit(day, amount, cats)
    history.visits = {c: [by_day[d] for d in sorted(by_day)] for c, by_day in sorted(days.items())}
    return history


def read_history(paths: Sequence[str | Path], mapping: Mapping | None = None) -> History:
    """Read receipt files into a history; records the reader refuses are counted by their code."""
    bad: dict[str, int] = {}

    def good() -> Iterable[dict[str, Any]]:
        for item in read_receipts(list(paths), mapping):
            if isinstance(item, Bad):
                bad[item.code] = bad.get(item.code, 0) + 1
            else:
                yield item.receipt

    history = from_receipts(good())
    for code, count in bad.items():
        history.skipped[code] = count
    return history
