"""The bytecode verifier (runtime/verify.py): every fault is LOY405 and names where it is."""

from __future__ import annotations

from typing import Any

import pytest
from rt_asm import TRUE, Assembler, campaign, cat_in, payload, sku_in

from loyadsl.runtime import BundleError, Engine, load_bundle, pack_bundle


def bundle_with(actions: list[tuple[Any, ...]], **kw: Any) -> dict[str, Any]:
    return payload([campaign("x", actions, **kw)])


def raw_actions(p: dict[str, Any], code: list[list[Any]]) -> dict[str, Any]:
    """Replace campaign 0's actions with raw instructions and fix the declared cost so only the code is wrong."""
    asm = Assembler()
    asm.constants, asm.predicates = p["constants"], p["predicates"]
    p["campaigns"][0]["actions"] = code
    try:
        fixed, per_line = asm.cost(code)
    except (KeyError, IndexError, TypeError):
        fixed, per_line = len(code), 0
    p["campaigns"][0]["cost"] = p["cost"] = {"fixed": fixed, "per_line": per_line}
    return p


def verify_error(p: dict[str, Any]) -> BundleError:
    with pytest.raises(BundleError) as info:
        load_bundle(pack_bundle(p))
    assert info.value.code == "LOY405", info.value.message
    return info.value


def test_a_good_bundle_verifies() -> None:
    load_bundle(pack_bundle(bundle_with([("CONST", 5), ("DISCOUNT_AMOUNT", TRUE)])))


# constants of bundle_with's payload: 0 -> 1, 1 -> True
@pytest.mark.parametrize(
    ("code", "says"),
    [
        ([["JUMP", 3], ["RET"]], "unknown instruction 'JUMP'"),
        ([["ADD"], ["RET"]], "stack underflow"),
        ([["CONST", 1], ["END"], ["RET"]], "END without a matching"),
        ([["CONST", 1], ["IF"], ["RET"]], "IF is not closed"),
        ([["ELSE"], ["RET"]], "ELSE without a matching IF"),
        ([["CONST", 0], ["DISCOUNT_AMOUNT", 0]], "does not end with RET"),
        ([["RET"], ["RET"]], "RET must be the last"),
        ([["CONST", 0], ["RET"]], "must leave nothing"),
        ([["CONST", 99], ["DISCOUNT_AMOUNT", 0], ["RET"]], "no constant 99"),
        ([["CONST", 0], ["DISCOUNT_AMOUNT", 42], ["RET"]], "no predicate 42"),
        ([["CONST", 0], ["DISCOUNT_AMOUNT", "0"], ["RET"]], "must be an index"),
        ([["CONST", 0], ["DISCOUNT_AMOUNT"], ["RET"]], "needs an operand"),
        ([["ADD", 1], ["RET"]], "takes no operand"),
        ([["LINE", "sku"], ["RET"]], "LINE is not allowed in a actions block"),
        ([["RECEIPT", "colour"], ["RET"]], "unknown field 'colour'"),
        ([["CONST", 0], ["CONST", 0], ["MULDIV", [0, "floor"]], ["RET"]], "denominator > 0"),
        ([["CONST", 0], ["CONST", 0], ["MULDIV", [100, "up"]], ["RET"]], "rounding mode"),
        ([["CONST", 0], ["NOT"], ["RET"]], "expects bool on the stack, found int"),
        ([["CUSTOMER", "known"], ["CONST", 0], ["EQ"], ["IF"], ["END"], ["RET"]], "expects int on the stack, found bool"),
        ([["CONST", 0], ["CONST", 0], ["SUBSET_ANY"], ["RET"]], "expects set on the stack, found int"),
    ],
)
def test_bad_bytecode(code: list[list[Any]], says: str) -> None:
    p = bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)])
    assert p["constants"][:2] == [1, True]
    err = verify_error(raw_actions(p, code))
    assert says in err.message
    assert err.where is not None and err.where.startswith("campaigns[0] (x) actions")


def test_messages_name_campaign_block_and_instruction() -> None:
    p = bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)])
    err = verify_error(raw_actions(p, [["CONST", 0], ["CONST", 0], ["ADD"], ["NEG"], ["LINE", "sku"], ["RET"]]))
    assert err.where == "campaigns[0] (x) actions, instruction 4 (LINE)"


def test_line_in_a_condition_block() -> None:
    err = verify_error(bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)],
                                   condition=[("LINE", "amount"), ("CONST", 1), ("GT",)]))
    assert "LINE is not allowed in a condition block" in err.message and "condition" in (err.where or "")


