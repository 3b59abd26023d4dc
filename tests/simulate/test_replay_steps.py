"""The replay's shortcuts give the reports its general steps give: a receipt whose changes are all the
ledger's typed records booked by ``apply_records`` (else ``_book_into`` and ``apply_in_place``), and the
receipts' totals, week and split figures kept and added every ``_SUMS_EVERY`` receipts (else at once).
The supermarket example (returns, chains, coupons, redemption, families, referrals) and Complete
Journey-shaped receipts (tiers, the tenth visit, returns), with one worker and with two."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from sim_support import cj_history

from loyadsl.api import compile_file
from loyadsl.simulate import replay as replay_module
from loyadsl.simulate import run as run_module
from loyadsl.simulate.mapping import load_mapping

ROOT = Path(__file__).parents[2]
SUPERMARKET = ROOT / "examples" / "supermarket"
CJ = ROOT / "examples" / "completejourney"


def _cj_history(tmp_path: Path) -> Path:
    """Complete Journey-shaped receipts of four households over three quarters (tenth visits, tier
    upgrades) and returns of some of them, in full and in part."""
    return cj_history(tmp_path / "cj.jsonl", receipts=240, households=4, stores=3, spacing=(1, 1), return_every=13)


def _report(bundle: bytes, paths: list[Path], **options: Any) -> str:
    report = run_module.Simulation(bundle, paths, **options).run()
    return json.dumps(report, sort_keys=True, default=str)


def _cases(tmp_path: Path) -> list[tuple[bytes, list[Path], dict[str, Any]]]:
    shop, result = compile_file(SUPERMARKET / "programme.loya")
    assert shop is not None, result.diagnostics
    cj, result = compile_file(CJ / "programme.loya")
    assert cj is not None, result.diagnostics
    return [(shop, [SUPERMARKET / "receipts.jsonl"], {"customers": SUPERMARKET / "customers.jsonl"}),
            (cj, [_cj_history(tmp_path)], {"mapping": load_mapping(file=CJ / "mapping.yaml")})]


@pytest.mark.parametrize("workers", [1, 2])
def test_the_reports_are_the_same_with_the_general_steps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                         workers: int) -> None:
    for bundle, paths, options in _cases(tmp_path):
        options = {**options, "workers": workers}
        fast = _report(bundle, paths, **options)
        with monkeypatch.context() as patch:
            patch.setattr(replay_module, "TYPED_KINDS", frozenset())  # every receipt booked the general way
            patch.setattr(replay_module, "_SUMS_EVERY", 1)  # every receipt's figures added at once
            general = _report(bundle, paths, **options)
        with monkeypatch.context() as patch:
            patch.setattr(replay_module, "_SUMS_EVERY", 3)  # added in the middle of households
            every_third = _report(bundle, paths, **options)
        assert fast == general == every_third
        totals = json.loads(fast)["totals"]
        assert totals["receipts"] > 0 and totals["returns"] > 0 and totals["points_accrued"] > 0


def test_the_fast_booking_is_taken(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The shortcut is the usual way: most of the Complete Journey receipts are booked by ``apply_records``."""
    taken: list[int] = []
    apply_records = replay_module.apply_records

    def counted(*args: Any) -> None:
        taken.append(1)
        apply_records(*args)

    monkeypatch.setattr(replay_module, "apply_records", counted)
    bundle, paths, options = _cases(tmp_path)[1]
    report = json.loads(_report(bundle, paths, **options))
    assert len(taken) >= report["totals"]["receipts"] * 0.9


def test_the_replay_freezes_what_was_made_before_it_and_unfreezes_it(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    """``replay_job`` freezes the objects made before the partition for the collector while it runs, and
    leaves the collector as it found it: unfrozen, or frozen by the caller (then it freezes nothing)."""
    seen: list[int] = []
    run = replay_module.PartitionReplay.run

    def counted(self: Any, records: Any) -> Any:
        seen.append(gc.get_freeze_count())
        return run(self, records)

    monkeypatch.setattr(replay_module.PartitionReplay, "run", counted)
    bundle, paths, options = _cases(tmp_path)[1]
    assert gc.get_freeze_count() == 0
    alone = _report(bundle, paths, **options)
    assert seen and min(seen) > 0 and gc.get_freeze_count() == 0
    gc.freeze()  # a caller that froze its own objects keeps them frozen, and nothing more is frozen
    try:
        frozen = gc.get_freeze_count()
        seen.clear()
        assert _report(bundle, paths, **options) == alone
        assert seen == [frozen] * len(seen) and gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
