"""More than MAX_ERRORS warnings leave a valid programme valid: the 'N more not shown' line is an
error only when an error is among those left out."""

from __future__ import annotations

from loyadsl.api import check_text
from loyadsl.diagnostics import Severity
from loyadsl.runtime.limits import MAX_ERRORS

HEAD = ('programme "Shop" { currency RUB minor 2  timezone "Europe/Moscow" }\n'
        "group base { priority 100  stacking stack_all  basis original }\n"
        "campaign c { group base  then discount 10% on receipt }\n")


def test_many_warnings_still_compile() -> None:
    unused = "".join(f'skus unused{i} = ["A{i}"]\n' for i in range(MAX_ERRORS + 5))
    result = check_text(HEAD + unused)
    assert result.ok and len(result.diagnostics) == MAX_ERRORS + 1
    assert result.diagnostics[-1].code == "LOY105" and result.diagnostics[-1].severity is Severity.WARNING


def test_errors_among_many_warnings_still_fail() -> None:
    unused = "".join(f'skus unused{i} = ["A{i}"]\n' for i in range(MAX_ERRORS + 5))
    result = check_text(HEAD + unused + "campaign d { group nowhere  then discount 10% on receipt }\n")
    assert not result.ok and "LOY201" in {d.code for d in result.diagnostics}


def test_errors_left_out_make_the_last_line_an_error() -> None:
    unknown = "".join(f"campaign d{i} {{ group nowhere  then discount 10% on receipt }}\n"
                      for i in range(MAX_ERRORS + 5))
    result = check_text(HEAD + unknown)
    assert not result.ok and result.diagnostics[-1].severity is Severity.ERROR
