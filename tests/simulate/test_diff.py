"""`loya diff OLD NEW`: hand-computed changes on a small history, a programme against itself, the same
diff whatever the workers or backend, the command's formats and exit codes, and mismatched currencies."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loyadsl.api import compile_file
from loyadsl.cli import app
from loyadsl.simulate.diff import DiffError, run_diff
from loyadsl.simulate.run import Simulation

HISTORY = Path(__file__).parent / "data" / "history" / "receipts.jsonl"
EXAMPLE = Path(__file__).parents[2] / "examples" / "supermarket"

HEAD = """programme "history" version "{version}" {{
    currency {currency} minor 2
    points minor 0 value 1.00 {currency}
    timezone "Europe/Moscow"
    rounding points floor
}}

account bonus {{ }}

group promo {{ priority 2 stacking stack_all basis original }}
group points {{ priority 1 stacking stack_all basis discounted }}
"""
CASHBACK = """
campaign cashback {{
    group points
    audience customer.known
    then accrue {rate} on receipt
}}
"""
FOOD5 = """
campaign food5 {
    group promo
    then discount 5% on lines where category "food"
}
"""
BIG = """
campaign big {
    group promo
    when receipt.payable >= 500.00 RUB
    then discount 10% on receipt
}
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def programmes(tmp_path: Path) -> tuple[Path, Path]:
    """OLD: 5% off food, 10% cashback. NEW: food5 removed, `big` added (10% off from 500.00), cashback 20%."""
    old = write(tmp_path, "old.loya", HEAD.format(version="1", currency="RUB") + FOOD5 + CASHBACK.format(rate="10%"))
    new = write(tmp_path, "new.loya", HEAD.format(version="2", currency="RUB") + BIG + CASHBACK.format(rate="20%"))
    return old, new


def bundle(path: Path) -> bytes:
    data, result = compile_file(path)
    assert data is not None, result.diagnostics
    return data


def diff(old: Path, new: Path, receipts: Path, **options: Any) -> dict[str, Any]:
    top = options.pop("top", 10)
    return run_diff(bundle(old), Simulation(bundle(new), [receipts], **options), top)


def ch(old: int, new: int) -> dict[str, int]:
    return {"old": old, "new": new, "delta": new - old}


def without_run_settings(doc: dict[str, Any]) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    for key in ("workers", "backend"):
        doc["input"].pop(key)
    return doc


