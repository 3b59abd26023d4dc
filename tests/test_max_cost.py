"""``max_cost``: a hard bound on the static cost, hence the time, of one evaluation (LOY520)."""

from __future__ import annotations

import json

import pytest
from test_cli import EXAMPLE, loya

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, LoyaError, load_bundle


@pytest.fixture(scope="module")
def bundle():  # type: ignore[no-untyped-def]
    data, _ = compile_file(EXAMPLE / "programme.loya")
    assert data is not None
    return load_bundle(data)


def _receipt(lines: int) -> dict[str, object]:
    return {"receipt_id": "R1", "datetime": "2025-03-05T10:00:00+03:00", "store_id": "S001",
            "lines": [{"line_no": i + 1, "sku": f"SKU{i:05d}", "category": "dairy", "qty": 1, "unit_price": 100,
                       "amount": 100} for i in range(lines)]}


def test_a_receipt_over_the_limit_is_refused_before_any_work(bundle) -> None:  # type: ignore[no-untyped-def]
    fixed, per_line = bundle.cost_fixed, bundle.cost_per_line
    limit = fixed + per_line * 13  # exactly 13 lines fit
    engine = Engine(bundle, limit)
    assert engine.evaluate(_receipt(13)).total == 1300
    with pytest.raises(LoyaError) as refused:
        engine.evaluate(_receipt(14))
    assert refused.value.code == "LOY520"
    assert refused.value.where == "lines"
    assert f"{fixed + per_line * 14:,} units" in str(refused.value) and "at most 13 lines" in str(refused.value)
    assert Engine(bundle).evaluate(_receipt(14)).total == 1400  # no limit: only the bundle's own bound


def test_a_limit_under_the_fixed_cost_refuses_the_engine(bundle) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LoyaError) as refused:
        Engine(bundle, bundle.cost_fixed - 1)
    assert refused.value.code == "LOY520"


def test_eval_max_cost_option(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "big.json"
    path.write_text(json.dumps(_receipt(20)), encoding="utf-8")
    done = loya("eval", EXAMPLE / "programme.loya", path, "--max-cost", "5000", "--format", "json")
    assert "LOY520" in done.stdout and "at most 7 lines" in done.stdout, done.stdout + done.stderr
    done = loya("eval", EXAMPLE / "programme.loya", path, "--max-cost", "10", "--format", "json")
    assert done.returncode != 0 and json.loads(done.stdout)["error"]["code"] == "LOY520"


def test_compile_says_what_the_cost_bound_means(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A programme over MAX_STATIC_COST for one line is not compiled (LOY411); one that only the longest
    receipts take past it compiles, with a warning giving the longest receipt it takes (LOY303)."""
    from loyadsl import api

    data, result = compile_file(EXAMPLE / "programme.loya")
    assert data is not None and not any(d.code in ("LOY303", "LOY411") for d in result.diagnostics)
    b = load_bundle(data)
    monkeypatch.setattr(api, "MAX_STATIC_COST", b.cost_fixed + b.cost_per_line * 40)
    data, result = compile_file(EXAMPLE / "programme.loya")
    warned = [d for d in result.diagnostics if d.code == "LOY303"]
    assert data is not None and len(warned) == 1 and "at most 40 lines" in warned[0].message
    monkeypatch.setattr(api, "MAX_STATIC_COST", b.cost_fixed + b.cost_per_line - 1)
    data, result = compile_file(EXAMPLE / "programme.loya")
    assert data is None and [d.code for d in result.diagnostics if d.severity.value == "error"] == ["LOY411"]
