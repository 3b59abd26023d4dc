"""One registry of codes (runtime/codes.py): every code the sources use is registered, every
registered code has a page in docs/codes/ with an example and a fix, and LOY999 means a bug only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loyadsl.runtime.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "runtime" / "codes.py"
SOURCES = [*ROOT.joinpath("loyadsl").rglob("*.py"), *ROOT.joinpath("runtime").rglob("*.py"), ROOT / "cli.py"]
CODE = re.compile(r"\bLOY\d{3}\b")


def _used() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for path in SOURCES:
        if path == REGISTRY or path.is_symlink() or any(p.is_symlink() for p in path.parents if p != ROOT):
            continue  # loyadsl/runtime and loyadsl/cli.py are links to the files read below
        for code in CODE.findall(path.read_text(encoding="utf-8")):
            used.setdefault(code, []).append(str(path.relative_to(ROOT)))
    return used


def test_every_code_used_is_registered() -> None:
    unknown = {code: files for code, files in _used().items() if code not in CODES}
    assert not unknown, f"codes used but not in runtime/codes.py: {unknown}"


def test_loy999_means_a_bug_and_is_raised_in_one_place() -> None:
    assert sorted(set(_used()["LOY999"])) == ["cli.py"]


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_page_with_an_example_and_a_fix(code: str) -> None:
    page = ROOT / "docs" / "codes" / f"{code}.md"
    assert page.is_file(), f"{code} has no page docs/codes/{code}.md"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {code}"), f"{page} must start with `# {code}: title`"
    assert "## Example" in text and "## Fix" in text, f"{page} needs an `## Example` and a `## Fix` section"
