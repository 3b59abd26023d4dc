"""HTML reports: self-contained, escaped, well-formed charts, shipped in the wheel, and rendered by a real browser.

The browser test runs Debian's chromium headless (``apt-get install chromium``; .ci/run installs it)
and skips, saying so, where it is absent.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyadsl.simulate import charts
from loyadsl.simulate.html import TEMPLATES, render_diff_html, render_html

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
EVIL = "<script>alert('x')</script>&amp;\"quoted\""


def sample(name: str = "report_sample.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, flags=re.S)


def assert_self_contained(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert not re.search(r"""\b(?:src|href)=["'](?!#)""", page), "only in-page links"
    assert "@import" not in page and "url(" not in page


# ------------------------------------------------------------------------------------------ pages


def test_report_page_has_everything_and_nothing_external() -> None:
    page = render_html(sample())
    assert_self_contained(page)
    assert page.startswith("<!DOCTYPE html>")
    assert 'class="grid-campaigns"' in page and 'class="grid-collisions"' in page
    assert 'class="grid-budgets"' in page and 'class="grid-assertions"' in page
    for text in ("207,796,975.39 RUB", "6.87%", "base_cashback", "happy_dairy × three_for_two", "2026-10-19",
                 "FAILED", "1 of 3 assertions failed", "read 180,919 = simulated 180,882 + quarantined 37"):
        assert text in page, text
    assert len(svgs(page)) == 6  # revenue, receipts, discount, points, liability, tiers


def test_charts_are_well_formed_svg_with_axes_and_tooltips() -> None:
    for svg in svgs(render_html(sample())) + svgs(render_diff_html(sample("diff_sample.json"))):
        root = ET.fromstring(svg)  # well-formed XML: every text escaped, every element closed
        tags = [el.tag for el in root.iter()]
        assert "title" in tags and tags.count("text") >= 4  # a name, ticks on both axes
        assert 'class="axis"' in svg and 'class="tick"' in svg


def test_tooltips_carry_exact_figures() -> None:
    page = render_html(sample())
    first = sample()["series"]["points"][0]
    whole, cents = divmod(first["revenue"], 100)
    assert f"Week of 2026-01-05\nRevenue: {whole:,}.{cents:02d} RUB</title>" in page
    assert f"Accrued: {first['points_accrued']:,} points" in page
    assert f"base: {first['tiers']['base']:,} customers" in page


def test_user_names_are_escaped_everywhere() -> None:
    report = sample()
    report["programme"]["name"] = EVIL
    report["campaigns"][0]["name"] = EVIL
    report["campaigns"][0]["group"] = EVIL
    report["collisions"][0]["campaigns"][0] = EVIL
    report["assertions"][0]["expr"] = EVIL
    for point in report["series"]["points"]:
        point["tiers"][EVIL] = 1
    page = render_html(report)
    assert_self_contained(page)
    assert "&lt;script&gt;alert(" in page
    for svg in svgs(page):
        ET.fromstring(svg)
    diff = sample("diff_sample.json")
    diff["campaigns"][0]["name"] = EVIL
    diff["receipts"][0]["customer_id"] = EVIL
    diff["breakdowns"]["store"][0]["key"] = EVIL
    page = render_diff_html(diff)
    assert_self_contained(page)
    assert page.count("&lt;script&gt;alert(") >= 3


def test_empty_report_and_diff_render() -> None:
    for page in (render_html({}), render_html({"kind": "simulation", "campaigns": [],
                                               "series": {"period": "week", "points": []}})):
        assert_self_contained(page)
        assert "No campaigns." in page and "No time series in this report." in page
    page = render_diff_html({})
    assert_self_contained(page)
    assert "No receipt changed." in page


def test_rendering_is_deterministic() -> None:
    assert render_html(sample()) == render_html(sample())
    assert render_diff_html(sample("diff_sample.json")) == render_diff_html(sample("diff_sample.json"))


