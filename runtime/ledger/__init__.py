"""The ledger: what a receipt does to a customer's state, and what a return undoes (docs/state.md,
sections 4-7).

The engine prices a receipt as before; a ``Session`` adds what state changes about it: it gates
campaigns (coupon, usage limit, budget), keeps their counter spends covered, settles the payment
(points, then certificates) and turns the result into **changes**, plain JSON objects that
``state.apply`` alone writes. Nothing here mutates a state. A return (``refund``) is a list of
changes that undo the original ones line by line, in proportion to what comes back, with cumulative
rounding so that returning a line in parts undoes exactly what returning it at once does.

Every division names its rounding; every split of a whole over lines uses ``money.allocate``
(largest remainder, ties to the smaller line_no), so a change's ``lines`` always sum to it exactly.

The modules: ``core`` (the ``Ledger``), ``session`` (a receipt: ``gates``, ``payment``, ``finish``
on the ``base`` they share), ``transfers`` (``receive``), ``refund`` and ``undo`` (returns),
``splits`` and ``lots`` (helpers).
"""

from __future__ import annotations

from .catalogue import check_chosen
from .core import Ledger
from .payment import Payment
from .refund import Refund, refund
from .session import Session
from .splits import MILLION, Change, LocalFn, Matcher, Request, fill, pairs, split
from .transfers import receive

__all__ = [
           "MILLION",
           "Change",
           "Ledger",
           "LocalFn",
           "Matcher",
           "Payment",
           "Refund",
           "Request",
           "Session",
           "check_chosen",
           "fill",
           "pairs",
           "receive",
           "refund",
           "split",
]
