"""`loya simulate` end to end: hand-computed figures for a small history (expiry and a tier change
at a quarter's end), quarantine accounting, and identical reports whatever the workers or backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loyadsl.api import compile_file
from loyadsl.cli import app
from loyadsl.simulate.run import Simulation

HERE = Path(__file__).parent / "data" / "history"
EXAMPLE = Path(__file__).parents[2] / "examples" / "supermarket"


def simulate(programme: Path, receipts: Path, **options: Any) -> dict[str, Any]:
    bundle, result = compile_file(programme)
    assert bundle is not None, result.diagnostics
    return Simulation(bundle, [receipts], **options).run()


def without_run_settings(report: dict[str, Any]) -> dict[str, Any]:
    report = json.loads(json.dumps(report))
    for key in ("workers", "backend"):
        report["input"].pop(key)
    return report


def test_small_history_by_hand(tmp_path: Path) -> None:
    quarantine = tmp_path / "bad.jsonl"
    r = simulate(HERE / "programme.loya", HERE / "receipts.jsonl", quarantine=quarantine)
    # 8 records: 5 receipts, a duplicate A1, a negative price, a line that is not JSON
    assert (r["input"]["read"], r["input"]["simulated"], r["input"]["quarantined"]) == (8, 5, 3)
    reasons = [json.loads(line)["reason"] for line in quarantine.read_text(encoding="utf-8").splitlines()]
    assert len(reasons) == 3
    assert any("duplicate" in reason for reason in reasons)
    t = r["totals"]
    # C1: 600.00 (10% -> 60), 500.00 (10% -> 50; Q1 spend 1100.00 reaches vip after it), 100.00 in Q2 at
    # vip 20% -> 20. C2: 200.00 -> 20. The anonymous receipt earns nothing.
    assert (t["turnover"], t["receipts"], t["receipts_with_card"]) == (145_000, 5, 4)
    assert t["points_accrued"] == 150
    # every Q1 lot (60 + 50 + 20) burns at the end of the quarter; the Q2 lot (20) remains
    assert (t["points_expired"], t["liability"]) == (130, 20)
    assert (t["active_customers"], t["first_purchase"], t["repeat_purchase"]) == (2, 2, 1)
    weeks = {p["start"]: p for p in r["series"]["points"]}
    assert weeks["2025-03-31"]["points_expired"] == 130  # dated by the lots' expiry (Mon 31 March)
    assert weeks["2025-03-17"]["tiers"] == {"basic": 1, "vip": 1}  # C1 upgraded at once on 20 March
    assert weeks["2025-04-14"]["liability"] == 20
    (cashback,) = r["campaigns"]
    assert (cashback["receipts"], cashback["participants"], cashback["points_expired"]) == (4, 2, 130)
    assert cashback["cost"] == 15_000 and cashback["cost_share_ppm"] == 103_448  # 150.00 / 1450.00


def test_strict_stops_at_the_first_bad_record() -> None:
    result = CliRunner().invoke(app, ["simulate", str(HERE / "programme.loya"), "-r",
                                      str(HERE / "receipts.jsonl"), "--strict"])
    assert result.exit_code == 1
    assert "receipts.jsonl:6" in result.output and "duplicate" in result.output


def test_same_report_with_one_or_two_workers() -> None:
    one = simulate(EXAMPLE / "programme.loya", EXAMPLE / "receipts.jsonl", customers=EXAMPLE / "customers.jsonl")
    two = simulate(EXAMPLE / "programme.loya", EXAMPLE / "receipts.jsonl", customers=EXAMPLE / "customers.jsonl",
                   workers=2)
    assert without_run_settings(one) == without_run_settings(two)
    assert one["totals"]["receipts"] >= 300 and one["input"]["quarantined"] == 0


def test_same_report_on_a_dask_cluster() -> None:
    pytest.importorskip("distributed")
    local = simulate(EXAMPLE / "programme.loya", EXAMPLE / "receipts.jsonl", customers=EXAMPLE / "customers.jsonl")
    dask = simulate(EXAMPLE / "programme.loya", EXAMPLE / "receipts.jsonl", customers=EXAMPLE / "customers.jsonl",
                    backend="dask", workers=2)
    assert dask["input"]["backend"] == "dask"
    assert without_run_settings(local) == without_run_settings(dask)


def test_cli_assertions_fail_the_build(tmp_path: Path) -> None:
    args = ["simulate", str(HERE / "programme.loya"), "-r", str(HERE / "receipts.jsonl"), "-f", "json"]
    ok = CliRunner().invoke(app, [*args, "--assert", "totals.cost_share <= 11%"])
    assert ok.exit_code == 0, ok.output
    failed = CliRunner().invoke(app, [*args, "--assert", "totals.cost_share <= 10%", "-o", str(tmp_path / "r.json")])
    assert failed.exit_code == 1
    verdict = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["assertions"][0]
    assert verdict["ok"] is False and verdict["detail"] == "totals.cost_share is 10.34%, expected <= 10.00%"


def test_html_report_is_written(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["simulate", str(EXAMPLE / "programme.loya"), "-r",
                                      str(EXAMPLE / "receipts.jsonl"), "-f", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "three_for_two" in page


@pytest.mark.parametrize("packed", [False, True])
def test_a_parallel_scan_in_byte_ranges_reads_what_one_reader_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     packed: bool) -> None:
    """With several workers a JSONL file is read in byte ranges, one per worker at a time (a gzip
    file once unpacked); the report, the quarantine (a duplicate whose first copy is in another
    range included) and the counts are those of reading it in order."""
    import gzip

    from loyadsl.simulate import inputs, scan

    lines = (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()
    history = tmp_path / "history.jsonl"
    # a copy of an early receipt near the end, a line that is not JSON, and a blank line in the middle
    history.write_text("\n".join([*lines[:150], "{oops", "", *lines[150:], lines[3]]) + "\n", encoding="utf-8")
    monkeypatch.setattr(inputs, "RANGE_MIN_BYTES", 4096)  # so that this small file is cut
    assert len(inputs.jsonl_ranges(history, 8) or []) == 8
    if packed:
        plain, history = history, tmp_path / "history.jsonl.gz"
        history.write_bytes(gzip.compress(plain.read_bytes()))
        plain.unlink()
        (tmp_path / "scan").mkdir()
        jobs = scan.plan([history], None, 2, "RUB", 16, {}, str(tmp_path / "scan")) or []
        assert len(jobs) == 8 and {job.files[job.file_index] for job in jobs} == {str(history)}
    bad_one, bad_two = tmp_path / "bad1.jsonl", tmp_path / "bad2.jsonl"
    one = simulate(EXAMPLE / "programme.loya", history, customers=EXAMPLE / "customers.jsonl", quarantine=bad_one)
    two = simulate(EXAMPLE / "programme.loya", history, customers=EXAMPLE / "customers.jsonl", quarantine=bad_two,
                   workers=2)
    assert without_run_settings(one) == without_run_settings(two)
    assert (one["input"]["read"], one["input"]["quarantined"]) == (len(lines) + 2, 2)

    def reasons(path: Path) -> dict[str, str]:
        return {b["source"]: b["reason"] for b in map(json.loads, path.read_text(encoding="utf-8").splitlines())}

    assert reasons(bad_one) == reasons(bad_two)
    duplicate = f"duplicate receipt_id {json.loads(lines[3])['receipt_id']!r}, first seen at {history}:4"
    assert reasons(bad_two)[f"{history}:{len(lines) + 3}"] == duplicate


def test_a_gzip_file_that_does_not_unpack_is_read_in_order(tmp_path: Path) -> None:
    """The parallel scan unpacks a gzip input first; a broken one is read in order instead, so the
    run stops where reading breaks, as with one worker."""
    import gzip

    from loyadsl.simulate.errors import InputError

    data = gzip.compress((EXAMPLE / "receipts.jsonl").read_bytes())
    history = tmp_path / "broken.jsonl.gz"
    history.write_bytes(data[: len(data) // 2])
    messages = []
    for workers in (1, 2):
        with pytest.raises(InputError) as caught:
            simulate(EXAMPLE / "programme.loya", history, customers=EXAMPLE / "customers.jsonl", workers=workers)
        messages.append(caught.value.message)
    assert messages[0] == messages[1] and "cannot read on" in messages[0]


def test_the_report_counts_lines_with_each_attribute_the_programme_reads(tmp_path: Path) -> None:
    programme = tmp_path / "p.loya"
    programme.write_text((HERE / "programme.loya").read_text(encoding="utf-8") + """
group organic { priority 2 stacking stack_all basis discounted }
campaign organic_off {
    group organic
    then discount 10% on lines where attr.organic == "yes" or attr.vegan == "yes"
}
""", encoding="utf-8")
    history = tmp_path / "h.jsonl"
    lines = (HERE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["lines"][0]["attrs"] = {"organic": "yes", "farm": "Ivanov"}
    history.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", encoding="utf-8")
    r = simulate(programme, history)
    assert r["input"]["line_attributes"] == {"organic": 1, "vegan": 0}
    out = CliRunner().invoke(app, ["simulate", str(programme), "-r", str(history)], env={"COLUMNS": "200"})
    assert "no line of the history has it" in out.output
