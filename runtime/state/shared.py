"""Shared (family or organisation) accounts: creating one, and its owner adding and removing members
and setting their rights."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import (
    ValidationError,
)

from ..errors import StateError
from .checks import _message
from .records import CustomerState, Member, SharedAccount

# -------------------------------------------------------------------------------- shared accounts


def create_shared(state: CustomerState, shared_id: str) -> CustomerState:
    """Make the customer the owner of a new shared account (with every right)."""
    if state.shared is not None:
        raise StateError(f"customer {state.id} belongs to shared account {state.shared.id} already", "shared")
    owner = Member(accrue=True, redeem=True, redeem_limit=None)
    return state.model_copy(update={"shared": SharedAccount(id=shared_id, owner=state.id, members={state.id: owner})})


def add_member(state: CustomerState, actor_id: str, member_id: str, rights: Member | Mapping[str, Any]
               ) -> CustomerState:
    """The owner's state with ``member_id`` added to its shared account; anyone else is refused."""
    shared = _owned_shared(state, actor_id, "add members")
    if member_id in shared.members:
        raise StateError(f"{member_id} is a member of shared account {shared.id} already", "shared.members")
    return _with_members(state, shared, {**shared.members, member_id: _rights(rights)})


def remove_member(state: CustomerState, actor_id: str, member_id: str) -> CustomerState:
    """The owner's state without ``member_id`` (the owner cannot remove themselves)."""
    shared = _owned_shared(state, actor_id, "remove members")
    if member_id not in shared.members:
        raise StateError(f"{member_id} is not a member of shared account {shared.id}", "shared.members")
    if member_id == shared.owner:
        raise StateError(f"the owner {member_id} cannot leave shared account {shared.id}", "shared.members")
    return _with_members(state, shared, {k: v for k, v in shared.members.items() if k != member_id})


def set_rights(state: CustomerState, actor_id: str, member_id: str, rights: Member | Mapping[str, Any]
               ) -> CustomerState:
    """The owner's state with a member's rights replaced."""
    shared = _owned_shared(state, actor_id, "change rights")
    if member_id not in shared.members:
        raise StateError(f"{member_id} is not a member of shared account {shared.id}", "shared.members")
    return _with_members(state, shared, {**shared.members, member_id: _rights(rights)})


def _owned_shared(state: CustomerState, actor_id: str, what: str) -> SharedAccount:
    shared = state.shared
    if shared is None:
        raise StateError(f"customer {state.id} has no shared account", "shared")
    if actor_id != shared.owner or state.id != shared.owner:
        raise StateError(f"only the owner {shared.owner} may {what} of shared account {shared.id}, "
                         f"not {actor_id}", "shared.owner")
    return shared


def _rights(rights: Member | Mapping[str, Any]) -> Member:
    if isinstance(rights, Member):
        return rights
    try:
        return Member.model_validate(dict(rights))
    except (ValidationError, TypeError, ValueError) as exc:
        detail = _message(exc.errors()[0]) if isinstance(exc, ValidationError) else str(exc)
        raise StateError(f"rights are {{accrue, redeem, redeem_limit}}: {detail}", "rights") from None


def _with_members(state: CustomerState, shared: SharedAccount, members: dict[str, Member]) -> CustomerState:
    return state.model_copy(update={"shared": shared.model_copy(update={"members": members})})
