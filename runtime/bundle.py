"""The bundle file (docs/bundle.md): writing it, and loading it into typed, validated structures
(``bundle_types``, re-exported here).

A loader trusts nothing: it checks, in the documented order, the magic (LOY401), the envelope and
format version (LOY403), the digest (LOY402), the signature (LOY406), the payload structure (LOY404,
naming the JSON path of the first problem) and finally the bytecode (LOY405, ``verify``).
Ed25519 comes from ``cryptography``, imported only when a signature is made or checked.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from .bundle_types import (  # the model, re-exported here: its public path is loyadsl.runtime.bundle
    AudienceSummary,
    Bundle,
    Campaign,
    Code,
    ComboSpec,
    Constant,
    Footprint,
    FraudLimits,
    Group,
    Instr,
    Limits,
    Manifest,
    Partner,
    People,
    SetFilter,
    Settings,
    Span,
)
from .commerce import BASES as TAX_BASES
from .commerce import KINDS, MAX_RATE, PRICES, Commerce
from .declarations import (
    NEVER,
    NO_CAMPAIGN_STATE,
    PERIODS,
    RESETS,
    SHORTFALL_POLICIES,
    SPEND_ORDERS,
    Account,
    Budget,
    CampaignState,
    CatalogueReward,
    CertificateSeries,
    Counter,
    CouponSeries,
    Earn,
    Expiry,
    Level,
    Redemption,
    RedemptionLimit,
    Referral,
    StateDecls,
    TierPeriod,
    Tiers,
    UsageLimit,
)
from .errors import BundleError
from .experiments import BUCKETS, Arm, ArmGate, Experiment
from .limits import (
    MAX_BUNDLE_BYTES,
    MAX_CAMPAIGNS,
    MAX_DATE,
    MAX_DURATION_DAYS,
    MAX_INT_DIGITS,
    MAX_JSON_DEPTH,
    MAX_VALUE,
    MIN_DATE,
)
from .money import ALLOCATION_MODES
from .opcodes import COMBO_REWARDS, ROUNDING_MODES, Op
from .segments.decls import from_json as segment_decls
from .triggers.spec import read_messages, read_triggers
from .verify import verify

MAGIC = b"LOYAB\n"
FORMAT_VERSION = 3  # 3: experiments (docs/experiments.md); 2: customer state (docs/state.md), still read
# A programme without experiments is written as format 2, byte for byte what it was before them, so a
# runtime that reads format 2 keeps running it; one with experiments needs format 3 (and refuses to run
# ungated on an older runtime, LOY403).
WITHOUT_EXPERIMENTS_VERSION = 2

STACKING_MODES = ("stack_all", "stack_up_to", "first_by_priority", "best_for_customer", "lowest_discount")
BASES = ("original", "discounted")
ORDERS = ("priority", "declared")  # a group's application order (docs/order.md)
EXCLUSIVE = ("receipt", "lines")  # a campaign's exclusivity
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_SIG = re.compile(r"[0-9a-f]{128}")
_ABSENT = object()
_OPS = {op.value: op for op in Op}  # mnemonic -> Op, for the loader
FIRST_DAY, LAST_DAY = MIN_DATE.toordinal(), MAX_DATE.toordinal()  # dates are proleptic ordinals
LONGEST = MAX_DURATION_DAYS * 86_400  # a duration in seconds: date arithmetic stays within datetime's range

# ------------------------------------------------------------------------------------ writing


def canonical_json(obj: Any) -> bytes:
    """UTF-8, sorted keys, no white space, integers only: the same value always gives the same bytes."""
    _no_floats(obj)
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def key_id(public_key: bytes) -> str:
    """The id a signature names its key by: the first 16 hex digits of sha256(raw public key)."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def public_key(signing_key: bytes) -> bytes:
    """The raw Ed25519 public key of a raw private key."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    try:
        private = Ed25519PrivateKey.from_private_bytes(signing_key)
    except (ValueError, TypeError):
        raise BundleError("LOY406", "the signing key is not a raw 32-byte Ed25519 private key") from None
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def pack_bundle(payload: dict[str, Any], signing_key: bytes | None = None) -> bytes:
    """The bundle file for ``payload``, signed with the raw Ed25519 private key if one is given."""
    body = canonical_json(payload)
    signature = None
    if signing_key is not None:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        signature = {
            "alg": "ed25519",
            "key_id": key_id(public_key(signing_key)),
            "sig": Ed25519PrivateKey.from_private_bytes(signing_key).sign(body).hex(),
        }
    manifest = payload.get("manifest") if isinstance(payload, dict) else None  # (tests pack damaged payloads too)
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    envelope = {"digest": "sha256:" + hashlib.sha256(body).hexdigest(),
                "format_version": version if type(version) is int else FORMAT_VERSION, "signature": signature}
    return MAGIC + canonical_json(envelope) + b"\n" + body


# ------------------------------------------------------------------------------------ loading


def load_bundle(data: bytes, trusted_keys: list[bytes] | None = None, require_signature: bool = False) -> Bundle:
    """Check and parse a bundle file; every problem raises ``BundleError`` with its LOY4xx code."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise BundleError("LOY401", f"a bundle is bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleError("LOY409", f"the bundle is {len(data):,} bytes long (at most {MAX_BUNDLE_BYTES:,})")
    if not data.startswith(MAGIC):
        raise BundleError("LOY401", "not a loyadsl bundle (it does not start with LOYAB)")
    end = data.find(b"\n", len(MAGIC))
    if end < 0:
        raise BundleError("LOY401", "truncated bundle: the envelope line is incomplete")
    envelope = _envelope(data[len(MAGIC) : end])
    body = data[end + 1 :]
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if digest != envelope["digest"]:
        raise BundleError("LOY402", "integrity digest mismatch: the bundle was changed or truncated after it was written")
    signature = envelope["signature"]
    verified = _check_signature(body, signature, trusted_keys, require_signature)
    payload = _payload(body)
    bundle = replace(_bundle(payload, envelope["format_version"]), digest=digest, signed=signature is not None,
                     key_id=signature["key_id"] if signature else None, signature_verified=verified)
    verify(bundle)
    return replace(bundle, bytecode_verified=True)


