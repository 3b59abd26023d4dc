"""Next categories (ranker.py): a learned ranking that follows what customers buy now, deterministic,
in the model file and in `loya offers show`."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner

from loyadsl.cli import app
from loyadsl.offers import ranker
from loyadsl.offers.history import Visit
from loyadsl.offers.model import Model

START = dt.date(2025, 1, 1).toordinal()
CONFIG = ranker.Config(within=28, windows=2, popular=20, neighbours=20, top=10)


def switching_shop() -> dict[str, list[Visit]]:
    """60 customers over 200 days: STAPLE every 4 days throughout, OLD every 3 days until day 120, NEW
    every 5 days from day 125. By count OLD is still their second category; by what they buy now, NEW."""
    visits: dict[str, list[Visit]] = {}
    for c in range(60):
        days: dict[int, dict[str, int]] = {}
        for d in range(c % 4, 200, 4):
            days.setdefault(d, {})["STAPLE"] = 300
        for d in range(c % 3, 120, 3):
            days.setdefault(d, {})["OLD"] = 200
        for d in range(125 + c % 5, 200, 5):
            days.setdefault(d, {})["NEW"] = 250
        visits[f"C{c:02d}"] = [Visit(START + d, sum(cats.values()), cats) for d, cats in sorted(days.items())]
    return visits


def test_the_ranking_follows_what_customers_buy_now() -> None:
    visits = switching_shop()
    fitted = ranker.fit(visits, ["NEW", "OLD", "STAPLE"], START + 199, CONFIG, seed=0)
    assert fitted is not None
    model, ranked = fitted
    assert model.rows > 0 and len(model.coef) == len(ranker.FEATURES)
    for cid, vs in visits.items():
        own = sorted({c for v in vs for c in v.categories}, key=lambda c: -sum(c in v.categories for v in vs))
        assert own[:2] == ["STAPLE", "OLD"]  # "own most frequent" would offer OLD
        top = [c for c, _ in ranked[cid]]
        assert set(top[:2]) == {"STAPLE", "NEW"} and top[2] == "OLD", (cid, ranked[cid])
        chances = [p for _, p in ranked[cid]]
        assert chances == sorted(chances, reverse=True) and all(0 < p < 1 for p in chances)


def test_the_ranking_is_deterministic_and_needs_history() -> None:
    visits = switching_shop()
    first = ranker.fit(visits, ["NEW", "OLD", "STAPLE"], START + 199, CONFIG, seed=0)
    again = ranker.fit(visits, ["NEW", "OLD", "STAPLE"], START + 199, CONFIG, seed=0)
    assert first == again
    # a window longer than the history: nobody bought before it, nothing to learn from
    assert ranker.fit(visits, ["NEW", "OLD", "STAPLE"], START + 199, replace(CONFIG, within=400), seed=0) is None


def test_the_model_holds_next_categories(shop_model: Model) -> None:
    header = shop_model.header
    assert header["ranker"]["features"] == list(ranker.FEATURES) and header["ranker"]["within"] == 28
    assert "next_categories" in header["scores"]
    for c in shop_model.customers.values():
        chances = [p for _, p in c["next_categories"]]
        assert 0 < len(chances) <= 10 and chances == sorted(chances, reverse=True)
    # a popular category the customer never bought is a candidate too (cross-sell customers and cheese)
    x1 = shop_model.customers["X1"]
    assert "CHEESE" not in x1["categories"] and "CHEESE" in [c for c, _ in x1["next_categories"]]


def test_show_lists_next_categories(shop_model: Model, tmp_path: Path) -> None:
    shop_model.save(tmp_path / "m.json")
    text = CliRunner().invoke(app, ["offers", "show", str(tmp_path / "m.json"), "R1"])
    assert text.exit_code == 0 and "next categories (chance of buying within 28 days, if they shop)" in text.stdout
    best, chance = shop_model.customers["R1"]["next_categories"][0]
    assert f"{best} {chance:.2f}" in text.stdout and "warning" not in text.stderr
    shown = json.loads(CliRunner().invoke(app, ["offers", "show", str(tmp_path / "m.json"), "R1", "-f", "json"]).stdout)
    assert shown["next_categories"] == shop_model.customers["R1"]["next_categories"]