def test_aggregate_inside_a_predicate() -> None:
    err = verify_error(bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", [("SUM", TRUE), ("CONST", 1), ("GT",)])]))
    assert "SUM is not allowed in a predicate block" in err.message and (err.where or "").startswith("predicates[")


def test_actions_inside_a_predicate_or_a_condition() -> None:
    err = verify_error(bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)],
                                   condition=[("CONST", 1), ("DISCOUNT_AMOUNT", TRUE), ("CONST", True)]))
    assert "DISCOUNT_AMOUNT is not allowed in a condition block" in err.message


def test_wrong_constant_kinds() -> None:
    p = bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)])
    p["constants"].append(7)
    seven = len(p["constants"]) - 1
    err = verify_error(raw_actions(p, [["CUSTOMER_ATTR", seven], ["CONST", seven], ["EQ"], ["IF"], ["END"], ["RET"]]))
    assert "must be a str, is int" in err.message
    combo = bundle_with([("CONST", 5), ("COMBO", {"parts": [(sku_in("A"), 1)], "reward": "amount_per_set"})])
    index = next(i for i, k in enumerate(combo["constants"]) if isinstance(k, dict) and "combo" in k)
    err = verify_error(raw_actions(combo, [["CONST", index], ["CONST", 1], ["DISCOUNT_AMOUNT", 0], ["RET"]]))
    assert "a combo, which CONST cannot load" in err.message
    err = verify_error(raw_actions(combo, [["CONST", 1], ["COMBO", 0], ["RET"]]))
    assert "is not a combo" in err.message


def test_structured_control() -> None:
    one, t = 0, 1  # bundle_with's constants: [1, True]
    bad = [
        ([["CONST", t], ["AND"], ["CONST", one], ["END"], ["IF"], ["END"], ["RET"]], "push exactly one bool, pushes [int]"),
        ([["CONST", t], ["AND"], ["CONST", t], ["CONST", t], ["END"], ["IF"], ["END"], ["RET"]], "exactly one bool"),
        ([["CONST", t], ["IF"], ["CONST", one], ["ELSE"], ["END"], ["RET"]], "same stack: [int] vs nothing"),
        ([["CONST", t], ["IF"], ["CONST", one], ["ELSE"], ["CONST", t], ["END"], ["RET"]], "same stack"),
        ([["CONST", t], ["IF"], ["CONST", one], ["END"], ["RET"]], "must leave the same stack"),
        ([["CONST", one], ["CONST", t], ["IF"], ["NEG"], ["END"], ["RET"]], "outside its IF block"),
        ([["CONST", t], ["CONST", t], ["AND"], ["NOT"], ["END"], ["RET"]], "outside its AND block"),
        ([["CONST", t], ["IF"], ["ELSE"], ["ELSE"], ["END"], ["RET"]], "ELSE without a matching IF"),
    ]
    for code, says in bad:
        err = verify_error(raw_actions(bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)]), code))
        assert says in err.message, (code, err.message)
    deep = [["CONST", t], ["IF"]] * 65 + [["END"]] * 65 + [["RET"]]
    assert "nested deeper than 64" in verify_error(raw_actions(bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)]),
                                                               deep)).message


def test_final_stack_of_boolean_blocks() -> None:
    err = verify_error(bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], audience=[("CONST", 5)]))
    assert "audience block must leave [bool]" in err.message
    err = verify_error(bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", [("CONST", True), ("CONST", True)])]))
    assert "predicate block must leave [bool]" in err.message


def test_cost_must_match_the_code() -> None:
    p = bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", cat_in("dairy"))])
    p["campaigns"][0]["cost"]["per_line"] += 1
    p["cost"]["per_line"] += 1
    assert "declares cost" in verify_error(p).message
    p = bundle_with([("CONST", 1), ("DISCOUNT_AMOUNT", cat_in("dairy"))])
    p["cost"]["fixed"] += 1
    assert "the bundle declares cost" in verify_error(p).message


def test_verified_hostile_code_compiles() -> None:
    """Deep (but verified) expressions and long chains still compile: the JIT spills into temporaries."""
    deep: list[tuple[Any, ...]] = [("CONST", 1)] + [("NEG",)] * 500 + [("CONST", 0), ("LT",)]
    chain: list[tuple[Any, ...]] = [("CONST", True)]
    for _ in range(300):
        chain += [("AND",), ("CONST", True)]
    chain += [("END",)] * 300
    nested: list[tuple[Any, ...]] = [("CONST", 2)]
    for _ in range(300):
        nested += [("CONST", 3), ("ADD",)]
    nested += [("CONST", 0), ("GT",)]
    engine = Engine.from_bytes(pack_bundle(payload([
        campaign("deep", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], condition=deep),
        campaign("chain", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], condition=chain),
        campaign("nested", [("CONST", 1), ("DISCOUNT_AMOUNT", TRUE)], condition=nested),
    ])))
    from rt_asm import line, receipt

    outcome = engine.evaluate(receipt(line("A", 100)))
    assert outcome.applied == ("chain", "nested")
    assert [r.reason for r in outcome.rejected] == ["condition_false"]
