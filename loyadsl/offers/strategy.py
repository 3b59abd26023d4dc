"""Offer strategies, declared in YAML and validated by these pydantic models (docs/offers.md,
"Strategies"). Units are the language's: `10%`, `1200.00 RUB`, `14 days`; money becomes integer minor
units, percentages exact Decimals. The `.loya` syntax for strategies comes later; this is its YAML form.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from string import Formatter
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from . import units
from .errors import BAD_STRATEGY, OffersError

Days = Annotated[int, BeforeValidator(units.days), Field(ge=0, le=3660)]
Percent = Annotated[Decimal, BeforeValidator(units.percent)]
Probability = Annotated[Decimal, Field(ge=0, le=1)]
WORDS = {"discount", "category", "offer", "valid_to", "gap", "code"}  # what a message may say
Name = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)]


class Target(StrEnum):
    due = "due"  # categories whose next purchase is due (cycles)
    affinity = "affinity"  # the customer's top affinity categories
    fixed = "fixed"  # the categories listed
    customer = "customer"  # no category: an offer on the whole receipt


class When(BaseModel):
    """The rules an offer needs, all of them (absent: no condition). Money is text until the strategy
    knows its currency (``Strategy.money``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    due_within: Days | None = None  # the category's next purchase is due within this many days (either side)
    not_bought_within: Days | None = None  # the category was not bought in this many days (or never)
    affinity_top: Annotated[int, Field(ge=1, le=100)] | None = None  # among the customer's k best
    p_alive_below: Probability | None = None
    p_alive_at_least: Probability | None = None
    clv_quantile_at_least: Probability | None = None  # the customer's CLV is at least this quantile's
    total_quantile_at_least: Probability | None = None  # their spend so far is at least this quantile's
    tier_threshold: str | None = None  # with tier_gap_at_most: the next level's threshold this quarter
    tier_gap_at_most: str | None = None  # spend still needed to reach it, more than 0 and at most this
    birthday_within: Days | None = None  # the customer's birthday is within this many days (needs --customers)
    min_purchases: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _tier_pair(self) -> When:
        if (self.tier_threshold is None) != (self.tier_gap_at_most is None):
            raise ValueError("tier_threshold and tier_gap_at_most go together")
        return self


class Offer(BaseModel):
    """A template: what is offered, to whom, for how long, and what the customer and cashier read."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Name
    # the coupon series the programme declares (its campaign gives the discount), or one series per
    # category (a campaign's goods are fixed in the programme): categories without one are not offered
    coupon: Name | dict[str, Name]
    discount: Percent | None = None  # a percentage off the category (or the receipt)
    amount: str | None = None  # or an amount off, e.g. 5.00 USD
    valid: Days = 14
    target: Target = Target.due
    categories: list[str] = []  # with target fixed: these; otherwise an optional filter
    top: Annotated[int, Field(ge=1, le=20)] = 1  # at most this many categories of this template per customer
    when: When = When()
    message: str = "{discount} off {category} until {valid_to}"
    cashier: str = "Personal offer {offer}: {discount} {category}"
    code_prefix: Annotated[str, Field(pattern=r"^[A-Z0-9-]{0,12}$")] = "OFF-"

    @model_validator(mode="after")
    def _one_value(self) -> Offer:
        if (self.discount is None) == (self.amount is None):
            raise ValueError("give one of discount (a percentage) and amount (money off)")
        if self.target is Target.fixed and not self.categories:
            raise ValueError("target fixed needs categories")
        if isinstance(self.coupon, dict) and self.target is Target.customer:
            raise ValueError("an offer on the whole receipt has one coupon series, not one per category")
        for text in (self.message, self.cashier):
            try:
                names = {name for _, name, _, _ in Formatter().parse(text) if name is not None}
            except ValueError as exc:
                raise ValueError(f"{text!r}: {exc}") from None
            if not names <= WORDS:
                raise ValueError(f"{text!r} uses {sorted(names - WORDS)}; the words are {sorted(WORDS)}")
        return self


class Strategy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    strategy: Name
    title: str = ""
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    minor: Annotated[int, Field(ge=0, le=4)] = 2
    max_per_customer: Annotated[int, Field(ge=1, le=50)] = 1
    budget: str | None = None  # the most the offers may cost in total (estimated), e.g. 5000.00 USD
    holdout: Percent = Decimal(10)  # share of customers who get nothing, for measuring (hash of salt, id)
    salt: str | None = None  # the holdout's salt (default: the strategy's name)
    offers: Annotated[list[Offer], Field(min_length=1)]

    @model_validator(mode="after")
    def _money_and_names(self) -> Strategy:
        names = [o.name for o in self.offers]
        if len(set(names)) != len(names):
            raise ValueError(f"offer names must be distinct: {names}")
        for text in [self.budget, *(o.amount for o in self.offers),
                     *(v for o in self.offers for v in (o.when.tier_threshold, o.when.tier_gap_at_most))]:
            if text is not None:
                units.money(text, self.currency, self.minor)
        return self

    def series(self, offer: Offer, category: str | None) -> str:
        """The coupon series of an offer on ``category``."""
        return offer.coupon if isinstance(offer.coupon, str) else offer.coupon[category or ""]

    def money(self, text: str) -> int:
        return units.money(text, self.currency, self.minor)

    @property
    def holdout_buckets(self) -> int:
        """The holdout's share in basis points (experiments.BUCKETS is 100 %)."""
        return int(self.holdout * 100)


def parse_strategy(data: Any, where: str) -> Strategy:
    try:
        return Strategy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise OffersError(BAD_STRATEGY, f"{path}: {message}" if path else message, where) from None


def load_strategy(path: Path) -> Strategy:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise OffersError(BAD_STRATEGY, f"cannot read the strategy: {exc}", str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise OffersError(BAD_STRATEGY, f"not valid YAML: {getattr(exc, 'problem', exc)}", where) from None
    return parse_strategy(data, str(path))
