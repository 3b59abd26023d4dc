"""The programme, bundle and report contracts (loyadsl/schema_programme.py, schema_bundle.py,
schema_reports.py; `loya schema NAME [--check FILE]`): every schema accepts what the project writes
(the examples, every programme the YAML reader accepts, compiled bundles, the simulate, diff,
collisions and ab reports), both through the model and through the generated JSON Schema (what an
editor or another language uses), and a mutated document is refused with an error naming its path (and, for YAML, its
line and column). The checked-in files are compared with the models in tests/test_schemas.py."""

from __future__ import annotations

import copy
import datetime
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyadsl import schemas
from loyadsl.api import compile_file
from loyadsl.schema_check import check_json, check_yaml_programme
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SUPERMARKET = EXAMPLES / "supermarket"
PROGRAMMES = sorted(p for p in [*EXAMPLES.rglob("*.loya"), *(ROOT / "tests").rglob("*.loya")]
                    if "std" not in p.parts)
YAMLS = sorted(p for p in [*EXAMPLES.rglob("*.yaml"), *(ROOT / "tests").rglob("*.yaml")]
               if not p.name.endswith((".test.yaml", "mapping.yaml")))


def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = schemas.SCHEMAS[name]()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def editor_view(text: str) -> Any:
    """The document as an editor's YAML reader sees it (numbers, booleans, dates; dates as text)."""
    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.isoformat() if isinstance(value, datetime.date | datetime.datetime) else value
    return plain(yaml.safe_load(text))


def loya(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *args], capture_output=True, text=True, check=False)


# ------------------------------------------------------------------------------------ the YAML programme


def _accepted_yaml_texts() -> list[tuple[str, str]]:
    """Every YAML programme the reader accepts: the .yaml files that parse, and each .loya file's twin."""
    out = []
    for path in YAMLS:
        text = path.read_text(encoding="utf-8")
        if parse_yaml(text, path.name)[0] is not None:
            out.append((str(path.relative_to(ROOT)), text))
    for path in PROGRAMMES:
        module, _ = parse(path.read_text(encoding="utf-8"), path.name)
        if module is not None:
            out.append((f"{path.relative_to(ROOT)} (twin)", to_yaml(module)))
    return out


ACCEPTED = _accepted_yaml_texts()


def test_the_harness_finds_yaml_programmes() -> None:
    assert len(ACCEPTED) > 100
    assert any(name == "examples/supermarket/programme.yaml" for name, _ in ACCEPTED)


@pytest.mark.parametrize(("name", "text"), ACCEPTED, ids=[name for name, _ in ACCEPTED])
def test_every_programme_the_reader_accepts_fits_the_schema(name: str, text: str) -> None:
    assert [d.message for d in check_yaml_programme(text, name)] == []
    errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in
              validator("programme").iter_errors(editor_view(text))]
    assert errors == []


EXAMPLE_YAML = (SUPERMARKET / "programme.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("old", "new", "path", "line", "col"), [
    ("max share: 30%", "max shar: 30%", "redemption.max shar", 33, 3),
    ("  - name: promo\n    title: Акционные бонусы\n", "  - title: Акционные бонусы\n", "accounts[1].name", 28, 5),
    ("{level: bronze, threshold: 0 RUB,", "{level: [bronze], threshold: 0 RUB,", "tiers.levels[0].level", 41, 15),
    ("imports: ['std:n_plus_one',", "imports: [{std: n_plus_one},", "imports[0]", 10, 11),
    ("    default: true", "    default: maybe", "accounts[0].default", 27, 14),
    ("programme:\n  name: Ромашка", "programme:\n  nam: Ромашка", "programme.nam", 2, 3),
])
def test_a_mutated_programme_names_the_path_line_and_column(old: str, new: str, path: str, line: int,
                                                            col: int) -> None:
    assert old in EXAMPLE_YAML
    found = check_yaml_programme(EXAMPLE_YAML.replace(old, new, 1), "programme.yaml")
    named = [d for d in found if d.code == "LOY124" and f" at {path}:" in d.message]
    assert named, [d.message for d in found]
    assert named[0].span is not None and (named[0].span.line, named[0].span.col) == (line, col), named[0].span
    assert not validator("programme").is_valid(editor_view(EXAMPLE_YAML.replace(old, new, 1)))


UNKNOWN_KEYS = [  # a key no mapping of its kind has, in each kind of mapping of the example
    ("  timezone: Europe/Moscow", "  timezon: Europe/Moscow"),
    ("points: {minor: 0, value: 1.00 RUB}", "points: {minor: 0, valu: 1.00 RUB}"),
    ("{skus: n_plus_one, from:", "{skus: n_plus_one, form:"),
    ("    activation: 14 days", "    activaton: 14 days"),
    ("  min payment: 1.00 RUB", "  min paymnt: 1.00 RUB"),
    ("  qualify: spend over quarter", "  qualfy: spend over quarter"),
    ("{level: bronze, threshold: 0 RUB,", "{level: bronze, treshold: 0 RUB,"),
    ("{counter: coffee_cups,", "{counter: coffee_cups, rest: month,"),
    ("    per customer: 1", "    per custmer: 1"),
    ("    use: multi", "    uses: multi"),
    ("  referrer: 300 points to bonus", "  referer: 300 points to bonus"),
    ("{name: personal, title:", "{name: personal, tilte:"),
    ("    audience: customer.tier", "    audiense: customer.tier"),
]


