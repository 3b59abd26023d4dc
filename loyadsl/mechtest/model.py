"""The shape of a test file (docs/testing.md), validated by pydantic: an unknown key, a wrong type or
a missing field is an error naming the key's line (LOY750). Amounts are integer minor units, as in
receipt JSON; ``qty`` is a number of units (``0.5`` for weighed goods)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, model_validator

Json = dict[str, Any]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("a time needs a UTC offset, e.g. 2026-03-05T12:00:00+03:00")
    return value


Time = Annotated[dt.datetime, AfterValidator(_aware)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Strict):
    """What a step must give; only the fields written are compared."""

    applied: list[str] | None = None  # campaigns applied, in order
    rejected: dict[str, str] | None = None  # campaign -> reason, for the campaigns listed
    discount: list[StrictInt] | None = None  # per line, minor units
    points: list[StrictInt] | None = None  # per line
    payable: list[StrictInt] | None = None  # per line
    discount_total: StrictInt | None = None
    points_total: StrictInt | None = None
    payable_total: StrictInt | None = None
    coupons: list[Json] | None = None  # each presented code's status record (the keys written)
    issued: list[str] | None = None  # coupon series issued by the step, in order
    events: list[Json] | None = None  # notices (the keys written of each)
    state: Json | None = None  # the customer state after the step (the keys written)
    tax: Json | None = None  # the outcome's tax report (the keys written; docs/commerce.md)


class Line(_Strict):
    sku: str
    category: str = ""
    brand: str | None = None
    qty: StrictInt | float = 1
    unit_price: StrictInt
    amount: StrictInt | None = None  # default: unit_price x qty, rounded half up
    min_price: StrictInt | None = None
    attrs: dict[str, str] | None = None
    kind: str | None = None  # docs/commerce.md: goods | service | delivery | deposit | correction
    tax_rate: StrictInt | float | None = None  # a percentage


class Step(_Strict):
    """A receipt (``lines`` and its other fields) or a move of the clock (``advance``), and what it gives."""

    lines: list[Line] | None = None
    datetime: Time | None = None  # default: the case's `now`
    store_id: str = "S1"
    channel: str | None = None
    coupons: list[str] | None = None
    redeem: StrictInt | str | None = None
    budgets: dict[str, StrictInt] | None = None  # what each budgeted campaign has left (minor units or points)
    advance: Time | None = None
    tax: str | None = None  # docs/commerce.md: the receipt's prices are tax "included" or "excluded"
    expect: Expect = Field(default_factory=Expect)
    rewards: list[str] | None = None  # catalogue rewards chosen (docs/rewards.md)
    stock: dict[str, StrictInt] | None = None  # what each stocked reward has left, programme-wide

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        if (self.lines is None) == (self.advance is None):
            raise ValueError("a step is a receipt (`lines`) or a move of the clock (`advance`), exactly one")
        given = self.expect.model_fields_set - {"events", "state"}
        if self.advance is not None and given:
            raise ValueError(f"a move of the clock gives only `events` and `state`, not `{sorted(given)[0]}`")
        return self


class TestCase(_Strict):
    name: str
    customer: Json | None = None  # the state before; absent: the file's; null: an anonymous receipt
    now: Time | None = None
    steps: list[Step] = Field(min_length=1)


class TestFile(_Strict):
    """A programme file, or a template with its arguments (the programme is then written around it)."""

    file: str | None = None  # the programme: a .loya or .yaml file, relative to the test file
    template: str | None = None
    import_: str | None = Field(None, alias="import")  # default: the standard mechanic defining `template`
    args: dict[str, bool | StrictInt | str] = Field(default_factory=dict)  # .loya syntax: `100 points`, `["A"]`
    declare: str = ""  # .loya declarations the template needs: accounts, counters, coupons, lists, campaigns
    clauses: str = ""  # clauses of the campaign under test besides the template's: hours, weekdays, limit
    campaign: str = "under_test"  # the name of the campaign under test
    header: str = 'currency RUB minor 2\npoints minor 0 value 1.00 RUB\ntimezone "Europe/Moscow"'
    customer: Json | None = Field(default_factory=lambda: {"id": "C1"})
    now: Time | None = None
    cases: list[TestCase] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_subject(self) -> TestFile:
        if (self.file is None) == (self.template is None):
            raise ValueError("a test file names a programme `file` or a `template`, exactly one")
        return self
