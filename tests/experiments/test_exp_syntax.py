"""The experiment syntax through the formatter and the YAML twin: `loya fmt` prints experiments,
group and campaign `arm` clauses canonically, keeps every comment, and is idempotent; .loya -> YAML
-> .loya gives the same AST."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyadsl.syntax import nodes as n
from loyadsl.syntax.formatter import format_loya, format_yaml
from loyadsl.syntax.parser import parse
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

HERE = Path(__file__).parent
PROGRAMMES = sorted([*HERE.glob("golden/*/programme.loya"), HERE / "simulate" / "programme.loya"])

MESSY = '''programme "p" { currency RUB minor 2  timezone "UTC" }
# the test of the autumn
experiment coffee "Coffee test" { salt "2026-q4"   arm treatment 45%  # most of them
  arm control 45%
  holdout 10% anonymous control }
group g { priority 1 stacking stack_all basis original arm coffee.treatment }
campaign c { group g  arm coffee.treatment  then discount 10% on receipt }
'''

CANONICAL = '''programme "p" {
    currency RUB minor 2
    timezone "UTC"
}

# the test of the autumn
experiment coffee "Coffee test" {
    salt "2026-q4"
    arm treatment 45%  # most of them
    arm control 45%
    holdout 10%
    anonymous control
}

group g {
    priority 1
    stacking stack_all
    basis original
    arm coffee.treatment
}

campaign c {
    group g
    arm coffee.treatment
    then discount 10% on receipt
}
'''


def test_exp_fmt_prints_experiments_canonically_with_comments() -> None:
    formatted, diags = format_loya(MESSY, "p.loya")
    assert diags == [] and formatted == CANONICAL
    assert format_loya(formatted, "p.loya") == (formatted, [])


def test_exp_the_ast_of_an_experiment() -> None:
    module, diags = parse(MESSY, "p.loya")
    assert module is not None and not diags
    experiment = module.decls[0]
    assert isinstance(experiment, n.ExperimentDecl)
    assert (experiment.name, experiment.title, experiment.salt, experiment.anonymous) == \
        ("coffee", "Coffee test", "2026-q4", "control")
    assert [(a.name, a.weight.value, a.holdout) for a in experiment.arms] == \
        [("treatment", "45", False), ("control", "45", False), ("holdout", "10", True)]
    group, campaign = module.decls[1], module.decls[2]
    assert isinstance(group, n.GroupDecl) and group.arm == n.ArmRef("coffee", "treatment")
    assert isinstance(campaign, n.CampaignDecl) and n.ArmClause(n.ArmRef("coffee", "treatment")) in campaign.clauses


@pytest.mark.parametrize("path", PROGRAMMES, ids=lambda p: p.parent.name)
def test_exp_yaml_twin_round_trips(path: Path) -> None:
    module, diags = parse(path.read_text(encoding="utf-8"), path.name)
    assert module is not None, diags
    yaml_text = to_yaml(module)
    again, diags = parse_yaml(yaml_text, "programme.yaml")
    assert again == module, diags
    assert format_yaml(yaml_text, "programme.yaml") == (yaml_text, [])


def test_exp_yaml_form_of_an_experiment() -> None:
    module, _ = parse(MESSY, "p.loya")
    assert module is not None
    text = to_yaml(module)
    assert "experiments:\n  - name: coffee\n    title: Coffee test\n    salt: 2026-q4\n" \
           "    arms: {treatment: 45%, control: 45%, holdout: 10%}\n    anonymous: control\n" in text
    assert "arm: coffee.treatment" in text


def test_exp_yaml_experiment_errors_point_into_the_yaml() -> None:
    _module, diags = parse_yaml("experiments:\n  - name: x\n    arms: {a: 50, b: 50%}\n", "p.yaml")
    assert [d.code for d in diags] == ["LOY101"]
    assert diags[0].span is not None and diags[0].span.line == 3