def test_small_history_by_hand(programmes: tuple[Path, Path]) -> None:
    d = diff(*programmes, HISTORY)
    # receipts (all food, store S1, 12:00 Moscow): A1 600.00 Mon, A2 500.00 Thu, A3 100.00 Tue (C1);
    # B1 200.00 Tue (C2); N1 50.00 Wed (anonymous); 3 more records are quarantined
    assert (d["input"]["read"], d["input"]["simulated"], d["input"]["quarantined"]) == (8, 5, 3)
    assert (d["old"]["version"], d["new"]["version"], d["top"]) == ("1", "2", 10)
    # OLD: 5% off every receipt (30.00 25.00 5.00 10.00 2.50), 10% of what is paid in points to known
    # customers (57 47 9 19). NEW: 10% off A1 and A2 (60.00 50.00), 20% in points (108 90 20 40).
    t = d["totals"]
    assert t["discount"] == ch(7_250, 11_000)
    assert t["revenue"] == ch(137_750, 134_000)
    assert t["points_accrued"] == ch(132, 258)
    assert t["cost"] == ch(20_450, 36_800)  # discount + 1.00 RUB a point
    assert t["cost_share_ppm"] == ch(141_034, 253_793)  # of turnover 1450.00
    assert t["liability"] == ch(132, 258)
    assert t["participants"] == ch(2, 2) and t["collisions"] == ch(0, 0)
    assert d["changed"] == {"receipts": 5, "customers": 2}
    campaigns = {c["name"]: c for c in d["campaigns"]}
    assert [c["name"] for c in d["campaigns"]] == ["cashback", "big", "food5"]  # by |Δ cost|
    assert campaigns["cashback"]["status"] == "changed" and campaigns["cashback"]["cost"] == ch(13_200, 25_800)
    assert campaigns["cashback"]["receipts"] == ch(4, 4) and campaigns["cashback"]["participants"] == ch(2, 2)
    assert campaigns["big"]["status"] == "added" and campaigns["big"]["group"] == "promo"
    assert campaigns["big"]["receipts"] == ch(0, 2) and campaigns["big"]["participants"] == ch(0, 1)
    assert campaigns["big"]["discount"] == ch(0, 11_000)
    assert campaigns["food5"]["status"] == "removed" and campaigns["food5"]["receipts"] == ch(5, 0)
    assert campaigns["food5"]["participants"] == ch(2, 0)  # the anonymous receipt is nobody's
    assert d["collisions"] == []
    receipts = d["receipts"]
    assert [r["receipt_id"] for r in receipts] == ["A1", "A2", "B1", "A3", "N1"]
    assert [r["cost"]["delta"] for r in receipts] == [8_100, 6_800, 1_100, 600, -250]
    assert receipts[0] == {"receipt_id": "A1", "customer_id": "C1", "store_id": "S1", "datetime": "2025-02-10T12:00:00",
                           "discount": ch(3_000, 6_000), "points_accrued": ch(57, 108), "cost": ch(8_700, 16_800),
                           "campaigns": {"added": ["big"], "removed": ["food5"]}}
    assert receipts[4]["customer_id"] is None and receipts[4]["campaigns"] == {"added": [], "removed": ["food5"]}
    assert d["customers"] == [
        {"customer_id": "C1", "receipts": 3, "discount": ch(6_000, 11_000), "points_accrued": ch(113, 218),
         "cost": ch(17_300, 32_800)},
        {"customer_id": "C2", "receipts": 1, "discount": ch(1_000, 0), "points_accrued": ch(19, 40),
         "cost": ch(2_900, 4_000)},
    ]
    b = d["breakdowns"]
    assert b["store"] == [{"key": "S1", "receipts": 5, "changed": 5, "discount": ch(7_250, 11_000),
                           "points_accrued": ch(132, 258), "cost": ch(20_450, 36_800)}]
    assert [row["key"] for row in b["weekday"]] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert [row["receipts"] for row in b["weekday"]] == [1, 2, 1, 1, 0, 0, 0]
    assert b["weekday"][1]["cost"] == ch(4_300, 6_000)  # A3 and B1
    assert [row["key"] for row in b["hour"]] == [f"{h:02d}" for h in range(24)]
    assert b["hour"][12]["receipts"] == 5 and sum(row["receipts"] for row in b["hour"]) == 5
    series = d["series"]["points"]
    assert [p["start"] for p in series] == ["2025-02-10", "2025-03-17", "2025-04-14"]
    assert series[0]["cost"] == ch(8_700 + 2_900 + 250, 16_800 + 4_000)  # A1, B1, N1
    assert d["assertions"] == []


def test_top_keeps_the_largest_changes(programmes: tuple[Path, Path]) -> None:
    d = diff(*programmes, HISTORY, top=2)
    assert [r["receipt_id"] for r in d["receipts"]] == ["A1", "A2"]
    assert [c["customer_id"] for c in d["customers"]] == ["C1", "C2"]
    assert d["changed"] == {"receipts": 5, "customers": 2}  # counts are not cut


def test_a_programme_against_itself_changes_nothing() -> None:
    d = diff(EXAMPLE / "programme.loya", EXAMPLE / "programme.loya", EXAMPLE / "receipts.jsonl",
             customers=EXAMPLE / "customers.jsonl")
    assert d["changed"] == {"receipts": 0, "customers": 0}
    assert d["customers"] == [] and d["receipts"] == []
    changes = [*d["totals"].values()]
    for row in d["campaigns"] + d["collisions"]:
        changes += [value for value in row.values() if isinstance(value, dict) and "delta" in value]
    for kind in ("store", "weekday", "hour"):
        for row in d["breakdowns"][kind]:
            assert row["changed"] == 0
            changes += [row["discount"], row["points_accrued"], row["cost"]]
    changes += [c for p in d["series"]["points"] for c in (p["discount"], p["points_accrued"], p["cost"])]
    assert changes and all(c["delta"] == 0 for c in changes)
    assert all(c["status"] == "same" for c in d["campaigns"])
    purchases = d["input"]["simulated"] - d["input"]["returns"]
    assert d["totals"]["discount"]["old"] > 0 and sum(r["receipts"] for r in d["breakdowns"]["store"]) == purchases