@pytest.mark.parametrize(("old", "new"), UNKNOWN_KEYS)
def test_the_reader_and_the_schema_refuse_an_unknown_key_at_the_same_place(old: str, new: str) -> None:
    """The reader takes each mapping's keys from the model: what one refuses, the other does, at the key,
    in the same words."""
    text = EXAMPLE_YAML.replace(old, new, 1)
    assert text != EXAMPLE_YAML
    module, read = parse_yaml(text, "programme.yaml")
    found = check_yaml_programme(text, "programme.yaml")
    unknown = [(d.span.line, d.span.col, d.message, d.hint) for d in read
               if d.code == "LOY106" and "unknown" in d.message and d.span]
    extra = [(d.span.line, d.span.col, d.message.split(": ", 1)[1], d.hint) for d in found
             if "unknown" in d.message and d.span]
    assert module is None and len(unknown) == 1, read
    assert {d.code for d in found} == {"LOY124"} and extra == unknown, [d.message for d in found]


# ------------------------------------------------------------------------------------ the bundle


def _payload(path: Path) -> dict[str, Any]:
    data, result = compile_file(path)
    assert data is not None, [d.message for d in result.diagnostics]
    body = data[data.index(b"\n", 6) + 1:]
    loaded: dict[str, Any] = json.loads(body)
    return loaded


COMPILED = [p for p in sorted(EXAMPLES.rglob("*.loya"))] + [ROOT / "tests" / "experiments" / "simulate" /
                                                            "programme.loya"]


@pytest.mark.parametrize("path", COMPILED, ids=[str(p.relative_to(ROOT)) for p in COMPILED])
def test_every_compiled_example_fits_the_bundle_schema(path: Path) -> None:
    from loyadsl.schema_bundle import BundlePayload

    payload = _payload(path)
    assert check_json(BundlePayload, payload) == []
    validator("bundle").validate(payload)


@pytest.mark.parametrize(("where", "value", "path"), [
    (("campaigns", 0, "priority"), "high", "campaigns[0].priority"),
    (("groups", 1, "stacking"), "stack_some", "groups[1].stacking"),
    (("settings", "point_value"), 0, "settings.point_value"),
    (("cost", "fixed"), 1.5, "cost.fixed"),
    (("manifest", "sources", 0, "sha256"), None, "manifest.sources[0].sha256"),
    (("sku_index", "SKU01885", 0), -1, "sku_index.SKU01885[0]"),
])
def test_a_mutated_bundle_names_the_path(where: tuple[Any, ...], value: Any, path: str) -> None:
    from loyadsl.schema_bundle import BundlePayload

    payload = _payload(SUPERMARKET / "programme.loya")
    target = payload
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    problems = check_json(BundlePayload, payload)
    assert problems and problems[0].startswith(path + ":"), problems
    assert not validator("bundle").is_valid(payload)


# ------------------------------------------------------------------------------------ the reports