def _envelope(raw: bytes) -> dict[str, Any]:
    try:
        envelope = json.loads(raw.decode("utf-8"), parse_float=_Float, parse_constant=_Float,
                              object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError, _DuplicateKey):
        raise BundleError("LOY402", "the bundle envelope is damaged (not valid JSON)") from None
    if not isinstance(envelope, dict):
        raise BundleError("LOY402", "the bundle envelope is damaged (not a JSON object)")
    version = envelope.get("format_version")
    if type(version) is not int:
        raise BundleError("LOY402", "the bundle envelope is damaged (no integer format_version)")
    if version > FORMAT_VERSION:
        raise BundleError("LOY403", f"bundle format {version} is newer than this runtime's {FORMAT_VERSION}; "
                                    "upgrade the runtime")
    if version == 1:  # (2 is read: it predates experiments, which are optional)
        raise BundleError("LOY403", f"bundle format 1 is older than this runtime's {FORMAT_VERSION} (it has no customer "
                                    "state section); recompile the programme with `loya compile`")
    if version < 1:
        raise BundleError("LOY403", f"bundle format {version} is not supported (this runtime reads {FORMAT_VERSION})")
    digest = envelope.get("digest")
    if not isinstance(digest, str) or not _DIGEST.match(digest):
        raise BundleError("LOY402", "the bundle envelope is damaged (bad digest field)")
    signature = envelope.get("signature", _ABSENT)  # a missing field is damage, null is "unsigned"
    if signature is not None and not (
        isinstance(signature, dict)
        and all(isinstance(signature.get(k), str) for k in ("alg", "key_id", "sig"))
    ):
        raise BundleError("LOY402", "the bundle envelope is damaged (bad signature field)")
    return envelope


def _check_signature(
    body: bytes, signature: dict[str, str] | None, trusted_keys: list[bytes] | None, require: bool
) -> bool:
    """Whether the signature was verified against a trusted key. Trusting keys implies requiring a
    signature; a signature is always well formed Ed25519 (another algorithm, ``"none"`` included, is
    refused even when no keys are given); without keys a signature is only present, not verified."""
    keys = list(trusted_keys or ())
    for i, key in enumerate(keys):
        if not isinstance(key, bytes) or len(key) != 32:
            raise BundleError("LOY406", f"trusted_keys[{i}] is not a raw 32-byte Ed25519 public key")
    if signature is not None:
        _signature_form(signature)
    if signature is None:
        if require or keys:
            raise BundleError("LOY406", "the bundle is not signed, and a signature is required"
                              + (" (trusted keys were given)" if keys else ""))
        return False
    if not keys:
        if require:
            raise BundleError("LOY406", "a signature is required but no trusted keys were given to check it")
        return False
    trusted = {key_id(key): key for key in keys}.get(signature["key_id"])
    if trusted is None:
        raise BundleError("LOY406", f"signed by key {signature['key_id']!r}, which is not among the trusted keys")
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:  # pragma: no cover - depends on the installation
        raise BundleError("LOY406", "checking signatures needs the `cryptography` package") from None
    try:
        Ed25519PublicKey.from_public_bytes(trusted).verify(bytes.fromhex(signature["sig"]), body)
    except (InvalidSignature, ValueError):
        raise BundleError("LOY406", "the signature does not match the bundle") from None
    return True


def _signature_form(signature: dict[str, str]) -> None:
    if signature["alg"] != "ed25519":
        raise BundleError("LOY406", f"unsupported signature algorithm {signature['alg'][:20]!r}: only ed25519 is accepted")
    if not _KEY_ID.fullmatch(signature["key_id"]):
        raise BundleError("LOY406", "the signature's key_id is not 16 lowercase hex digits")
    if not _SIG.fullmatch(signature["sig"]):
        raise BundleError("LOY406", "the signature is not 128 hex digits (an Ed25519 signature is 64 bytes)")


