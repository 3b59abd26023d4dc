"""The replay makes an outcome's per-line detail (``Ledger.detail``: the payment record's lines, the lines
of the lots, counters and qualification it makes) only for a receipt a return refers to. The report is
the same as when every outcome has its detail: the supermarket example (redemption, coupons,
certificates, family accounts, referrals, returns) and the Complete Journey programme on receipts made
for it, returns of some of them included."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sim_support import cj_history

from loyadsl.api import compile_file
from loyadsl.runtime.model import Receipt
from loyadsl.simulate import run as run_module
from loyadsl.simulate.mapping import load_mapping
from loyadsl.simulate.replay import PartitionReplay

ROOT = Path(__file__).parents[2]
SUPERMARKET = ROOT / "examples" / "supermarket"
CJ = ROOT / "examples" / "completejourney"


class _Seen(PartitionReplay):
    """A replay that notes, per receipt, whether its outcome was made with its detail."""

    seen: list[bool]

    def _purchase(self, receipt: Receipt, member: Any) -> None:
        super()._purchase(receipt, member)
        _Seen.seen.append(self._ledger.detail)


class _Always(_Seen):
    """A replay that makes every outcome's detail, as the engine does for any other host."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._detail = True


def _report(monkeypatch: pytest.MonkeyPatch, replay: type[_Seen], bundle: bytes, paths: list[Path],
            **options: Any) -> tuple[str, list[bool]]:
    monkeypatch.setattr(run_module, "PartitionReplay", replay)
    _Seen.seen = []
    report = run_module.Simulation(bundle, paths, **options).run()
    return json.dumps(report, sort_keys=True, default=str), _Seen.seen


def _cj_history(tmp_path: Path) -> Path:
    """Complete Journey-shaped receipts of three households over two quarters (their tenth visits and
    tier upgrades included), and returns of some of them, in full and in part."""
    return cj_history(tmp_path / "cj.jsonl", receipts=150, households=3, stores=2, spacing=(5, 4), return_every=11)


def test_the_supermarket_report_is_the_same_with_every_outcome_detailed(monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    text = (SUPERMARKET / "programme.loya").read_text(encoding="utf-8")
    programme = tmp_path / "programme.loya"  # without its trigger chains, which see every outcome in full
    programme.write_text(text[:text.index("trigger welcome_chain")], encoding="utf-8")
    shutil.copy(SUPERMARKET / "n_plus_one.csv", tmp_path)  # a table it reads
    bundle, result = compile_file(programme)
    assert bundle is not None, result.diagnostics
    paths = [SUPERMARKET / "receipts.jsonl"]
    options = {"customers": SUPERMARKET / "customers.jsonl"}
    lean, seen = _report(monkeypatch, _Seen, bundle, paths, **options)
    full, seen_full = _report(monkeypatch, _Always, bundle, paths, **options)
    assert lean == full
    assert all(seen_full) and True in seen and False in seen  # both kinds of receipt were replayed
    assert json.loads(lean)["totals"]["returns"] > 0  # and returns read the detail of the outcomes kept


def test_the_completejourney_report_is_the_same_with_every_outcome_detailed(monkeypatch: pytest.MonkeyPatch,
                                                                             tmp_path: Path) -> None:
    bundle, result = compile_file(CJ / "programme.loya")
    assert bundle is not None, result.diagnostics
    mapping = load_mapping(file=CJ / "mapping.yaml")
    lean, seen = _report(monkeypatch, _Seen, bundle, [_cj_history(tmp_path)], mapping=mapping)
    full, seen_full = _report(monkeypatch, _Always, bundle, [_cj_history(tmp_path)], mapping=mapping)
    assert lean == full
    assert all(seen_full) and True in seen and False in seen
    totals = json.loads(lean)["totals"]
    assert totals["points_accrued"] > 0 and totals["returns"] > 0 and totals["points_returned"] > 0