@pytest.fixture(scope="module")
def simulation(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("sim") / "sim.json"
    programme = ROOT / "tests" / "experiments" / "simulate" / "programme.loya"  # with an experiment
    run = loya("simulate", str(programme), "-r", str(SUPERMARKET / "receipts.jsonl"), "-f", "json", "-o", str(out))
    assert run.returncode == 0, run.stderr
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert report["experiments"]
    return report


@pytest.fixture(scope="module")
def collisions() -> dict[str, Any]:
    run = loya("collisions", str(SUPERMARKET / "programme.loya"), "-f", "json", "--no-solver", "--findings")
    assert run.returncode in (0, 1), run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    assert {v["answer"] for v in report["pairs"]} >= {"meet", "disjoint"}
    return report


@pytest.fixture(scope="module")
def assignments(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    ids = tmp_path_factory.mktemp("ab") / "ids.txt"
    ids.write_text("C0001\nC0002\nC0003\n", encoding="utf-8")
    run = loya("ab", "assign", str(ids), "--salt", "s", "--arm", "a=50", "--arm", "b=50", "-f", "json")
    assert run.returncode == 0, run.stderr
    rows: list[dict[str, Any]] = json.loads(run.stdout)
    return rows


@pytest.fixture(scope="module")
def diff(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The supermarket programme against the one with an experiment, with a delta guard (an assertion)."""
    out = tmp_path_factory.mktemp("diff") / "diff.json"
    run = loya("diff", str(SUPERMARKET / "programme.loya"), str(ROOT / "tests" / "experiments" / "simulate" /
               "programme.loya"), "-r", str(SUPERMARKET / "receipts.jsonl"), "--max-cost-delta", "1000%",
               "-f", "json", "-o", str(out))
    assert run.returncode == 0, run.stderr
    report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert report["customers"] and report["receipts"] and report["assertions"]
    return report


@pytest.fixture(scope="module")
def ab_report(simulation: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`loya ab report -f json` of the simulation report's experiment."""
    path = tmp_path_factory.mktemp("ab_report") / "sim.json"
    path.write_text(json.dumps(simulation), encoding="utf-8")
    run = loya("ab", "report", str(path), "-f", "json")
    assert run.returncode == 0, run.stderr
    report: dict[str, Any] = json.loads(run.stdout)
    assert report["arms"] and report["uplift"]
    return report


MUTATIONS = {
    "simulation": [(("totals", "cost"), 1.5, "totals.cost"), (("campaigns", 0, "name"), 7, "campaigns[0].name"),
                   (("experiments", 0, "arms", 0, "customers"), "12", "experiments[0].arms[0].customers"),
                   (("kind",), "diff", "kind")],
    "collisions": [(("pairs", 0, "answer"), "maybe", "pairs[0].answer"), (("programme",), None, "programme")],
    "ab-assignments": [((0, "arm"), 1, "[0].arm")],
    "diff": [(("totals", "cost", "delta"), 1.5, "totals.cost.delta"), (("kind",), "simulation", "kind"),
             (("campaigns", 0, "status"), "moved", "campaigns[0].status"),
             (("receipts", 0, "campaigns", "added"), "food5", "receipts[0].campaigns.added")],
    "ab-report": [(("arms", 0, "customers"), "12", "arms[0].customers"), (("sample_ratio", "ok"), "yes",
                                                                          "sample_ratio.ok"),
                  (("method",), "anova", "method")],
}


def _report(name: str, request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue({"ab-assignments": "assignments", "ab-report": "ab_report"}.get(name, name))


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_every_report_fits_its_schema(name: str, request: pytest.FixtureRequest) -> None:
    report = _report(name, request)
    assert check_json(schemas.MODELS[name], report) == []
    validator(name).validate(report)


@pytest.mark.parametrize(("name", "where", "value", "path"),
                         [(name, *m) for name, ms in sorted(MUTATIONS.items()) for m in ms])
def test_a_mutated_report_names_the_path(name: str, where: tuple[Any, ...], value: Any, path: str,
                                         request: pytest.FixtureRequest) -> None:
    report = copy.deepcopy(_report(name, request))
    target = report
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    problems = check_json(schemas.MODELS[name], report)
    assert problems and problems[0].startswith(path + ":"), problems
    assert not validator(name).is_valid(report)


# ------------------------------------------------------------------------------------ the command


def test_schema_check_reports_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "shop.yaml"
    bad.write_text(EXAMPLE_YAML.replace("max share: 30%", "max shar: 30%"), encoding="utf-8")
    run = loya("schema", "programme", "--check", str(bad))
    assert run.returncode == 1
    assert "shop.yaml:33:3: error[LOY124]" in run.stderr and "redemption.max shar" in run.stderr
    good = loya("schema", "programme", "--check", str(SUPERMARKET / "programme.yaml"))
    assert (good.returncode, good.stderr) == (0, "")


def test_schema_check_reads_json_lines(tmp_path: Path) -> None:
    lines = (SUPERMARKET / "receipts.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    broken = json.loads(lines[1])
    broken["lines"][0]["qty"] = "x"
    path = tmp_path / "r.jsonl"
    path.write_text("\n".join([lines[0], json.dumps(broken), lines[2]]) + "\n", encoding="utf-8")
    run = loya("schema", "receipt", "--check", str(path))
    assert run.returncode == 1
    assert "r.jsonl:2:1: error[LOY125]" in run.stderr and "lines[0].qty" in run.stderr


# ------------------------------------------------------------------------------------ schema and loader agree


def _leaves(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _leaves(v, (*at, k))] or [at]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _leaves(v, (*at, i))] or [at]
    return [at]


SUPERMARKET_PAYLOAD = _payload(SUPERMARKET / "programme.loya")
LEAVES = [p for p in _leaves(SUPERMARKET_PAYLOAD) if p and p[0] != "sku_index"]
JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**6), st.text(max_size=5),
                        st.lists(st.integers(0, 3), max_size=2), st.just({}))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LEAVES), JSON_VALUES)
def test_what_the_bundle_schema_refuses_the_loader_refuses(where: tuple[Any, ...], value: Any) -> None:
    """The schema is no looser than the till: a payload it refuses is a bundle the loader refuses."""
    from loyadsl.runtime import BundleError, load_bundle, pack_bundle
    from loyadsl.schema_bundle import BundlePayload

    payload = copy.deepcopy(SUPERMARKET_PAYLOAD)
    target = payload
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    if check_json(BundlePayload, payload):
        with pytest.raises(BundleError):
            load_bundle(pack_bundle(payload))