class _Float:
    """A JSON float or NaN/Infinity as parsed: kept only to report where it was (bundles have none)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Digits(_Float):
    """A JSON integer with more than ``MAX_INT_DIGITS`` digits, kept as text: never converted."""

    __slots__ = ()


def _parse_int(text: str) -> int | _Digits:
    return int(text) if len(text) <= MAX_INT_DIGITS else _Digits(text)  # a sign counts as a digit: stricter


class _DuplicateKey(Exception):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):  # name the first key repeated, in one pass
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def _payload(body: bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BundleError("LOY404", f"the payload is not UTF-8 (byte {exc.start})") from None
    try:
        payload = json.loads(text, parse_float=_Float, parse_constant=_Float, parse_int=_parse_int,
                             object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise BundleError("LOY404", f"the payload repeats the key {exc.args[0]!r} in one object") from None
    except json.JSONDecodeError as exc:
        raise BundleError("LOY404", f"the payload is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") \
            from None
    except RecursionError:
        raise BundleError("LOY409", f"the payload nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise BundleError("LOY404", f"the payload cannot be read: {type(exc).__name__}") from None
    if not isinstance(payload, dict):
        _fail("", f"the payload must be a JSON object, got {_kind(payload)}")
    _check_values(payload)
    return payload


def _check_values(root: Any) -> None:
    """One walk over the whole payload (iteratively: depth is attacker-controlled): it nests at most
    ``MAX_JSON_DEPTH`` deep (LOY409) and holds no float (LOY404) and no integer beyond ``MAX_VALUE``
    (LOY408), so no later step meets a huge number. Paths are built only for the message."""
    stack: list[tuple[Any, tuple[Any, ...] | None, int]] = [(root, None, 1)]
    low, high = -MAX_VALUE, MAX_VALUE
    while stack:
        value, trail, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise BundleError("LOY409", f"the payload nests deeper than {MAX_JSON_DEPTH} levels", _path(trail))
        for key, item in value.items() if type(value) is dict else enumerate(value):
            kind = type(item)
            if kind is list and depth < MAX_JSON_DEPTH and _plain(item, low, high):
                continue  # most lists (instructions, names) hold plain scalars: checked without a visit
            if kind is str:
                continue
            if kind is int:
                if not low <= item <= high:
                    raise BundleError("LOY408", f"{item} is out of range: integers in a bundle lie within "
                                                f"±{MAX_VALUE:,}", _path((trail, key)))
            elif kind is dict or kind is list:
                stack.append((item, (trail, key), depth + 1))
            elif kind is _Digits:
                raise BundleError("LOY408", f"an integer of {len(item.text.lstrip('-'))} digits (at most "
                                            f"{MAX_INT_DIGITS})", _path((trail, key)))
            elif kind is _Float:
                _fail(_path((trail, key)), f"floats are not allowed in a bundle (got {item.text[:40]}); money, "
                                           "percentages and quantities are integers")


def _plain(items: list[Any], low: int, high: int) -> bool:
    """Whether a list holds only strings, booleans, nulls and integers within [low, high]."""
    for x in items:
        kind = type(x)
        if not (kind is str or (kind is int and low <= x <= high) or x is None or kind is bool):
            return False
    return True


def _path(trail: tuple[Any, ...] | None) -> str:
    """``(((None, "a"), 0), "b")`` -> ``a[0].b``."""
    keys: list[Any] = []
    while trail is not None:
        trail, key = trail
        keys.append(key)
    path = ""
    for key in reversed(keys):
        path = f"{path}[{key}]" if isinstance(key, int) else _at(path, key)
    return path


def _no_floats(root: Any) -> None:
    """What ``canonical_json`` writes: no float anywhere (a bundle is integers only)."""
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, _at(path, str(k))) for k, v in value.items())
        elif isinstance(value, list | tuple):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, float):
            _fail(path, f"floats are not allowed in a bundle (got {value!r}); money, percentages and "
                        "quantities are integers")


# -------------------------------------------------------------------------------- structure (LOY404)


def _fail(path: str, message: str) -> NoReturn:
    raise BundleError("LOY404", message, path or None)


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if isinstance(value, _Float):
        return "number"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _field(obj: dict[str, Any], key: str, path: str) -> Any:
    if key not in obj:
        _fail(_at(path, key), "required field is missing")
    return obj[key]


def _obj(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(path, f"expected object, got {_kind(value)}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        _fail(path, f"expected array, got {_kind(value)}")
    return value


def _int(value: Any, path: str, minimum: int | None = None, maximum: int | None = None) -> int:
    if type(value) is not int:
        _fail(path, f"expected int, got {_kind(value)}")
    if minimum is not None and value < minimum:
        _fail(path, f"must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        _fail(path, f"must be <= {maximum}, got {value}")
    return value


def _index(value: Any, path: str, count: int, what: str) -> int:
    if _int(value, path) not in range(count):
        _fail(path, f"index {value} out of range (the bundle has {count} {what})")
    return value


def _opt_int(value: Any, path: str, minimum: int | None = None) -> int | None:
    return None if value is None else _int(value, path, minimum)


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        _fail(path, f"expected string, got {_kind(value)}")
    return value


def _opt_str(value: Any, path: str) -> str | None:
    return None if value is None else _str(value, path)


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        _fail(path, f"expected bool, got {_kind(value)}")
    return value


def _choice(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices or not isinstance(value, str):
        _fail(path, f"expected one of {', '.join(choices)}, got {json.dumps(value, ensure_ascii=False)[:40]}")
    return value


def _strings(value: Any, path: str) -> tuple[str, ...]:
    return tuple(_str(item, f"{path}[{i}]") for i, item in enumerate(_list(value, path)))


def _bundle(p: dict[str, Any], envelope_version: int) -> Bundle:
    manifest = _manifest(_obj(_field(p, "manifest", ""), "manifest"), envelope_version)
    settings = _settings(_obj(_field(p, "settings", ""), "settings"))
    predicates = tuple(_code(c, f"predicates[{i}]") for i, c in enumerate(_list(_field(p, "predicates", ""),
                                                                                  "predicates")))
    constants = tuple(_constant(c, f"constants[{i}]", len(predicates))
                      for i, c in enumerate(_list(_field(p, "constants", ""), "constants")))
    groups = tuple(_group(g, f"groups[{i}]") for i, g in enumerate(_list(_field(p, "groups", ""), "groups")))
    _unique_names(groups, "groups")
    state = _state(_obj(_field(p, "state", ""), "state"), len(predicates))
    experiments = _experiments(p.get("experiments", []))
    raw_campaigns = _list(_field(p, "campaigns", ""), "campaigns")
    if len(raw_campaigns) > MAX_CAMPAIGNS:
        raise BundleError("LOY409", f"{len(raw_campaigns):,} campaigns (at most {MAX_CAMPAIGNS:,})", "campaigns")
    campaigns = tuple(_campaign(c, f"campaigns[{i}]", i, len(groups), state, experiments)
                      for i, c in enumerate(raw_campaigns))
    _unique_names(campaigns, "campaigns")
    sku_index = _sku_index(_obj(_field(p, "sku_index", ""), "sku_index"), campaigns)
    cost = _obj(_field(p, "cost", ""), "cost")
    return Bundle(
        manifest=manifest,
        settings=settings,
        constants=constants,
        predicates=predicates,
        groups=groups,
        campaigns=campaigns,
        sku_index=sku_index,
        cost_fixed=_int(_field(cost, "fixed", "cost"), "cost.fixed", 0),
        cost_per_line=_int(_field(cost, "per_line", "cost"), "cost.per_line", 0),
        state=state,
        experiments=experiments,
        triggers=read_triggers(p.get("triggers")),
        messages=read_messages(p.get("messages"), {c.name for c in campaigns}),
    )


def _manifest(m: dict[str, Any], envelope_version: int) -> Manifest:
    version = _int(_field(m, "format_version", "manifest"), "manifest.format_version")
    if version != envelope_version:  # the envelope's number is outside the digest: it was damaged
        raise BundleError("LOY402", f"the bundle envelope is damaged: format_version {envelope_version}, the "
                                    f"manifest's {version}", "manifest.format_version")
    programme = _obj(_field(m, "programme", "manifest"), "manifest.programme")
    sources = []
    for i, s in enumerate(_list(_field(m, "sources", "manifest"), "manifest.sources")):
        path = f"manifest.sources[{i}]"
        s = _obj(s, path)
        sources.append((_str(_field(s, "path", path), f"{path}.path"), _str(_field(s, "sha256", path), f"{path}.sha256")))
    return Manifest(
        format_version=version,
        compiler_version=_str(_field(m, "compiler_version", "manifest"), "manifest.compiler_version"),
        programme_name=_str(_field(programme, "name", "manifest.programme"), "manifest.programme.name"),
        programme_version=_opt_str(programme.get("version"), "manifest.programme.version"),
        source_hash=_str(_field(m, "source_hash", "manifest"), "manifest.source_hash"),
        sources=tuple(sources),
    )


def _settings(s: dict[str, Any]) -> Settings:
    def get(key: str) -> Any:
        return _field(s, key, "settings")

    timezone = _str(get("timezone"), "settings.timezone")
    try:
        ZoneInfo(timezone)
    except Exception:  # ZoneInfoNotFoundError, ValueError for odd keys, OSError for odd files
        _fail("settings.timezone", f"unknown time zone {timezone!r}")
    rounding = _obj(get("rounding"), "settings.rounding")
    return Settings(
        currency=_str(get("currency"), "settings.currency"),
        minor=_int(get("minor"), "settings.minor", 0, 18),
        points_minor=_int(get("points_minor"), "settings.points_minor", 0, 18),
        point_value=_int(get("point_value"), "settings.point_value", 1),
        timezone=timezone,
        rounding_discount=_choice(_field(rounding, "discount", "settings.rounding"), "settings.rounding.discount",
                                  ROUNDING_MODES),
        rounding_points=_choice(_field(rounding, "points", "settings.rounding"), "settings.rounding.points",
                                ROUNDING_MODES),
        allocation=_choice(get("allocation"), "settings.allocation", ALLOCATION_MODES),
        commerce=None if s.get("commerce") is None else _commerce(_obj(s["commerce"], "settings.commerce")),
        fraud=_fraud(s.get("fraud")),
        people=_people(s.get("people")),
    )


def _commerce(c: dict[str, Any]) -> Commerce:
    """``settings.commerce`` (docs/commerce.md): present only when the programme declares tax or totals."""
    path = "settings.commerce"
    basis = c.get("basis")
    totals = _list(_field(c, "totals", path), f"{path}.totals")
    for i, kind in enumerate(totals):
        _choice(kind, f"{path}.totals[{i}]", KINDS)
    taxed = _field(c, "taxed", path)
    if type(taxed) is not bool:
        _fail(f"{path}.taxed", "expected true or false")
    return Commerce(prices=_choice(_field(c, "prices", path), f"{path}.prices", PRICES),
                    basis=None if basis is None else _choice(basis, f"{path}.basis", TAX_BASES),
                    rate=_int(_field(c, "rate", path), f"{path}.rate", 0, MAX_RATE),
                    rounding=_choice(_field(c, "rounding", path), f"{path}.rounding", ROUNDING_MODES),
                    totals=tuple(totals), taxed=taxed)


def _people(value: Any) -> People | None:
    """The optional ``settings.people``: ``{"staff": ["segment" | "attr", text] | null, "partners":
    [{"name", "rate" (ppm, 1..10^6), "price" (>= 0)}]}`` (docs/limits-fraud.md)."""
    if value is None:
        return None
    p = _obj(value, "settings.people")
    raw = _field(p, "staff", "settings.people")
    staff = None
    if raw is not None:
        pair = _list(raw, "settings.people.staff")
        if len(pair) != 2:
            _fail("settings.people.staff", "expected [segment | attr, text]")
        staff = (_choice(pair[0], "settings.people.staff[0]", ("segment", "attr")),
                 _str(pair[1], "settings.people.staff[1]"))
    partners = []
    for i, raw_partner in enumerate(_list(_field(p, "partners", "settings.people"), "settings.people.partners")):
        where = f"settings.people.partners[{i}]"
        d = _obj(raw_partner, where)
        partners.append(Partner(_str(_field(d, "name", where), f"{where}.name"),
                                _int(_field(d, "rate", where), f"{where}.rate", 1, 10**6),
                                _int(_field(d, "price", where), f"{where}.price", 0)))
    if len({x.name for x in partners}) != len(partners):
        _fail("settings.people.partners", "a partner appears twice")
    return People(staff, tuple(partners))


def _fraud(value: Any) -> FraudLimits | None:
    """The optional ``settings.fraud``: ``{"points": [[period, most]], "receipts": [[period, most]],
    "velocity": [count, seconds] | null}`` (docs/limits-fraud.md)."""
    if value is None:
        return None
    f = _obj(value, "settings.fraud")
    points = _fraud_rows(_field(f, "points", "settings.fraud"), "settings.fraud.points", ("receipt", *PERIODS))
    receipts = _fraud_rows(_field(f, "receipts", "settings.fraud"), "settings.fraud.receipts", PERIODS)
    raw = _field(f, "velocity", "settings.fraud")
    velocity = None if raw is None else _pair(raw, "settings.fraud.velocity")
    return FraudLimits(points, receipts, None if velocity is None else (int(velocity[0]), velocity[1]))


def _fraud_rows(value: Any, path: str, periods: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    rows = tuple(_pair(row, f"{path}[{i}]", periods) for i, row in enumerate(_list(value, path)))
    if len({period for period, _ in rows}) != len(rows):
        _fail(path, "a period appears twice")
    return tuple((str(period), most) for period, most in rows)


def _pair(value: Any, path: str, periods: tuple[str, ...] | None = None) -> tuple[str | int, int]:
    """``[period, most]`` (or ``[count, seconds]`` without ``periods``), each number at least 1."""
    pair = _list(value, path)
    if len(pair) != 2:
        _fail(path, "expected two items")
    first = _int(pair[0], f"{path}[0]", 1) if periods is None else _choice(pair[0], f"{path}[0]", periods)
    return first, _int(pair[1], f"{path}[1]", 1)


def _code(value: Any, path: str) -> Code:
    """A code block's shape (arrays of [OP] or [OP, operand]), each mnemonic made its ``Op`` here, once;
    what the ops mean is ``verify``'s job, which also refuses a mnemonic that is no ``Op`` (left a
    string here, so the refusal names the block and instruction, LOY405, after the structure's checks)."""
    code: list[Instr] = []
    for i, instr in enumerate(_list(value, path)):
        where = f"{path}[{i}]"
        instr = _list(instr, where)
        if not 1 <= len(instr) <= 2:
            _fail(where, f"an instruction is [OP] or [OP, operand], got {len(instr)} items")
        name = _str(instr[0], f"{where}[0]")
        code.append((_OPS.get(name, name), *instr[1:]))
    return tuple(code)



