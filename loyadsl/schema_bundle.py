"""The bundle's payload contract (docs/bundle.md, issue 16 item 2): ``loya schema bundle`` prints the
JSON Schema of the loader's own model (``runtime/bundle_model.py``), and ``loya schema bundle --check``
validates with it, so the schema a POS team reads in another language and the check a till makes are
one thing: a payload the schema refuses is one the loader refuses.

What a structure cannot say — an index within the bundle's predicates or groups, a name declared
twice, a sorted set, the bytecode's typing — the loader checks after the model (LOY404 and LOY405),
and docs/bundle.md describes.
"""

from __future__ import annotations

from typing import Any

import msgspec

from loyadsl.runtime.bundle_model import BundlePayload, Mismatch, validate

__all__ = ["BundlePayload", "problems", "schema"]


def schema() -> dict[str, Any]:
    """The payload's JSON Schema (its definitions under ``$defs``, the payload at ``$ref``)."""
    body: dict[str, Any] = msgspec.json.schema(BundlePayload)
    return body


def problems(document: Any) -> list[str]:
    """The first place where ``document`` is not a bundle payload, as ``path: message`` (none if it is)."""
    try:
        validate(document, BundlePayload)
    except Mismatch as exc:
        return [f"{exc.path or '(the document)'}: {exc.message}"]
    return []
