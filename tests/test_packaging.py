"""The distribution adds only the `loyadsl` import name, in a wheel and in an editable install."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from loyadsl.runtime.bundle import FORMAT_VERSION, load_bundle

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "supermarket"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built offline from the checkout."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(out), str(ROOT)], check=True, timeout=300)
    [built] = out.glob("loyadsl-*.whl")
    return built


def test_wheel_holds_only_loyadsl(wheel: Path) -> None:
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


def test_runtime_alone_needs_only_its_own_imports(wheel: Path) -> None:
    # runtime/ imports msgspec (receipts) and pydantic (customer state) and nothing else from outside
    assert sorted(requirements(wheel)) == ["msgspec>=0.18", "pydantic>=2.6"]
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    for extra in ("cli", "toolchain", "simulate", "sign", "dask", "all", "test"):
        assert f"Provides-Extra: {extra}" in text


def requirements(wheel: Path) -> list[str]:
    """The wheel's unconditional dependencies (Requires-Dist without an extra)."""
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    required = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    return [r for r in required if "extra ==" not in r]


def copy_distribution(name: str, site: Path, done: set[str]) -> None:
    """Copy an installed distribution and its unconditional dependencies from this test's own
    environment into ``site``: the offline stand-in for `pip install` from an index."""
    dist = metadata.distribution(name)
    key = dist.metadata["Name"].lower().replace("_", "-")
    if key in done:
        return
    done.add(key)
    for file in dist.files or ():
        source = Path(str(dist.locate_file(file)))
        if source.is_file() and not str(file).startswith(".."):
            (site / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, site / file)
    for requirement in dist.requires or ():
        if "extra ==" not in requirement and ";" not in requirement:
            copy_distribution(re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0], site, done)


def fresh_runtime_venv(where: Path, wheel: Path) -> Path:
    """A venv holding the wheel and its unconditional dependencies only, made offline: the wheel is
    installed without its dependencies, which are copied from this test's own environment."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    python = where / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
                    "-q", str(wheel)], check=True, timeout=300)
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    assert Path(sysconfig.get_paths()["purelib"]) != site
    done: set[str] = set()
    for requirement in requirements(wheel):
        copy_distribution(re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0], site, done)
    return python


NOTHING_ELSE = """
import importlib.util
for absent in ("pyarrow", "lark", "rich", "typer", "jinja2", "yaml", "cryptography"):
    assert importlib.util.find_spec(absent) is None, absent + " is importable"
"""

EVALUATE = """
import json, sys
from loyadsl.runtime.bundle import load_bundle
from loyadsl.runtime.engine import Engine
bundle = load_bundle(open(sys.argv[1], "rb").read())
receipt = json.loads(open(sys.argv[2]).readline())
print(json.dumps(Engine(bundle).evaluate(receipt).to_dict(), sort_keys=True))
assert not any(m.split(".")[0] in ("lark", "pyarrow", "rich", "typer") for m in sys.modules)
"""


def test_runtime_alone_evaluates_a_bundle(tmp_path: Path, wheel: Path) -> None:
    bundle = tmp_path / "romashka.loyab"
    subprocess.run([sys.executable, "-m", "loyadsl.cli", "compile", str(EXAMPLE / "programme.loya"), "-o",
                    str(bundle)], check=True, capture_output=True, timeout=120)
    python = fresh_runtime_venv(tmp_path / "venv", wheel)
    receipts = EXAMPLE / "receipts.jsonl"
    ran = subprocess.run([str(python), "-I", "-c", NOTHING_ELSE + EVALUATE, str(bundle), str(receipts)], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    here = subprocess.run([sys.executable, "-I", "-c", EVALUATE, str(bundle), str(receipts)],
                          capture_output=True, text=True, timeout=120)
    assert json.loads(ran.stdout) == json.loads(here.stdout)


def test_loya_without_toolchain_names_the_extra(tmp_path: Path, wheel: Path) -> None:
    python = fresh_runtime_venv(tmp_path / "venv", wheel)
    ran = subprocess.run([str(python.parent / "loya"), "check", "x.loya"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert ran.returncode == 2 and "Traceback" not in ran.stderr
    assert "LOY730" in ran.stderr and "pip install 'loyadsl[cli]'" in ran.stderr


def test_version_prints_the_bundle_format_written(tmp_path: Path) -> None:
    bundle = tmp_path / "b.loyab"
    subprocess.run([sys.executable, "-m", "loyadsl.cli", "compile", str(EXAMPLE / "programme.loya"), "-o",
                    str(bundle)], check=True, capture_output=True, timeout=120)
    written = load_bundle(bundle.read_bytes()).manifest.format_version
    assert written == 2 < FORMAT_VERSION  # a programme without experiments keeps format 2 (docs/bundle.md)
    shown = subprocess.run([sys.executable, "-m", "loyadsl.cli", "version"], capture_output=True, text=True,
                           timeout=60).stdout
    assert f"bundle format {FORMAT_VERSION}" in shown  # the newest format it reads and writes