def _opt_code(value: Any, path: str) -> Code | None:
    return None if value is None else _code(value, path)


def _constant(value: Any, path: str, n_predicates: int) -> Constant:
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, dict) and len(value) == 1 and "set" in value:
        items = _strings(value["set"], f"{path}.set")
        if list(items) != sorted(set(items)):
            _fail(f"{path}.set", "expected sorted, unique strings")
        return frozenset(items)
    if isinstance(value, dict) and len(value) == 1 and "combo" in value:
        spec = _obj(value["combo"], f"{path}.combo")
        parts = []
        for i, part in enumerate(_list(_field(spec, "parts", f"{path}.combo"), f"{path}.combo.parts")):
            where = f"{path}.combo.parts[{i}]"
            part = _list(part, where)
            if len(part) != 2:
                _fail(where, f"a combo part is [predicate, need], got {len(part)} items")
            parts.append((_index(part[0], f"{where}[0]", n_predicates, "predicates"), _int(part[1], f"{where}[1]", 1)))
        if not parts:
            _fail(f"{path}.combo.parts", "a combo needs at least one part")
        reward = _choice(_field(spec, "reward", f"{path}.combo"), f"{path}.combo.reward", COMBO_REWARDS)
        part_index = _opt_int(_field(spec, "part", f"{path}.combo"), f"{path}.combo.part", 0)
        if part_index is not None and part_index >= len(parts):
            _fail(f"{path}.combo.part", f"no part {part_index} (the combo has {len(parts)})")
        if reward == "percent_on_part" and part_index is None:
            _fail(f"{path}.combo.part", "percent_on_part needs the index of the discounted part")
        return ComboSpec(tuple(parts), reward, part_index)
    _fail(path, f"expected int, string, bool, {{\"set\": [...]}} or {{\"combo\": {{...}}}}, got {_kind(value)}")


