"""The bundle file (docs/bundle.md): writing it, and loading it into typed, validated structures
(``bundle_types``, re-exported here).

A loader trusts nothing: it checks, in the documented order, the magic (LOY401), the envelope and
format version (LOY403), the digest (LOY402), the signature (LOY406), the payload's JSON (no floats, integers
within range, bounded depth: LOY404, LOY408, LOY409), its structure against the payload's model
(``bundle_model``; LOY404, naming the JSON path of the first problem), what a structure cannot say
(references, unique names, sorted sets, the SKU index; LOY404) and finally the bytecode (LOY405, ``verify``).
Ed25519 comes from ``cryptography``, imported only when a signature is made or checked.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

from msgspec import UNSET

from . import bundle_model as model
from .bundle_model import BASES as BASES  # the vocabularies, re-exported here (their older home)
from .bundle_model import EXCLUSIVE as EXCLUSIVE
from .bundle_model import FIRST_DAY as FIRST_DAY
from .bundle_model import LAST_DAY as LAST_DAY
from .bundle_model import LONGEST as LONGEST
from .bundle_model import ORDERS as ORDERS
from .bundle_model import STACKING_MODES as STACKING_MODES
from .bundle_model import Mismatch, validate
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
from .commerce import Commerce
from .declarations import (
    NEVER,
    NO_CAMPAIGN_STATE,
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
from .limits import MAX_BUNDLE_BYTES, MAX_CAMPAIGNS, MAX_INT_DIGITS, MAX_JSON_DEPTH, MAX_VALUE
from .opcodes import Op
from .segments.decls import from_json as segment_decls
from .triggers.spec import read_messages, read_triggers
from .verify import verify

MAGIC = b"LOYAB\n"
FORMAT_VERSION = 3  # 3: experiments (docs/experiments.md); 2: customer state (docs/state.md), still read
# A programme without experiments is written as format 2, byte for byte what it was before them, so a
# runtime that reads format 2 keeps running it; one with experiments needs format 3 (and refuses to run
# ungated on an older runtime, LOY403).
WITHOUT_EXPERIMENTS_VERSION = 2

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_SIG = re.compile(r"[0-9a-f]{128}")
_ABSENT = object()
_OPS = {op.value: op for op in Op}  # mnemonic -> Op, for the loader
T = TypeVar("T")

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
    with collector_paused():
        bundle = _bundle(_payload(body), envelope["format_version"])
    bundle = replace(bundle, digest=digest, signed=signature is not None,
                     key_id=signature["key_id"] if signature else None, signature_verified=verified)
    verify(bundle)
    return replace(bundle, bytecode_verified=True)


@contextmanager
def collector_paused() -> Iterator[None]:
    """The payload and the structures built from it are trees (no cycles) of many small objects: the
    cycle collector, run while they are built, finds nothing and costs a fifth of the load time. (The
    engine's build too: ``Engine.__init__``.) A cycle made meanwhile is collected once it runs again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
    """What ``canonical_json`` writes: no float anywhere (a bundle is integers only). The walk keeps no
    paths, which cost seven times the rest (79 against 11 ms for 1,000 campaigns); a float found is
    looked for again with them (``_float_at``), to say where it is."""
    stack = [root]
    pop, extend = stack.pop, stack.extend
    while stack:
        value = pop()
        kind = type(value)
        if kind is str or kind is int or value is None:
            continue
        if isinstance(value, dict):
            extend(value.values())
        elif isinstance(value, list | tuple):
            extend(value)
        elif isinstance(value, float):
            _float_at(root)


def _float_at(root: Any) -> None:
    """``_no_floats`` with each value's path: the first float met raises LOY404 there."""
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
    return {bool: "bool", int: "int", str: "string", list: "array", dict: "object"}.get(type(value),
                                                                                        type(value).__name__)


def _bundle(raw: dict[str, Any], envelope_version: int) -> Bundle:
    """The payload checked against its model (``bundle_model``: shape, types, ranges, vocabularies),
    then what a shape cannot say: references, unique names, sorted sets, the SKU index."""
    _before_model(raw, envelope_version)
    p = _shape(raw, model.BundlePayload, "")
    predicates = tuple(_code(c, f"predicates[{i}]") for i, c in enumerate(p.predicates))
    constants = tuple(_constant(c, f"constants[{i}]", len(predicates)) for i, c in enumerate(p.constants))
    groups = tuple(_group(g, f"groups[{i}]") for i, g in enumerate(p.groups))
    _unique_names(groups, "groups")
    state = _state(p.state, len(predicates))
    experiments = _experiments(p.experiments)
    campaigns = tuple(_campaign(c, f"campaigns[{i}]", i, len(groups), state, experiments)
                      for i, c in enumerate(p.campaigns))
    _unique_names(campaigns, "campaigns")
    return Bundle(
        manifest=_manifest(p.manifest),
        settings=_settings(p.settings),
        constants=constants,
        predicates=predicates,
        groups=groups,
        campaigns=campaigns,
        sku_index=_sku_index(p.sku_index, campaigns),
        cost_fixed=p.cost.fixed,
        cost_per_line=p.cost.per_line,
        state=state,
        experiments=experiments,
        triggers=read_triggers(p.triggers),
        messages=read_messages(p.messages, {c.name for c in campaigns}),
    )


def _shape(value: Any, kind: type[T], path: str) -> T:
    """``value`` as the model's ``kind``, or LOY404 at the first place it differs."""
    try:
        return validate(value, kind)
    except Mismatch as exc:
        _fail(path + exc.path if exc.path[:1] in ("", "[") else _at(path, exc.path), exc.message)


def _before_model(raw: dict[str, Any], envelope_version: int) -> None:
    """What is not a shape: a manifest whose format version is not the envelope's (the envelope's number
    is outside the digest: it was damaged, LOY402), and more campaigns than a till loads (LOY409)."""
    manifest = raw.get("manifest")
    version = manifest.get("format_version") if isinstance(manifest, dict) else None
    if type(version) is int and version != envelope_version:
        raise BundleError("LOY402", f"the bundle envelope is damaged: format_version {envelope_version}, the "
                                    f"manifest's {version}", "manifest.format_version")
    campaigns = raw.get("campaigns")
    if isinstance(campaigns, list) and len(campaigns) > MAX_CAMPAIGNS:
        raise BundleError("LOY409", f"{len(campaigns):,} campaigns (at most {MAX_CAMPAIGNS:,})", "campaigns")


def _manifest(m: model.Manifest) -> Manifest:
    return Manifest(format_version=m.format_version, compiler_version=m.compiler_version,
                    programme_name=m.programme.name, programme_version=m.programme.version,
                    source_hash=m.source_hash, sources=tuple((s.path, s.sha256) for s in m.sources))


def _settings(s: model.Settings) -> Settings:
    try:
        ZoneInfo(s.timezone)
    except Exception:  # ZoneInfoNotFoundError, ValueError for odd keys, OSError for odd files
        _fail("settings.timezone", f"unknown time zone {s.timezone!r}")
    c = s.commerce
    return Settings(
        currency=s.currency, minor=s.minor, points_minor=s.points_minor, point_value=s.point_value,
        timezone=s.timezone, rounding_discount=s.rounding.discount, rounding_points=s.rounding.points,
        allocation=s.allocation,
        commerce=None if c is None else Commerce(prices=c.prices, basis=c.basis, rate=c.rate, rounding=c.rounding,
                                                 totals=tuple(c.totals), taxed=c.taxed),
        fraud=None if s.fraud is None else _fraud(s.fraud),
        people=None if s.people is None else _people(s.people),
    )


def _people(p: model.People) -> People:
    """Staff and partners (docs/limits-fraud.md): a partner appears once."""
    partners = tuple(Partner(x.name, x.rate, x.price) for x in p.partners)
    if len({x.name for x in partners}) != len(partners):
        _fail("settings.people.partners", "a partner appears twice")
    return People(p.staff, partners)


def _fraud(f: model.Fraud) -> FraudLimits:
    """The anti-fraud limits (docs/limits-fraud.md): each period once in a list."""
    for key, rows in (("points", f.points), ("receipts", f.receipts)):
        if len({period for period, _ in rows}) != len(rows):
            _fail(f"settings.fraud.{key}", "a period appears twice")
    return FraudLimits(tuple(f.points), tuple(f.receipts), f.velocity)


def _code(value: list[list[Any]], path: str) -> Code:
    """A code block, each mnemonic made its ``Op`` here, once; what the ops mean is ``verify``'s job,
    which also refuses a mnemonic that is no ``Op`` (left a string here, so the refusal names the block
    and instruction, LOY405, after the structure's checks)."""
    code: list[Instr] = []
    for i, instr in enumerate(value):
        name = instr[0]
        if type(name) is not str:
            _fail(f"{path}[{i}][0]", f"expected string (a mnemonic), got {_kind(name)}")
        code.append((_OPS.get(name, name), *instr[1:]))
    return tuple(code)


def _opt_code(value: list[list[Any]] | None, path: str) -> Code | None:
    return None if value is None else _code(value, path)


def _constant(value: int | str | bool | model.ConstantObject, path: str, n_predicates: int) -> Constant:
    if not isinstance(value, model.ConstantObject):
        return value
    if (value.set is UNSET) == (value.combo is UNSET):
        _fail(path, 'expected {"set": [...]} or {"combo": {...}}')
    if not isinstance(value.combo, model.Combo):
        items = value.set if isinstance(value.set, list) else []
        if items != sorted(set(items)):
            _fail(f"{path}.set", "expected sorted, unique strings")
        return frozenset(items)
    combo = value.combo
    for i, (predicate, _) in enumerate(combo.parts):
        _index(predicate, f"{path}.combo.parts[{i}][0]", n_predicates, "predicates")
    if combo.part is not None and combo.part >= len(combo.parts):
        _fail(f"{path}.combo.part", f"no part {combo.part} (the combo has {len(combo.parts)})")
    if combo.reward == "percent_on_part" and combo.part is None:
        _fail(f"{path}.combo.part", "percent_on_part needs the index of the discounted part")
    return ComboSpec(tuple(combo.parts), combo.reward, combo.part)


def _group(g: model.Group, path: str) -> Group:
    if g.stacking == "stack_up_to" and g.stacking_limit is None:
        _fail(f"{path}.stacking_limit", "stack_up_to needs a limit")
    return Group(name=g.name, title=g.title, priority=g.priority, stacking=g.stacking,
                 stacking_limit=g.stacking_limit, basis=g.basis, order=g.order)


def _campaign(c: model.Campaign, path: str, index: int, n_groups: int, state: StateDecls,
              experiments: tuple[Experiment, ...]) -> Campaign:
    span = c.span
    return Campaign(
        index=index,
        name=c.name,
        title=c.title,
        group=_index(c.group, f"{path}.group", n_groups, "groups"),
        priority=c.priority,
        order=c.order,
        footprint=_footprint(c.footprint, f"{path}.footprint"),
        audience=_opt_code(c.audience, f"{path}.audience"),
        condition=_opt_code(c.condition, f"{path}.condition"),
        actions=_code(c.actions, f"{path}.actions"),
        limits=Limits(c.limits.applications, c.limits.discount, c.limits.points),
        multiplier_base=c.multiplier_base,
        span=None if span is None else Span(span.file, span.line, span.col, span.end_line, span.end_col),
        cost_fixed=c.cost.fixed,
        cost_per_line=c.cost.per_line,
        state=_campaign_state(c, path, state),
        arm=None if c.arm is None else _arm_gate(c.arm, f"{path}.arm", experiments),
        exclusive=c.exclusive,
        redistribute=c.redistribute,
    )


def _footprint(f: model.Footprint, path: str) -> Footprint:
    audience = f.audience
    return Footprint(
        dates=f.dates,
        weekdays=None if f.weekdays is None else frozenset(f.weekdays),
        hours=f.hours,
        stores=_set_filter(f.stores, f"{path}.stores"),
        channels=_set_filter(f.channels, f"{path}.channels"),
        needs_skus=None if f.needs_skus is None else tuple(f.needs_skus),
        categories=tuple(f.categories),
        skus=tuple(f.skus),
        brands=tuple(f.brands),
        min_total=f.min_total,
        audience=None if audience is None else AudienceSummary(audience.known, tuple(audience.tiers),
                                                               tuple(audience.segments)),
        effects=tuple(f.effects),
    )


def _set_filter(value: model.SetFilter | None, path: str) -> SetFilter | None:
    if value is None:
        return None
    if isinstance(value.in_, list) and value.not_in is UNSET:
        return SetFilter(False, frozenset(value.in_))
    if isinstance(value.not_in, list) and value.in_ is UNSET:
        return SetFilter(True, frozenset(value.not_in))
    _fail(path, 'expected {"in": [...]} or {"not_in": [...]}')


def _experiments(value: list[model.Experiment]) -> tuple[Experiment, ...]:
    """The ``experiments`` section (docs/experiments.md): unique names, arms whose weights sum to BUCKETS."""
    out = []
    for i, x in enumerate(value):
        path = f"experiments[{i}]"
        arms = tuple(Arm(a.name, a.weight) for a in x.arms)
        names = _unique_names(arms, f"{path}.arms")
        if sum(a.weight for a in arms) != BUCKETS:
            _fail(f"{path}.arms", f"the weights sum to {sum(a.weight for a in arms)}, not {BUCKETS}")
        out.append(Experiment(name=x.name, salt=x.salt, arms=arms, holdout=x.holdout,
                              anonymous=_opt_name(x.anonymous, f"{path}.anonymous", names, "arm"), title=x.title))
    _unique_names(tuple(out), "experiments")
    return tuple(out)


def _arm_gate(g: model.ArmGate, path: str, experiments: tuple[Experiment, ...]) -> ArmGate:
    index = _index(g.experiment, f"{path}.experiment", len(experiments), "experiments")
    known = tuple(a.name for a in experiments[index].arms)
    return ArmGate(index, frozenset(_name(a, f"{path}.arms[{k}]", known, "arm") for k, a in enumerate(g.arms)))


def _sku_index(value: dict[str, list[int]], campaigns: tuple[Campaign, ...]) -> dict[str, tuple[int, ...]]:
    """The SKU -> campaigns index, which must be exactly the inverse of the campaigns' needs_skus
    (the engine skips by it; a disagreement would make skipping change results)."""
    index = {sku: tuple(_index(i, f"sku_index.{sku}[{k}]", len(campaigns), "campaigns") for k, i in enumerate(items))
             for sku, items in value.items()}
    expected: dict[str, list[int]] = {}
    for c in campaigns:
        for sku in c.footprint.needs_skus or ():
            expected.setdefault(sku, []).append(c.index)
    if len(expected) == len(index) and all(tuple(expected.get(sku, ())) == items for sku, items in index.items()):
        return index
    for sku in sorted(expected.keys() | index.keys()):
        if tuple(expected.get(sku, ())) != index.get(sku, ()):
            _fail(f"sku_index.{sku}", f"lists campaigns {list(index.get(sku, ()))} but the campaigns' "
                                      f"footprint.needs_skus give {expected.get(sku, [])}")
    return index


# -------------------------------------------------------------------------------- references


def _index(value: int, path: str, count: int, what: str) -> int:
    if value >= count:
        _fail(path, f"index {value} out of range (the bundle has {count} {what})")
    return value


def _name(name: str, path: str, known: tuple[str, ...], what: str) -> str:
    """A reference to a declared account, counter or series, by name."""
    if name not in known:
        _fail(path, f"unknown {what} {json.dumps(name, ensure_ascii=False)[:40]}"
                    + (f" (declared: {', '.join(known)})" if known else f" (the bundle declares no {what}s)"))
    return name


def _opt_name(value: str | None, path: str, known: tuple[str, ...], what: str) -> str | None:
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


# -------------------------------------------------------------------------------- customer state


def _date_range(value: tuple[int, int] | None, path: str) -> tuple[int, int] | None:
    if value is not None and value[0] > value[1]:
        _fail(path, f"the window ends ({value[1]}) before it starts ({value[0]})")
    return value


def _expiry(e: model.Expiry) -> Expiry:
    if isinstance(e, model.After):
        return Expiry("after", seconds=e.seconds)
    if isinstance(e, model.EndOf):
        return Expiry("end_of", period=e.period, next=e.next)
    return NEVER


def _state(s: model.State, n_predicates: int) -> StateDecls:
    """The ``state`` section: every reference checked (accounts exist, predicates exist), so the
    ledger can trust what it reads."""
    accounts = tuple(_account(a) for a in s.accounts)
    account_names = _unique_names(accounts, "state.accounts")
    default = _opt_name(s.default_account, "state.default_account", account_names, "account")
    if default is None and accounts:
        _fail("state.default_account", "the bundle declares accounts but names no default one")
    counters = tuple(_counter(c, f"state.counters[{i}]", n_predicates) for i, c in enumerate(s.counters))
    _unique_names(counters, "state.counters")
    coupons = tuple(_coupon_series(c, f"state.coupons[{i}]") for i, c in enumerate(s.coupons))
    _unique_names(coupons, "state.coupons")
    certificates = tuple(CertificateSeries(name=c.name, title=c.title, skus=frozenset(c.skus),
                                           expiry=_expiry(c.expiry), multi_use=c.multi_use, per_unit=c.per_unit)
                         for c in s.certificates)
    _unique_names(certificates, "state.certificates")
    segments = None
    if s.segments is not None:  # docs/segments.md: present only when the programme declares them
        segments = segment_decls(s.segments, n_predicates)
        segments = replace(segments, segments=tuple(
            replace(x, code=_code([list(op) for op in x.code], where))
            for i, x in enumerate(segments.segments) for where in [f"state.segments.segments[{i}].code"]))
    return StateDecls(
        accounts=accounts,
        default_account=default,
        redemption=None if s.redemption is None else _redemption(s.redemption, "state.redemption", account_names,
                                                                 n_predicates),
        tiers=None if s.tiers is None else _tiers(s.tiers, "state.tiers"),
        counters=counters,
        coupons=coupons,
        certificates=certificates,
        referral=None if s.referral is None else _referral(s.referral, "state.referral", account_names),
        segments=segments,
    )


def _account(a: model.Account) -> Account:
    return Account(name=a.name, title=a.title, activation=a.activation, expiry=_expiry(a.expiry), spend=a.spend,
                   credit=a.credit, repay=a.repay, shortfall=a.shortfall, notify=a.notify)


def _redemption(r: model.Redemption, path: str, accounts: tuple[str, ...], n_predicates: int) -> Redemption:
    names = tuple(_name(v, f"{path}.accounts[{i}]", accounts, "account") for i, v in enumerate(r.accounts))
    if len(set(names)) != len(names):
        _fail(f"{path}.accounts", "an account is listed twice")
    exclude = None if r.exclude is None else _index(r.exclude, f"{path}.exclude", n_predicates, "predicates")
    return Redemption(accounts=names, max_share=r.max_share, min_payment=r.min_payment, exclude=exclude,
                      accrue_on_redeemed=r.accrue_on_redeemed, steps=r.steps, earn_with_burn=r.earn_with_burn)


def _tiers(t: model.Tiers, path: str) -> Tiers:
    kind, days = t.period.kind, t.period.days
    if kind == "rolling" and days is None:
        _fail(f"{path}.period.days", "a rolling period needs its days")
    if kind != "rolling" and days is not None:
        _fail(f"{path}.period.days", f"a {kind} period has no days (null), got int")
    levels: list[Level] = []
    for i, lv in enumerate(t.levels):
        where = f"{path}.levels[{i}]"
        level = Level(lv.name, lv.threshold, lv.benefits)
        if levels and level.threshold <= levels[-1].threshold:
            _fail(f"{where}.threshold", f"thresholds must ascend strictly ({level.threshold} after "
                                        f"{levels[-1].threshold})")
        if levels and lv.benefits.keys() != levels[0].benefits.keys():
            _fail(f"{where}.benefits", f"declares {sorted(lv.benefits)}, the first level {sorted(levels[0].benefits)}")
        levels.append(level)
    _unique_names(tuple(levels), f"{path}.levels")
    return Tiers(name=t.name, title=t.title, measure=t.measure, period=TierPeriod(kind, days), levels=tuple(levels))


def _counter(c: model.Counter, path: str, n_predicates: int) -> Counter:
    earn = None
    if c.earn is not None:
        earn = Earn(count=c.earn.count, per=c.earn.per,
                    predicate=_index(c.earn.predicate, f"{path}.earn.predicate", n_predicates, "predicates"))
    return Counter(name=c.name, title=c.title, kind=c.kind, reset=c.reset, earn=earn,
                   valid=_date_range(c.valid, f"{path}.valid"))


def _coupon_series(c: model.CouponSeries, path: str) -> CouponSeries:
    if c.code == "shared" and not c.text:
        _fail(f"{path}.text", "a shared code cannot be empty")
    return CouponSeries(name=c.name, title=c.title, code=c.code, text=c.text, valid_for=c.valid_for,
                        valid=_date_range(c.valid, f"{path}.valid"), uses=c.uses, per_customer=c.per_customer)


def _referral(r: model.Referral, path: str, accounts: tuple[str, ...]) -> Referral:
    for who, points, account in (("referrer", r.referrer, r.referrer_account),
                                 ("newcomer", r.newcomer, r.newcomer_account)):
        _opt_name(account, f"{path}.{who}_account", accounts, "account")
        if points and account is None:
            _fail(f"{path}.{who}_account", f"{points} points for the {who} need an account")
    return Referral(qualify=r.qualify, referrer=r.referrer, referrer_account=r.referrer_account,
                    newcomer=r.newcomer, newcomer_account=r.newcomer_account)


def _campaign_state(c: model.Campaign, path: str, state: StateDecls) -> CampaignState:
    """A campaign's ``account``, ``coupon``, ``usage_limit``, ``budget``, ``reward``, ``redemptions`` and
    ``discount_cap``: the names it refers to are declared."""
    accounts = tuple(a.name for a in state.accounts)
    account = _opt_name(c.account, f"{path}.account", accounts, "account")
    if account is None and accounts:
        _fail(f"{path}.account", "null, but the bundle declares accounts (a campaign names the one it accrues to)")
    coupon = _opt_name(c.coupon, f"{path}.coupon", tuple(s.name for s in state.coupons), "coupon series")
    usage = None if c.usage_limit is None else UsageLimit(c.usage_limit.count, c.usage_limit.per)
    budget = None if c.budget is None else Budget(c.budget.kind, c.budget.amount)
    reward = None
    if c.reward is not None:  # a catalogue reward (docs/rewards.md)
        if c.reward.account is None:
            _fail(f"{path}.reward.account", "a reward is paid from a declared account")
        reward = CatalogueReward(_name(c.reward.account, f"{path}.reward.account", accounts, "account"),
                                 c.reward.points, c.reward.stock)
    redemptions: list[RedemptionLimit] = []
    for k, limit in enumerate(c.redemptions):  # one per scope (runtime/redemptions.py)
        if any((x.store, x.day) == (limit.store, limit.day) for x in redemptions):
            _fail(f"{path}.redemptions[{k}]", "a second limit of the same scope")
        redemptions.append(RedemptionLimit(limit.count, limit.store, limit.day))
    cap = c.discount_cap
    if account is None and coupon is None and usage is None and budget is None and reward is None \
            and not redemptions and cap is None:
        return NO_CAMPAIGN_STATE
    return CampaignState(account, coupon, usage, budget, reward, tuple(redemptions), cap)
