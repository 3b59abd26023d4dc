"""The files a programme reads stay inside its roots, are regular, bounded and UTF-8, and a refusal
never shows their contents (docs/language.md, "Files a programme reads")."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyadsl.api import check_file, check_text, compile_file
from loyadsl.check.files import Refused, Roots, read_bytes
from loyadsl.cli import app
from loyadsl.diagnostics import Diagnostic
from loyadsl.runtime.limits import MAX_LIST_FILE_BYTES, MAX_PROGRAMME_READ_BYTES

HEAD = 'programme "P" {\n    currency RUB minor 2\n    timezone "Europe/Moscow"\n}\n'
SECRET = "TOKEN=hunter2"
USE = 'group g { priority 1 stacking stack_all basis original }\ncampaign c {\n    group g\n    when count(lines where sku in s) > 0\n' \
      '    then discount 1% on receipt\n}\n'


def programme(folder: Path, line: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "p.loya"
    path.write_text(HEAD + line + "\n", encoding="utf-8")
    return path


def errors(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.is_error]


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    [diag] = errors(diagnostics)
    assert diag.span is not None
    shown = f"{diag.message} {diag.hint}"
    assert SECRET not in shown and "hunter2" not in shown  # never the file's contents
    return diag


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text(f"x\n{SECRET}\n", encoding="utf-8")
    return secret


def test_a_list_beside_the_programme_is_read(tmp_path: Path) -> None:
    (tmp_path / "prog" / "lists").mkdir(parents=True)
    (tmp_path / "prog" / "lists" / "s.csv").write_text("sku\nA\nB\n", encoding="utf-8")
    path = programme(tmp_path / "prog", 'skus s from "lists/s.csv" column "sku"\n' + USE)
    data, result = compile_file(path)
    assert data is not None, result.diagnostics


@pytest.mark.parametrize("reference", ["../outside/secret.csv", "link.csv", "lists/../../outside/secret.csv"])
def test_a_list_outside_the_root_is_refused(tmp_path: Path, outside: Path, reference: str) -> None:
    (tmp_path / "prog" / "lists").mkdir(parents=True)
    (tmp_path / "prog" / "link.csv").symlink_to(outside)
    path = programme(tmp_path / "prog", f'skus s from "{reference}" column "x"')
    assert only(check_file(path).diagnostics).code == "LOY108"


def test_an_absolute_path_is_refused_even_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("sku\nA\n", encoding="utf-8")
    path = programme(tmp_path, f'skus s from "{tmp_path / "s.csv"}" column "sku"')
    assert only(check_file(path).diagnostics).code == "LOY108"


def test_allow_dir_opens_another_root(tmp_path: Path, outside: Path) -> None:
    path = programme(tmp_path / "prog", 'skus s from "../outside/secret.csv" column "x"\n' + USE)
    assert only(check_file(path).diagnostics).code == "LOY108"
    assert not errors(check_file(path, allow_dirs=[outside.parent]).diagnostics)


def test_a_link_inside_the_root_is_followed(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "s.csv").write_text("sku\nA\n", encoding="utf-8")
    (tmp_path / "s.csv").symlink_to(tmp_path / "data" / "s.csv")
    path = programme(tmp_path, 'skus s from "s.csv" column "sku"\n' + USE)
    assert not errors(check_file(path).diagnostics)


def test_an_import_is_contained_and_so_are_its_own_references(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "prog" / "sub").mkdir(parents=True)
    (tmp_path / "prog" / "sub" / "lists.loya").write_text(
        'skus s from "../../outside/secret.csv" column "x"\n', encoding="utf-8")
    path = programme(tmp_path / "prog", 'import "sub/lists.loya"\n' + USE)
    assert only(check_file(path).diagnostics).code == "LOY108"
    outside_import = programme(tmp_path / "other", 'import "../outside/secret.csv"')
    assert only(check_file(outside_import).diagnostics).code == "LOY108"


def test_a_fifo_does_not_hang_the_compiler(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.csv")
    path = programme(tmp_path, 'skus s from "fifo.csv" column "sku"')
    assert only(check_file(path).diagnostics).code == "LOY109"
    os.mkfifo(tmp_path / "fifo.loya")
    assert only(check_file(programme(tmp_path / "i", 'import "../fifo.loya"'), [tmp_path]).diagnostics).code == "LOY109"
    assert only(check_file(tmp_path / "fifo.loya").diagnostics).code == "LOY109"  # the main file too


def test_a_device_and_a_folder_are_not_read(tmp_path: Path) -> None:
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    (tmp_path / "folder.csv").mkdir()
    path = programme(tmp_path, 'skus s from "zero.csv" column "sku"\nskus t from "folder.csv" column "sku"')
    assert [d.code for d in errors(check_file(path, allow_dirs=[Path("/dev")]).diagnostics)] == ["LOY109", "LOY109"]


def test_a_file_past_the_limit_is_refused_after_reading_one_byte_more(tmp_path: Path) -> None:
    (tmp_path / "big.csv").write_bytes(b"sku\n" + b"A" * MAX_LIST_FILE_BYTES)
    path = programme(tmp_path, 'skus s from "big.csv" column "sku"')
    assert only(check_file(path).diagnostics).code == "LOY110"


def test_a_file_that_is_not_utf8_is_refused_with_its_place(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_bytes(b"sku\nA\n\xcf\xf0\n")
    path = programme(tmp_path, 'skus s from "s.csv" column "sku"')
    diag = only(check_file(path).diagnostics)
    assert diag.code == "LOY114" and "line 3, column 1" in diag.message
    (tmp_path / "main.loya").write_bytes(HEAD.encode() + b"# \xff\n")
    assert only(check_file(tmp_path / "main.loya").diagnostics).code == "LOY114"


def test_a_missing_column_does_not_echo_the_header_row(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text(f"{SECRET}\nA\n", encoding="utf-8")
    path = programme(tmp_path, 'skus s from "s.csv" column "sku"')
    assert only(check_file(path).diagnostics).code == "LOY209"


def test_text_with_no_path_reads_files_only_from_the_roots_it_is_given(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("sku\nA\n", encoding="utf-8")
    text = HEAD + 'skus s from "s.csv" column "sku"\n' + USE
    assert only(check_text(text).diagnostics).code == "LOY111"
    assert not errors(check_text(text, allow_dirs=[tmp_path]).diagnostics)


def test_loya_check_and_compile_take_allow_dir(tmp_path: Path, outside: Path) -> None:
    path = programme(tmp_path / "prog", 'skus s from "../outside/secret.csv" column "x"\n' + USE)
    runner = CliRunner()
    refused = runner.invoke(app, ["check", "--format", "json", str(path)])
    assert refused.exit_code == 1 and "LOY108" in refused.stdout and "hunter2" not in refused.stdout
    allowed = runner.invoke(app, ["check", "--allow-dir", str(outside.parent), str(path)])
    assert allowed.exit_code == 0, allowed.output
    bundle = tmp_path / "b.loyab"
    compiled = runner.invoke(app, ["compile", str(path), "-o", str(bundle), "--allow-dir", str(outside.parent),
                                   "--format", "json"])
    assert compiled.exit_code == 0, compiled.output
    assert json.loads(compiled.stdout)["bundle"]["campaigns"] == 1


def test_the_files_a_programme_reads_are_bounded_together(tmp_path: Path) -> None:
    files = MAX_PROGRAMME_READ_BYTES // MAX_LIST_FILE_BYTES + 1
    lines = []
    for i in range(files):  # each file is read whole; its header has no column `sku`, so no row is parsed
        (tmp_path / f"s{i}.csv").write_bytes(b"x\n" + b"A" * (MAX_LIST_FILE_BYTES - 2))
        lines.append(f'skus s{i} from "s{i}.csv" column "sku"')
    diags = errors(check_file(programme(tmp_path, "\n".join(lines))).diagnostics)
    assert [d.code for d in diags] == ["LOY209"] * (files - 1) + ["LOY110"]
    assert f"s{files - 1}.csv" in diags[-1].message


def test_loya_refuses_a_main_file_that_is_not_regular(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "p.loya")
    runner = CliRunner()
    for args in (["check"], ["compile", "-o", str(tmp_path / "b.loyab")]):
        result = runner.invoke(app, [*args, "--format", "json", str(tmp_path / "p.loya")])
        assert result.exit_code == 1 and '"LOY109"' in result.stdout, result.output


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="the system does not tell where an open file is")
def test_the_file_opened_is_checked_again_where_it_really_is(tmp_path: Path, outside: Path) -> None:
    (tmp_path / "prog").mkdir()  # as if a folder on the way had been swapped for a link after resolve()
    with pytest.raises(Refused) as refused:
        read_bytes(outside, roots=Roots.of(tmp_path / "prog" / "p.loya"))
    assert refused.value.code == "LOY108"
    assert read_bytes(outside, roots=Roots.of(outside)) == outside.read_bytes()