def _group(value: Any, path: str) -> Group:
    g = _obj(value, path)
    stacking = _choice(_field(g, "stacking", path), f"{path}.stacking", STACKING_MODES)
    limit = _opt_int(g.get("stacking_limit"), f"{path}.stacking_limit", 1)
    if stacking == "stack_up_to" and limit is None:
        _fail(f"{path}.stacking_limit", "stack_up_to needs a limit")
    return Group(
        name=_str(_field(g, "name", path), f"{path}.name"),
        title=_opt_str(g.get("title"), f"{path}.title"),
        priority=_int(_field(g, "priority", path), f"{path}.priority"),
        stacking=stacking,
        stacking_limit=limit,
        basis=_choice(_field(g, "basis", path), f"{path}.basis", BASES),
        order=_choice(g.get("order", "priority"), f"{path}.order", ORDERS),
    )


def _campaign(value: Any, path: str, index: int, n_groups: int, state: StateDecls,
              experiments: tuple[Experiment, ...]) -> Campaign:
    c = _obj(value, path)

    def get(key: str) -> Any:
        return _field(c, key, path)

    limits = _obj(get("limits"), f"{path}.limits")
    cost = _obj(get("cost"), f"{path}.cost")
    span = c.get("span")
    return Campaign(
        index=index,
        name=_str(get("name"), f"{path}.name"),
        title=_opt_str(c.get("title"), f"{path}.title"),
        group=_index(get("group"), f"{path}.group", n_groups, "groups"),
        priority=_int(get("priority"), f"{path}.priority"),
        order=_int(get("order"), f"{path}.order"),
        footprint=_footprint(_obj(get("footprint"), f"{path}.footprint"), f"{path}.footprint"),
        audience=_opt_code(get("audience"), f"{path}.audience"),
        condition=_opt_code(get("condition"), f"{path}.condition"),
        actions=_code(get("actions"), f"{path}.actions"),
        limits=Limits(
            applications=_opt_int(limits.get("applications"), f"{path}.limits.applications", 0),
            discount=_opt_int(limits.get("discount"), f"{path}.limits.discount", 0),
            points=_opt_int(limits.get("points"), f"{path}.limits.points", 0),
        ),
        multiplier_base=_opt_str(c.get("multiplier_base"), f"{path}.multiplier_base"),
        span=None if span is None else _span(span, f"{path}.span"),
        cost_fixed=_int(_field(cost, "fixed", f"{path}.cost"), f"{path}.cost.fixed", 0),
        cost_per_line=_int(_field(cost, "per_line", f"{path}.cost"), f"{path}.cost.per_line", 0),
        state=_campaign_state(c, path, state),
        arm=_arm_gate(c.get("arm"), f"{path}.arm", experiments),
        exclusive=None if c.get("exclusive") is None else _choice(c["exclusive"], f"{path}.exclusive", EXCLUSIVE),
        redistribute=_bool(c.get("redistribute", False), f"{path}.redistribute"),
    )


def _experiments(value: Any) -> tuple[Experiment, ...]:
    """The ``experiments`` section (docs/experiments.md): unique names, arms whose weights sum to BUCKETS."""
    out = []
    for i, raw in enumerate(_list(value, "experiments")):
        path = f"experiments[{i}]"
        x = _obj(raw, path)
        arms = []
        for k, arm in enumerate(_list(_field(x, "arms", path), f"{path}.arms")):
            where = f"{path}.arms[{k}]"
            a = _obj(arm, where)
            arms.append(Arm(_str(_field(a, "name", where), f"{where}.name"),
                            _int(_field(a, "weight", where), f"{where}.weight", 1, BUCKETS)))
        names = _unique_names(tuple(arms), f"{path}.arms")
        if sum(a.weight for a in arms) != BUCKETS:
            _fail(f"{path}.arms", f"the weights sum to {sum(a.weight for a in arms)}, not {BUCKETS}")
        out.append(Experiment(
            name=_str(_field(x, "name", path), f"{path}.name"),
            salt=_str(_field(x, "salt", path), f"{path}.salt"),
            arms=tuple(arms),
            holdout=_bool(_field(x, "holdout", path), f"{path}.holdout"),
            anonymous=_opt_name(x.get("anonymous"), f"{path}.anonymous", names, "arm"),
            title=_opt_str(x.get("title"), f"{path}.title"),
        ))
    _unique_names(tuple(out), "experiments")
    return tuple(out)


def _arm_gate(value: Any, path: str, experiments: tuple[Experiment, ...]) -> ArmGate | None:
    if value is None:
        return None
    g = _obj(value, path)
    index = _index(_field(g, "experiment", path), f"{path}.experiment", len(experiments), "experiments")
    known = tuple(a.name for a in experiments[index].arms)
    arms = _list(_field(g, "arms", path), f"{path}.arms")
    if not arms:
        _fail(f"{path}.arms", "a campaign joins at least one arm")
    return ArmGate(index, frozenset(_name(a, f"{path}.arms[{k}]", known, "arm") for k, a in enumerate(arms)))


def _span(value: Any, path: str) -> Span:
    s = _obj(value, path)
    return Span(
        file=_str(_field(s, "file", path), f"{path}.file"),
        **{k: _int(_field(s, k, path), f"{path}.{k}", 0) for k in ("line", "col", "end_line", "end_col")},
    )


