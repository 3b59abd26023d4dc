"""`loya db upgrade|import|export|key` on SQLite, and the missing-extra message of `loya serve`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from srv_support import EXAMPLE
from test_srv_live import loya

from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.state import CustomerState
from loyadsl.server.commands import need
from loyadsl.server.connect import open_store
from loyadsl.server.processing import Processor


def test_upgrade_import_export_and_keys(tmp_path: Path, bundle: bytes) -> None:
    db = f"sqlite:///{tmp_path / 'loya.db'}"
    first, again = loya("db", "upgrade", "--db", db), loya("db", "upgrade", "--db", db)
    assert (first.returncode, first.stdout.strip()) == (0, "applied migrations 1, 2, 3, 4")
    assert again.stdout.strip() == "the schema is up to date"
    store = open_store(db)
    Processor(store).install_bundle(bundle)
    store.close()
    imported = loya("db", "import", EXAMPLE / "customers.jsonl", "--db", db)
    assert (imported.returncode, imported.stdout.strip()) == (0, "imported 260 customers"), imported.stderr
    exported = loya("db", "export", "--db", db)
    states = [json.loads(line) for line in exported.stdout.splitlines()]
    source = [json.loads(line) for line in (EXAMPLE / "customers.jsonl").read_text(encoding="utf-8").splitlines()]
    assert states == sorted((CustomerState.from_dict(s).to_dict() for s in source), key=lambda s: s["id"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "OK-1"}\n{"id": "BAD", "receipts": -1}\n', encoding="utf-8")
    refused = loya("db", "import", bad, "--db", db)
    assert refused.returncode == 2 and "error[LOY50" in refused.stderr and "nothing imported" in refused.stderr
    assert "OK-1" not in loya("db", "export", "--db", db).stdout
    missing = loya("db", "import", tmp_path / "missing.jsonl", "--db", db)
    assert missing.returncode == 2 and "error[LOY818]" in missing.stderr
    key = loya("db", "key", "--db", db, "--store", "S001")
    assert key.returncode == 0 and key.stdout.startswith("loya_")
    both = loya("db", "key", "--db", db)
    assert both.returncode == 2 and "error[LOY700]" in both.stderr


def test_unknown_database_and_old_schema_are_coded(tmp_path: Path) -> None:
    wrong = loya("db", "export", "--db", "mysql://localhost/loya")
    assert wrong.returncode == 2 and "error[LOY812]" in wrong.stderr
    fresh = loya("db", "export", "--db", f"sqlite:///{tmp_path / 'new.db'}")
    assert fresh.returncode == 2 and "error[LOY812]" in fresh.stderr and "loya db upgrade" in fresh.stderr


def test_a_missing_extra_is_named() -> None:
    with pytest.raises(LoyaError) as missing:
        need("loyadsl_no_such_module")
    assert missing.value.code == "LOY817" and "pip install 'loyadsl[serve]'" in missing.value.message
