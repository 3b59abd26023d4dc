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
STALE_MODEL = "LOY742"  # a model older than its max_age at the refresh or issue time
MODEL_AHEAD = "LOY743"  # a model fitted on or after the day it is used for
NEWER_SCORES = "LOY744"  # customer states hold scores of a newer model (a refresh would roll them back)
HISTORY_AFTER_MODEL = "LOY745"  # the history has purchases after the model's date (a warning)
THIN_HISTORY = "LOY746"  # too little history to rank a customer's next categories (a warning)
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