def _footprint(f: dict[str, Any], path: str) -> Footprint:
    def pair(key: str, lo: int, hi: int) -> tuple[int, int] | None:
        value = f.get(key)
        if value is None:
            return None
        items = _list(value, f"{path}.{key}")
        if len(items) != 2:
            _fail(f"{path}.{key}", f"expected [start, end], got {len(items)} items")
        return _int(items[0], f"{path}.{key}[0]", lo, hi), _int(items[1], f"{path}.{key}[1]", lo, hi)

    def set_filter(key: str) -> SetFilter | None:
        value = f.get(key)
        if value is None:
            return None
        where = f"{path}.{key}"
        value = _obj(value, where)
        if len(value) != 1 or not ({"in", "not_in"} & value.keys()):
            _fail(where, 'expected {"in": [...]} or {"not_in": [...]}')
        negated = "not_in" in value
        return SetFilter(negated, frozenset(_strings(value["not_in" if negated else "in"], where)))

    weekdays = f.get("weekdays")
    needs = f.get("needs_skus")
    audience = f.get("audience")
    return Footprint(
        dates=pair("dates", FIRST_DAY, LAST_DAY),
        weekdays=None if weekdays is None else frozenset(
            _int(d, f"{path}.weekdays[{i}]", 1, 7) for i, d in enumerate(_list(weekdays, f"{path}.weekdays"))),
        hours=pair("hours", 0, 86400),
        stores=set_filter("stores"),
        channels=set_filter("channels"),
        needs_skus=None if needs is None else _strings(needs, f"{path}.needs_skus"),
        categories=_strings(f.get("categories", []), f"{path}.categories"),
        skus=_strings(f.get("skus", []), f"{path}.skus"),
        brands=_strings(f.get("brands", []), f"{path}.brands"),
        min_total=_opt_int(f.get("min_total"), f"{path}.min_total"),
        audience=None if audience is None else _audience_summary(audience, f"{path}.audience"),
        effects=tuple(_choice(e, f"{path}.effects[{i}]", ("discount", "points"))
                      for i, e in enumerate(_list(f.get("effects", []), f"{path}.effects"))),
    )


def _audience_summary(value: Any, path: str) -> AudienceSummary:
    a = _obj(value, path)
    return AudienceSummary(
        known=_bool(a.get("known", False), f"{path}.known"),
        tiers=_strings(a.get("tiers", []), f"{path}.tiers"),
        segments=_strings(a.get("segments", []), f"{path}.segments"),
    )


def _sku_index(value: dict[str, Any], campaigns: tuple[Campaign, ...]) -> dict[str, tuple[int, ...]]:
    """The SKU -> campaigns index, which must be exactly the inverse of the campaigns' needs_skus
    (the engine skips by it; a disagreement would make skipping change results)."""
    index: dict[str, tuple[int, ...]] = {}
    for sku, items in value.items():
        path = f"sku_index.{sku}"
        index[sku] = tuple(_index(i, f"{path}[{k}]", len(campaigns), "campaigns")
                           for k, i in enumerate(_list(items, path)))
    expected: dict[str, list[int]] = {}
    for c in campaigns:
        for sku in c.footprint.needs_skus or ():
            expected.setdefault(sku, []).append(c.index)
    for sku in sorted(expected.keys() | index.keys()):
        if tuple(expected.get(sku, ())) != index.get(sku, ()):
            _fail(f"sku_index.{sku}", f"lists campaigns {list(index.get(sku, ()))} but the campaigns' "
                                      f"footprint.needs_skus give {expected.get(sku, [])}")
    return index


# -------------------------------------------------------------------------------- customer state


def _name(value: Any, path: str, known: tuple[str, ...], what: str) -> str:
    """A reference to a declared account, counter or series, by name."""
    name = _str(value, path)
    if name not in known:
        _fail(path, f"unknown {what} {json.dumps(name, ensure_ascii=False)[:40]}"
                    + (f" (declared: {', '.join(known)})" if known else f" (the bundle declares no {what}s)"))
    return name


def _opt_name(value: Any, path: str, known: tuple[str, ...], what: str) -> str | None:
    return None if value is None else _name(value, path, known, what)


def _unique_names(items: tuple[Any, ...], path: str) -> tuple[str, ...]:
    """The items' names, refusing an empty or a repeated one (LOY404 at the second one's path)."""
    names: dict[str, int] = {}
    for i, item in enumerate(items):
        if not item.name:
            _fail(f"{path}[{i}].name", "a name cannot be empty")
        if item.name in names:
            _fail(f"{path}[{i}].name", f"{item.name!r} is declared twice (also {path}[{names[item.name]}])")
        names[item.name] = i
    return tuple(names)


def _date_range(value: Any, path: str) -> tuple[int, int] | None:
    if value is None:
        return None
    items = _list(value, path)
    if len(items) != 2:
        _fail(path, f"expected [start, end], got {len(items)} items")
    start, end = _int(items[0], f"{path}[0]", FIRST_DAY, LAST_DAY), _int(items[1], f"{path}[1]", FIRST_DAY, LAST_DAY)
    if start > end:
        _fail(path, f"the window ends ({end}) before it starts ({start})")
    return start, end


def _expiry(value: Any, path: str) -> Expiry:
    e = _obj(value, path)
    kind = _choice(_field(e, "kind", path), f"{path}.kind", ("never", "after", "end_of"))
    if kind == "after":
        return Expiry("after", seconds=_int(_field(e, "seconds", path), f"{path}.seconds", 1, LONGEST))
    if kind == "end_of":
        return Expiry("end_of", period=_choice(_field(e, "period", path), f"{path}.period", ("month", "quarter", "year")),
                      next=_bool(_field(e, "next", path), f"{path}.next"))
    return NEVER


