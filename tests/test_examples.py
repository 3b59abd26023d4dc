"""Every example and standard mechanic converts between .loya and YAML without loss, and the
committed YAML twin of the supermarket programme compiles to the same campaigns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loyadsl.api import compile_file
from loyadsl.syntax.parser import parse
from loyadsl.syntax.printer import format_module
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("examples/**/*.loya"), *ROOT.glob("stdlib_mechanics/*.loya"),
                  *ROOT.glob("bench/*.loya"), *ROOT.glob("tests/golden/*/programme.loya")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_round_trip(path: Path) -> None:
    module, diags = parse(path.read_text(encoding="utf-8"), path.name)
    assert module is not None, diags
    via_yaml, diags = parse_yaml(to_yaml(module), path.stem + ".yaml")
    assert via_yaml == module, diags
    via_printer, diags = parse(format_module(module), path.name)
    assert via_printer == module, diags


def test_committed_yaml_twin_compiles_to_the_same_campaigns() -> None:
    folder = ROOT / "examples" / "supermarket"
    from_loya, _ = compile_file(folder / "programme.loya")
    from_yaml, _ = compile_file(folder / "programme.yaml")
    assert from_loya is not None and from_yaml is not None

    def semantic(data: bytes) -> dict[str, object]:
        payload = json.loads(data.split(b"\n", 2)[2])
        del payload["manifest"]  # names and hashes the source files, which differ
        for c in payload["campaigns"]:
            del c["span"]
        return payload

    assert semantic(from_loya) == semantic(from_yaml)