def test_diff_page() -> None:
    page = render_diff_html(sample("diff_sample.json"))
    assert_self_contained(page)
    for text in ("Romashka 2026.10 → Romashka 2026.11", "+1,333,470.87", "Change in cost by weekday",
                 'class="grid-by-hour"', "anonymous", "1 assertion passed"):
        assert text in page, text
    assert len(svgs(page)) == 3


# ------------------------------------------------------------------------------------------ charts


@given(st.integers(min_value=-(10**15), max_value=10**15), st.integers(min_value=0, max_value=10**15))
def test_nice_ticks_cover_the_range_evenly(lo: int, span: int) -> None:
    ticks = charts.nice_ticks(lo, lo + span)
    assert ticks[0] <= lo and ticks[-1] >= lo + span
    steps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1 and 2 <= len(ticks) <= 12
    step = steps.pop()
    assert str(step).lstrip("125").strip("0") == "" and str(step)[0] in "125"


def test_charts_handle_one_point_negatives_and_mismatches() -> None:
    one = charts.line_chart("t", ["a"], [charts.Series("s", [5])], value_text=str, tick_text=str)
    ET.fromstring(str(one))
    bars = charts.bar_chart("t", ["a", "b"], [-300, 200], value_text=str, tick_text=str)
    assert charts.NEGATIVE in bars and charts.POSITIVE in bars
    ET.fromstring(str(bars))
    flat = charts.stacked_bar_chart("t", ["a", "b"], [charts.Series("s", [0, 0])], value_text=str, tick_text=str)
    ET.fromstring(str(flat))
    assert "No data" in charts.line_chart("t", [], [], value_text=str, tick_text=str)
    with pytest.raises(ValueError, match="2 values for 3 labels"):
        charts.line_chart("t", ["a", "b", "c"], [charts.Series("s", [1, 2])], value_text=str, tick_text=str)


# ------------------------------------------------------------------------------------------ packaging


def test_templates_ship_in_the_wheel(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, timeout=300)
    [wheel] = tmp_path.glob("loyadsl-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        templates = sorted(TEMPLATES.glob("*.html"))
        assert templates
        for path in templates:
            name = f"loyadsl/simulate/templates/{path.name}"
            assert name in names
            assert archive.read(name) == path.read_bytes()
        for module in ("render", "html", "charts"):
            assert f"loyadsl/simulate/{module}.py" in names


# ------------------------------------------------------------------------------------------ browser

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0", "--hide-scrollbars"]


def chromium(tmp_path: Path, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM
    profile = tmp_path / f"profile-{name}"
    profile.mkdir()
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=60)


def page_errors(log: str) -> list[str]:
    """Console messages (console.error, uncaught exceptions, blocked loads) and renderer crashes."""
    return [line for line in log.splitlines()
            if ":CONSOLE" in line or "Uncaught" in line or "crashed" in line.lower()]


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the raw (filtered) scanlines of a PNG, with only the standard library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium); "
                                            "the headless-browser check of the HTML report did not run")
@pytest.mark.parametrize("kind", ["report", "diff"])
def test_a_browser_renders_the_page_without_errors(tmp_path: Path, kind: str) -> None:
    page = render_html(sample()) if kind == "report" else render_diff_html(sample("diff_sample.json"))
    html_file = tmp_path / f"{kind}.html"
    html_file.write_text(page, encoding="utf-8")
    url = html_file.as_uri()

    dom = chromium(tmp_path, "dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert page_errors(dom.stderr) == []
    assert 'class="grid-campaigns"' in dom.stdout
    assert dom.stdout.count("<svg") == (6 if kind == "report" else 3)
    assert ("base_cashback" if kind == "report" else "welcome10") in dom.stdout

    shot = tmp_path / f"{kind}.png"
    run = chromium(tmp_path, "shot", "--window-size=1280,2400", f"--screenshot={shot}", url)
    assert run.returncode == 0, run.stderr[-2000:]
    assert page_errors(run.stderr) == []
    width, height, raw = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 2400)
    assert len(set(raw)) > 64, "the screenshot is (nearly) blank"
