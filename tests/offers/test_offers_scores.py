"""Model scores in the language (docs/offers.md, "Scores in the language"): the golden `loya test`
case from its .loya and its YAML twin, the compile-time errors as data, and `loya offers score`
writing a model's scores into customer states that a programme then reads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from offers_cases import assert_compile_errors
from typer.testing import CliRunner

from loyadsl.cli import app
from loyadsl.mechtest.runner import run_file
from loyadsl.offers.errors import UNFITTED_SCORE, UNKNOWN_CATEGORY, OffersError
from loyadsl.offers.model import Model
from loyadsl.offers.scoring import as_change, changes, check_reads, fitted, scored
from loyadsl.runtime.state import CustomerState, apply, invert
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import to_yaml

HERE = Path(__file__).parent / "scores"
GOLDEN = HERE / "cases" / "scores.test.yaml"
HEADER = ('programme "S" { currency USD minor 2  timezone "UTC" }\n'
          "group base { priority 100  stacking stack_all  basis original }\n")
DIAGNOSTICS: list[dict[str, Any]] = yaml.safe_load((HERE / "diagnostics" / "cases.yaml").read_text("utf-8"))
DOCS = Path(__file__).parents[2] / "docs" / "offers.md"
NOW = dt.datetime(2025, 6, 21, tzinfo=dt.UTC)


def _passes(path: Path) -> None:
    result = run_file(path, path.name)
    assert not result.errors, [str(d) for d in result.errors]
    assert result.cases and not [str(d) for c in result.cases for d in c.diagnostics]


def test_golden_case_from_loya() -> None:
    _passes(GOLDEN)


def test_golden_case_from_the_yaml_twin(tmp_path: Path) -> None:
    spec = yaml.safe_load(GOLDEN.read_text("utf-8"))
    module, diags = parse((GOLDEN.parent / spec["file"]).read_text("utf-8"))
    assert module is not None and not diags
    (tmp_path / "programme.yaml").write_text(to_yaml(module), "utf-8")
    spec["file"] = "programme.yaml"
    (tmp_path / GOLDEN.name).write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    _passes(tmp_path / GOLDEN.name)


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    spec = yaml.safe_load(GOLDEN.read_text("utf-8"))
    spec["file"] = str(GOLDEN.parent / spec["file"])
    spec["cases"][2]["steps"][0]["expect"]["applied"] = ["coffee_due"]  # the unscored customer gets nothing
    (tmp_path / "t.test.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    result = run_file(tmp_path / "t.test.yaml", "t.test.yaml")
    assert [d for c in result.cases for d in c.diagnostics]


def test_the_docs_example_is_the_golden_programme() -> None:
    programme = (GOLDEN.parent / "scores.loya").read_text("utf-8")
    assert f"```loya\n{programme}```" in DOCS.read_text("utf-8")


@pytest.mark.parametrize("case", DIAGNOSTICS, ids=lambda c: c["name"])
def test_compile_time_error(case: dict[str, Any]) -> None:
    assert_compile_errors(HEADER, case)


def test_fmt_round_trips_a_score_call() -> None:
    from loyadsl.syntax.printer import format_module
    text = (GOLDEN.parent / "scores.loya").read_text("utf-8")
    module, _ = parse(text)
    assert module is not None
    again, _ = parse(format_module(module))
    assert again is not None and format_module(again) == format_module(module)
    assert 'customer.next_purchase("coffee") <= 7 days' in format_module(module)


# ------------------------------------------------------------------------------ loya offers score


def test_scores_of_the_shop_model(shop_model: Model) -> None:
    assert fitted(shop_model) == ["affinity", "clv_12m", "next_purchase", "p_alive", "rfm"]
    state = scored(shop_model, {}, NOW)["B1"]
    c = shop_model.customers["B1"]
    assert state.scores is not None and state.scores.as_of == dt.date(2025, 6, 20)
    values = state.scores.values
    assert values["p_alive"] == round(c["p_alive"] * 1_000_000)
    assert values["clv_12m"] == c["clv"]
    assert (values["rfm_r"], values["rfm_f"], values["rfm_m"]) == (c["rfm"]["r"], c["rfm"]["f"], c["rfm"]["m"])
    assert values["next_purchase:EGGS"] == dt.date.fromisoformat(c["categories"]["EGGS"]["next"]).toordinal()
    assert "next_purchase:COFFEE" not in values  # B1 never bought coffee: no cycle, no value
    assert values["affinity:COFFEE"] == round(dict(c["affinity"])["COFFEE"] * 1_000_000)


def test_a_refresh_replaces_and_removes_and_inverts(shop_model: Model) -> None:
    first = scored(shop_model, {"GONE": CustomerState(id="GONE")}, NOW)
    stale = first["B1"].scores
    assert stale is not None
    gone = apply(first["B1"], [])  # a customer the next model does not know keeps no stale scores
    first["GONE"] = first["B1"].model_copy(update={"id": "GONE"})
    later = changes(shop_model, first, NOW + dt.timedelta(days=6))
    assert later["GONE"].new is None and later["GONE"].old is not None
    assert later["B1"].old == stale  # built from the typed record the state holds
    assert later["B1"].to_dict()["from"] == stale.model_dump(mode="json")
    after = apply(first["B1"], [as_change(later["B1"])])
    assert after.scores is not None and after.scores.refreshed != stale.refreshed
    as_json = [later["B1"].to_dict()]  # the change as `--changes` writes it applies and inverts the same
    assert apply(first["B1"], as_json) == after
    assert apply(after, invert(first["B1"], as_json)) == gone


def test_a_change_made_for_other_scores_is_refused(shop_model: Model) -> None:
    from loyadsl.runtime.errors import LoyaError
    change = [as_change(changes(shop_model, {}, NOW)["B1"])]
    state = apply(CustomerState(id="B1"), change)
    with pytest.raises(LoyaError) as exc:
        apply(state, change)  # from: none, but the state holds scores now: nothing applied twice
    assert exc.value.code == "LOY503"


def test_a_programme_reading_what_the_model_lacks(shop_model: Model) -> None:
    with pytest.raises(OffersError) as exc:
        check_reads(shop_model, ["next_purchase:coffee"], "p.loya")
    assert exc.value.code == UNKNOWN_CATEGORY and "did you mean 'COFFEE'" in exc.value.message
    short = Model({**shop_model.header, "config": {**shop_model.header["config"], "clv_horizon": 180}},
                  shop_model.customers)
    with pytest.raises(OffersError) as exc:
        check_reads(short, ["clv_12m"], "p.loya")
    assert exc.value.code == UNFITTED_SCORE and "180 days, not 365" in exc.value.message
    check_reads(shop_model, ["clv_12m", "p_alive", "rfm_r", "affinity:COFFEE"], "p.loya")


def test_score_then_evaluate(shop_model: Model, shop_data: Path, tmp_path: Path) -> None:
    """fit -> score -> the programme reads the scores at the till."""
    model = tmp_path / "m.json"
    shop_model.save(model)
    programme = tmp_path / "p.loya"
    programme.write_text((GOLDEN.parent / "scores.loya").read_text("utf-8").replace('"coffee"', '"COFFEE"'), "utf-8")
    runner = CliRunner()
    bad = runner.invoke(app, ["offers", "score", str(model), "-o", str(tmp_path / "s.jsonl"), "--programme",
                              str(GOLDEN.parent / "scores.loya")])
    assert bad.exit_code == 2 and "LOY634" in bad.output
    ok = runner.invoke(app, ["offers", "score", str(model), "-o", str(tmp_path / "s.jsonl"), "--programme",
                             str(programme), "--customers", str(shop_data / "customers.jsonl")])
    assert ok.exit_code == 0, ok.output
    states = {json.loads(line)["id"]: json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()}
    due = [cid for cid, s in states.items()
           if s.get("scores") and 0 <= s["scores"]["values"].get("next_purchase:COFFEE", -99) - NOW.date().toordinal() <= 7]
    assert due, "the shop has customers whose coffee is due"
    receipt = {"receipt_id": "R1", "customer_id": due[0], "datetime": "2025-06-21T12:00:00+00:00",
               "store_id": "S1", "currency": "USD",
               "lines": [{"line_no": 1, "sku": "COFFEE-1", "category": "COFFEE", "qty": 1, "unit_price": 899,
                          "amount": 899}]}
    (tmp_path / "r.json").write_text(json.dumps(receipt))
    bundle = tmp_path / "p.bundle"
    assert runner.invoke(app, ["compile", str(programme), "-o", str(bundle)]).exit_code == 0
    out = runner.invoke(app, ["eval", str(bundle), str(tmp_path / "r.json"), "--customers", str(tmp_path / "s.jsonl"),
                              "--format", "json"])
    assert out.exit_code == 0, out.output
    applied = json.loads(out.output)["outcomes"][0]["applied"]
    applied = [a["campaign"] if isinstance(a, dict) else a for a in applied]
    affinity = states[due[0]]["scores"]["values"].get("affinity:COFFEE", 0)
    assert ("coffee_due" in applied) == (affinity >= 100_000)


def test_score_writes_its_changes(shop_model: Model, shop_data: Path, tmp_path: Path) -> None:
    """`--changes`: one line per customer with the `scores` change; applied to the states given, they
    give the states written."""
    shop_model.save(tmp_path / "m.json")
    run = CliRunner().invoke(app, ["offers", "score", str(tmp_path / "m.json"), "-o", str(tmp_path / "s.jsonl"),
                                   "--customers", str(shop_data / "customers.jsonl"), "--changes", str(tmp_path / "c.jsonl")])
    assert run.exit_code == 0, run.stderr
    with open(shop_data / "customers.jsonl", "rb") as f:
        from loyadsl.runtime.state import read_customers
        known = read_customers(f, "customers.jsonl", [])
    lines = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert [line["customer"] for line in lines] == sorted(shop_model.customers.keys() | known.keys())
    written = {json.loads(line)["id"]: json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()}
    for line in lines:
        (change,) = line["changes"]
        assert change["op"] == "scores" and change["to"]["as_of"] == "2025-06-20"
        state = apply(known.get(line["customer"]) or CustomerState(id=line["customer"]), line["changes"])
        assert state.to_dict() == written[line["customer"]]
