"""The model file and the pieces of the offers package: deterministic bytes, RFM bins, units, the
holdout's hash, the backtest's report on the synthetic shop."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyadsl.cli import app
from loyadsl.offers import rfm, units
from loyadsl.offers.backtest import backtest
from loyadsl.offers.config import FitConfig
from loyadsl.offers.errors import OffersError, need
from loyadsl.offers.fit import fit
from loyadsl.offers.history import History
from loyadsl.offers.issue import HOLDOUT, arm
from loyadsl.offers.model import Model
from loyadsl.offers.strategy import load_strategy, parse_strategy
from loyadsl.runtime.experiments import bucket

STDLIB = Path(__file__).resolve().parents[2] / "loyadsl" / "offers" / "stdlib"


def test_same_history_and_seed_give_the_same_bytes(shop_history: History, shop_model: Model, tmp_path: Path) -> None:
    again = fit(shop_history, FitConfig(), seed=0)
    assert again.to_json() == shop_model.to_json()
    again.save(tmp_path / "m.json.gz")
    assert Model.load(tmp_path / "m.json.gz").to_json() == shop_model.to_json()
    header = json.loads(shop_model.to_json())
    assert (header["format"], header["version"], header["seed"]) == ("loyadsl-offers-model", 1, 0)


def test_scores_are_in_range_and_money_is_integer(shop_model: Model) -> None:
    for c in shop_model.customers.values():
        assert 0 < c["p_alive"] <= 1 and c["expected"] >= 0
        assert all(type(c[k]) is int for k in ("spend", "clv", "total", "quarter_spend"))
        assert all(type(v["spend"]) is int for v in c["categories"].values())


def test_lapsed_customers_score_lower_than_regulars(shop_model: Model) -> None:
    lapsed = [shop_model.customers[f"L{i}"]["p_alive"] for i in range(1, 7)]
    regular = [shop_model.customers[f"R{i}"]["p_alive"] for i in range(1, 9)]
    assert max(lapsed) < 0.5 < min(regular)
    # cross-sell customers never bought cheese, which their peers buy: it is among their affinities
    assert "CHEESE" in [cat for cat, _ in shop_model.customers["X1"]["affinity"]]
    assert "CHEESE" not in shop_model.customers["X1"]["categories"]


@pytest.mark.parametrize(("days", "score"), [(0, 5), (7, 5), (8, 4), (30, 3), (60, 2), (61, 1)])
def test_recency_bins(days: int, score: int) -> None:
    assert rfm.recency(days, [7, 14, 30, 60]) == score


@pytest.mark.parametrize(("value", "score"), [(0, 1), (1, 1), (2, 2), (19, 4), (20, 5), (500, 5)])
def test_upward_bins(value: int, score: int) -> None:
    assert rfm.upward(value, [2, 5, 10, 20]) == score


def test_units_are_exact() -> None:
    assert units.percent("12.5%") == Decimal("12.5")
    assert units.money("1200.00 RUB", "RUB", 2) == 120000
    assert units.days("14 days") == 14
    for bad in (lambda: units.money("1.005 RUB", "RUB", 2), lambda: units.percent("120%"),
                lambda: units.money("5 USD", "RUB", 2), lambda: units.days("2 weeks")):
        with pytest.raises(ValueError):
            bad()


def test_holdout_is_the_experiments_hash() -> None:
    s = parse_strategy({"strategy": "s", "currency": "USD", "holdout": "25%", "salt": "spring",
                        "offers": [{"name": "o", "coupon": "c", "discount": "10%"}]}, "s.yaml")
    ids = [f"C{i}" for i in range(4000)]
    held = [c for c in ids if arm(s, c) == HOLDOUT]
    assert held == [c for c in ids if bucket("spring", c) < 2500]
    assert 0.22 < len(held) / len(ids) < 0.28


def test_missing_extra_is_coded() -> None:
    with pytest.raises(OffersError) as exc:
        need("loyadsl_no_such_module")
    assert exc.value.code == "LOY741" and "loyadsl[offers]" in exc.value.message


def test_backtest_reports_hits_calibration_and_arms(shop_history: History) -> None:
    report = backtest(shop_history, load_strategy(STDLIB / "replenishment.yaml"), FitConfig(min_days=28),
                      dt.date(2025, 5, 20), 4, 0, Decimal(30), 3)
    hits = report["hits"]
    assert set(hits) >= {"model", "popular", "own", "model_vs_popular", "model_vs_own"}
    for method in ("model", "popular", "own"):
        p = hits[method]["precision"]
        assert 0 <= p["low"] <= p["mean"] <= p["high"] <= 1
    cal = report["calibration"]
    assert cal["actual_total"] == report["test"]["purchases"] or cal["actual_total"] <= report["test"]["purchases"]
    assert report["strategy"]["offers"]["offer"] > 0 and set(report["rankings"]) == {"model", "popular", "own"}


def test_show_prints_scores(shop_model: Model, tmp_path: Path) -> None:
    shop_model.save(tmp_path / "m.json")
    result = CliRunner().invoke(app, ["offers", "show", str(tmp_path / "m.json"), "R1", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["customer"] == "R1" and shown["p_alive"] == shop_model.customers["R1"]["p_alive"]
    text = CliRunner().invoke(app, ["offers", "show", str(tmp_path / "m.json"), "R1"])
    assert "p_alive" in text.stdout and "COFFEE" in text.stdout


def test_cli_fit_issue_backtest(shop_data: Path, tmp_path: Path) -> None:
    """The commands end to end on the shop: fit writes the model, issue writes offers and states, the
    backtest prints the three rankings, calibration, the arms and its time and memory."""
    run = CliRunner()
    fitted = run.invoke(app, ["offers", "fit", str(shop_data / "history.jsonl"), "-o", str(tmp_path / "m.json")])
    assert fitted.exit_code == 0, fitted.stderr
    assert "fitted 28 customers" in fitted.stdout and "peak memory" in fitted.stdout
    issued = run.invoke(app, ["offers", "issue", str(STDLIB / "replenishment.yaml"), "--model", str(tmp_path / "m.json"),
                              "-o", str(tmp_path / "o.jsonl"), "--states", str(tmp_path / "s.jsonl")])
    assert issued.exit_code == 0, issued.stderr
    offers = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    states = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert {s["id"] for s in states} == {o["customer"] for o in offers if o["arm"] == "offer"}
    report = run.invoke(app, ["offers", "backtest", str(STDLIB / "replenishment.yaml"), str(shop_data / "history.jsonl"),
                              "--cut", "2025-05-20", "--weeks", "4"])
    assert report.exit_code == 0, report.stderr
    for text in ("precision@3", "model - popular", "model - own", "calibration", "categories by own", "A/A", "peak memory"):
        assert text in report.stdout
    as_json = run.invoke(app, ["offers", "backtest", str(STDLIB / "replenishment.yaml"), str(shop_data / "history.jsonl"),
                               "--cut", "2025-05-20", "--format", "json"])
    assert json.loads(as_json.stdout)["hits"]["k"] == 3