def example_variant(tmp_path: Path) -> Path:
    """The supermarket programme with a richer bronze cashback and a smaller big-basket discount."""
    text = (EXAMPLE / "programme.loya").read_text(encoding="utf-8")
    text = text.replace("level bronze >= 0 RUB { cashback 3% }", "level bronze >= 0 RUB { cashback 4% }")
    text = text.replace("high_off = 500.00 RUB", "high_off = 400.00 RUB")
    shutil.copy(EXAMPLE / "n_plus_one.csv", tmp_path / "n_plus_one.csv")
    return write(tmp_path, "programme.loya", text)


def test_same_diff_with_one_or_two_workers(tmp_path: Path) -> None:
    new = example_variant(tmp_path)
    args = (EXAMPLE / "programme.loya", new, EXAMPLE / "receipts.jsonl")
    one = diff(*args, customers=EXAMPLE / "customers.jsonl")
    two = diff(*args, customers=EXAMPLE / "customers.jsonl", workers=2)
    assert without_run_settings(one) == without_run_settings(two)
    assert one["changed"]["receipts"] > 0 and one["totals"]["cost"]["delta"] != 0
    assert {c["name"]: c["status"] for c in one["campaigns"]}["big_basket"] == "changed"


def test_same_diff_on_a_dask_cluster(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    new = example_variant(tmp_path)
    args = (EXAMPLE / "programme.loya", new, EXAMPLE / "receipts.jsonl")
    local = diff(*args, customers=EXAMPLE / "customers.jsonl")
    dask = diff(*args, customers=EXAMPLE / "customers.jsonl", backend="dask", workers=2)
    assert dask["input"]["backend"] == "dask"
    assert without_run_settings(local) == without_run_settings(dask)


def test_different_currencies_cannot_be_compared(tmp_path: Path, programmes: tuple[Path, Path]) -> None:
    old, _ = programmes
    usd = write(tmp_path, "usd.loya", HEAD.format(version="3", currency="USD") + CASHBACK.format(rate="10%"))
    with pytest.raises(DiffError, match="RUB"):
        diff(old, usd, HISTORY)
    result = CliRunner().invoke(app, ["diff", str(old), str(usd), "-r", str(HISTORY)])
    assert result.exit_code == 2
    assert "USD" in result.output and "same currency" in result.output and "Traceback" not in result.output


def test_cli_table_json_html_and_assertions(tmp_path: Path, programmes: tuple[Path, Path]) -> None:
    old, new = programmes
    args = ["diff", str(old), str(new), "-r", str(HISTORY)]
    table = CliRunner().invoke(app, [*args, "--assert", "totals.cost_share <= 26%"])
    assert table.exit_code == 0, table.output
    assert "Diff: history 1" in table.output and "food5" in table.output and "163.50" in table.output
    as_json = CliRunner().invoke(app, [*args, "-f", "json"])
    assert as_json.exit_code == 0, as_json.output
    doc = json.loads(as_json.output)
    assert doc["kind"] == "diff" and doc["totals"]["cost"] == ch(20_450, 36_800)
    page = tmp_path / "diff.html"
    html = CliRunner().invoke(app, [*args, "-f", "html", "-o", str(page)])
    assert html.exit_code == 0, html.output
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "food5" in text and "<script" not in text
    # assertions are checked against NEW: its cost share is 25.37%
    failed = CliRunner().invoke(app, [*args, "-f", "json", "-o", str(tmp_path / "d.json"),
                                      "--assert", "totals.cost_share <= 25%"])
    assert failed.exit_code == 1
    verdict = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))["assertions"][0]
    assert verdict["ok"] is False and verdict["detail"] == "totals.cost_share is 25.37%, expected <= 25.00%"
    bad = CliRunner().invoke(app, [*args, "--assert", "totals.nothing <"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_households_diff_the_same_with_any_number_of_workers(tmp_path: Path) -> None:
    """Shared-account members and referrers are replayed together with both programmes."""
    here = Path(__file__).parent / "data" / "households"
    new = write(tmp_path, "new.loya", (here / "programme.loya").read_text(encoding="utf-8")
                .replace("then accrue 10% on receipt", "then accrue 20% on receipt"))
    args = (here / "programme.loya", new, here / "receipts.jsonl")
    one = diff(*args, customers=here / "customers.jsonl")
    two = diff(*args, customers=here / "customers.jsonl", workers=2, partitions=3)
    for doc in (one, two):
        doc["input"].pop("partitions")
    assert without_run_settings(one) == without_run_settings(two)
    assert one["totals"]["points_accrued"]["old"] == 174  # as `loya simulate` reports it (test_households)
    assert one["changed"]["receipts"] > 0 and one["campaigns"][0]["name"] == "cashback"
