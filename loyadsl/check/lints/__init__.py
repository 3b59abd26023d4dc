"""Lints over checked campaigns: warnings (LOY3xx) about programmes that compile but cannot do what
they say. One rule per module, listed here in the order they run; each takes a campaign and returns
its findings (issue 12, item 4)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from loyadsl.compile import ir
from loyadsl.diagnostics import Diagnostic

from . import lists_exclude_each_other

Lint = Callable[[ir.ICampaign], list[Diagnostic]]
LINTS: tuple[Lint, ...] = (lists_exclude_each_other.check,)


def run(campaigns: Iterable[ir.ICampaign]) -> list[Diagnostic]:
    return [d for c in campaigns for lint in LINTS for d in lint(c)]
