"""`loya fmt` as data: tests/syntax/fmt/NAME.in.loya (or .in.yaml) is formatted and compared with
NAME.out.loya (.out.yaml), or must be refused with the codes and positions listed in NAME.refused
(one `LOYnnn line:col` a line). Set LOYA_REGENERATE=1 to rewrite the expected files after a
deliberate change, then read the diff.

The properties (fixed point, same AST, same comments, same bundle) are in test_syntax_fmt_properties.py;
the command line (atomic writes, --check, refusals leave files untouched) at the end of this file.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from loyadsl.cli import write_atomically
from loyadsl.syntax import formatter
from loyadsl.syntax.formatter import format_loya, format_yaml
from loyadsl.syntax.parser import parse
from loyadsl.syntax.trivia import Trivia

FIXTURES = Path(__file__).parent / "fmt"
CASES = sorted(FIXTURES.glob("*.in.*"))
REGENERATE = os.environ.get("LOYA_REGENERATE") == "1"


def _format(path: Path) -> tuple[str | None, list[str]]:
    text = path.read_bytes().decode("utf-8")
    fmt = format_yaml if path.suffix == ".yaml" else format_loya
    out, diags = fmt(text, path.name)
    return out, [f"{d.code} {d.span.line}:{d.span.col}" if d.span else d.code for d in diags]


def test_the_fixtures_cover_both_outcomes() -> None:
    refused = [c for c in CASES if c.with_name(c.name.split(".")[0] + ".refused").exists()]
    assert len(refused) >= 5 and len(CASES) - len(refused) >= 5


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_fixture(case: Path) -> None:
    name, kind = case.name.split(".")[0], case.suffix
    refused, expected = case.with_name(f"{name}.refused"), case.with_name(f"{name}.out{kind}")
    out, codes = _format(case)
    if REGENERATE:
        if out is None:
            refused.write_text("".join(code + "\n" for code in codes), encoding="utf-8")
        else:
            expected.write_text(out, encoding="utf-8", newline="")
    if refused.exists():
        assert out is None, f"{case.name} should be refused"
        assert codes == refused.read_text(encoding="utf-8").split("\n")[:-1]
        return
    assert out is not None, codes
    assert out == expected.read_text(encoding="utf-8")
    assert _format(expected)[0] == out  # the expected output is its own canonical form


def test_every_comment_of_the_fixtures_is_kept() -> None:
    for case in FIXTURES.glob("*.in.loya"):
        out, _ = _format(case)
        if out is not None:
            before, after = Trivia(), Trivia()
            parse(case.read_bytes().decode("utf-8"), "in", before)
            parse(out, "out", after)
            assert Counter(c.text for c in before.comments) == Counter(c.text for c in after.comments)


def test_a_comment_keeps_its_place() -> None:
    out, _ = format_loya('programme "P" {\n  # zone\n  timezone "UTC"\n  currency RUB # money\n}\n')
    assert out == 'programme "P" {\n    currency RUB  # money\n    # zone\n    timezone "UTC"\n}\n'


def test_every_refusal_is_reported_at_its_comment() -> None:
    out, diags = format_loya('skus a = [\n  "A",  # one\n  "B",  # two\n]\ncampaign c {\n  when a and # x\n  b\n}\n')
    assert out is None
    assert [(d.code, d.span.line if d.span else 0) for d in diags] == [("LOY120", 2), ("LOY120", 3), ("LOY120", 6)]
    assert "skus a = [" in diags[0].message


# ---------------------------------------------------------------------------------------------- the command


def loya(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loyadsl.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


MESSY = 'programme "P" { currency RUB   # money\n}\n# end\n'
TIDY = 'programme "P" {\n    currency RUB  # money\n}\n# end\n'


def test_fmt_write_keeps_comments_and_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "p.loya"
    path.write_text(MESSY, encoding="utf-8")
    path.chmod(0o640)
    result = loya("fmt", "-w", path.name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert path.read_text(encoding="utf-8") == TIDY
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.loya"]  # no temporary file left


def test_fmt_check_writes_nothing_and_exits_1(tmp_path: Path) -> None:
    messy, tidy = tmp_path / "messy.loya", tmp_path / "tidy.loya"
    messy.write_text(MESSY, encoding="utf-8")
    tidy.write_text(TIDY, encoding="utf-8")
    result = loya("fmt", "--check", "-w", messy.name, tidy.name, cwd=tmp_path)
    assert result.returncode == 1 and "would reformat messy.loya" in result.stdout and "tidy" not in result.stdout
    assert messy.read_text(encoding="utf-8") == MESSY
    assert loya("fmt", "--check", tidy.name, cwd=tmp_path).returncode == 0


@pytest.mark.parametrize(("name", "text", "code"), [
    ("broken.loya", "# c\ncampaign c {\n    group\n}\n", "LOY101"),
    ("inside.loya", "skus a = [\n  'A', # one\n]\n".replace("'", '"'), "LOY120"),
    ("commented.yaml", "programme: {name: P}  # c\n", "LOY122"),
])
def test_fmt_write_refuses_and_leaves_the_file(tmp_path: Path, name: str, text: str, code: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    result = loya("fmt", "-w", name, cwd=tmp_path)
    assert result.returncode == 1 and code in result.stderr and "Traceback" not in result.stderr
    assert path.read_bytes() == text.encode("utf-8")


def test_fmt_of_yaml_prints_yaml(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("programme: {name: P, currency: RUB}\n", encoding="utf-8")
    result = loya("fmt", path.name, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("programme:\n  name: P\n")
    assert loya("fmt", "-w", path.name, cwd=tmp_path).returncode == 0
    assert path.read_text(encoding="utf-8") == result.stdout
    assert loya("fmt", "--check", path.name, cwd=tmp_path).returncode == 0


def test_convert_refuses_to_drop_comments_unless_asked(tmp_path: Path) -> None:
    source = tmp_path / "p.loya"
    source.write_text('# about P\nprogramme "P" {\n}\n', encoding="utf-8")
    refused = loya("convert", source.name, "-o", "p.yaml", cwd=tmp_path)
    assert refused.returncode == 1 and "LOY123" in refused.stderr and "p.loya:1:1" in refused.stderr
    assert not (tmp_path / "p.yaml").exists()
    assert loya("convert", source.name, "-o", "p.yaml", "--drop-comments", cwd=tmp_path).returncode == 0
    (tmp_path / "c.yaml").write_text("programme: {name: P}\n# note\n", encoding="utf-8")
    refused = loya("convert", "c.yaml", cwd=tmp_path)
    assert refused.returncode == 1 and "LOY122" in refused.stderr
    same = loya("convert", "p.loya", "--to", "loya", cwd=tmp_path)  # .loya to .loya is fmt: comments kept
    assert same.returncode == 0 and same.stdout.startswith("# about P\n")


def test_an_interrupted_write_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.loya"
    path.write_text("old\n", encoding="utf-8")

    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError):
        write_atomically(path, "new\n")
    assert path.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["p.loya"]


def test_a_write_through_a_symlink_replaces_the_file_it_names(tmp_path: Path) -> None:
    real = tmp_path / "real.loya"
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "link.loya"
    link.symlink_to(real)
    write_atomically(link, "new\n")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new\n"


# ---------------------------------------------------------------------------------------------- the safety check


def test_a_printer_that_loses_a_clause_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    real = formatter.module_lines
    monkeypatch.setattr(formatter, "module_lines", lambda m, src=None: [
        line for line in real(m, src) if not line.text.startswith("when")])
    out, diags = format_loya("campaign c {\n    when a\n    group g\n}\n")
    assert out is None and [d.code for d in diags] == ["LOY121"] and "same programme" in diags[0].message


def test_a_layout_that_loses_a_comment_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(formatter, "_comment_rows", lambda rows, group, depth: None)
    out, diags = format_loya("# lost\ncampaign c {\n    group g\n}\n")
    assert out is None and [d.code for d in diags] == ["LOY121"] and "comments" in diags[0].message
    assert diags[0].span is not None and diags[0].span.line == 1
