"""Every example and standard mechanic converts between .loya and YAML without loss, the committed
YAML twin of the supermarket programme compiles to the same campaigns, and the supermarket example's
history exercises the programme's state (accounts, coupons, certificates, shared accounts, returns)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import pytest

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, Outcome, load_bundle
from loyadsl.runtime.state import CustomerState, apply
from loyadsl.simulate.run import Simulation
from loyadsl.syntax.parser import parse
from loyadsl.syntax.printer import format_module
from loyadsl.syntax.yaml_twin import parse_yaml, to_yaml

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.glob("examples/**/*.loya"), *ROOT.glob("stdlib_mechanics/*.loya"),
                  *ROOT.glob("bench/*.loya"), *ROOT.glob("tests/golden/*/programme.loya")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_round_trip(path: Path) -> None:
    module, diags = parse(path.read_text(encoding="utf-8"), path.name)
    assert module is not None, diags
    via_yaml, diags = parse_yaml(to_yaml(module), path.stem + ".yaml")
    assert via_yaml == module, diags
    via_printer, diags = parse(format_module(module), path.name)
    assert via_printer == module, diags


def test_committed_yaml_twin_compiles_to_the_same_campaigns() -> None:
    folder = ROOT / "examples" / "supermarket"
    from_loya, _ = compile_file(folder / "programme.loya")
    from_yaml, _ = compile_file(folder / "programme.yaml")
    assert from_loya is not None and from_yaml is not None

    def semantic(data: bytes) -> dict[str, object]:
        payload = json.loads(data.split(b"\n", 2)[2])
        del payload["manifest"]  # names and hashes the source files, which differ
        for c in payload["campaigns"]:
            del c["span"]
        return payload

    assert semantic(from_loya) == semantic(from_yaml)


# ------------------------------------------------------------------ the supermarket example's history
# customers.jsonl and receipts.jsonl carry, after the generated customers and receipts, the journeys of
# examples/supermarket/state_journeys.py: a family account, coupons, certificates, a referral, points in
# lots, a credit account, the coffee card, the sticker promotion and returns. The report of
# `loya simulate` and a direct replay with the Engine show that each of them does something.

SUPERMARKET = ROOT / "examples" / "supermarket"


def _journeys() -> ModuleType:
    spec = importlib.util.spec_from_file_location("state_journeys", SUPERMARKET / "state_journeys.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _jsonl(name: str) -> list[dict[str, Any]]:
    with (SUPERMARKET / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


@pytest.fixture(scope="module")
def journeys() -> ModuleType:
    return _journeys()


@pytest.fixture(scope="module")
def bundle() -> bytes:
    data, result = compile_file(SUPERMARKET / "programme.loya")
    assert data is not None, result.diagnostics
    return data


@pytest.fixture(scope="module")
def report(bundle: bytes) -> dict[str, Any]:
    return Simulation(bundle, [SUPERMARKET / "receipts.jsonl"], customers=SUPERMARKET / "customers.jsonl").run()


class Replay(NamedTuple):
    outcomes: dict[str, Outcome]  # purchases by receipt id
    customer: dict[str, str]  # receipt id -> customer id
    states: dict[str, list[CustomerState]]  # each journey customer's state after each of their records


@pytest.fixture(scope="module")
def replay(bundle: bytes, journeys: ModuleType) -> Replay:
    """The journeys' customers replayed by hand (docs/state.md): each purchase evaluated against its
    customer's state and applied, a return refunded, a shared account passed on to the other members
    and a referral transfer received by the referrer."""
    engine = Engine(load_bundle(bundle))
    decls = engine.bundle.state
    ids = {c["id"] for c in journeys.CUSTOMERS}
    states = {c["id"]: CustomerState.from_dict(c, decls) for c in _jsonl("customers.jsonl") if c["id"] in ids}
    mine = [r for r in _jsonl("receipts.jsonl") if r.get("customer_id") in ids]
    mine.sort(key=lambda r: (dt.datetime.fromisoformat(r["datetime"]), r["receipt_id"]))
    out = Replay({}, {}, {cid: [s] for cid, s in states.items()})
    for r in mine:
        cid, when = r["customer_id"], dt.datetime.fromisoformat(r["datetime"])
        state = states[cid]
        if "return_of" in r:
            returned = {line["line_no"]: line["qty"] for line in r["lines"]} or None
            refund = engine.refund(out.outcomes[r["return_of"]], returned, state, when)
            changes: tuple[dict[str, Any], ...] = refund.changes
        else:
            outcome = engine.evaluate(r, state)
            out.outcomes[r["receipt_id"]], out.customer[r["receipt_id"]] = outcome, cid
            changes = outcome.changes or ()
        states[cid] = state = apply(state, changes, decls)
        for change in changes:
            if change["op"] == "transfer":
                to = change["customer"]
                states[to] = apply(states[to], engine.receive(change, states[to], when), decls)
        if state.shared is not None:
            for member in state.shared.members:
                if member != cid:
                    states[member] = states[member].model_copy(update={"shared": state.shared})
        for member in {cid, *(state.shared.members if state.shared is not None else ())}:
            out.states[member].append(states[member])
    return out


def test_example_customers_are_valid_states(bundle: bytes) -> None:
    decls = load_bundle(bundle).state
    customers = _jsonl("customers.jsonl")
    assert len({c["id"] for c in customers}) == len(customers)
    for c in customers:
        CustomerState.from_dict(c, decls)
    receipts = _jsonl("receipts.jsonl")
    assert len({r["receipt_id"] for r in receipts}) == len(receipts)


def test_the_journeys_script_made_the_example_data(journeys: ModuleType) -> None:
    customers, receipts = journeys.build()
    on_file = {c["id"]: c for c in _jsonl("customers.jsonl")}
    assert [on_file[c["id"]] for c in customers] == json.loads(json.dumps(customers))
    added = [r for r in _jsonl("receipts.jsonl") if int(r["receipt_id"][1:]) > journeys.GENERATED]
    assert added == json.loads(json.dumps(receipts))
    times = [dt.datetime.fromisoformat(r["datetime"]) for r in added]
    assert times == sorted(times)


def test_example_simulation_exercises_the_state(report: dict[str, Any]) -> None:
    i, t = report["input"], report["totals"]
    assert i["quarantined"] == 0 and i["read"] == i["simulated"]
    assert i["returns"] >= 2 and t["refunded"] > 0 and t["points_returned"] > 0
    assert t["coupons_issued"] > 0 and t["coupons_redeemed"] > 0
    assert t["points_redeemed"] > 0 and t["redeemed_money"] > 0
    assert t["certificates_sold"] > 0 and t["certificates_used"] > 0
    assert t["points_referral"] > 0 and t["points_expired"] > 0 and t["liability_start"] > 0
    tiers = report["series"]["points"][-1]["tiers"]
    assert sum(1 for n in tiers.values() if n > 0) >= 2
    campaigns = {c["name"]: c for c in report["campaigns"]}
    for name in ("sixth_coffee", "sticker_knife", "welcome_discount"):
        assert campaigns[name]["receipts"] > 0 and campaigns[name]["discount"] > 0, name
    assert campaigns["welcome_discount"]["coupons_redeemed"] > 0


def test_family_members_share_one_account(replay: Replay, journeys: ModuleType) -> None:
    rights = journeys.FAMILY["members"]
    taken: dict[str, list[int]] = {cid: [] for cid in rights}
    accrued: dict[str, int] = dict.fromkeys(rights, 0)
    for rid, outcome in replay.outcomes.items():
        cid = replay.customer[rid]
        if cid not in rights:
            continue
        shared = [c["points"] for c in outcome.changes or () if c["op"] == "take" and c["reason"] == "redeem"
                  and c["shared"]]
        if shared:
            taken[cid].append(sum(shared))
        accrued[cid] += sum(c["points"] for c in outcome.changes or () if c["op"] == "lot" and c["shared"])
        assert not [c for c in outcome.changes or () if c["op"] in ("lot", "debt") and not c["shared"]], rid
    redeemers = [cid for cid, m in rights.items() if m["redeem"]]
    assert len(redeemers) >= 2 and all(taken[cid] for cid in redeemers)  # both spent the shared points
    for cid, m in rights.items():
        if not m["redeem"]:
            assert taken[cid] == [] and accrued[cid] > 0  # accrues for the family, may not spend
        if m["redeem_limit"] is not None:
            assert max(taken[cid]) == m["redeem_limit"]
    # one shared account, the same object for every member at the end
    last = {cid: replay.states[cid][-1].shared for cid in rights}
    assert len({json.dumps(s.model_dump(mode="json"), sort_keys=True) for s in last.values() if s}) == 1


def test_coupons_certificates_and_credit_in_the_journeys(replay: Replay, journeys: ModuleType) -> None:
    statuses = {(c["status"], c["reason"]) for o in replay.outcomes.values() for c in o.coupons or ()}
    assert {("redeemed", None), ("rejected", "expired"), ("rejected", "used"), ("rejected", "unknown")} <= statuses
    sold = {c["code"] for o in replay.outcomes.values() for c in o.changes or () if c["op"] == "certificate_issue"}
    used = {c["code"] for o in replay.outcomes.values() for c in (o.payment or {}).get("certificates", ())
            if c["status"] == "used"}
    assert len(used) >= 3 and used & sold  # held ones and one bought earlier in the history
    limit = 300  # `credit 300 points` of the bonus account
    debts = [s.accounts["bonus"].debt if "bonus" in s.accounts else 0 for s in replay.states[journeys.DMITRY]]
    assert debts[0] > 0 and max(debts) <= limit and min(debts) < debts[0]  # repaid by accruals
    [transfer] = [c for rid, o in replay.outcomes.items() if replay.customer[rid] == journeys.KATYA
                  for c in o.changes or () if c["op"] == "transfer"]  # the referral, on Катя's first purchase
    assert transfer["customer"] == journeys.OLGA and transfer["points"] > 0
    lots = {lot.id for s in replay.states[journeys.OLGA] for acc in s.accounts.values() for lot in acc.lots}
    assert transfer["lot"] in lots
