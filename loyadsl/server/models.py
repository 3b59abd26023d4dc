"""Request and response shapes of the HTTP protocol (docs/server.md), as pydantic models.

The server checks each request body against its model (a missing field, a wrong type: LOY801 with the
JSON path), then hands the body as it came to the runtime, which checks a receipt or a customer in
depth (LOY807 with the runtime's code as ``cause``). ``openapi.py`` makes the OpenAPI document from
these models. Receipts and customer states keep their documented JSON (docs/bundle.md, docs/state.md):
the models name their main fields and let the rest through.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from loyadsl.runtime.limits import MAX_BUNDLE_BYTES, MAX_CUSTOMER_BYTES, MAX_RECEIPT_BYTES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class ReceiptLine(_Open):
    line_no: int
    sku: str
    qty: int | float | str
    unit_price: int
    amount: int


class Redeem(_Strict):
    points: int | Literal["max"]


class PresentedCertificate(_Strict):
    code: str
    amount: int | None = None


class ReceiptIn(_Open):
    """A receipt (docs/bundle.md, "Receipt"; docs/state.md, section 4): the body of calculate and confirm."""

    receipt_id: str
    store_id: str
    datetime: str
    customer_id: str | None = None
    currency: str | None = None
    lines: list[ReceiptLine]
    coupons: list[str] | None = None
    redeem: Redeem | None = None
    certificates: list[PresentedCertificate] | None = None


class CancelIn(_Strict):
    receipt_id: str
    store_id: str | None = None


class ReturnLine(_Strict):
    line_no: int
    qty: int | float | str


class ReturnIn(_Strict):
    """A return of a confirmed receipt: ``lines`` the quantities returned (absent: all not yet returned)."""

    return_id: str
    receipt_id: str
    datetime: str
    store_id: str | None = None
    lines: list[ReturnLine] | None = None


class CustomerIn(_Open):
    """A customer state (docs/state.md, section 3); ``id`` is required, the rest defaults to empty."""

    id: str


class CustomersIn(_Strict):
    customers: list[CustomerIn]


class Hold(_Strict):
    points: int = Field(description="points held for this receipt until confirm, cancel or `expires`")
    expires: str


class ReceiptOut(_Strict):
    receipt_id: str
    status: Literal["calculated", "confirmed"]
    outcome: dict[str, Any] = Field(description="the engine's Outcome (docs/state.md, section 5)")
    balances: dict[str, Any] | None = Field(description="per account; the shared account's under `shared`")
    hold: Hold | None
    bundle: int = Field(description="the bundle version that evaluated the receipt")
    scheduled: list[dict[str, Any]] | None = Field(None, description="confirm, with trigger chains: the actions "
                                                   "they scheduled (docs/triggers.md, docs/server.md)")


class OfflineIn(_Strict):
    """Receipts a till evaluated offline (no `redeem`): booked in time order, each with the bundle
    version in force at its time, idempotent by receipt id."""

    receipts: list[ReceiptIn]


class OfflineResult(_Strict):
    receipt_id: str
    status: Literal["confirmed", "refused"]
    bundle: int | None = None
    outcome: dict[str, Any] | None = None
    code: str | None = Field(None, description="why it was refused (LOY8xx)")
    cause: str | None = None
    detail: str | None = None


class OfflineOut(_Strict):
    results: list[OfflineResult]


class CancelOut(_Strict):
    receipt_id: str
    status: Literal["cancelled"]
    released: int = Field(description="points the cancel released")


class ReturnOut(_Strict):
    return_id: str
    receipt_id: str
    status: Literal["returned"]
    refund: dict[str, Any] = Field(description="Engine.refund's Refund (docs/state.md, section 7)")
    balances: dict[str, Any] | None = Field(description="the customer's, per account (null: an anonymous receipt)")


class CustomerOut(_Strict):
    customer: dict[str, Any] = Field(description="the customer state in canonical form (docs/state.md)")
    balances: dict[str, Any]
    held: int = Field(description="points held by open calculations")


class ImportOut(_Strict):
    imported: int


class BundleOut(_Strict):
    version: int
    sha256: str
    valid_from: str
    key_id: str | None = None


class BundlesOut(_Strict):
    bundles: list[BundleOut]


class HealthOut(_Strict):
    status: Literal["ok"]
    bundle: int
    schema_version: int


class ProblemOut(_Strict):
    """An error (RFC 9457 problem details): nothing of the request was applied."""

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="LOY8xx (docs/codes/)")
    cause: str | None = Field(None, description="the runtime's code when it refused the input (e.g. LOY501)")


# --- trigger chains (loyadsl/server/chains.py, docs/server.md "Trigger chains")
class ScheduledOut(_Strict):
    scheduled: list[dict[str, Any]] = Field(description="due actions, oldest first, each with its `id` "
                                                        "(docs/triggers.md, \"Run time\")")
    more: bool = Field(description="the list was cut: ask again with `after` = the last id")


class DoneIn(_Strict):
    ids: list[int] = Field(max_length=1000, description="the ids of delivered actions, to forget")


class DoneOut(_Strict):
    done: int


class TickIn(_Strict):
    now: str = Field(description="ISO 8601 with a UTC offset: the tick's moment")


class TickOut(_Strict):
    customers: int
    changed: int
    scheduled: int


class Endpoint(NamedTuple):
    """One endpoint of the protocol: the app routes by it and the OpenAPI document describes it."""

    method: str
    path: str
    name: str
    scope: str | None  # "till", "admin", "any" (either key) or None (no key)
    body: type[BaseModel] | str | None  # a model, "bundle" (the bundle's bytes) or None
    answer: type[BaseModel] | str  # a model, "bundle" or "text" (Prometheus)
    status: int
    limit: int  # the largest body accepted, in bytes
    summary: str


KIB = 1 << 10
ENDPOINTS = (
    Endpoint("POST", "/v1/calculate", "calculate", "till", ReceiptIn, ReceiptOut, 200, MAX_RECEIPT_BYTES,
             "Evaluate a receipt; books nothing, holds the points it would pay with"),
    Endpoint("POST", "/v1/confirm", "confirm", "till", ReceiptIn, ReceiptOut, 200, MAX_RECEIPT_BYTES,
             "Book a receipt exactly once (the receipt id is the idempotency key)"),
    Endpoint("POST", "/v1/offline", "offline", "till", OfflineIn, OfflineOut, 200, 64 * 1024 * KIB,
             "Book receipts a till evaluated offline, each with the bundle version in force at its time"),
    Endpoint("POST", "/v1/cancel", "cancel", "till", CancelIn, CancelOut, 200, 64 * KIB,
             "Cancel a calculated receipt, releasing the points it held"),
    Endpoint("POST", "/v1/returns", "returns", "till", ReturnIn, ReturnOut, 200, 1024 * KIB,
             "Return a confirmed receipt in full or in part (the return id is the idempotency key)"),
    Endpoint("GET", "/v1/customers/{customer_id}", "customer", "any", None, CustomerOut, 200, 0,
             "A customer's state: balances, lots and when they burn, tier, counters, coupons, certificates"),
    Endpoint("POST", "/v1/customers", "create_customer", "admin", CustomerIn, CustomerOut, 201, MAX_CUSTOMER_BYTES,
             "Create a customer"),
    Endpoint("POST", "/v1/customers/import", "import_customers", "admin", CustomersIn, ImportOut, 200,
             64 * 1024 * KIB, "Create or replace customers, all or none"),
    Endpoint("POST", "/v1/bundles", "upload_bundle", "admin", "bundle", BundleOut, 201, MAX_BUNDLE_BYTES,
             "Upload a signed bundle: verified, then in force for every request that starts after"),
    Endpoint("GET", "/v1/bundles", "bundles", "admin", None, BundlesOut, 200, 0, "The bundle versions, oldest first"),
    Endpoint("GET", "/v1/bundles/current", "current_bundle", "any", None, "bundle", 200, 0,
             "The bundle in force, for tills that evaluate offline"),
    Endpoint("GET", "/v1/health", "health", None, None, HealthOut, 200, 0, "Whether the server and its database work"),
    Endpoint("GET", "/v1/metrics", "metrics", None, None, "text", 200, 0, "Prometheus metrics"),
    Endpoint("GET", "/v1/scheduled", "scheduled", "admin", None, ScheduledOut, 200, 0,
             "The trigger chains' actions due before `due_before` (ISO 8601), oldest first"),
    Endpoint("POST", "/v1/scheduled/done", "scheduled_done", "admin", DoneIn, DoneOut, 200, 64 * KIB,
             "Forget delivered actions by id"),
    Endpoint("POST", "/v1/tick", "tick", "admin", TickIn, TickOut, 200, KIB,
             "Tick every customer at `now`: time events, segment changes, birthdays, chain steps due"),
)
