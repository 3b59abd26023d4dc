"""The loyadsl POS runtime: load a bundle, verify it, compile it once, evaluate receipts exactly.

Depends on the standard library and pydantic only (``cryptography`` when signatures are made or
checked); never on the compiler. Importable as ``loyadsl.runtime``.
"""

from __future__ import annotations

from .bundle import Bundle, canonical_json, key_id, load_bundle, pack_bundle, public_key
from .codecache import CodeCache, DirectoryCache
from .engine import Engine
from .errors import BundleError, CustomerError, LoyaError, ReceiptError, RefundError, StateError
from .ledger import Refund
from .model import Effect, Line, LineOutcome, Outcome, Receipt, Rejection
from .money import allocate, div_round
from .state import Customer
from .verify import verify

__all__ = [
    "Bundle",
    "BundleError",
    "CodeCache",
    "Customer",
    "CustomerError",
    "DirectoryCache",
    "Effect",
    "Engine",
    "Line",
    "LineOutcome",
    "LoyaError",
    "Outcome",
    "Receipt",
    "ReceiptError",
    "Refund",
    "RefundError",
    "Rejection",
    "StateError",
    "allocate",
    "canonical_json",
    "div_round",
    "key_id",
    "load_bundle",
    "pack_bundle",
    "public_key",
    "verify",
]
