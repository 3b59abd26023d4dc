"""The bundle payload's model (runtime/bundle_model.py) as data: each malformed fragment of
cases/bundle_fragments.json, put in a valid payload, is refused by the loader with its code and the JSON
path of the fragment; a fragment of the wrong shape is refused by bundle.schema.json too (the schema
generated from the same model), and one that only the loader's later checks catch (an index, a name
declared twice, a sorted set) fits the schema. Every compiled bundle fits the model, and a payload
the model refuses is one the loader refuses."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from loyadsl import schemas
from loyadsl.api import compile_file
from loyadsl.runtime import BundleError, load_bundle, pack_bundle
from loyadsl.runtime.bundle_model import BundlePayload, Mismatch, validate

ROOT = Path(__file__).resolve().parents[2]
NOTE, *CASES = json.loads((Path(__file__).parent / "cases" / "bundle_fragments.json").read_text(encoding="utf-8"))
DELETE = "<delete>"
STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def payload_of(path: Path) -> dict[str, Any]:
    data, result = compile_file(path)
    assert data is not None, [d.message for d in result.diagnostics]
    loaded: dict[str, Any] = json.loads(data[data.index(b"\n", 6) + 1:])
    return loaded


BASE = payload_of(ROOT / "examples" / "supermarket" / "programme.loya")
SCHEMA = jsonschema.Draft202012Validator(schemas.SCHEMAS["bundle"]())


def put(where: str, fragment: Any) -> dict[str, Any]:
    payload = copy.deepcopy(BASE)
    steps: list[str | int] = [int(i) if i else key for key, i in STEP.findall(where)]
    target: Any = payload
    for step in steps[:-1]:
        target = target[step]
    if fragment == DELETE:
        del target[steps[-1]]
    else:
        target[steps[-1]] = fragment
    return payload


def test_the_base_payload_fits_and_the_cases_cover_every_section() -> None:
    validate(BASE)
    assert SCHEMA.is_valid(BASE)
    assert {re.split(r"[.\[]", case[0])[0] for case in CASES} >= set(BundlePayload.__struct_fields__)
    assert len(CASES) >= 50


@pytest.mark.parametrize(("where", "fragment", "code", "path", "shape"), CASES, ids=[c[3] for c in CASES])
def test_a_malformed_fragment_is_refused_at_its_path(where: str, fragment: Any, code: str, path: str,
                                                     shape: bool) -> None:
    payload = put(where, fragment)
    with pytest.raises(BundleError) as info:
        load_bundle(pack_bundle(payload))
    assert (info.value.code, info.value.where) == (code, path), info.value
    assert not info.value.message.startswith(("Expected", "Object", "Invalid")), info.value.message
    assert SCHEMA.is_valid(payload) is not shape, "the schema and the model disagree"
    if shape:
        with pytest.raises(Mismatch) as mismatch:
            validate(payload)
        assert mismatch.value.path == path


PROGRAMMES = sorted(p for p in [*(ROOT / "examples").rglob("*.loya"), *(ROOT / "tests").rglob("*.loya")]
                    if "std" not in p.parts)


def test_every_bundle_the_compiler_writes_fits_the_model() -> None:
    """Every programme of the examples and the tests that compiles (many test programmes are meant not
    to) gives a payload the model accepts and a bundle the loader loads."""
    compiled = 0
    for path in PROGRAMMES:
        data, _ = compile_file(path)
        if data is not None:
            validate(json.loads(data[data.index(b"\n", 6) + 1:]))
            load_bundle(data)
            compiled += 1
    assert compiled > 50


def test_schema_check_reads_a_bundle_file(tmp_path: Path) -> None:
    """``loya schema bundle --check`` takes a bundle file as the compiler writes it (its payload is the
    third line) and names the path of the first mismatch, as the loader does."""
    good = tmp_path / "good.bundle"
    good.write_bytes(pack_bundle(BASE))
    bad = tmp_path / "bad.bundle"
    bad.write_bytes(pack_bundle(put("campaigns[0].footprint.weekdays", [8])))
    loya = [sys.executable, "-m", "loyadsl.cli", "schema", "bundle", "--check"]
    ok = subprocess.run([*loya, str(good)], capture_output=True, text=True, check=False)
    assert (ok.returncode, ok.stderr) == (0, "")
    refused = subprocess.run([*loya, str(bad)], capture_output=True, text=True, check=False)
    assert refused.returncode == 1
    assert "bad.bundle:3:1: error[LOY125]" in refused.stderr, refused.stderr
    assert "campaigns[0].footprint.weekdays[0]: must be <= 7, got 8" in refused.stderr, refused.stderr
