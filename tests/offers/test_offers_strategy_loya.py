"""Strategies in the language (docs/offers.md, "Strategies in the language"): the stdlib strategies'
.loya form is what `loya fmt` prints and equals their YAML form; the programme twin round-trips;
compile-time errors as data (tests/offers/strategies/cases.yaml); `loya offers issue` reads .loya and
places a model's objection at the offer it is about."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from offers_cases import assert_compile_errors
from typer.testing import CliRunner

from loyadsl.api import check_text
from loyadsl.cli import app
from loyadsl.offers.model import Model
from loyadsl.offers.strategy import load_strategy
from loyadsl.offers.strategy_loya import load_loya_strategy
from loyadsl.syntax.parser import parse
from loyadsl.syntax.printer import format_module
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

ROOT = Path(__file__).resolve().parents[2]
STDLIB = ROOT / "loyadsl" / "offers" / "stdlib"
NAMES = ["replenishment", "winback", "crosssell", "tierup", "birthday"]
HEADER = ('programme "S" { currency USD minor 2  timezone "UTC" }\n'
          'coupons personal_5 { code unique "OFF-"  valid 30 days  uses 1 }\n')
CASES: list[dict[str, Any]] = yaml.safe_load((Path(__file__).parent / "strategies" / "cases.yaml").read_text("utf-8"))
DOCS = ROOT / "docs" / "offers.md"
EXAMPLE = Path(__file__).parent / "strategies" / "programme.loya"


@pytest.mark.parametrize("name", NAMES)
def test_stdlib_loya_is_its_yaml(name: str) -> None:
    strategy, _ = load_loya_strategy(STDLIB / f"{name}.loya")
    assert strategy == load_strategy(STDLIB / f"{name}.yaml")


@pytest.mark.parametrize("name", NAMES)
def test_stdlib_loya_is_formatted_and_twins(name: str) -> None:
    text = (STDLIB / f"{name}.loya").read_text("utf-8")
    module, diags = parse(text)
    assert module is not None and not diags
    body = "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))
    assert format_module(module) == body  # the file is `loya fmt`'s output (after its comment)
    twin, diags = parse_yaml(to_yaml(module))
    assert twin is not None and not diags and format_module(twin) == body
    data = yaml.safe_load(to_yaml(module))["strategies"][0]
    assert data == {k: v for k, v in yaml.safe_load((STDLIB / f"{name}.yaml").read_text("utf-8")).items()}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_compile_time_error(case: dict[str, Any]) -> None:
    assert_compile_errors(HEADER, case)


def test_the_docs_example_checks_and_is_in_the_docs() -> None:
    text = EXAMPLE.read_text("utf-8")
    assert f"```loya\n{text}```" in DOCS.read_text("utf-8")
    result = check_text(text, EXAMPLE.name)
    assert result.programme is not None, [str(d) for d in result.diagnostics]


def test_issue_reads_loya_and_places_model_errors(shop_model: Model, tmp_path: Path) -> None:
    model = tmp_path / "m.json"
    shop_model.save(model)
    runner = CliRunner()
    out = runner.invoke(app, ["offers", "issue", str(EXAMPLE), "--model", str(model), "-o", str(tmp_path / "o.jsonl")])
    assert out.exit_code == 0, out.output
    offers = (tmp_path / "o.jsonl").read_text().splitlines()
    assert offers and all('"strategy": "coffee_due"' in line for line in offers)
    bad = tmp_path / "bad.loya"
    bad.write_text(EXAMPLE.read_text("utf-8").replace('["COFFEE"]', '["COFEE"]'), "utf-8")
    out = runner.invoke(app, ["offers", "issue", str(bad), "--model", str(model), "-o", str(tmp_path / "o.jsonl")])
    line = next(i + 1 for i, text in enumerate(bad.read_text().splitlines()) if "offer coffee" in text)
    assert out.exit_code == 2 and "LOY634" in out.output and f"bad.loya:{line}:" in out.output, out.output
    assert "did you mean 'COFFEE'" in out.output


def test_fmt_keeps_order_and_comments(tmp_path: Path) -> None:
    text = ('strategy s "T" {\n    # the currency\n    currency USD\n    offer o {\n        coupon c  # series\n'
            '        amount 5.00 USD\n        # rules\n        p_alive_below 0.5\n        target customer\n    }\n}\n')
    path = tmp_path / "s.loya"
    path.write_text(text, "utf-8")
    out = CliRunner().invoke(app, ["fmt", str(path)])
    assert out.exit_code == 0 and out.output == text, out.output


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("form", ["loya", "yaml"])
def test_check_a_strategy_file(name: str, form: str) -> None:
    """`loya check` of a file of strategies only (no programme): checked as `offers issue` checks it."""
    result = CliRunner().invoke(app, ["check", str(STDLIB / f"{name}.{form}")])
    assert result.exit_code == 0, result.output
    assert f"offer strategies {name}" in result.stdout


@pytest.mark.parametrize(("text", "code", "where"), [
    ('strategy s {\n  currency USD\n  offer o { coupon c  discount 10  valid 14 days }\n}\n', "LOY633", "s.loya:3:23"),
    ('strategy s {\n  currency USD\n  offer o { coupon c  discount 10%  p_alive_bellow 0.5 }\n}\n', "LOY635", "s.loya:3:37"),
    ("strategy: s\ncurrency: USD\noffers:\n  - {name: o, coupon: c, discount: 10}\n", "LOY633", "offers.0.discount"),
])
def test_check_a_bad_strategy_file(text: str, code: str, where: str, tmp_path: Path) -> None:
    path = tmp_path / ("s.yaml" if text.startswith("strategy:") else "s.loya")
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1 and f"error[{code}]" in result.stderr and where in result.stderr, result.output
    assert "LOY210" not in result.output  # not read as a programme without its header


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("form", ["loya", "yaml"])
def test_the_language_server_checks_a_strategy_file(name: str, form: str) -> None:
    """The editor sees a file of strategies as `loya check` does: no LOY210 for a missing programme header."""
    from loyadsl.lsp.analysis import analyse
    path = STDLIB / f"{name}.{form}"
    assert analyse(path.read_text("utf-8"), path.name, path).result.diagnostics == []


@pytest.mark.parametrize(("text", "code", "line"), [
    ('strategy s {\n  currency USD\n  offer o { coupon c  discount 10  valid 14 days }\n}\n', "LOY633", 3),
    ("strategy: s\ncurrency: USD\noffers:\n  - {name: o, coupon: c, discount: 10}\n", "LOY633", None),
])
def test_the_language_server_reports_a_bad_strategy(text: str, code: str, line: int | None) -> None:
    from loyadsl.lsp.analysis import analyse
    file = "s.yaml" if text.startswith("strategy:") else "s.loya"
    found = analyse(text, file).result.diagnostics
    assert [d.code for d in found] == [code], found
    assert line is None or (found[0].span is not None and found[0].span.line == line)
