"""parse_file: the syntax by extension, and I/O problems as LOY407 diagnostics, never exceptions."""

from __future__ import annotations

from pathlib import Path

from loyadsl.syntax import nodes as n
from loyadsl.syntax.source import parse_file
from loyadsl.syntax.yaml_twin import to_yaml

PROGRAMME = 'campaign c "Кампания" {\n    group g\n}\n'


def test_the_extension_chooses_the_syntax(tmp_path: Path) -> None:
    loya = tmp_path / "p.loya"
    loya.write_text(PROGRAMME, encoding="utf-8")
    module, diags = parse_file(loya)
    assert diags == [] and module is not None
    for name in ("p.yaml", "P.YML"):
        path = tmp_path / name
        path.write_text(to_yaml(module), encoding="utf-8")
        assert parse_file(path) == (module, [])
    assert module.decls == (n.CampaignDecl("c", "Кампания", (n.GroupClause("g"),)),)
    assert module.span is not None and module.span.file == str(loya)


def test_a_missing_file_or_a_directory_is_loy407(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.loya", tmp_path):
        module, [d] = parse_file(path)
        assert module is None and d.code == "LOY407" and str(path) in d.message


def test_non_utf8_is_loy407_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.loya"
    path.write_bytes('# ok\ncampaign "é" {\n'.encode() + b'# caf\xe9\n')
    module, [d] = parse_file(path)
    assert module is None and d.code == "LOY407"
    assert d.span is not None and (d.span.line, d.span.col) == (3, 6)
    assert d.hint == "save the file as UTF-8"
