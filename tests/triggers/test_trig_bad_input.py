"""Bad trigger input as data: each tests/triggers/bad/*.loya starts with `# expect: CODE at LINE:COL`,
and checking it must report that code there (and the programme must not compile)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from loyadsl.api import check_file

BAD = sorted((Path(__file__).parent / "bad").glob("*.loya"))
EXPECT = re.compile(r"# expect: (LOY\d+) at (\d+):(\d+)")


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_trigger_is_a_compile_time_error_with_a_span(path: Path) -> None:
    found = EXPECT.match(path.read_text(encoding="utf-8"))
    assert found is not None, "the file states what it expects"
    code, line, col = found.group(1), int(found.group(2)), int(found.group(3))
    result = check_file(path)
    assert result.programme is None
    places = [(d.code, d.span.line, d.span.col) for d in result.diagnostics if d.span is not None]
    assert (code, line, col) in places, places
