"""The server's coded errors (LOY8xx, docs/codes/) and their HTTP status.

A ``Problem`` becomes an ``application/problem+json`` answer (RFC 9457): ``type`` (the code's page),
``title`` (the code's title), ``status``, ``detail`` (what was wrong, where), ``code``, and, when the
runtime refused the input, ``cause`` (the runtime's own code, e.g. LOY501). Nothing else is said:
no stack, no SQL, no path on the server.
"""

from __future__ import annotations

from loyadsl.runtime.codes import title
from loyadsl.runtime.errors import LoyaError

NOT_JSON = "LOY800"
BAD_REQUEST = "LOY801"
TOO_LARGE = "LOY802"
NO_KEY = "LOY803"
FORBIDDEN = "LOY804"
UNKNOWN_CUSTOMER = "LOY805"
CONFLICT = "LOY806"
REFUSED = "LOY807"
UNKNOWN_RECEIPT = "LOY808"
CHANGED = "LOY809"
CLOSED = "LOY810"
BAD_BUNDLE = "LOY811"
# LOY812 (a database that cannot be used) and LOY813 (unavailable, 503) live in store.py
CUSTOMER_EXISTS = "LOY814"
REJECTED_ITEM = "LOY815"
NO_ROUTE = "LOY816"
NO_EXTRA = "LOY817"
INTERNAL = "LOY819"  # a bug in the server, answered without its inside (logged on the server)

STATUS = {NOT_JSON: 400, BAD_REQUEST: 422, TOO_LARGE: 413, NO_KEY: 401, FORBIDDEN: 403, UNKNOWN_CUSTOMER: 404,
          CONFLICT: 409, REFUSED: 422, UNKNOWN_RECEIPT: 404, CHANGED: 409, CLOSED: 409, BAD_BUNDLE: 422,
          "LOY812": 500, "LOY813": 503, CUSTOMER_EXISTS: 409, REJECTED_ITEM: 422, NO_ROUTE: 404, "LOY817": 500, "LOY818": 422, INTERNAL: 500}
DOCS = "https://github.com/loyadsl/loyadsl/blob/main/docs/codes/"


class Problem(LoyaError):
    """A request the server refuses; nothing of it was applied."""

    def __init__(self, code: str, message: str, where: str | None = None, cause: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(code, message, where)
        self.cause = cause
        self.status = status or STATUS[code]

    @classmethod
    def refused(cls, exc: LoyaError) -> Problem:
        """The runtime refused the input (a receipt, a customer, a return): its message, its code as cause."""
        return cls(REFUSED, exc.message, cause=exc.code)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"type": DOCS + self.code + ".md", "title": title(self.code), "status": self.status,
                                  "detail": self.message, "code": self.code}
        if self.cause is not None:
            out["cause"] = self.cause
        return out


def problem_of(exc: LoyaError) -> Problem:
    """Any coded error as a problem: a ``Problem`` as it is, a store's error with its status, the
    runtime's as refused input."""
    if isinstance(exc, Problem):
        return exc
    if exc.code in STATUS:
        return Problem(exc.code, exc.message)
    return Problem.refused(exc)
