"""The distribution adds only the `loyadsl` import name, in a wheel and in an editable install."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_holds_only_loyadsl(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, timeout=300)
    [wheel] = tmp_path.glob("loyadsl-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/", 1)[0] for name in names}
    assert tops == {"loyadsl", next(t for t in tops if t.endswith(".dist-info"))}
    for needed in ("loyadsl/runtime/engine.py", "loyadsl/cli.py", "loyadsl/grammar/loya.lark",
                   "loyadsl/stdlib_mechanics/n_plus_one.loya", "loyadsl/syntax/parser.py"):
        assert needed in names


def test_installed_package_exposes_no_bare_names(tmp_path: Path) -> None:
    code = (
        "import importlib.util, sys\n"
        "assert all(importlib.util.find_spec(n) is None for n in ('runtime', 'cli', 'grammar')), 'bare name'\n"
        "import loyadsl.runtime, loyadsl.cli\n"
        "from loyadsl import resource_dir\n"
        "assert (resource_dir('grammar') / 'loya.lark').is_file()\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
