"""The standard mechanics: at least 40 templates, each compiles, has a passing `loya test` file,
documents every parameter with its unit and an example, and appears in docs/stdlib.md, which is what
`loya doc` writes today. `loya doc` also renders a user's own templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyadsl import resource_dir
from loyadsl.api import check_text
from loyadsl.cli import app
from loyadsl.mechtest.doc import Template, render, template_files, templates
from loyadsl.mechtest.runner import run_file

ROOT = Path(__file__).resolve().parents[2]
STD = resource_dir("stdlib_mechanics")
STD_TEMPLATES = templates(template_files([STD]))
BY_NAME = {t.name: t for t in STD_TEMPLATES}
TEST_FILES = sorted(STD.glob("*.test.yaml"))
USER = Path(__file__).parent / "fixtures" / "user_template"


def test_at_least_forty_templates_with_distinct_names() -> None:
    assert len(STD_TEMPLATES) >= 40
    assert len(BY_NAME) == len(STD_TEMPLATES)


@pytest.mark.parametrize("path", sorted(STD.glob("*.loya")), ids=lambda p: p.stem)
def test_every_standard_file_compiles(path: Path) -> None:
    header = 'programme "p" {\n    currency RUB minor 2\n    timezone "Europe/Moscow"\n}\n'
    result = check_text(f'{header}import "std:{path.stem}"\n', "main.loya")
    assert not [d for d in result.diagnostics if d.is_error], [str(d) for d in result.diagnostics]


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_template_has_a_test_file(name: str) -> None:
    assert BY_NAME[name].tests, f"no stdlib_mechanics/*.test.yaml has `template: {name}`"


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_every_test_file_passes(path: Path) -> None:
    result = run_file(path, path.name)
    assert not result.errors, [str(d) for d in result.errors]
    assert result.cases and not [str(d) for c in result.cases for d in c.diagnostics]


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_template_documents_its_parameters_and_an_example(name: str) -> None:
    t: Template = BY_NAME[name]
    comment = "\n".join(t.comment)
    assert t.summary != "(no doc comment)"
    for param, type_name in t.params:
        assert re.search(rf"^- (.*, )?`{param}` \([^)]*{type_name}[^)]*\)[:,]", comment, re.M), \
            f"{name}: parameter `{param}` is not documented as ``- `{param}` ({type_name}): ...``"
    if not t.params:
        assert "Parameters: none" in comment
    example = comment.partition("Example:")[2]
    assert f"uses {name}(" in example, f"{name}: the example does not use the template"


def test_docs_stdlib_is_up_to_date() -> None:
    current = (ROOT / "docs" / "stdlib.md").read_text(encoding="utf-8")
    assert current == render(template_files([STD])), "run `loya doc -o docs/stdlib.md`"


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_template_appears_in_the_docs(name: str) -> None:
    docs = (ROOT / "docs" / "stdlib.md").read_text(encoding="utf-8")
    assert f"\n## {name}\n" in docs and f"](#{name})" in docs


def test_doc_check_says_whether_the_file_is_current(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    stale = tmp_path / "stdlib.md"
    stale.write_text("# old\n", encoding="utf-8")
    assert CliRunner().invoke(app, ["doc", "--check", "-o", str(stale)]).exit_code == 1
    assert stale.read_text(encoding="utf-8") == "# old\n"  # --check writes nothing
    assert CliRunner().invoke(app, ["doc", "-o", str(stale)]).exit_code == 0
    assert CliRunner().invoke(app, ["doc", "--check", "-o", str(stale)]).exit_code == 0


def test_doc_renders_a_users_templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(USER)
    run = CliRunner().invoke(app, ["doc", "my_templates.loya"])
    assert run.exit_code == 0
    out = run.stdout
    assert out.startswith("# Templates\n")
    assert "## loyal_discount" in out and '`import "my_templates.loya"`' in out
    assert "`loyal_discount(visits: count, rate: percent)`" in out
    assert "Tests: `loyal.test.yaml`" in out
    assert "```loya\ncampaign loyal uses loyal_discount(visits = 10, rate = 5%) { group base }\n```" in out


def test_doc_refuses_a_file_that_does_not_parse(tmp_path: Path) -> None:
    broken = tmp_path / "broken.loya"
    broken.write_text("template t() {\n    then then\n}\n", encoding="utf-8")
    run = CliRunner().invoke(app, ["doc", str(broken)])
    assert run.exit_code == 2
    assert "LOY755" in run.stderr and "broken.loya:2:" in run.stderr


def _example(t: Template) -> str:
    lines = "\n".join(t.comment).partition("Example:")[2].splitlines()
    return "\n".join(line[4:] for line in lines if line.startswith("    "))


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_every_doc_example_compiles(name: str) -> None:
    """The example of a template's doc comment, in a programme with the groups it names and every
    standard mechanic imported, compiles without an error."""
    imports = "".join(f'import "std:{p.stem}"\n' for p in sorted(STD.glob("*.loya")))
    groups = "".join(f"group {g} {{ priority {p} stacking stack_all basis discounted }}\n"
                     for g, p in (("base", 40), ("coupons", 30), ("counters", 20), ("points", 10)))
    text = f'programme "p" {{\n    currency RUB minor 2\n    timezone "Europe/Moscow"\n}}\n{imports}{groups}' \
           f"{_example(BY_NAME[name])}\n"
    result = check_text(text, "main.loya")
    assert not [d for d in result.diagnostics if d.is_error], [str(d) for d in result.diagnostics]
