"""Reports pinned byte for byte: the fast replay (receipts validated once, spilled packed, rebuilt
without a second validation) gives the very report and quarantine that the replay before it gave.

The expected files in ``data/golden_reports/`` were written by the code before that change:

    PYTHONPATH=<a checkout of the old code> python tests/simulate/test_report_golden.py OUTDIR

Each case runs with 1 and 2 workers (the report names the workers; the rest is the same).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
ROOT = HERE.parent.parent
GOLDEN = DATA / "golden_reports"
CJ = ROOT / "examples" / "completejourney"
CJ_SAMPLE = ROOT.parent / "shared" / "data" / "completejourney_sample.jsonl.gz"

# name: (programme, receipts, customers, mapping)
CASES: dict[str, tuple[Path, Path, Path | None, Path | None]] = {
    "cj_first230": (CJ / "programme.loya", DATA / "completejourney" / "first230.jsonl.gz", None, CJ / "mapping.yaml"),
    "accounting": (DATA / "accounting" / "programme.loya", DATA / "accounting" / "receipts.jsonl",
                   DATA / "accounting" / "customers.jsonl", None),
    "households": (DATA / "households" / "programme.loya", DATA / "households" / "receipts.jsonl",
                   DATA / "households" / "customers.jsonl", None),
    "budgets": (DATA / "budgets" / "programme.loya", DATA / "budgets" / "receipts.jsonl", None, None),
    "history": (DATA / "history" / "programme.loya", DATA / "history" / "receipts.jsonl", None, None),
    "cj_sample": (CJ / "programme.loya", CJ_SAMPLE, None, CJ / "mapping.yaml"),  # when ../shared is here
}


def report_of(name: str, workers: int, folder: Path) -> tuple[str, str]:
    """The report JSON (as ``loya simulate -f json`` writes it) and the quarantine file's text."""
    from loyadsl.api import compile_file
    from loyadsl.simulate.mapping import load_mapping
    from loyadsl.simulate.run import Simulation

    programme, receipts, customers, mapping = CASES[name]
    bundle, result = compile_file(programme)
    assert bundle is not None, result.diagnostics
    quarantine = folder / f"{name}.{workers}.quarantine.jsonl"
    report = Simulation(bundle, [receipts], customers=customers, workers=workers, quarantine=quarantine,
                        mapping=load_mapping(file=mapping) if mapping is not None else None).run()
    report["input"]["workers"] = "N"
    text = json.dumps(report, indent=1, ensure_ascii=False) + "\n"
    return text, quarantine.read_text(encoding="utf-8").replace(str(DATA), "DATA").replace(str(ROOT.parent), "ROOT")


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("name", sorted(CASES))
def test_report_and_quarantine_are_unchanged(name: str, workers: int, tmp_path: Path) -> None:
    if not CASES[name][1].is_file():
        pytest.skip("../shared/data (the project's data folder) is not here")
    report, quarantine = report_of(name, workers, tmp_path)
    assert report == (GOLDEN / f"{name}.json").read_text(encoding="utf-8")
    assert quarantine == (GOLDEN / f"{name}.quarantine.jsonl").read_text(encoding="utf-8")


if __name__ == "__main__":  # write the expected files with whatever loyadsl is on the path
    import tempfile

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        if CASES[case][1].is_file():
            with tempfile.TemporaryDirectory() as scratch:
                text, bad = report_of(case, 1, Path(scratch))
            (out / f"{case}.json").write_text(text, encoding="utf-8")
            (out / f"{case}.quarantine.jsonl").write_text(bad, encoding="utf-8")
