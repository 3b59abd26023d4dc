"""The model file: versioned JSON, canonical (keys sorted, floats to 6 significant digits), so the
same history, configuration and seed give the same bytes. Money in it is integer minor units."""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BAD_MODEL, UNKNOWN_CUSTOMER, OffersError

FORMAT = "loyadsl-offers-model"
VERSION = 1
# the scores a strategy may read, and where they come from
SCORES = ("p_alive", "expected", "clv", "spend", "rfm", "cycles", "affinity", "quarter_spend", "next_categories")


def rounded(value: Any) -> Any:
    """Floats to 6 significant digits, recursively: the file does not depend on the last bits."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded(v) for v in value]
    return value


def minor(value: float) -> int:
    """A predicted amount (a float from a model) as whole minor units, half up."""
    return math.floor(value + 0.5)


def day(ordinal: int | None) -> str | None:
    return None if ordinal is None else dt.date.fromordinal(ordinal).isoformat()


@functools.lru_cache(maxsize=4096)
def ordinal(text: str) -> int:
    """An ISO date of the model as an ordinal (cached: a model has a few hundred distinct dates)."""
    return dt.date.fromisoformat(text).toordinal()


@dataclass
class Model:
    header: dict[str, Any]  # format, version, seed, as_of, currency, config, parameters, categories, ...
    customers: dict[str, dict[str, Any]]

    @property
    def as_of(self) -> int:
        return ordinal(self.header["as_of"])

    @property
    def categories(self) -> list[str]:
        return list(self.header["categories"])

    def customer(self, cid: str) -> dict[str, Any]:
        found = self.customers.get(cid)
        if found is None:
            raise OffersError(UNKNOWN_CUSTOMER, f"customer {cid!r} is not in the model "
                              f"({len(self.customers):,} customers fitted up to {self.header['as_of']})")
        return found

    def to_json(self) -> str:
        data = rounded({**self.header, "customers": self.customers})
        return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n"

    def save(self, path: Path) -> None:
        """Written beside its name and moved into place: never half a model."""
        text = self.to_json().encode("utf-8")
        payload = gzip.compress(text, mtime=0) if path.suffix == ".gz" else text
        fd, tmp = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".partial")
        umask = os.umask(0)
        os.umask(umask)
        try:
            os.chmod(tmp, 0o666 & ~umask)
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> Model:
        try:
            raw = path.read_bytes()
            data = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        except (OSError, ValueError, EOFError) as exc:
            raise OffersError(BAD_MODEL, f"cannot read the model: {exc}", str(path)) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise OffersError(BAD_MODEL, f"not a model file of `loya offers fit` (format {FORMAT!r})", str(path))
        if data.get("version") != VERSION:
            raise OffersError(BAD_MODEL, f"model version {data.get('version')!r}; this loyadsl reads version "
                              f"{VERSION}: fit it again", str(path))
        customers = data.pop("customers", None)
        if not isinstance(customers, dict):
            raise OffersError(BAD_MODEL, "the model has no customers", str(path))
        return cls(data, customers)
