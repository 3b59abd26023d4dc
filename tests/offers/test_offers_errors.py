"""Bad input to `loya offers` gets its coded error (or warning) with the numbers: the cases are data
(data/errors.yaml), run through the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from loyadsl.cli import app
from loyadsl.offers.model import Model

HERE = Path(__file__).parent
CASES = yaml.safe_load((HERE / "data" / "errors.yaml").read_text(encoding="utf-8"))
STDLIB = HERE.parents[1] / "loyadsl" / "offers" / "stdlib"


@pytest.fixture(scope="module")
def model_file(shop_model: Model, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "model.json"
    shop_model.save(path)
    return path


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_bad_input(case: dict[str, Any], model_file: Path, tmp_path: Path) -> None:
    for name, text in (case.get("files") or {}).items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    if case.get("old_model_without"):
        data = json.loads(model_file.read_text())
        data["scores"].remove(case["old_model_without"])
        for key in case.get("old_model_drop", ()):  # what a model file of an older loyadsl lacks
            data.pop(key, None)
            for c in data["customers"].values():
                c.pop(key, None)
        (tmp_path / "old.json").write_text(json.dumps(data))
    places = {"tmp": str(tmp_path), "data": str(HERE / "data"), "model": str(model_file), "stdlib": str(STDLIB)}
    if case.get("before"):
        first = CliRunner().invoke(app, ["offers", *(a.format(**places) for a in case["before"])])
        assert first.exit_code == 0, first.stderr
    args = ["offers", *(a.format(**places) for a in case["args"])]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == case["exit"], (result.stdout, result.stderr)
    for text in case["stderr"]:
        assert text in result.stderr
    assert "Traceback" not in result.stderr
    for name in case.get("absent", ()):
        assert not (tmp_path / name).exists(), f"{name} was written"
