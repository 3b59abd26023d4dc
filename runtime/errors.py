"""The one error model: every failure the toolchain or the runtime raises for a user to read is a
``LoyaError`` with a registered code (``runtime/codes.py``), a message and, where it helps, a place.

A till (or the CLI) reports any such failure without a traceback, and tells a bad bundle from a bad
receipt by ``code``. Anything else that escapes is a bug in loyadsl, and the CLI reports it as one.
"""

from __future__ import annotations


class LoyaError(Exception):
    """A failure the caller can report: ``code`` (see ``runtime/codes.py``), ``message`` and ``where``
    (a place in the offending input: a JSON path such as ``lines[3].qty``, ``file:line``, or None)."""

    code: str = "LOY500"

    def __init__(self, code: str, message: str, where: str | None = None) -> None:
        self.code = code
        self.where = where
        self.message = f"{where}: {message}" if where else message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class BundleError(LoyaError):
    """The bundle cannot be used: unreadable (LOY401), damaged (402), too new (403), malformed (404),
    unverifiable bytecode (405) or a bad signature (406)."""


class ReceiptError(LoyaError):
    """The receipt is malformed (LOY501, or a more precise LOY50x)."""

    def __init__(self, message: str, where: str | None = None, code: str = "LOY501") -> None:
        super().__init__(code, message, where)


class CustomerError(LoyaError):
    """The customer record is malformed (LOY502)."""

    def __init__(self, message: str, where: str | None = None, code: str = "LOY502") -> None:
        super().__init__(code, message, where)


class RefundError(LoyaError):
    """A return cannot be made: the stored outcome is malformed, or the return does not fit it (a line
    the receipt did not have, more than was sold and not yet returned, another customer) (LOY503)."""

    def __init__(self, message: str, where: str | None = None, code: str = "LOY503") -> None:
        super().__init__(code, message, where)


class StateError(LoyaError):
    """A change does not fit the customer state, or an action on the state is refused (LOY503)."""

    def __init__(self, message: str, where: str | None = None, code: str = "LOY503") -> None:
        super().__init__(code, message, where)
