"""Exits beyond a purchase (docs/triggers.md, "Exits"): the chains of tests/triggers/cases/exits.loya
over time (exits.test.yaml), `loya fmt` and the YAML twin keeping them, the bundle carrying them, and a
bad exit in YAML being a coded error at its place (the checker's own are in bad/exit_*.loya)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from loyadsl.api import compile_file, parse_any
from loyadsl.mechtest.runner import run_file
from loyadsl.runtime import load_bundle, pack_bundle
from loyadsl.runtime.errors import BundleError
from loyadsl.runtime.triggers.spec import Event
from loyadsl.syntax.printer import format_module
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

CASES = Path(__file__).parent / "cases"


def test_the_exit_timelines_pass() -> None:
    result = run_file(CASES / "exits.test.yaml", "exits.test.yaml")
    assert not result.errors and len(result.cases) == 5
    assert [str(d) for c in result.cases for d in c.diagnostics] == []


def test_fmt_and_the_yaml_twin_keep_the_exits() -> None:
    text = (CASES / "exits.loya").read_text(encoding="utf-8")
    module, diags = parse_any(text, "exits.loya")
    assert module is not None and not diags
    back, diags = parse_yaml(to_yaml(module), "exits.yaml")
    assert back is not None and not diags
    assert format_module(back) == format_module(module)
    assert "exits:\n      - on coupon redeemed\n" in to_yaml(module)


def test_the_bundle_carries_the_exits() -> None:
    data, _ = compile_file(CASES / "exits.loya")
    assert data is not None
    triggers = {t.name: t for t in load_bundle(data).triggers}
    assert triggers["comeback"].exits == (Event("coupon_redeemed"),)
    assert triggers["vip_perks"].exits == (Event("segment_left", segment="vip"),)
    assert triggers["spend"].exits == (Event("redemption"),)
    assert "exits" not in replace(triggers["spend"], exits=()).to_dict()  # other bundles keep their bytes


@pytest.mark.parametrize(("exits", "where"), [([{"kind": "purchase"}], "triggers[0].exits[0].kind"),
                                             ([{"kind": "segment_left"}], "triggers[0].exits[0]"),
                                             ([{"kind": "redemption", "x": 1}], "triggers[0].exits[0].x"),
                                             ([{"kind": "redemption"}] * 9, "triggers[0].exits")])
def test_a_malformed_exit_in_a_bundle_is_refused(exits: list[dict[str, object]], where: str) -> None:
    data, _ = compile_file(CASES / "exits.loya")
    assert data is not None
    payload = json.loads(data[data.index(b"\n", 6) + 1:])
    payload["triggers"][0]["exits"] = exits
    with pytest.raises(BundleError) as info:
        load_bundle(pack_bundle(payload))
    assert (info.value.code, info.value.where) == ("LOY404", where)


@pytest.mark.parametrize(("exit_text", "code", "col"), [("on purchase please", "LOY101", 25),
                                                       ("on purchase", "LOY106", 13)])
def test_a_bad_exit_in_yaml_is_a_coded_error_at_its_place(exit_text: str, code: str, col: int) -> None:
    text = f"""programme:
  name: Shop
  currency: RUB
  minor: 2
  timezone: Europe/Moscow
triggers:
  - name: t
    event: registration
    exits: [{exit_text}]
    steps:
      - after: 1 days
        do: ['send push "Hi"']
"""
    module, diags = parse_yaml(text, "shop.yaml")
    assert module is None
    assert [(d.code, d.span.line, d.span.col) for d in diags if d.span is not None] == [(code, 9, col)]
