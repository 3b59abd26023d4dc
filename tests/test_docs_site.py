"""The documentation site (mkdocs.yml over docs/) builds with `mkdocs build --strict`: no broken
link, no missing anchor, no page left out of the navigation except the code pages, which the
codes index links to."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

needs_mkdocs = pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None,
                                  reason="mkdocs is not installed: pip install 'loyadsl[docs]'")


def nav_pages() -> set[str]:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    return set(_pages(config["nav"]))


def _pages(items: object) -> list[str]:
    """The pages of a navigation list, sections (a title over a list) included."""
    if isinstance(items, str):
        return [items]
    if isinstance(items, dict):
        return [page for value in items.values() for page in _pages(value)]
    assert isinstance(items, list)
    return [page for item in items for page in _pages(item)]


def test_every_top_level_page_is_in_the_navigation() -> None:
    pages = {p.name for p in DOCS.glob("*.md")} | {f"cookbook/{p.name}" for p in DOCS.glob("cookbook/*.md")}
    assert nav_pages() == pages | {"codes/README.md"}


@needs_mkdocs
def test_the_site_builds_strictly(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
                          "-d", str(tmp_path / "site")], capture_output=True, text=True, timeout=300, check=False)
    log = run.stdout + run.stderr
    assert run.returncode == 0, log
    assert not re.search(r"^(WARNING|ERROR)", log, re.M), log
    site = tmp_path / "site"
    codes = sorted(p.stem for p in (DOCS / "codes").glob("LOY*.md"))
    assert codes and all((site / "codes" / code / "index.html").is_file() for code in codes)
    assert "LOY201" in (site / "codes" / "index.html").read_text(encoding="utf-8")
    assert "loya lsp" in (site / "editor" / "index.html").read_text(encoding="utf-8")
