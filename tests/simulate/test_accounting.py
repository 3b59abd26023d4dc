"""Simulation accounting (docs/simulate.md, "Accounting"): every record read is simulated,
quarantined or skipped, ``read = simulated + quarantined + skipped``, and nothing of a record that
fails counts in the report.

``data/accounting/receipts.jsonl`` holds five good records (four purchases and a return) among bad
ones of every kind: not JSON, not UTF-8, not an object, a negative price, a duplicate id, another
currency, a receipt whose lot C3's state holds already (the state refuses it), a return of an
unknown receipt, an anonymous return, a return of more than was sold, and returns of two receipts
that were quarantined (skipped). ``clean.jsonl`` is the five good records alone: every figure of the
report must be the same for both.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loyadsl.api import compile_file
from loyadsl.cli import app
from loyadsl.runtime import Engine
from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.limits import MAX_RECEIPT_BYTES
from loyadsl.simulate import inputs
from loyadsl.simulate.errors import StrictError
from loyadsl.simulate.run import Simulation

HERE = Path(__file__).parent / "data" / "accounting"
HOUSEHOLDS = Path(__file__).parent / "data" / "households"
FIGURES = ("totals", "campaigns", "collisions", "series", "budgets")

EXPECTED = {  # line of receipts.jsonl: code (18 lines, a blank one; the rest is simulated)
    3: "LOY603", 4: "LOY603", 5: "LOY603", 6: "LOY501", 7: "LOY605", 8: "LOY606", 9: "LOY503", 11: "LOY607",
    12: "LOY613", 13: "LOY613", 14: "LOY503", 16: "LOY607", 19: "LOY603",
}


def simulate(receipts: Path, programme: Path = HERE / "programme.loya", **options: Any) -> dict[str, Any]:
    bundle, result = compile_file(programme)
    assert bundle is not None, result.diagnostics
    options.setdefault("customers", HERE / "customers.jsonl")
    return Simulation(bundle, [receipts], **options).run()


def history(tmp_path: Path) -> Path:
    """The fixture, and a line longer than a receipt may be (line 19)."""
    path = tmp_path / "receipts.jsonl"
    shutil.copy(HERE / "receipts.jsonl", path)
    with path.open("a", encoding="utf-8") as f:
        f.write('{"receipt_id": "LONG", "pad": "' + "x" * MAX_RECEIPT_BYTES + '"}\n')
    return path


def codes(quarantine: Path) -> dict[int, str]:
    rows = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    return {int(row["source"].rpartition(":")[2]): row["code"] for row in rows}


@pytest.mark.parametrize("workers", [1, 2])
def test_every_record_is_simulated_quarantined_or_skipped(tmp_path: Path, workers: int,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inputs, "RANGE_MIN_BYTES", 1024)  # two workers read the file in ranges
    quarantine = tmp_path / "bad.jsonl"
    report = simulate(history(tmp_path), quarantine=quarantine, workers=workers)
    i = report["input"]
    assert (i["read"], i["simulated"], i["quarantined"], i["skipped"]) == (18, 5, 11, 2)
    assert i["read"] == i["simulated"] + i["quarantined"] + i["skipped"]
    assert codes(quarantine) == EXPECTED
    clean = simulate(HERE / "clean.jsonl")
    assert {k: report[k] for k in FIGURES} == {k: clean[k] for k in FIGURES}
    assert report["totals"]["points_accrued"] == 100  # G1 60 + G2 20 + G3 10 + G4 10; never X1's 30


def test_the_table_shows_the_identity(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["simulate", str(HERE / "programme.loya"), "-r", str(history(tmp_path)),
                                   "--customers", str(HERE / "customers.jsonl")], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    assert "read 18 = simulated 5 + quarantined 11 + skipped 2" in out.output


def test_strict_stops_at_a_record_the_replay_refuses(tmp_path: Path) -> None:
    clean = tmp_path / "h.jsonl"
    lines = (HERE / "clean.jsonl").read_text(encoding="utf-8").splitlines()
    refused = (HERE / "receipts.jsonl").read_bytes().splitlines()[8].decode()  # X1: its lot is in C3's state
    clean.write_text("\n".join([*lines, refused]) + "\n", encoding="utf-8")
    quarantine = tmp_path / "q.jsonl"
    with pytest.raises(StrictError) as info:
        simulate(clean, strict=True, quarantine=quarantine)
    assert info.value.code == "LOY503" and info.value.where == f"{clean}:6"
    assert not quarantine.exists() and not list(tmp_path.glob(".q.jsonl*"))  # nothing half-written
    out = CliRunner().invoke(app, ["simulate", str(HERE / "programme.loya"), "-r", str(clean), "--customers",
                                   str(HERE / "customers.jsonl"), "--strict"])
    assert out.exit_code == 1 and "error[LOY503]" in out.output and "Traceback" not in out.output


def test_any_loya_error_from_the_engine_quarantines_the_record(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the runtime refuses (here: evaluate, for G3) is quarantined with its code, and the
    report is that of the history without it; anything else is a bug and stops the run."""
    evaluate = Engine.evaluate

    def refusing(self: Engine, receipt: Any, *args: Any, **kwargs: Any) -> Any:
        if receipt.receipt_id == "G3":
            raise LoyaError("LOY520", "the receipt's evaluation went over a limit", "lines")
        return evaluate(self, receipt, *args, **kwargs)

    monkeypatch.setattr(Engine, "evaluate", refusing)
    quarantine = tmp_path / "q.jsonl"
    report = simulate(HERE / "clean.jsonl", quarantine=quarantine)
    (bad,) = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert (bad["code"], bad["reason"], bad["record"]["receipt_id"]) == (
        "LOY520", "lines: the receipt's evaluation went over a limit", "G3")
    without = tmp_path / "without.jsonl"
    without.write_text("".join(line for line in (HERE / "clean.jsonl").open(encoding="utf-8") if '"G3"' not in line),
                       encoding="utf-8")
    monkeypatch.setattr(Engine, "evaluate", evaluate)
    assert {k: report[k] for k in FIGURES} == {k: simulate(without)[k] for k in FIGURES}

    def broken(self: Engine, receipt: Any, *args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(Engine, "evaluate", broken)
    with pytest.raises(ZeroDivisionError):
        simulate(HERE / "clean.jsonl")


def test_a_refused_referral_undoes_the_purchase_that_earned_it(tmp_path: Path) -> None:
    """N1's first purchase gives R0 a referral lot that R0's state holds already: the state refuses
    it, and N1's own changes of that receipt (its points, the referral marked as rewarded) are undone."""
    customers = tmp_path / "customers.jsonl"
    referrer = {"id": "R0", "accounts": {"bonus": {"balance": 300, "debt": 0, "lots": [
        {"id": "N1a:bonus:referrer", "points": 300, "left": 300, "active_from": "2025-03-01T00:00:00+00:00",
         "expires": "2026-03-01T00:00:00+00:00"}]}}}
    customers.write_text((HOUSEHOLDS / "customers.jsonl").read_text(encoding="utf-8") + json.dumps(referrer) + "\n",
                         encoding="utf-8")
    without = tmp_path / "receipts.jsonl"
    without.write_text("".join(line for line in (HOUSEHOLDS / "receipts.jsonl").open(encoding="utf-8")
                               if '"N1a"' not in line), encoding="utf-8")
    programme = HOUSEHOLDS / "programme.loya"
    quarantine = tmp_path / "q.jsonl"
    report = simulate(HOUSEHOLDS / "receipts.jsonl", programme, customers=customers, quarantine=quarantine)
    (bad,) = [json.loads(line) for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert bad["code"] == "LOY503" and bad["record"]["receipt_id"] == "N1a"
    assert {k: report[k] for k in FIGURES} == {k: simulate(without, programme, customers=customers)[k]
                                               for k in FIGURES}
