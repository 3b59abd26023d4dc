"""The bundle file: packing, the loader's checks in the documented order, signatures (runtime/bundle.py)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rt_asm import DELETE, TRUE, campaign, cat_in, payload, set_at, sku_in

from loyadsl.runtime import BundleError, canonical_json, load_bundle, pack_bundle, public_key
from loyadsl.runtime.bundle import FORMAT_VERSION, MAGIC, ComboSpec, SetFilter


def sample_payload() -> dict[str, Any]:
    return payload([
        campaign("dairy", [("CONST", 100000), ("DISCOUNT_LINES", cat_in("dairy"))],
                 condition=[("RECEIPT", "total"), ("CONST", 100000), ("GE",)],
                 weekdays=[1, 2, 3, 4, 5], hours=[36000, 57600], stores={"in": ["S001"]}),
        campaign("n1", [("CONST", 1), ("CONST", 3), ("FREE_UNITS", sku_in("A", "B"))], needs_skus=["A", "B"]),
        campaign("combo", [("CONST", 500000), ("COMBO", {"parts": [(cat_in("cafe/coffee"), 1),
                                                                   (cat_in("cafe/croissant"), 1)],
                                                         "reward": "percent_on_part", "part": 1})]),
        campaign("cashback", [("CONST", 30000), ("ACCRUE_TOTAL", TRUE)], dates=[739252, 739616]),
    ])


def code(exc: pytest.ExceptionInfo[BundleError]) -> str:
    return exc.value.code


def test_round_trip() -> None:
    data = pack_bundle(sample_payload())
    assert data.startswith(MAGIC)
    b = load_bundle(data)
    assert b.digest == "sha256:" + hashlib.sha256(data.split(b"\n", 2)[2]).hexdigest()
    assert not b.signed and b.settings.currency == "RUB" and b.manifest.programme_name == "test"
    assert [c.name for c in b.campaigns] == ["dairy", "n1", "combo", "cashback"]
    dairy = b.campaigns[0]
    assert dairy.footprint.weekdays == frozenset({1, 2, 3, 4, 5}) and dairy.footprint.hours == (36000, 57600)
    assert dairy.footprint.stores == SetFilter(False, frozenset({"S001"}))
    assert b.sku_index == {"A": (1,), "B": (1,)}
    assert any(isinstance(k, ComboSpec) and k.reward == "percent_on_part" for k in b.constants)
    assert (b.cost_fixed, b.cost_per_line) == (sum(c.cost_fixed for c in b.campaigns),
                                               sum(c.cost_per_line for c in b.campaigns))


def test_packing_is_deterministic_and_canonical() -> None:
    p = sample_payload()
    assert pack_bundle(p) == pack_bundle(copy.deepcopy(p))
    assert canonical_json({"b": 1, "a": "ё"}) == '{"a":"ё","b":1}'.encode()
    with pytest.raises(BundleError) as info:
        canonical_json({"x": [1, 2.5]})
    assert code(info) == "LOY404" and info.value.where == "x[1]"


def test_bad_magic_and_truncation() -> None:
    data = pack_bundle(sample_payload())
    for bad, want in [(b"", "LOY401"), (b"LOYA", "LOY401"), (b"PK\x03\x04", "LOY401"), (data[:20], "LOY401"),
                      (data[:-1], "LOY402"), (data[: len(data) // 2], "LOY402"), (data + b" ", "LOY402")]:
        with pytest.raises(BundleError) as info:
            load_bundle(bad)
        assert code(info) == want, bad[:30]
    with pytest.raises(BundleError) as info:
        load_bundle("LOYAB\n")  # type: ignore[arg-type]
    assert code(info) == "LOY401"


def test_a_tampered_payload_byte_is_a_digest_mismatch() -> None:
    data = bytearray(pack_bundle(sample_payload()))
    data[-10] ^= 0x01
    with pytest.raises(BundleError, match="digest mismatch") as info:
        load_bundle(bytes(data))
    assert code(info) == "LOY402"


def test_every_single_byte_flip_is_caught() -> None:
    data = pack_bundle(sample_payload())
    payload_start = data.index(b"\n", len(MAGIC)) + 1
    for i in range(0, len(data), 7):
        damaged = bytearray(data)
        damaged[i] ^= 0x20
        with pytest.raises(BundleError) as info:
            load_bundle(bytes(damaged))
        if i >= payload_start:
            assert code(info) == "LOY402"
        else:
            assert code(info) in ("LOY401", "LOY402", "LOY403")


def envelope_for(body: bytes, version: int) -> bytes:
    env = {"digest": "sha256:" + hashlib.sha256(body).hexdigest(), "format_version": version, "signature": None}
    return MAGIC + canonical_json(env) + b"\n" + body


def test_a_newer_format_asks_for_an_upgrade() -> None:
    with pytest.raises(BundleError, match="bundle format 4 is newer than this runtime's 3; upgrade the runtime") as info:
        load_bundle(envelope_for(b"{}", 4))
    assert code(info) == "LOY403"
    with pytest.raises(BundleError) as info:
        load_bundle(envelope_for(b"{}", 0))
    assert code(info) == "LOY403"


def test_a_version_1_bundle_must_be_recompiled() -> None:
    with pytest.raises(BundleError, match=r"bundle format 1 is older .* recompile the programme") as info:
        load_bundle(envelope_for(canonical_json(sample_payload()), 1))
    assert code(info) == "LOY403"


def load_payload(p: Any) -> Any:
    return load_bundle(envelope_for(json.dumps(p, ensure_ascii=False).encode(), FORMAT_VERSION))


def mutate(path: list[Any], value: Any) -> dict[str, Any]:
    return set_at(sample_payload(), path, value)


@pytest.mark.parametrize(
    ("path", "value", "where", "says"),
    [
        (["campaigns", 0, "footprint", "hours", 1], "16:00", "campaigns[0].footprint.hours[1]", "expected int, got string"),
        (["campaigns", 0, "footprint", "hours", 1], 57600.0, "campaigns[0].footprint.hours[1]", "floats are not allowed"),
        (["campaigns", 0, "footprint", "hours"], [1], "campaigns[0].footprint.hours", "[start, end]"),
        (["campaigns", 0, "footprint", "weekdays", 0], 8, "campaigns[0].footprint.weekdays[0]", "<= 7"),
        (["campaigns", 0, "footprint", "stores"], {"maybe": []}, "campaigns[0].footprint.stores.maybe", "not_in"),
        (["campaigns", 1, "group"], 3, "campaigns[1].group", "out of range"),
        (["campaigns", 1, "priority"], True, "campaigns[1].priority", "expected int, got bool"),
        (["campaigns", 1, "actions"], "RET", "campaigns[1].actions", "expected array"),
        (["campaigns", 1, "actions", 0], [], "campaigns[1].actions[0]", "[OP] or [OP, operand]"),
        (["campaigns", 1, "actions", 0, 0], 7, "campaigns[1].actions[0][0]", "expected string"),
        (["campaigns", 1, "limits", "applications"], -1, "campaigns[1].limits.applications", ">= 0"),
        (["campaigns", 1, "cost"], DELETE, "campaigns[1].cost", "required"),
        (["campaigns", 2, "name"], None, "campaigns[2].name", "expected string"),
        (["groups", 0, "stacking"], "stack_some", "groups[0].stacking", "expected one of"),
        (["groups", 0, "basis"], "final", "groups[0].basis", "discounted, original"),
        (["settings", "timezone"], "Mars/Olympus", "settings.timezone", "unknown time zone"),
        (["settings", "rounding", "points"], "up", "settings.rounding.points", "floor"),
        (["settings", "point_value"], 0, "settings.point_value", ">= 1"),
        (["settings", "allocation"], DELETE, "settings.allocation", "required"),
        (["constants", 0], [1], "constants[0]", "expected int, string, bool"),
        (["sku_index", "A"], [0], "sku_index.A", "needs_skus"),
        (["sku_index", "A"], [9], "sku_index.A[0]", "out of range"),
        (["cost", "fixed"], "1", "cost.fixed", "expected int"),
    ],
)
def test_structure_errors_name_the_json_path(path: list[Any], value: Any, where: str, says: str) -> None:
    with pytest.raises(BundleError) as info:
        load_payload(mutate(path, value))
    assert code(info) == "LOY404"
    assert info.value.where == where, info.value.message
    assert says in info.value.message
    assert info.value.message.startswith(where + ": ")


def test_constant_and_combo_structure() -> None:
    p = sample_payload()
    combo_index = next(i for i, k in enumerate(p["constants"]) if isinstance(k, dict) and "combo" in k)
    for change, where in [
        (lambda k: k["combo"]["parts"][0].__setitem__(0, 99), f"constants[{combo_index}].combo.parts[0][0]"),
        (lambda k: k["combo"]["parts"][0].__setitem__(1, 0), f"constants[{combo_index}].combo.parts[0][1]"),
        (lambda k: k["combo"].__setitem__("part", 5), f"constants[{combo_index}].combo.part"),
        (lambda k: k["combo"].__setitem__("part", None), f"constants[{combo_index}].combo.part"),
        (lambda k: k["combo"].__setitem__("reward", "free"), f"constants[{combo_index}].combo.reward"),
    ]:
        broken = copy.deepcopy(p)
        change(broken["constants"][combo_index])
        with pytest.raises(BundleError) as info:
            load_payload(broken)
        assert (code(info), info.value.where) == ("LOY404", where)
    set_index = next(i for i, k in enumerate(p["constants"]) if isinstance(k, dict) and "set" in k)
    broken = copy.deepcopy(p)
    broken["constants"][set_index]["set"] = ["b", "a"]
    with pytest.raises(BundleError, match="sorted, unique") as info:
        load_payload(broken)


def test_payload_json_problems() -> None:
    for body, says in [(b'{"a": 1, "a": 2}', "repeats the key"), (b"[1, 2", "not JSON"), (b"\xff\xfe", "not UTF-8"),
                       (b"[]", "must be a JSON object"),
                       (b'{"x": NaN}', "floats are not allowed")]:
        with pytest.raises(BundleError, match=says) as info:
            load_bundle(envelope_for(body, FORMAT_VERSION))
        assert code(info) == "LOY404"


# ------------------------------------------------------------------------------------ signatures

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))


def test_signatures() -> None:
    signed = pack_bundle(sample_payload(), signing_key=KEY)
    unsigned = pack_bundle(sample_payload())
    trusted = [public_key(KEY)]
    b = load_bundle(signed, trusted_keys=trusted, require_signature=True)
    assert b.signed and b.signature_verified and b.key_id == hashlib.sha256(trusted[0]).hexdigest()[:16]
    assert load_bundle(signed).signed and not load_bundle(signed).signature_verified  # no keys: accepted
    cases: list[tuple[bytes, dict[str, Any], str]] = [
        (signed, {"trusted_keys": [public_key(OTHER)]}, "not among the trusted keys"),
        (unsigned, {"trusted_keys": trusted, "require_signature": True}, "not signed"),
        (unsigned, {"trusted_keys": trusted}, "not signed"),  # trusting keys implies requiring a signature
        (signed, {"require_signature": True}, "no trusted keys"),
        (signed, {"trusted_keys": [b"short"]}, "32-byte"),
    ]
    env, body = signed[len(MAGIC):].split(b"\n", 1)
    envelope = json.loads(env)
    envelope["signature"]["sig"] = envelope["signature"]["sig"][:-2] + ("00" if envelope["signature"]["sig"][-2:] != "00" else "01")
    forged = MAGIC + canonical_json(envelope) + b"\n" + body
    cases.append((forged, {"trusted_keys": trusted}, "does not match"))
    other_body = pack_bundle({**sample_payload(), "extra": 1}).split(b"\n", 2)[2]
    envelope = json.loads(env)
    envelope["digest"] = "sha256:" + hashlib.sha256(other_body).hexdigest()
    swapped = MAGIC + canonical_json(envelope) + b"\n" + other_body  # a valid digest, the old signature
    cases.append((swapped, {"trusted_keys": trusted}, "does not match"))
    envelope = json.loads(env)
    envelope["signature"] = None  # stripped: the digest still matches the untouched payload
    cases.append((MAGIC + canonical_json(envelope) + b"\n" + body, {"trusted_keys": trusted}, "not signed"))
    for alg in ("none", "rsa", "ed448", ""):  # only Ed25519, with or without keys
        envelope = json.loads(env)
        envelope["signature"]["alg"] = alg
        for opts in ({}, {"trusted_keys": trusted}):
            cases.append((MAGIC + canonical_json(envelope) + b"\n" + body, opts, "only ed25519"))
    for field, value, says in (("key_id", "XYZ", "key_id"), ("sig", "ab", "128 hex"), ("sig", "zz" * 64, "128 hex")):
        envelope = json.loads(env)
        envelope["signature"][field] = value
        cases.append((MAGIC + canonical_json(envelope) + b"\n" + body, {}, says))
    for data, opts, says in cases:
        with pytest.raises(BundleError, match=says) as info:
            load_bundle(data, **opts)
        assert code(info) == "LOY406"


def test_a_bad_signing_key() -> None:
    with pytest.raises(BundleError) as info:
        pack_bundle(sample_payload(), signing_key=b"short")
    assert code(info) == "LOY406"


# ------------------------------------------------------------------------------------ fuzzing

VALID = pack_bundle(sample_payload())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400) | st.binary(max_size=200).map(lambda b: MAGIC + b))
def test_arbitrary_bytes_raise_only_bundle_errors(data: bytes) -> None:
    with pytest.raises(BundleError):
        load_bundle(data)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(1, 255)), min_size=1, max_size=4))
def test_random_byte_flips_raise_only_bundle_errors(flips: list[tuple[int, int]]) -> None:
    data = bytearray(VALID)
    for i, x in flips:
        data[i] ^= x
    try:
        load_bundle(bytes(data))
    except BundleError as exc:
        assert exc.code in ("LOY401", "LOY402", "LOY403")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 12) | st.integers() | st.text(max_size=6)
    | st.sampled_from(["RET", "CONST", "AND", "END", "IF", "ELSE", "LINE", "sku", "total", "floor", "set", "in"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=12,
)


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*path, i))
    return found


PATHS = _paths(sample_payload())[1:]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), json_values), min_size=1, max_size=3))
def test_mutated_payloads_are_rejected_or_run_safely(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    """Replace parts of a valid payload with arbitrary JSON, with a correct digest: the loader either
    rejects it with a BundleError or the bundle evaluates a receipt without any other exception."""
    from rt_asm import line, receipt

    from loyadsl.runtime import Engine

    p = sample_payload()
    for path, value in changes:
        target: Any = p
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    body = json.dumps(p, ensure_ascii=False).encode()
    try:
        bundle = load_bundle(envelope_for(body, FORMAT_VERSION))
    except BundleError:
        return
    outcome = Engine(bundle).evaluate(receipt(line("A", 100, 3, category="dairy/milk"), line("B", 50, 2),
                                              line("K", 150, 1, category="cafe/coffee"),
                                              line("C", 90, 2, category="cafe/croissant")))
    assert outcome.payable >= 0


def test_a_manifest_version_other_than_the_envelope_s_is_a_damaged_envelope() -> None:
    with pytest.raises(BundleError) as info:
        load_payload(mutate(["manifest", "format_version"], 1))
    assert code(info) == "LOY402" and info.value.where == "manifest.format_version"
    assert "envelope is damaged" in info.value.message


@pytest.mark.parametrize(("value", "where"), [
    ({"a": [1, {"b": ["x", 2.5]}]}, "a[1].b[1]"),
    ({"a": 1, "z": [(0, 1.0)]}, "z[0][1]"),
    ({"a": [0.5], "b": {"c": 1.5}}, "b.c"),  # two floats: the first met by the walk, as before it kept no paths
])
def test_canonical_json_refuses_a_float_where_it_is(value: dict[str, Any], where: str) -> None:
    with pytest.raises(BundleError, match="floats are not allowed") as info:
        canonical_json(value)
    assert info.value.code == "LOY404"
    assert info.value.where == where


def test_canonical_json_of_integers_and_text() -> None:
    assert canonical_json({"b": [1, "é", None, True, (2, 3)], "a": {}}) == '{"a":{},"b":[1,"é",null,true,[2,3]]}'.encode()
