"""Catalogue rewards (docs/rewards.md): a campaign with ``reward N points from ACCOUNT [stock S]`` runs
only when the receipt chooses it, costs N active points of the account and, with a stock, one unit of
it. The gate refuses a reward the customer cannot afford or that is out of stock before the campaign
runs; ``reserve`` keeps the points of the rewards of one receipt covered together; ``spend_rewards``
takes the points from the account's lots (before the payment by points, which sees what is left) and
says, per chosen reward, what it spent from which lots, or why it was refused, with a code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..declarations import CatalogueReward
from ..errors import ReceiptError
from ..model import Rejection
from .base import _Receipt
from .lots import _accounts, _active, _Lot, _lots, _member, _walk, spend_order
from .splits import Request, fill, pairs, split

# The code each reason of a refused reward has at the till (docs/codes/LOY56x.md).
REFUSAL_CODES = {"out_of_stock": "LOY561", "insufficient_points": "LOY562"}
NOT_GIVEN = "LOY563"  # chosen, but the campaign did not apply (its conditions, its group, ...)


class _Catalogue(_Receipt):
    """The catalogue rewards a receipt chooses (``chosen``) and what they take (``reward_changes``)."""

    chosen: tuple[str, ...]
    stock: Mapping[str, int] | None
    reward_reserved: dict[str, int]  # account -> points reserved by this receipt's rewards
    reward_taken: dict[tuple[bool, str, str], int]  # (shared, account, lot) -> points the rewards take

    def open_catalogue(self, chosen: Sequence[str], stock: Mapping[str, int] | None) -> None:
        self.chosen, self.stock = tuple(chosen), stock
        self.reward_reserved, self.reward_taken = {}, {}
        self.reward_changes, self.reward_events, self.gifts = [], [], []

    def reward_gate(self, campaign: str, reward: CatalogueReward) -> str | None:
        """Why a catalogue reward may not run: not chosen, out of stock, or more than the customer has."""
        if campaign not in self.chosen:
            self.notes[campaign] = "the receipt did not choose this reward"
            return "not_chosen"
        if reward.stock is not None and self.stock is not None and self.stock.get(campaign, reward.stock) <= 0:
            self.notes[campaign] = "no unit of the reward is left"
            return "out_of_stock"
        have = self.reward_points(reward.account) - self.reward_reserved.get(reward.account, 0)
        if have < reward.points:
            self.notes[campaign] = f"costs {reward.points} points of {reward.account}, the customer has {have}"
            return "insufficient_points"
        return None

    def reward_points(self, account: str) -> int:
        """The active points a reward may take from an account (the shared one's too, for a member who may
        redeem, up to the member's limit)."""
        sources, room = self._reward_sources(account)
        return sum(take for _, _, take in _walk(sources, None, room))

    def reserve_reward(self, account: str, points: int, release: bool = False) -> bool:
        """Reserve (or give back) a reward's points; False when this receipt's rewards cannot all be paid."""
        held = self.reward_reserved.get(account, 0)
        if release:
            self.reward_reserved[account] = held - points
            return True
        if self.reward_points(account) - held < points:
            return False
        self.reward_reserved[account] = held + points
        return True

    def _reward_sources(self, account: str) -> tuple[list[tuple[str, Any]], int | None]:
        """The account's active lots in its spend order, the own account's first (less what this
        receipt's rewards took already), and the shared account's room."""
        state = self.state
        if state is None or account not in self.ledger.accounts:
            return [], None
        member = _member(state)
        shared_ok = member is not None and bool(member.redeem)
        order = self.ledger.accounts[account].spend
        sources: list[tuple[str, Any]] = []
        for shared in (False, True):
            acc = _accounts(state, shared).get(account) if (shared_ok or not shared) else None
            if acc is None:
                continue
            lots = [lot._replace(left=lot.left - self.reward_taken.get((shared, account, lot.id), 0))
                    for lot in _lots(acc, account, shared)]
            sources += [("lot", lot) for lot in spend_order([x for x in lots if _active(x, self.utc)], order)]
        return sources, member.redeem_limit if shared_ok and member is not None else None

    def spend_rewards(self, left: Sequence[int], applied: Sequence[tuple[str, Sequence[Request]]],
                      discounts: Mapping[str, Sequence[int]], rejected: Sequence[Rejection]) -> None:
        """Take each applied reward's points from its account's lots (``take``, reason ``reward``; per line
        by the discount it gave, else by what is paid), one unit of its stock (``stock``), and say for
        every chosen reward what it spent or why it was refused (``reward`` / ``reward_refused`` events)."""
        given: dict[str, int] = {}
        for _campaign, requests in applied:
            for op, name, points in requests:
                if op == "reward":
                    given[name] = points
        why = {rej.campaign: rej.reason for rej in rejected if rej.campaign in self.chosen}
        for campaign in self.chosen:
            reward = self.ledger.campaigns[campaign].reward
            assert reward is not None
            if campaign in given and self.state is not None:
                self._take(campaign, reward, left, discounts.get(campaign))
            else:
                reason = why.get(campaign, "not_given")
                self.reward_events.append({"event": "reward_refused", "reward": campaign, "reason": reason,
                                           "code": REFUSAL_CODES.get(reason, NOT_GIVEN)})

    def _take(self, campaign: str, reward: CatalogueReward, left: Sequence[int], discount: Sequence[int] | None) -> None:
        sources, room = self._reward_sources(reward.account)
        taken = _walk(sources, reward.points, room)
        weights = list(discount) if discount is not None and any(discount) else list(left)
        per_line = split(reward.points, weights, self.line_nos)
        lots: list[list[Any]] = []
        for (_, lot, take), row in zip(taken, fill([t for _, _, t in taken], per_line), strict=True):
            assert isinstance(lot, _Lot)
            key = (lot.shared, lot.account, lot.id)
            self.reward_taken[key] = self.reward_taken.get(key, 0) + take
            self.reward_changes.append({"op": "take", "account": lot.account, "lot": lot.id, "points": take,
                                        "reason": "reward", "lines": pairs(self.line_nos, row), "shared": lot.shared,
                                        "receipt": self.receipt_id})
            lots.append([lot.id, take])
        event: dict[str, Any] = {"event": "reward", "reward": campaign, "account": reward.account,
                                 "points": reward.points, "lots": lots}
        if reward.stock is not None:
            self.reward_changes.append({"op": "stock", "reward": campaign, "delta": -1, "receipt": self.receipt_id})
            if self.stock is not None:
                event["stock_left"] = self.stock.get(campaign, reward.stock) - 1
        self.reward_events.append(event)


def check_chosen(chosen: Sequence[str], rewards: Mapping[str, CatalogueReward]) -> None:
    """The receipt's ``rewards`` name catalogue rewards of the programme, each once (LOY560)."""
    seen: set[str] = set()
    for i, name in enumerate(chosen):
        if name not in rewards:
            known = ", ".join(sorted(rewards)[:10]) or "none: the programme has no catalogue reward"
            raise ReceiptError(f"unknown reward {name!r} (the catalogue: {known})", f"rewards[{i}]", "LOY560")
        if name in seen:
            raise ReceiptError(f"reward {name!r} is chosen twice: each reward once a receipt", f"rewards[{i}]",
                               "LOY560")
        seen.add(name)
