"""Types with units: what keeps rubles, points, percentages and quantities apart.

Every numeric type maps to an integer scale at run time (money: minor units, points: point minor
units, percent: millionths of the whole, quantity: thousandths); the scale lives in the checker, so
the bytecode only ever sees integers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    name: str  # money points percent quantity count number duration string bool set
    domain: str | None = None  # for strings and sets: sku, category, brand, store, channel, segment, ...

    def __str__(self) -> str:
        if self.name == "set":
            return f"set of {self.domain}s" if self.domain else "set"
        if self.name == "string" and self.domain:
            return f"string ({self.domain})"
        return self.name

    @property
    def numeric(self) -> bool:
        return self.name in NUMERIC


MONEY = Type("money")
POINTS = Type("points")
PERCENT = Type("percent")
QUANTITY = Type("quantity")
COUNT = Type("count")
NUMBER = Type("number")  # a bare literal with decimals, before it adopts a unit
DURATION = Type("duration")
STRING = Type("string")
BOOL = Type("bool")

NUMERIC = frozenset({"money", "points", "percent", "quantity", "count", "number", "duration"})

PPM = 1_000_000  # percent scale: 10% is 100_000
QTY_SCALE = 1000  # quantity scale: 1.5 kg is 1500

# List kinds (and template parameter set types) -> element domain.
LIST_DOMAINS = {
    "skus": "sku",
    "stores": "store",
    "categories": "category",
    "brands": "brand",
    "channels": "channel",
    "strings": None,
    "segments": "segment",
}

SCALAR_PARAM_TYPES = {
    "money": MONEY,
    "points": POINTS,
    "percent": PERCENT,
    "quantity": QUANTITY,
    "count": COUNT,
    "string": STRING,
    "bool": BOOL,
    "duration": DURATION,
}


def string_of(domain: str | None) -> Type:
    return Type("string", domain)


def set_of(domain: str | None) -> Type:
    return Type("set", domain)


def param_type(type_name: str) -> Type | None:
    if type_name in SCALAR_PARAM_TYPES:
        return SCALAR_PARAM_TYPES[type_name]
    if type_name in LIST_DOMAINS:
        return set_of(LIST_DOMAINS[type_name])
    return None


def domains_compatible(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b
