"""Prize draws from raffle tickets (docs/rewards.md, "Raffles"): deterministic and auditable from a
published seed.

Tickets are a counter or chips the programme earns by rules (``chips tickets { earn 1 per 1000 RUB }``);
returns take them back as any counter. The draw, for a seed, the ticket holders ``(customer id, tickets)``
and a number of prizes:

1. ticket ``i`` (1..n) of customer ``c`` scores ``sha256(seed 0x00 c 0x00 i)`` read as a 256-bit
   big-endian integer (UTF-8 text, ``i`` in decimal);
2. a customer's score is the lowest of their tickets' scores;
3. the winners are the customers with the lowest scores, in ascending order (ties, which do not
   happen in practice, by customer id), one prize each.

So each customer wins the first prize with probability tickets / all tickets, the next prizes are
drawn without replacement in proportion to tickets likewise, and anyone holding the seed and the
ticket list recomputes the result. ``entries_digest`` fingerprints the ticket list itself, so the
list can be published (or committed to) before the seed is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .errors import LoyaError
from .limits import MAX_VALUE

MAX_TICKETS = 10_000_000  # tickets in one draw: each is one sha256, so a draw takes seconds at most


class Winner(NamedTuple):
    place: int  # 1 for the first prize
    customer: str
    tickets: int
    ticket: int  # the winning ticket's number among the customer's (1..tickets)
    score: str  # the winning ticket's sha256, hex


def ticket_score(seed: str, customer: str, ticket: int) -> bytes:
    """The sha256 of one ticket (step 1); compared as bytes, which orders as the big-endian integer."""
    return hashlib.sha256(seed.encode("utf-8") + b"\x00" + customer.encode("utf-8") + b"\x00"
                          + str(ticket).encode("ascii")).digest()


def draw(entries: Iterable[tuple[str, int]], seed: str, prizes: int) -> list[Winner]:
    """The winners of ``prizes`` prizes among ``entries`` (customer id, tickets; customers without a
    ticket take no part), by the documented algorithm. A customer listed twice, a negative or too
    large count, an empty seed or fewer than one prize is LOY565."""
    if not seed:
        raise LoyaError("LOY565", "the seed is empty: publish a seed before the draw")
    if type(prizes) is not int or prizes < 1:
        raise LoyaError("LOY565", f"the number of prizes must be at least 1, got {prizes!r}")
    best: list[tuple[bytes, str, int, int]] = []
    seen: set[str] = set()
    total = 0
    for customer, tickets in entries:
        if customer in seen:
            raise LoyaError("LOY565", f"customer {customer!r} is listed twice")
        seen.add(customer)
        if type(tickets) is not int or not 0 <= tickets <= MAX_VALUE:
            raise LoyaError("LOY565", f"customer {customer!r} holds {tickets!r} tickets, not a count")
        total += tickets
        if total > MAX_TICKETS:
            raise LoyaError("LOY565", f"more than {MAX_TICKETS:,} tickets in one draw")
        if tickets:
            score, ticket = min((ticket_score(seed, customer, i), i) for i in range(1, tickets + 1))
            best.append((score, customer, ticket, tickets))
    best.sort()
    return [Winner(place, customer, tickets, ticket, score.hex())
            for place, (score, customer, ticket, tickets) in enumerate(best[:prizes], start=1)]


def entries_digest(entries: Sequence[tuple[str, int]]) -> str:
    """sha256 (hex) of the ticket list as ``id<TAB>tickets`` lines sorted by id, each ending in a newline
    (customers without tickets left out): what a draw's organiser publishes before the seed."""
    text = "".join(f"{customer}\t{tickets}\n" for customer, tickets in sorted(entries) if tickets)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
