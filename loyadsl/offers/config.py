"""What `loya offers fit` is told (an optional YAML, `--config`): horizons, RFM bins, how many
affinity neighbours to keep, and the least history worth fitting. Units as in the language."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from . import units
from .errors import BAD_OPTION, OffersError

Days = Annotated[int, BeforeValidator(units.days), Field(ge=1, le=3660)]


class RFMBins(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    recency: list[Days] = [7, 14, 30, 60]  # days since the last purchase
    frequency: list[int] = [2, 5, 10, 20]  # purchase days
    monetary: list[str] = ["50.00", "200.00", "500.00", "1000.00"]  # spend, in the history's currency

    @field_validator("recency", "frequency")
    @classmethod
    def _ascending(cls, edges: list[int]) -> list[int]:
        if not edges or edges != sorted(set(edges)):
            raise ValueError("bins are given as strictly ascending edges")
        return edges

    def money_edges(self, currency: str, minor: int) -> list[int]:
        edges = [units.money(e if " " in e else f"{e} {currency}", currency, minor) for e in self.monetary]
        if not edges or edges != sorted(set(edges)):
            raise OffersError(BAD_OPTION, "rfm.monetary: bins are given as strictly ascending edges")
        return edges


class FitConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    clv_horizon: Days = 365  # CLV and expected purchases over this
    expected_within: Days = 30  # expected purchases reported over this too
    minor: Annotated[int, Field(ge=0, le=4)] = 2  # minor digits of the currency
    neighbours: Annotated[int, Field(ge=1, le=1000)] = 20  # affinity: closest categories kept per category
    affinity_top: Annotated[int, Field(ge=1, le=100)] = 30  # affinity: categories kept per customer
    half_life: Days = 56  # purchase rates per category: a purchase this old counts half
    min_customers: Annotated[int, Field(ge=2)] = 10  # repeat customers needed to fit
    min_days: Days = 28  # history span needed to fit
    next_within: Days = 28  # next categories: the window the ranking is about
    next_windows: Annotated[int, Field(ge=1, le=12)] = 2  # next categories: training windows before the end
    next_popular: Annotated[int, Field(ge=0, le=1000)] = 20  # next categories: popular ones added to candidates
    next_top: Annotated[int, Field(ge=1, le=100)] = 10  # next categories kept per customer
    next_min_purchases: Annotated[int, Field(ge=1)] = 3  # purchase days below which a ranking is flagged (LOY746)
    max_age: Days = 7  # the oldest a model may be when its scores are written or its offers issued (LOY742)
    rfm: RFMBins = RFMBins()


def load_config(path: Path | None) -> FitConfig:
    if path is None:
        return FitConfig()
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        return FitConfig.model_validate(data or {})
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise OffersError(BAD_OPTION, f"cannot read the fit configuration: {exc}", str(path)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise OffersError(BAD_OPTION, f"{where}: {first['msg']}", str(path)) from None
