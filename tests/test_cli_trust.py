"""The CLI at its edges. Signatures mean something: every verb that loads a bundle takes --trusted-key
(repeatable) and --require-signature; trusting a key requires a valid signature by it; only Ed25519;
`inspect` says which key signed and whether that was verified or only present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli import EXAMPLE, loya

from loyadsl.runtime.bundle import MAGIC, canonical_json

RECEIPTS = EXAMPLE / "receipts.jsonl"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    for name in ("fleet", "stranger"):
        assert loya("keygen", "-o", folder / f"{name}.key").returncode == 0
    return {"fleet": folder / "fleet.key.pub", "stranger": folder / "stranger.key.pub",
            "fleet_private": folder / "fleet.key"}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bundles")
    signed, unsigned = folder / "signed.loyab", folder / "unsigned.loyab"
    assert loya("compile", EXAMPLE / "programme.loya", "-o", signed, "--sign-key", keys["fleet_private"]).returncode == 0
    assert loya("compile", EXAMPLE / "programme.loya", "-o", unsigned).returncode == 0
    head, body = signed.read_bytes()[len(MAGIC):].split(b"\n", 1)
    envelope = json.loads(head)
    envelope["signature"]["alg"] = "none"
    none = folder / "alg-none.loyab"
    none.write_bytes(MAGIC + canonical_json(envelope) + b"\n" + body)
    envelope["signature"] = None
    stripped = folder / "stripped.loyab"  # the digest covers the payload only, so it still matches
    stripped.write_bytes(MAGIC + canonical_json(envelope) + b"\n" + body)
    return {"signed": signed, "unsigned": unsigned, "none": none, "stripped": stripped}


def test_inspect_tells_present_from_verified(keys: dict[str, Path], bundles: dict[str, Path]) -> None:
    present = loya("inspect", bundles["signed"])
    assert present.returncode == 0 and "present but NOT verified" in present.stdout
    verified = loya("inspect", bundles["signed"], "--trusted-key", keys["stranger"], "--trusted-key", keys["fleet"],
                    "--format", "json")
    assert verified.returncode == 0, verified.stderr
    signature = json.loads(verified.stdout)["signature"]
    assert signature["verified"] is True and len(signature["key_id"]) == 16
    unsigned = json.loads(loya("inspect", bundles["unsigned"], "--format", "json").stdout)
    assert unsigned["signature"] is None and unsigned["signed"] is False


@pytest.mark.parametrize(("bundle", "options", "says"), [
    ("signed", ["--trusted-key", "stranger"], "not among the trusted keys"),
    ("unsigned", ["--trusted-key", "fleet"], "not signed"),
    ("stripped", ["--trusted-key", "fleet"], "not signed"),
    ("unsigned", ["--require-signature"], "not signed"),
    ("signed", ["--require-signature"], "no trusted keys"),
    ("none", [], "only ed25519"),
    ("none", ["--trusted-key", "fleet"], "only ed25519"),
])
def test_inspect_refuses(keys: dict[str, Path], bundles: dict[str, Path], bundle: str, options: list[str],
                         says: str) -> None:
    args = [keys.get(o, o) for o in options]
    result = loya("inspect", bundles[bundle], *args, "--format", "json")
    assert result.returncode == 1, result.stdout
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "LOY406" and says in error["message"]


@pytest.mark.parametrize("verb", ["eval", "simulate", "diff"])
def test_every_verb_that_loads_a_bundle_checks_it(keys: dict[str, Path], bundles: dict[str, Path], verb: str) -> None:
    def run(bundle: Path, key: Path) -> tuple[int, str]:
        args = {"eval": ["eval", bundle, RECEIPTS],
                "simulate": ["simulate", bundle, "-r", RECEIPTS],
                "diff": ["diff", bundles["signed"], bundle, "-r", RECEIPTS]}[verb]
        result = loya(*args, "--trusted-key", key, "--format", "json")
        return result.returncode, result.stdout + result.stderr

    code, text = run(bundles["signed"], keys["stranger"])
    assert code == 1 and "LOY406" in text and "Traceback" not in text
    code, text = run(bundles["stripped"], keys["fleet"])
    assert code == 1 and "LOY406" in text
    code, text = run(bundles["signed"], keys["fleet"])
    assert code == 0, text


def test_a_source_programme_cannot_satisfy_a_trusted_key(keys: dict[str, Path]) -> None:
    result = loya("eval", EXAMPLE / "programme.loya", RECEIPTS, "--trusted-key", keys["fleet"])
    assert result.returncode == 2 and "carries no signature" in result.stderr


def test_a_trusted_key_must_be_a_public_key(tmp_path: Path, bundles: dict[str, Path]) -> None:
    bad = tmp_path / "bad.pub"
    bad.write_text("abcd\n", encoding="ascii")
    result = loya("inspect", bundles["signed"], "--trusted-key", bad)
    assert result.returncode == 2 and "LOY406" in result.stderr


def test_keygen_makes_a_private_key_for_its_owner_only(tmp_path: Path) -> None:
    assert loya("keygen", "-o", tmp_path / "k").returncode == 0
    assert (tmp_path / "k").stat().st_mode & 0o077 == 0
    result = loya("keygen", "-o", tmp_path / "missing" / "k")
    assert result.returncode == 2 and "LOY407" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("now", ["2025-06-01", "0001-01-01T00:00:00+14:00", "soon"])
def test_a_bad_option_value_is_a_usage_error(now: str) -> None:
    result = loya("eval", EXAMPLE / "programme.loya", RECEIPTS, "--now", now)
    assert result.returncode == 2 and "LOY700" in result.stderr and "Traceback" not in result.stderr
