"""The shape of a test file (docs/testing.md), validated by pydantic: an unknown key, a wrong type or
a missing field is an error naming the key's line (LOY750). Amounts are integer minor units, as in
receipt JSON; ``qty`` is a number of units (``0.5`` for weighed goods)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, model_validator

Json = dict[str, Any]


def _aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        raise ValueError("a time needs a UTC offset, e.g. 2026-03-05T12:00:00+03:00")
    return value


Time = Annotated[dt.datetime, AfterValidator(_aware)]

_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


def _duration(value: Any) -> Any:
    """``3 days``, ``6 hours``, ``1 week``, ``30 minutes`` as a timedelta; anything else as it is."""
    if isinstance(value, str):
        amount, _, unit = value.strip().partition(" ")
        seconds = _UNITS.get(unit.strip().removesuffix("s"))
        if amount.isdigit() and seconds is not None:
            return dt.timedelta(seconds=int(amount) * seconds)
        if seconds is not None or (amount.isdigit() and unit.strip().isalpha()):
            raise ValueError(f"a duration is a whole number of minutes, hours, days or weeks, not {value!r}")
    return value


def _span(value: Any) -> Any:
    """A time (with a UTC offset) or a duration (``3 days``)."""
    value = _duration(value)
    if isinstance(value, dt.timedelta) and value.total_seconds() <= 0:
        raise ValueError("a duration is positive")
    return value


Duration = Annotated[dt.timedelta, BeforeValidator(_duration)]
Moment = Annotated[Time | dt.timedelta, BeforeValidator(_span)]


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
    # docs/testing.md, "Events and time": what the trigger chains did at the step
    messages: list[Json] | None = None  # scheduled messages (the keys written of each: channel, at, text, ...)
    actions: list[Json] | None = None  # every scheduled action (messages, accruals, coupons, counters)
    entered: list[str] | None = None  # triggers entered
    left: list[str] | None = None  # chains a purchase or an exit condition ended
    capped: StrictInt | None = None  # messages a frequency cap dropped


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
    advance: Moment | None = None  # a time, or a duration from the clock (`3 days`)
    tax: str | None = None  # docs/commerce.md: the receipt's prices are tax "included" or "excluded"
    expect: Expect = Field(default_factory=Expect)
    rewards: list[str] | None = None  # catalogue rewards chosen (docs/rewards.md)
    stock: dict[str, StrictInt] | None = None  # what each stocked reward has left, programme-wide
    # docs/testing.md, "Events and time": `advance` also takes a duration; `at` a time; `event` a host event
    at: Time | None = None  # the clock moves to this time (a tick there)
    every: Duration | None = None  # with `advance`/`at`: a tick every this long up to the target
    event: Json | None = None  # a host event at the step's `datetime` (or the clock): {event: segment_entered, ...}

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        kinds = [k for k in ("lines", "advance", "at", "event") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a step is a receipt (`lines`), a move of the clock (`advance`, `at`) or a host "
                             "`event`, exactly one")
        given = self.expect.model_fields_set - {"events", "state", *_CHAIN_KEYS}
        if self.lines is None and given:
            raise ValueError(f"a move of the clock or an event gives only `events`, `state` and what the chains do, "
                             f"not `{sorted(given)[0]}`")
        if self.every is not None and self.advance is None and self.at is None:
            raise ValueError("`every` goes with `advance` or `at`")
        if self.event is not None and not isinstance(self.event.get("event"), str):
            raise ValueError("an event names its kind: {event: segment_entered, segment: vip}")
        return self


_CHAIN_KEYS = ("messages", "actions", "entered", "left", "capped")


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
