"""Checking the rewards currency constructs (docs/rewards.md): the campaign clause ``reward N points
[from ACCOUNT] [stock S]`` and the action ``gift "SKU" [at PRICE]`` / ``gift one of LIST [at PRICE]``.

They are checked on the ``Checker`` (its typing, constants and report), as its own clause and action
methods are; kept here so the language's currency lives in one module."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from loyadsl.check import types as t
from loyadsl.check.state import account_hint
from loyadsl.compile import ir
from loyadsl.diagnostics import error
from loyadsl.runtime.declarations import CatalogueReward
from loyadsl.runtime.limits import MAX_VALUE
from loyadsl.runtime.opcodes import Op
from loyadsl.syntax import nodes as n

if TYPE_CHECKING:
    from loyadsl.check.checker import Checker, Scope


def reward_clause(ch: Checker, c: n.CampaignDecl, clause: n.RewardClause, scope: Scope) -> CatalogueReward | None:
    """The reward's price (constant points, at least one point minor unit, at most what an account can
    hold: LOY280), its account (declared; the default one when not named: LOY281 without accounts) and
    its stock (a constant count of at least 1)."""
    ok = True
    account = clause.account or ch.state.default_account
    if account is None:
        ch.report(error("LOY281", f"reward `{c.name}` has no account to be paid from", clause.span,
                        "declare one: `account bonus { }` (a reward is paid from the default account, "
                        "or `from ACCOUNT`)"))
        ok = False
    elif account not in ch.table.accounts:
        ch.report(error("LOY201", f"unknown account `{account}`", clause.span, account_hint(ch.table, account)))
        ok = False
    if _beyond_any_account(ch, c, clause):
        return None
    points = ch._constant_int(clause.points, scope, t.POINTS, "a reward's price")
    if points is not None and points < 1:
        ch.report(error("LOY221", f"reward `{c.name}` costs nothing", clause.points.span,
                        "a catalogue reward has a price: write e.g. `reward 500 points`"))
        points = None
    stock: int | None = None
    if clause.stock is not None:
        stock = ch._constant_int(clause.stock, scope, t.COUNT, "a reward's stock")
        if stock is not None and stock < 1:
            ch.report(error("LOY207", "a reward's stock must be at least 1", clause.stock.span,
                            "leave `stock` out for a reward without a limit"))
            return None
        if stock is None:
            return None
    if not ok or points is None or account is None:
        return None
    return CatalogueReward(account, points, stock)


def _beyond_any_account(ch: Checker, c: n.CampaignDecl, clause: n.RewardClause) -> bool:
    """LOY280: a price, written as points, of more point minor units than any account may hold
    (``MAX_VALUE``): no customer could ever pay it."""
    e = clause.points
    if not isinstance(e, n.PointsLit) or ch.settings is None:
        return False
    try:
        scaled = Decimal(e.amount).scaleb(ch.settings.points_minor)
    except InvalidOperation:
        return False
    if scaled <= MAX_VALUE:
        return False
    ch.report(error("LOY280", f"reward `{c.name}` costs {e.amount} points, more than any account can hold",
                    e.span, f"an account holds at most {MAX_VALUE:,} point minor units "
                            f"(points minor {ch.settings.points_minor}); lower the price"))
    return True


def gift_action(ch: Checker, a: n.Gift, scope: Scope) -> ir.IAction | None:
    """``gift "SKU"`` / ``gift one of LIST``: constant SKUs, none empty (LOY282 without one); ``at PRICE``
    money, zero or more (default: free)."""
    if isinstance(a.skus, n.StringLit):
        skus: frozenset[str] | None = frozenset({a.skus.value})
    else:
        skus = ch._const_set(a.skus, "sku", scope)
    if skus is None:
        return None
    if not skus or "" in skus:
        ch.report(error("LOY282", "a gift product with no SKU", a.skus.span,
                        'name the product the till adds: `gift "MUG1"` or `gift one of ["MUG1", "MUG2"]`'))
        return None
    price: ir.IExpr = ir.Const(t.MONEY, 0)
    if a.price is not None:
        checked = ch._typed(a.price, scope, t.MONEY, "a gift's price")
        if checked is None or not ch._gives(checked, a.price.span, "a gift's price", zero=True):
            return None
        price = checked
    return ir.StateAction(Op.GIFT, "gift", price, skus=skus, span=a.span)