def _state(s: dict[str, Any], n_predicates: int) -> StateDecls:
    """The ``state`` section: every reference checked (accounts exist, predicates exist), every amount
    in range, so the ledger can trust what it reads."""
    accounts = tuple(_account(a, f"state.accounts[{i}]")
                     for i, a in enumerate(_list(_field(s, "accounts", "state"), "state.accounts")))
    account_names = _unique_names(accounts, "state.accounts")
    default = _opt_name(_field(s, "default_account", "state"), "state.default_account", account_names, "account")
    if default is None and accounts:
        _fail("state.default_account", "the bundle declares accounts but names no default one")
    redemption = _field(s, "redemption", "state")
    tiers = _field(s, "tiers", "state")
    counters = tuple(_counter(c, f"state.counters[{i}]", n_predicates)
                     for i, c in enumerate(_list(_field(s, "counters", "state"), "state.counters")))
    _unique_names(counters, "state.counters")
    coupons = tuple(_coupon_series(c, f"state.coupons[{i}]")
                    for i, c in enumerate(_list(_field(s, "coupons", "state"), "state.coupons")))
    _unique_names(coupons, "state.coupons")
    certificates = tuple(_certificates(c, f"state.certificates[{i}]")
                         for i, c in enumerate(_list(_field(s, "certificates", "state"), "state.certificates")))
    _unique_names(certificates, "state.certificates")
    referral = _field(s, "referral", "state")
    segments = s.get("segments")  # docs/segments.md: present only when the programme declares them
    if segments is not None:
        segments = segment_decls(segments, n_predicates)
        segments = replace(segments, segments=tuple(replace(x, code=_code(list(x.code), f"state.segments.segments[{i}]"
                                                                                                ".code"))
                                                    for i, x in enumerate(segments.segments)))
    return StateDecls(
        accounts=accounts,
        default_account=default,
        redemption=None if redemption is None else _redemption(redemption, "state.redemption", account_names,
                                                               n_predicates),
        tiers=None if tiers is None else _tiers(tiers, "state.tiers"),
        counters=counters,
        coupons=coupons,
        certificates=certificates,
        referral=None if referral is None else _referral(referral, "state.referral", account_names),
        segments=segments,
    )


def _account(value: Any, path: str) -> Account:
    a = _obj(value, path)

    def get(key: str) -> Any:
        return _field(a, key, path)

    return Account(
        name=_str(get("name"), f"{path}.name"),
        title=_opt_str(a.get("title"), f"{path}.title"),
        activation=_int(get("activation"), f"{path}.activation", 0, LONGEST),
        expiry=_expiry(get("expiry"), f"{path}.expiry"),
        spend=_choice(get("spend"), f"{path}.spend", SPEND_ORDERS),
        credit=_int(get("credit"), f"{path}.credit", 0),
        repay=_int(get("repay"), f"{path}.repay", 0, 1_000_000),
        shortfall=_choice(get("shortfall"), f"{path}.shortfall", SHORTFALL_POLICIES),
        notify=_int(get("notify"), f"{path}.notify", 0, LONGEST),
    )


def _redemption(value: Any, path: str, accounts: tuple[str, ...], n_predicates: int) -> Redemption:
    r = _obj(value, path)
    names = tuple(_name(v, f"{path}.accounts[{i}]", accounts, "account")
                  for i, v in enumerate(_list(_field(r, "accounts", path), f"{path}.accounts")))
    if not names:
        _fail(f"{path}.accounts", "redemption needs at least one account")
    if len(set(names)) != len(names):
        _fail(f"{path}.accounts", "an account is listed twice")
    exclude = _field(r, "exclude", path)
    return Redemption(
        accounts=names,
        max_share=_int(_field(r, "max_share", path), f"{path}.max_share", 0, 1_000_000),
        min_payment=_int(_field(r, "min_payment", path), f"{path}.min_payment", 0),
        exclude=None if exclude is None else _index(exclude, f"{path}.exclude", n_predicates, "predicates"),
        accrue_on_redeemed=_bool(_field(r, "accrue_on_redeemed", path), f"{path}.accrue_on_redeemed"),
        steps=_int(r.get("steps", 1), f"{path}.steps", 1),  # docs/units.md
        earn_with_burn=_bool(r.get("earn_with_burn", True), f"{path}.earn_with_burn"),
    )


def _tiers(value: Any, path: str) -> Tiers:
    t = _obj(value, path)
    period = _obj(_field(t, "period", path), f"{path}.period")
    kind = _choice(_field(period, "kind", f"{path}.period"), f"{path}.period.kind",
                   ("rolling", "month", "quarter", "year"))
    days = _field(period, "days", f"{path}.period")
    if kind == "rolling":
        days = _int(days, f"{path}.period.days", 1, 36600)
    elif days is not None:
        _fail(f"{path}.period.days", f"a {kind} period has no days (null), got {_kind(days)}")
    levels: list[Level] = []
    for i, lv in enumerate(_list(_field(t, "levels", path), f"{path}.levels")):
        where = f"{path}.levels[{i}]"
        lv = _obj(lv, where)
        raw = _obj(_field(lv, "benefits", where), f"{where}.benefits")
        benefits = {k: _int(v, f"{where}.benefits.{k}", 0) for k, v in raw.items()}
        level = Level(_str(_field(lv, "name", where), f"{where}.name"),
                      _int(_field(lv, "threshold", where), f"{where}.threshold", 0), benefits)
        if levels and level.threshold <= levels[-1].threshold:
            _fail(f"{where}.threshold", f"thresholds must ascend strictly ({level.threshold} after "
                                        f"{levels[-1].threshold})")
        if levels and benefits.keys() != levels[0].benefits.keys():
            _fail(f"{where}.benefits", f"declares {sorted(benefits)}, the first level {sorted(levels[0].benefits)}")
        levels.append(level)
    if not levels:
        _fail(f"{path}.levels", "a tier ladder needs at least one level")
    _unique_names(tuple(levels), f"{path}.levels")
    return Tiers(
        name=_str(_field(t, "name", path), f"{path}.name"),
        title=_opt_str(t.get("title"), f"{path}.title"),
        measure=_choice(_field(t, "measure", path), f"{path}.measure", ("spend", "receipts")),
        period=TierPeriod(kind, days),
        levels=tuple(levels),
    )


def _counter(value: Any, path: str, n_predicates: int) -> Counter:
    c = _obj(value, path)
    earn = _field(c, "earn", path)
    if earn is not None:
        e = _obj(earn, f"{path}.earn")
        earn = Earn(count=_int(_field(e, "count", f"{path}.earn"), f"{path}.earn.count", 1),
                    per=_int(_field(e, "per", f"{path}.earn"), f"{path}.earn.per", 1),
                    predicate=_index(_field(e, "predicate", f"{path}.earn"), f"{path}.earn.predicate", n_predicates,
                                     "predicates"))
    return Counter(
        name=_str(_field(c, "name", path), f"{path}.name"),
        title=_opt_str(c.get("title"), f"{path}.title"),
        kind=_choice(_field(c, "kind", path), f"{path}.kind", ("counter", "chips")),
        reset=_choice(_field(c, "reset", path), f"{path}.reset", RESETS),
        earn=earn,
        valid=_date_range(_field(c, "valid", path), f"{path}.valid"),
    )


