"""The coded failures of `loya offers` (runtime/codes.py: the LOY63x and LOY74x ranges)."""

from __future__ import annotations

import importlib
from types import ModuleType

from loyadsl.runtime.errors import LoyaError

SHORT_HISTORY = "LOY630"  # too little history to fit a model (numbers in the message)
ONE_PURCHASE = "LOY631"  # customers with a single purchase: no repeat-based score (a warning)
BAD_MODEL = "LOY632"  # a model file that cannot be read (or of another version)
BAD_STRATEGY = "LOY633"  # a strategy file that cannot be used
UNKNOWN_CATEGORY = "LOY634"  # a category the model has never seen
UNFITTED_SCORE = "LOY635"  # a strategy reads a score the model does not have
OVER_BUDGET = "LOY636"  # every offer's cost exceeds the strategy's budget
UNKNOWN_CUSTOMER = "LOY637"  # `loya offers show` of a customer the model does not know
BAD_BACKTEST = "LOY638"  # a backtest that cannot be measured (no weeks after the cut, an empty arm)
BAD_OPTION = "LOY740"  # a `loya offers` option value that cannot be used
NO_EXTRA = "LOY741"  # the `offers` extra (numpy, scipy) is not installed


class OffersError(LoyaError):
    """A failure of `loya offers` with its code, message and place."""


def need(name: str) -> ModuleType:
    """Import a module of the `offers` extra, or say which extra to install (LOY741)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise OffersError(NO_EXTRA, f"{name} is not installed: pip install 'loyadsl[offers]'") from None
