"""The `loya` command end to end: exit codes, human and JSON output, no traceback on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loyadsl.syntax.parser import parse

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "supermarket"


def loya(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=120)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("b") / "romashka.loyab"
    result = loya("compile", EXAMPLE / "programme.loya", "-o", out)
    assert result.returncode == 0, result.stderr
    return out


def test_help_lists_the_verbs() -> None:
    result = loya("--help")
    assert result.returncode == 0
    for verb in ("check", "compile", "eval", "convert", "fmt", "inspect"):
        assert verb in result.stdout


def test_check_ok_and_json(tmp_path: Path) -> None:
    assert loya("check", EXAMPLE / "programme.loya").returncode == 0
    result = loya("check", EXAMPLE / "programme.loya", "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["errors"] == 0


def test_check_reports_place_caret_and_hint(tmp_path: Path) -> None:
    bad = tmp_path / "bad.loya"
    (tmp_path / "n_plus_one.csv").write_bytes((EXAMPLE / "n_plus_one.csv").read_bytes())
    bad.write_text((EXAMPLE / "programme.loya").read_text(encoding="utf-8").replace(
        "when receipt.payable >= 500.00 RUB", "when receipt.payable >= 500"), encoding="utf-8")
    result = loya("check", bad)
    assert result.returncode == 1
    assert "bad.loya:" in result.stderr and "LOY203" in result.stderr and "^" in result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(loya("check", bad, "--format", "json").stdout)
    [d] = [d for d in data["diagnostics"] if d["code"] == "LOY203"]
    assert d["span"]["file"] == "bad.loya" and d["span"]["line"] > 1 and d["hint"]


def test_check_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = loya("check", tmp_path / "nope.loya")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_compile_is_reproducible(tmp_path: Path, bundle: Path) -> None:
    again = tmp_path / "again.loyab"
    assert loya("compile", EXAMPLE / "programme.loya", "-o", again).returncode == 0
    assert again.read_bytes() == bundle.read_bytes()


def test_eval_one_receipt_with_explain(tmp_path: Path, bundle: Path) -> None:
    first = (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()[0]
    receipt = tmp_path / "r.json"
    receipt.write_text(first, encoding="utf-8")
    result = loya("eval", bundle, receipt, "--customers", EXAMPLE / "customers.jsonl", "--explain")
    assert result.returncode == 0, result.stderr
    assert "total" in result.stdout
    data = json.loads(loya("eval", bundle, receipt, "--format", "json").stdout)
    [outcome] = data["outcomes"]
    assert outcome["receipt_id"] == json.loads(first)["receipt_id"]


def test_eval_many_prints_a_summary_and_refunds_returns(bundle: Path) -> None:
    # receipts in the order of time, each customer's state carried on, returns refunded: the same figures
    # as `loya simulate` of the same files
    lines = (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()
    returns = [json.loads(line) for line in lines if "return_of" in json.loads(line)]
    assert returns and len(lines) - len(returns) > 300
    args = (bundle, EXAMPLE / "receipts.jsonl", "--customers", EXAMPLE / "customers.jsonl")
    result = loya("eval", *args)
    assert result.returncode == 0, result.stderr
    assert f"{len(lines) - len(returns)} receipts" in result.stdout and "base_cashback" in result.stdout
    for r in returns:
        assert f"return {r['receipt_id']} of {r['return_of']}" in result.stdout
    evaluated = json.loads(loya("eval", *args, "--format", "json").stdout)
    simulated = json.loads(loya("simulate", *args[:1], "-r", *args[1:], "-f", "json").stdout)
    assert sum(o["discount_total"] for o in evaluated["outcomes"]) == simulated["totals"]["discount"]
    assert sum(o["points_total"] for o in evaluated["outcomes"]) == simulated["totals"]["points_accrued"]
    assert sum(r["money"] for r in evaluated["refunds"]) == simulated["totals"]["refunded"]
    assert evaluated["returns_skipped"] == 0


def test_eval_source_directly(tmp_path: Path) -> None:
    first = (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()[0]
    receipt = tmp_path / "r.json"
    receipt.write_text(first, encoding="utf-8")
    assert loya("eval", EXAMPLE / "programme.loya", receipt).returncode == 0


def test_malformed_receipts_are_reported_not_dropped(tmp_path: Path, bundle: Path) -> None:
    good = (EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()[0]
    bad_qty = json.loads(good)
    bad_qty["lines"][0]["qty"] = -1
    receipts = tmp_path / "r.jsonl"
    receipts.write_text("\n".join([good, "{not json", json.dumps(bad_qty)]) + "\n", encoding="utf-8")
    result = loya("eval", bundle, receipts)
    assert result.returncode == 1
    assert "r.jsonl:2" in result.stderr and "r.jsonl:3" in result.stderr and "qty" in result.stderr
    assert "Traceback" not in result.stderr
    data = json.loads(loya("eval", bundle, receipts, "--format", "json").stdout)
    assert len(data["outcomes"]) == 1 and len(data["problems"]) == 2


def test_tampered_and_newer_bundles_are_refused(tmp_path: Path, bundle: Path) -> None:
    data = bytearray(bundle.read_bytes())
    data[-5] ^= 0x01
    tampered = tmp_path / "tampered.loyab"
    tampered.write_bytes(bytes(data))
    result = loya("inspect", tampered)
    assert result.returncode == 1 and "LOY402" in result.stderr and "Traceback" not in result.stderr
    magic, envelope, payload = bundle.read_bytes().split(b"\n", 2)
    env = json.loads(envelope)
    env["format_version"] = 99
    newer = tmp_path / "newer.loyab"
    newer.write_bytes(magic + b"\n" + json.dumps(env).encode() + b"\n" + payload)
    result = loya("inspect", newer)
    assert result.returncode == 1 and "LOY403" in result.stderr
    truncated = tmp_path / "truncated.loyab"
    truncated.write_bytes(bundle.read_bytes()[:100])
    result = loya("eval", truncated, EXAMPLE / "receipts.jsonl")
    assert result.returncode == 1 and "Traceback" not in result.stderr


def test_signed_bundles(tmp_path: Path) -> None:
    key = tmp_path / "fleet.key"
    assert loya("keygen", "-o", key).returncode == 0
    out = tmp_path / "signed.loyab"
    result = loya("compile", EXAMPLE / "programme.loya", "-o", out, "--sign-key", key, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["bundle"]["signed"] is True


def test_convert_round_trip_and_fmt(tmp_path: Path) -> None:
    yaml_file = tmp_path / "programme.yaml"
    refused = loya("convert", EXAMPLE / "programme.loya", "-o", yaml_file)  # the example has comments
    assert refused.returncode == 1 and "LOY123" in refused.stderr and not yaml_file.exists()
    assert loya("convert", EXAMPLE / "programme.loya", "-o", yaml_file, "--drop-comments").returncode == 0
    back = tmp_path / "back.loya"
    assert loya("convert", yaml_file, "-o", back).returncode == 0
    formatted = loya("fmt", EXAMPLE / "programme.loya").stdout
    assert "# --- personal offers" in formatted  # fmt keeps comments
    assert parse(back.read_text(encoding="utf-8"))[0] == parse(formatted)[0]
    assert loya("fmt", "--check", back).returncode == 0


def test_fmt_lists_and_diffs_files_that_would_change(tmp_path: Path) -> None:
    messy = tmp_path / "messy.loya"
    messy.write_text((EXAMPLE / "programme.loya").read_text(encoding="utf-8").replace("\n", "\n\n\n", 3),
                     encoding="utf-8")
    tidy = tmp_path / "tidy.loya"
    tidy.write_text(loya("fmt", messy).stdout, encoding="utf-8")
    listed = loya("fmt", "-l", messy, tidy)
    assert listed.returncode == 0 and listed.stdout.splitlines() == [str(messy)]
    diffed = loya("fmt", "--diff", messy, tidy)
    assert diffed.stdout.startswith(f"--- {messy} (original)\n+++ {messy} (formatted)\n@@")
    assert str(tidy) not in diffed.stdout
    assert messy.read_text(encoding="utf-8") != tidy.read_text(encoding="utf-8")  # nothing written