def _coupon_series(value: Any, path: str) -> CouponSeries:
    c = _obj(value, path)
    code = _choice(_field(c, "code", path), f"{path}.code", ("unique", "shared"))
    text = _str(_field(c, "text", path), f"{path}.text")
    if code == "shared" and not text:
        _fail(f"{path}.text", "a shared code cannot be empty")
    valid_for = _field(c, "valid_for", path)
    per_customer = _field(c, "per_customer", path)
    return CouponSeries(
        name=_str(_field(c, "name", path), f"{path}.name"),
        title=_opt_str(c.get("title"), f"{path}.title"),
        code=code,
        text=text,
        valid_for=None if valid_for is None else _int(valid_for, f"{path}.valid_for", 1, LONGEST),
        valid=_date_range(_field(c, "valid", path), f"{path}.valid"),
        uses=_int(_field(c, "uses", path), f"{path}.uses", 1),
        per_customer=None if per_customer is None else _int(per_customer, f"{path}.per_customer", 1),
    )


def _certificates(value: Any, path: str) -> CertificateSeries:
    c = _obj(value, path)
    skus = _strings(_field(c, "skus", path), f"{path}.skus")
    if not skus:
        _fail(f"{path}.skus", "a certificate series needs at least one SKU")
    return CertificateSeries(
        name=_str(_field(c, "name", path), f"{path}.name"),
        title=_opt_str(c.get("title"), f"{path}.title"),
        skus=frozenset(skus),
        expiry=_expiry(_field(c, "expiry", path), f"{path}.expiry"),
        multi_use=_bool(_field(c, "multi_use", path), f"{path}.multi_use"),
        per_unit=_bool(c.get("per_unit", False), f"{path}.per_unit"),  # absent in older bundles
    )


def _referral(value: Any, path: str, accounts: tuple[str, ...]) -> Referral:
    r = _obj(value, path)
    out = {}
    for who in ("referrer", "newcomer"):
        points = _int(_field(r, who, path), f"{path}.{who}", 0)
        account = _opt_name(_field(r, f"{who}_account", path), f"{path}.{who}_account", accounts, "account")
        if points and account is None:
            _fail(f"{path}.{who}_account", f"{points} points for the {who} need an account")
        out[who] = (points, account)
    return Referral(
        qualify=_int(_field(r, "qualify", path), f"{path}.qualify", 0),
        referrer=out["referrer"][0],
        referrer_account=out["referrer"][1],
        newcomer=out["newcomer"][0],
        newcomer_account=out["newcomer"][1],
    )


def _campaign_state(c: dict[str, Any], path: str, state: StateDecls) -> CampaignState:
    """A campaign's ``account``, ``coupon``, ``usage_limit`` and ``budget`` (all present, maybe null)."""
    accounts = tuple(a.name for a in state.accounts)
    account = _opt_name(_field(c, "account", path), f"{path}.account", accounts, "account")
    if account is None and accounts:
        _fail(f"{path}.account", "null, but the bundle declares accounts (a campaign names the one it accrues to)")
    coupon = _opt_name(_field(c, "coupon", path), f"{path}.coupon", tuple(s.name for s in state.coupons),
                       "coupon series")
    usage = _field(c, "usage_limit", path)
    usage_limit = None
    if usage is not None:
        u = _obj(usage, f"{path}.usage_limit")
        usage_limit = UsageLimit(_int(_field(u, "count", f"{path}.usage_limit"), f"{path}.usage_limit.count", 1),
                                 _choice(_field(u, "per", f"{path}.usage_limit"), f"{path}.usage_limit.per",
                                         (*PERIODS, "customer")))
    raw_budget = _field(c, "budget", path)
    budget = None
    if raw_budget is not None:
        b = _obj(raw_budget, f"{path}.budget")
        budget = Budget(_choice(_field(b, "kind", f"{path}.budget"), f"{path}.budget.kind", ("money", "points")),
                        _int(_field(b, "amount", f"{path}.budget"), f"{path}.budget.amount", 0))
    reward = _reward(c.get("reward"), f"{path}.reward", accounts)  # a key only when set (docs/rewards.md)
    redemptions = _redemption_limits(c.get("redemptions", []), f"{path}.redemptions")
    cap = c.get("discount_cap")
    discount_cap = None if cap is None else _discount_cap(cap, f"{path}.discount_cap")
    if account is None and coupon is None and usage_limit is None and budget is None and reward is None \
            and not redemptions and discount_cap is None:
        return NO_CAMPAIGN_STATE
    return CampaignState(account, coupon, usage_limit, budget, reward, redemptions, discount_cap)


def _reward(value: Any, path: str, accounts: tuple[str, ...]) -> CatalogueReward | None:
    """A catalogue reward's price and stock: ``{"account", "points", "stock"}`` (docs/rewards.md)."""
    if value is None:
        return None
    r = _obj(value, path)
    account = _opt_name(_field(r, "account", path), f"{path}.account", accounts, "account")
    if account is None:
        _fail(f"{path}.account", "a reward is paid from a declared account")
    stock = _field(r, "stock", path)
    return CatalogueReward(account, _int(_field(r, "points", path), f"{path}.points", 1, MAX_VALUE),
                  None if stock is None else _int(stock, f"{path}.stock", 0, MAX_VALUE))


def _discount_cap(value: Any, path: str) -> tuple[str, int]:
    """``[period, money]``: the most discount one customer gets from the campaign per period."""
    pair = _list(value, path)
    if len(pair) != 2:
        _fail(path, "expected [period, money]")
    return _choice(pair[0], f"{path}[0]", (*PERIODS, "customer")), _int(pair[1], f"{path}[1]", 1)


def _redemption_limits(value: Any, path: str) -> tuple[RedemptionLimit, ...]:
    """A campaign's optional ``redemptions``: ``[{"count": N >= 1, "store": bool, "day": bool}]``, one per
    scope (runtime/redemptions.py)."""
    if not isinstance(value, list):
        _fail(path, "expected a list")
    out: list[RedemptionLimit] = []
    for k, raw in enumerate(value):
        item = _obj(raw, f"{path}[{k}]")
        flags = [_field(item, key, f"{path}[{k}]") for key in ("store", "day")]
        if not all(isinstance(f, bool) for f in flags):
            _fail(f"{path}[{k}]", "`store` and `day` must be true or false")
        limit = RedemptionLimit(_int(_field(item, "count", f"{path}[{k}]"), f"{path}[{k}].count", 1), *flags)
        if any((x.store, x.day) == (limit.store, limit.day) for x in out):
            _fail(f"{path}[{k}]", "a second limit of the same scope")
        out.append(limit)
    return tuple(out)
