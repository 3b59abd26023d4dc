"""One registry of codes (runtime/codes.py): every code the sources use is registered, every
registered code has a page in docs/codes/ with an example and a fix, the index lists exactly the
registry, the pages' programme examples really report their code (and their fixes do not), and LOY999
means a bug only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loyadsl.api import check_text
from loyadsl.runtime.codes import CODES

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ROOT / "runtime" / "codes.py"
PAGES = ROOT / "docs" / "codes"
SOURCES = [*ROOT.joinpath("loyadsl").rglob("*.py"), *ROOT.joinpath("runtime").rglob("*.py"), ROOT / "cli.py"]
CODE = re.compile(r"\bLOY\d{3}\b")
# the first programme block of a section: ```loya is checked as example.loya, ```yaml as example.yaml
PROGRAMME = re.compile(r"^```(loya|yaml)\n(.*?)^```", re.M | re.S)
INDEX_ROW = re.compile(r"^\| (LOY\d{3}) \| (.+) \| \[(LOY\d{3})\.md\]\((LOY\d{3})\.md\) \|$", re.M)


def _used() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for path in SOURCES:
        if path == REGISTRY or path.parent.name == "i18n" or path.is_symlink() or any(p.is_symlink() for p in path.parents if p != ROOT):
            continue  # loyadsl/runtime and loyadsl/cli.py are links to the files read below; i18n translates the registry
        for code in CODE.findall(path.read_text(encoding="utf-8")):
            used.setdefault(code, []).append(str(path.relative_to(ROOT)))
    return used


def _page(code: str) -> str:
    return (PAGES / f"{code}.md").read_text(encoding="utf-8")


def _sections(text: str) -> tuple[str, str]:
    """The page's `## Example` and `## Fix` sections."""
    example = text.partition("## Example")[2].partition("## Fix")[0]
    return example, text.partition("## Fix")[2]


def _programme(section: str) -> tuple[str, str] | None:
    """The section's first ```loya or ```yaml block as (file name, text), or None."""
    found = PROGRAMME.search(section)
    return (f"example.{found.group(1)}", found.group(2)) if found else None


def _executable() -> list[str]:
    return [code for code in sorted(CODES)
            if (PAGES / f"{code}.md").is_file() and _programme(_sections(_page(code))[0])]


def _codes_reported(name: str, text: str, folder: Path) -> set[str]:
    """The codes (errors and warnings) of checking ``text`` as ``folder/name`` (an empty folder, so that
    imports and lists read from files resolve the same wherever the tests run)."""
    return {d.code for d in check_text(text, name, folder / name).diagnostics}


def test_every_code_used_is_registered() -> None:
    unknown = {code: files for code, files in _used().items() if code not in CODES}
    assert not unknown, f"codes used but not in runtime/codes.py: {unknown}"


def test_loy999_means_a_bug_and_is_raised_in_one_place() -> None:
    assert sorted(set(_used()["LOY999"])) == ["cli.py"]


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_page_with_an_example_and_a_fix(code: str) -> None:
    page = PAGES / f"{code}.md"
    assert page.is_file(), f"{code} has no page docs/codes/{code}.md"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {code}: {CODES[code]}\n"), f"{page} must start with `# {code}: {CODES[code]}`"
    assert "## Example" in text and "## Fix" in text, f"{page} needs an `## Example` and a `## Fix` section"


def test_every_page_is_a_registered_code() -> None:
    pages = {p.stem for p in PAGES.glob("LOY*.md")}
    assert pages <= set(CODES), f"pages for codes not in runtime/codes.py: {sorted(pages - set(CODES))}"


def test_the_index_lists_exactly_the_registry() -> None:
    rows = INDEX_ROW.findall((PAGES / "README.md").read_text(encoding="utf-8"))
    assert all(code == link == target for code, _, link, target in rows), "a row links to another code's page"
    assert [(code, title) for code, title, _, _ in rows] == list(CODES.items()), \
        "docs/codes/README.md must list every code of runtime/codes.py, in its order, with its title"


def test_the_harness_finds_programme_examples() -> None:
    assert {"LOY106", "LOY203", "LOY301"} <= set(_executable()), "the pages' ```loya/```yaml blocks are not found"


@pytest.mark.parametrize("code", _executable())
def test_the_example_reports_its_code_and_the_fix_does_not(code: str, tmp_path: Path) -> None:
    example, fix = _sections(_page(code))
    found = _programme(example)
    assert found is not None
    assert code in _codes_reported(*found, tmp_path), f"the example of docs/codes/{code}.md does not report {code}"
    repaired = _programme(fix)
    if repaired is not None:
        assert code not in _codes_reported(*repaired, tmp_path), f"the fix of docs/codes/{code}.md still reports {code}"
