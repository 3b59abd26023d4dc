"""The runtime's errors: one base class with a stable diagnostic code, so a till (or the CLI) can
report any failure without a traceback and tell a bad bundle from a bad receipt by ``code``."""

from __future__ import annotations


class LoyaRuntimeError(Exception):
    """A failure the caller can report: ``code`` (LOY4xx/LOY5xx), ``message`` and ``where`` (a path
    into the offending document, e.g. ``lines[3].qty``, or None)."""

    code: str = "LOY500"

    def __init__(self, code: str, message: str, where: str | None = None) -> None:
        self.code = code
        self.where = where
        self.message = f"{where}: {message}" if where else message
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class BundleError(LoyaRuntimeError):
    """The bundle cannot be used: unreadable (LOY401), damaged (402), too new (403), malformed (404),
    unverifiable bytecode (405) or a bad signature (406)."""


class ReceiptError(LoyaRuntimeError):
    """The receipt is malformed (LOY501)."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__("LOY501", message, where)


class CustomerError(LoyaRuntimeError):
    """The customer record is malformed (LOY502)."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__("LOY502", message, where)


class RefundError(LoyaRuntimeError):
    """A return cannot be made: the stored outcome is malformed, or the return does not fit it (a line
    the receipt did not have, more than was sold and not yet returned, another customer) (LOY503)."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__("LOY503", message, where)


class StateError(LoyaRuntimeError):
    """A change does not fit the customer state, or an action on the state is refused (LOY503)."""

    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__("LOY503", message, where)
