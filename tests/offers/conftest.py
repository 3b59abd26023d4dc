"""Shared fixtures of the offers tests: the synthetic shop (data/make_history.py) fitted once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loyadsl.offers.config import FitConfig
from loyadsl.offers.fit import fit
from loyadsl.offers.history import History, read_history
from loyadsl.offers.model import Model

DATA = Path(__file__).parent / "data"
NOW = dt.datetime(2025, 6, 21, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def shop_data() -> Path:
    return DATA


@pytest.fixture(scope="session")
def shop_now() -> dt.datetime:
    return NOW


@pytest.fixture(scope="session")
def shop_history() -> History:
    return read_history([DATA / "history.jsonl"])


@pytest.fixture(scope="session")
def shop_model(shop_history: History) -> Model:
    return fit(shop_history, FitConfig(), seed=0)
