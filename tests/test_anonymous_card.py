"""An empty card number is an anonymous receipt in every input (issue 16, item 5): receipt JSON, the
simulator's inputs, and both decoders; a customer record cannot have an empty id, and `eval` and
`simulate` refuse such a file the same way."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loyadsl.runtime import CustomerError, Engine, Receipt, load_bundle
from loyadsl.runtime.state import CustomerState

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "supermarket"


def _receipt(card: Any) -> dict[str, Any]:
    first = json.loads((EXAMPLE / "receipts.jsonl").read_text(encoding="utf-8").splitlines()[0])
    return {**first, "customer_id": card}


@pytest.mark.parametrize("decode", [Receipt.from_dict, Receipt.careful,
                                    lambda d: Receipt.from_json(json.dumps(d).encode())])
def test_an_empty_card_is_no_card(decode: Any) -> None:
    assert decode(_receipt("")).customer_id is None
    assert decode(_receipt("C1")).customer_id == "C1"


def test_an_empty_card_changes_no_ones_state() -> None:
    from loyadsl.api import compile_file

    data, _ = compile_file(EXAMPLE / "programme.loya")
    assert data is not None
    engine = Engine(load_bundle(data))
    empty, none = engine.evaluate(_receipt("")), engine.evaluate(_receipt(None))
    assert empty.to_dict() == none.to_dict()
    assert not any(c["op"] in ("lot", "tier", "receipt") for c in empty.changes or ())


def test_a_customer_needs_an_id() -> None:
    with pytest.raises(CustomerError, match="an empty id is no card"):
        CustomerState.from_dict({"id": ""})


def _loya(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=120, check=False)


def test_eval_and_simulate_refuse_an_empty_customer_id_alike(tmp_path: Path) -> None:
    (tmp_path / "c.jsonl").write_text('{"id": "C1"}\n{"id": ""}\n', encoding="utf-8")
    (tmp_path / "r.jsonl").write_text(json.dumps(_receipt("")) + "\n", encoding="utf-8")
    programme = str(EXAMPLE / "programme.loya")
    evaluated = _loya("eval", programme, str(tmp_path / "r.jsonl"), "--customers", str(tmp_path / "c.jsonl"))
    simulated = _loya("simulate", programme, "-r", str(tmp_path / "r.jsonl"), "--customers", str(tmp_path / "c.jsonl"))
    line = "LOY502]: " + str(tmp_path / "c.jsonl") + ":2: id: an empty id is no card"
    assert evaluated.returncode == simulated.returncode != 0
    assert line in evaluated.stderr and line in simulated.stderr, (evaluated.stderr, simulated.stderr)
