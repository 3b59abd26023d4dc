"""`loya fmt DIR/`: every programme source under a folder (.loya files, main or imported, and YAML
files with a programme's keys), recursively; hidden folders and other YAML are left alone, and a
file that cannot be formatted is refused while the others are written."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from loyadsl.cli import app
from loyadsl.syntax.formatter import format_loya, format_yaml

MAIN = ('import "lib/discounts.loya"\nprogramme   "p" {\n currency RUB minor 2\n timezone "Europe/Moscow"\n}\n'
        "group g {\n priority 1\n stacking stack_all\n basis original\n}\n")
MODULE = '# ten percent\ncampaign   c {\ngroup g\n      then discount 10% on lines where sku == "A"\n}\n'
YAML = "programme:\n  name:    P\n  currency:   RUB\n"
MAPPING = "receipt_id:    CHECK_ID\ncustomer_id: CARD\n"  # a column mapping: not a programme


def project(root: Path) -> dict[str, str]:
    files = {"shop/main.loya": MAIN, "shop/lib/discounts.loya": MODULE, "shop/twin.yaml": YAML,
             "shop/mapping.yaml": MAPPING, "shop/.hidden/x.loya": MODULE, "shop/notes.txt": "campaign   x"}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return files


def loya(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_fmt_walks_a_folder(tmp_path: Path) -> None:
    files = project(tmp_path)
    shop = tmp_path / "shop"
    sources = [shop / "main.loya", shop / "twin.yaml", shop / "lib" / "discounts.loya"]  # a folder, then its folders
    assert loya("fmt", "-l", str(shop)) == (0, "".join(f"{p}\n" for p in sources), "")
    code, _, _ = loya("fmt", "--check", str(shop))
    assert code == 1
    assert loya("fmt", "-w", str(shop))[0] == 0
    assert (shop / "main.loya").read_text(encoding="utf-8") == format_loya(MAIN)[0]
    assert (shop / "lib" / "discounts.loya").read_text(encoding="utf-8") == format_loya(MODULE)[0]
    assert (shop / "twin.yaml").read_text(encoding="utf-8") == format_yaml(YAML)[0]
    for untouched in ("shop/mapping.yaml", "shop/.hidden/x.loya", "shop/notes.txt"):
        assert (tmp_path / untouched).read_text(encoding="utf-8") == files[untouched]
    assert loya("fmt", "--check", str(shop)) == (0, "", "")


def test_a_file_that_does_not_parse_is_refused_and_the_others_are_written(tmp_path: Path) -> None:
    project(tmp_path)
    broken = tmp_path / "shop" / "broken.loya"
    broken.write_text("campaign {{{\n", encoding="utf-8")
    code, _, err = loya("fmt", "-w", str(tmp_path / "shop"))
    assert code == 1 and "LOY1" in err and "Traceback" not in err
    assert broken.read_text(encoding="utf-8") == "campaign {{{\n"
    assert (tmp_path / "shop" / "main.loya").read_text(encoding="utf-8") == format_loya(MAIN)[0]
