"""The real inputs the fuzz strategies start from: programmes, their YAML twins, compiled bundles,
receipts and customer records that the repository already ships. Each is read once (and lazily, so
importing the fuzz suite costs nothing), and each list is ordered smallest first, because
hypothesis shrinks ``sampled_from`` towards its first element: a minimised failure then starts from
the smallest real input that shows it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parents[2]
SUPERMARKET = ROOT / "examples" / "supermarket"

Json = Any


class Source(NamedTuple):
    name: str  # path relative to the repository
    text: str


class BundleBase(NamedTuple):
    name: str  # the programme it was compiled from
    payload: dict[str, Json]


class Journey(NamedTuple):
    """A customer record with receipts of theirs, under the programme they were written for."""

    programme: str  # path relative to the repository
    customer: dict[str, Json] | None
    receipts: tuple[dict[str, Json], ...]


def _read_json(path: Path) -> Json:
    return json.loads(path.read_text(encoding="utf-8"))


def _jsonl(path: Path) -> list[Json]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@cache
def sources() -> tuple[Source, ...]:
    """Every .loya programme in the repository (examples, standard mechanics, test programmes)."""
    paths = {*ROOT.glob("examples/**/*.loya"), *ROOT.glob("stdlib_mechanics/*.loya"),
             *ROOT.glob("tests/golden/*/programme.loya"), *ROOT.glob("tests/golden_state/*/programme.loya"),
             *ROOT.glob("tests/syntax/programmes/*.loya"), *ROOT.glob("bench/*.loya")}
    found = [Source(_rel(p), p.read_text(encoding="utf-8")) for p in paths]
    return tuple(sorted(found, key=lambda s: (len(s.text), s.name)))


@cache
def yaml_sources() -> tuple[Source, ...]:
    """The YAML twin (`loya convert --to yaml`) of every corpus programme that parses."""
    from loyadsl.syntax.parser import parse
    from loyadsl.syntax.yaml_twin import to_yaml

    out = []
    for source in sources():
        module, _ = parse(source.text, source.name)
        if module is not None:
            out.append(Source(source.name.removesuffix(".loya") + ".yaml", to_yaml(module)))
    return tuple(sorted(out, key=lambda s: (len(s.text), s.name)))


@cache
def bundle_bases() -> tuple[BundleBase, ...]:
    """The payload JSON of every corpus programme that compiles on its own (no files beside it)."""
    from loyadsl.api import compile_file
    from loyadsl.runtime.bundle import MAGIC

    out = []
    for source in sources():
        if not source.name.startswith(("tests/golden", "examples/supermarket", "bench/")):
            continue
        data, _ = compile_file(ROOT / source.name)
        if data is None:
            continue
        body = data[data.index(b"\n", len(MAGIC)) + 1:]
        out.append(BundleBase(source.name, json.loads(body)))
    return tuple(sorted(out, key=lambda b: (len(json.dumps(b.payload)), b.name)))


@cache
def bundle_bytes(programme: str) -> bytes:
    """The compiled bundle of a corpus programme (for the receipt and customer targets)."""
    from loyadsl.api import compile_file

    data, result = compile_file(ROOT / programme)
    assert data is not None, [d.message for d in result.diagnostics]
    return data


@cache
def receipts() -> tuple[dict[str, Json], ...]:
    """Real receipts: the golden cases' and a sample of the supermarket history (purchases only)."""
    golden = [_read_json(p) for p in sorted(ROOT.glob("tests/golden/*/receipt.json"))]
    history = [r for r in _jsonl(SUPERMARKET / "receipts.jsonl") if "return_of" not in r]
    sample = history[:: max(1, len(history) // 40)]
    return tuple(sorted([*golden, *sample], key=lambda r: (len(json.dumps(r)), r["receipt_id"])))


@cache
def journeys() -> tuple[Journey, ...]:
    """Customers with their receipts: each golden state case, and the supermarket's customers."""
    out = []
    for case in sorted(ROOT.glob("tests/golden_state/*/")):
        customer = _read_json(case / "customer.json") if (case / "customer.json").is_file() else None
        if (case / "steps.json").is_file():
            steps = [s["receipt"] for s in _read_json(case / "steps.json") if "receipt" in s]
        elif (case / "receipt.json").is_file():
            steps = [_read_json(case / "receipt.json")]
        else:
            steps = []
        if steps:
            out.append(Journey(_rel(case / "programme.loya"), customer, tuple(steps)))
    history = _jsonl(SUPERMARKET / "receipts.jsonl")
    by_customer: dict[str, list[dict[str, Json]]] = {}
    for r in history:
        if r.get("customer_id") and "return_of" not in r:
            by_customer.setdefault(r["customer_id"], []).append(r)
    programme = _rel(SUPERMARKET / "programme.loya")
    for customer in _jsonl(SUPERMARKET / "customers.jsonl"):
        mine = by_customer.get(customer["id"])
        if mine:
            out.append(Journey(programme, customer, tuple(mine[:3])))
    return tuple(sorted(out, key=lambda j: (len(json.dumps(j)), j.programme)))
