"""Customer journeys that exercise what the «Ромашка» programme keeps between receipts.

The first 300 receipts of `receipts.jsonl` (R00000001…R00000300) and the 249 plain customers of
`customers.jsonl` come from the shared receipt generator (see README.md). This script adds the
customers whose state the programme's declarations act on, and their receipts, and rewrites both
files (idempotent: it drops what it added before):

* the Ивановы family: a shared bonus account (owner Анна; Пётр may redeem up to 300 points a
  receipt; Маша may only accrue) with a starting balance in lots, shopping interleaved in time;
* Ольга: a valid welcome coupon, presented once (redeemed) and again (already used); she referred
  Катя, whose first purchase rewards both (Ольга later spends her 300 points) and issues Катя a
  welcome coupon she presents next time;
* Игорь: an expired welcome coupon and a wrong code;
* Елена: two multi-use gift certificates (one with part of its value left), paid with in parts; she
  buys gift cards (GIFT1000, GIFTFLEX) and later pays with the one she kept;
* Сергей: points in lots, some of them expiring at the end of the quarter, redeemed, and the
  receipt returned in full;
* Дмитрий: a credit account in debt (within the 300-point limit), repaid by accruals, then
  `"redeem": {"points": "max"}`, which borrows up to the limit again (borrowing comes last);
* Марина: coffee most mornings, so the coffee card gives a free cup; Виктор: 17 stickers, two
  more receipts and a knife for 199 ₽;
* returns: one partial (the family), one full (Сергей), one of a generated receipt (R00000001).

Codes the programme makes during the history (Катя's coupon, Елена's gift card) are deterministic
(docs/state.md, section 5): the script asks the engine for them.

    python examples/supermarket/state_journeys.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loyadsl.api import compile_file
from loyadsl.runtime import Engine, load_bundle

HERE = Path(__file__).resolve().parent
GENERATED = 300  # receipts R00000001..R00000300 come from the generator
FIRST_ID = GENERATED + 1
MSK = "+03:00"

# SKUs of the generated catalogue (category, brand, price per unit or kg, kopecks), and the
# programme's own: the knife of the sticker promotion and the gift cards of `certificates gift`.
EXTRA_SKUS = {
    "SKU09001": ("household/knives", "BR045", 129990),
    "GIFT1000": ("gift_cards", "ROMASHKA", 100000),
    "GIFT3000": ("gift_cards", "ROMASHKA", 300000),
    "GIFTFLEX": ("gift_cards", "ROMASHKA", 0),
}


def catalogue() -> dict[str, tuple[str, str, int]]:
    out: dict[str, tuple[str, str, int]] = {}
    with (HERE / "receipts.jsonl").open(encoding="utf-8") as f:
        for text in f:
            for line in json.loads(text).get("lines", []):
                if "sku" in line:
                    out.setdefault(line["sku"], (line["category"], line["brand"], line["unit_price"]))
    return {**out, **EXTRA_SKUS}


CATALOGUE = catalogue()


def item(sku: str, qty: int | float = 1, price: int | None = None) -> dict[str, Any]:
    """A receipt line; ``qty`` in kg (3 decimals) for weighed goods; ``price`` for GIFTFLEX."""
    category, brand, unit_price = CATALOGUE[sku]
    unit_price = price if price is not None else unit_price
    grams = round(qty * 1000)
    amount = unit_price * grams // 1000 if grams % 1000 == 0 else (unit_price * grams + 500) // 1000
    return {"sku": sku, "category": category, "brand": brand, "qty": qty, "unit_price": unit_price,
            "amount": amount}


def at(day: str, time: str) -> str:
    return f"2025-{day}T{time}{MSK}"


def lot(lid: str, points: int, left: int, active_from: str, expires: str, campaign: str) -> dict[str, Any]:
    return {"id": lid, "points": points, "left": left, "active_from": active_from, "expires": expires,
            "receipt": lid.split(":")[0], "campaign": campaign}


def account(*lots: dict[str, Any], debt: int = 0) -> dict[str, Any]:
    return {"balance": sum(x["left"] for x in lots) - debt, "debt": debt, "lots": list(lots)}


# --------------------------------------------------------------------------------------- customers

ANNA, PETR, MASHA = "C00000101", "C00000102", "C00000103"
OLGA, KATYA, IGOR, ELENA = "C00000201", "C00000202", "C00000301", "C00000401"
SERGEY, DMITRY, MARINA, VIKTOR = "C00000501", "C00000601", "C00000701", "C00000801"

FAMILY = {
    "id": "FAM-IVANOV", "owner": ANNA,
    "members": {ANNA: {"accrue": True, "redeem": True, "redeem_limit": None},
                PETR: {"accrue": True, "redeem": True, "redeem_limit": 300},
                MASHA: {"accrue": True, "redeem": False, "redeem_limit": None}},
    "accounts": {"bonus": account(
        lot("H1001:bonus:base_cashback", 1500, 1500, "2024-11-24T10:00:00+03:00", "2025-04-01T00:00:00+03:00",
            "base_cashback"),
        lot("H1002:bonus:base_cashback", 900, 600, "2025-01-04T12:00:00+03:00", "2025-07-01T00:00:00+03:00",
            "base_cashback"))},
}


def person(cid: str, name: str, tier: str, receipts: int, registered: str, **rest: Any) -> dict[str, Any]:
    return {"id": cid, "registered": registered, "tier": tier, "segments": rest.pop("segments", []),
            "attributes": {"city": "Москва", "name": name}, "receipts": receipts, **rest}


CUSTOMERS: list[dict[str, Any]] = [
    person(ANNA, "Анна Иванова", "silver", 38, "2023-05-14", segments=["young_family"], shared=FAMILY,
           qualification={"period": "2025-Q1", "value": 0, "previous": 1720000}),
    person(PETR, "Пётр Иванов", "bronze", 21, "2023-05-14", shared=FAMILY),
    person(MASHA, "Маша Иванова", "bronze", 9, "2024-09-01", shared=FAMILY),
    person(OLGA, "Ольга Смирнова", "bronze", 1, "2025-02-01",
           coupons=[{"code": "WEL-7K2M9QXA", "series": "welcome", "issued": "2025-02-01T18:40:00+03:00",
                     "valid_from": "2025-02-01T18:40:00+03:00", "valid_to": "2025-03-03T18:40:00+03:00",
                     "uses_left": 1}]),
    person(KATYA, "Катя Смирнова", "bronze", 0, "2025-02-27",
           referral={"referred_by": OLGA, "rewarded": False}),
    person(IGOR, "Игорь Петров", "bronze", 4, "2024-12-20",
           coupons=[{"code": "WEL-D4HN2RVC", "series": "welcome", "issued": "2024-12-20T11:05:00+03:00",
                     "valid_from": "2024-12-20T11:05:00+03:00", "valid_to": "2025-01-19T11:05:00+03:00",
                     "uses_left": 1}],
           coupon_uses={"welcome": 0}),
    person(ELENA, "Елена Кузнецова", "silver", 57, "2022-03-08",
           certificates=[{"code": "GIFT-K3Q9X2M7PA", "series": "gift", "value": 300000, "balance": 120000,
                          "expires": "2025-10-15T12:00:00+03:00", "multi_use": True},
                         {"code": "GIFT-B7N4T8R2WD", "series": "gift", "value": 100000, "balance": 100000,
                          "expires": "2025-12-20T19:30:00+03:00", "multi_use": True}]),
    person(SERGEY, "Сергей Волков", "silver", 64, "2021-11-02",
           accounts={"bonus": account(
               lot("H5001:bonus:base_cashback", 640, 640, "2024-10-20T09:15:00+03:00", "2025-04-01T00:00:00+03:00",
                   "base_cashback"),
               lot("H5002:bonus:base_cashback", 410, 410, "2025-01-10T17:45:00+03:00", "2025-07-01T00:00:00+03:00",
                   "base_cashback")),
               "promo": account(
               lot("H5003:promo:weekend_points", 50, 50, "2025-02-22T13:00:00+03:00", "2025-03-24T13:00:00+03:00",
                   "weekend_points"))}),
    person(DMITRY, "Дмитрий Орлов", "bronze", 12, "2024-06-30",
           accounts={"bonus": account(debt=250)}),
    person(MARINA, "Марина Белова", "bronze", 30, "2024-02-11", segments=["coffee_lovers"]),
    person(VIKTOR, "Виктор Соколов", "bronze", 15, "2024-08-19",
           counters={"stickers": {"value": 17, "period": "all"}}),
]

# ---------------------------------------------------------------------------------------- receipts

FAMILY_BASKET = [item("SKU00803", 2), item("SKU00306", 0.412), item("SKU01171", 1.25), item("SKU00004", 3),
                 item("SKU00574", 2), item("SKU03245", 2), item("SKU01601"), item("SKU03486", 2)]

# (key, customer, local time, store, lines, extra receipt fields); a key names a receipt for a return.
Purchase = tuple[str, str, str, str, list[dict[str, Any]], dict[str, Any]]
PURCHASES: list[Purchase] = [
    ("anna1", ANNA, at("01-11", "11:20:00"), "S002", FAMILY_BASKET, {"redeem": {"points": "max"}}),
    ("masha1", MASHA, at("01-14", "16:45:00"), "S002",
     [item("SKU02172", 2), item("SKU02558", 2), item("SKU01887"), item("SKU03148")], {}),
    ("petr1", PETR, at("01-18", "19:05:00"), "S005",
     [item("SKU00803"), item("SKU00932", 2), item("SKU01473", 3), item("SKU02788"), item("SKU03334"),
      item("SKU00150", 4)], {"redeem": {"points": 300}}),
    ("masha2", MASHA, at("02-02", "13:30:00"), "S002",
     [item("SKU02184", 2), item("SKU01894", 3), item("SKU02455", 2), item("SKU03682")], {}),
    ("petr2", PETR, at("02-08", "18:10:00"), "S005",
     [item("SKU00790", 2), item("SKU03247", 2), item("SKU01802"), item("SKU00320", 2), item("SKU03593")],
     {"redeem": {"points": 300}}),
    ("anna2", ANNA, at("02-22", "10:40:00"), "S002", [*FAMILY_BASKET[:6], item("SKU03763", 2)],
     {"redeem": {"points": 500}}),
    ("masha3", MASHA, at("03-15", "15:20:00"), "S011",
     [item("SKU02173", 3), item("SKU02029", 3), item("SKU03162", 2)], {}),
    ("petr3", PETR, at("03-29", "12:00:00"), "S005",
     [item("SKU00803", 2), item("SKU01799"), item("SKU03911", 4), item("SKU00431", 2)], {"redeem": {"points": 300}}),
    ("anna3", ANNA, at("06-07", "11:05:00"), "S002", FAMILY_BASKET, {"redeem": {"points": 600}}),
    # Ольга's coupon, presented twice; Катя, whom she referred: first purchase, then her own coupon
    ("olga1", OLGA, at("02-14", "18:25:00"), "S003",
     [item("SKU01085", 0.734), item("SKU00436", 2), item("SKU01890", 2), item("SKU02460", 2), item("SKU03588")],
     {"coupons": ["WEL-7K2M9QXA"]}),
    ("katya1", KATYA, at("03-01", "12:15:00"), "S003",
     [item("SKU00803"), item("SKU00145", 3), item("SKU00577"), item("SKU02035", 2)], {}),
    ("olga2", OLGA, at("02-27", "19:40:00"), "S003",
     [item("SKU00792", 2), item("SKU01474", 2), item("SKU03343")], {"coupons": ["WEL-7K2M9QXA"]}),
    ("katya2", KATYA, at("03-12", "18:50:00"), "S003",
     [item("SKU00798", 1.105), item("SKU01287", 0.96), item("SKU02462", 2), item("SKU03689", 2)],
     {"coupons": ["{katya_coupon}"], "redeem": {"points": 200}}),
    ("olga3", OLGA, at("04-05", "17:35:00"), "S003",
     [item("SKU00803", 2), item("SKU03915"), item("SKU01709")], {"redeem": {"points": 400}}),
    # Игорь: an expired coupon, then a code nobody was given
    ("igor1", IGOR, at("02-15", "14:05:00"), "S017",
     [item("SKU00789", 0.85), item("SKU01372"), item("SKU02654", 6)], {"coupons": ["WEL-D4HN2RVC"]}),
    ("igor2", IGOR, at("03-22", "13:25:00"), "S017",
     [item("SKU00803"), item("SKU01610", 2), item("SKU03336")], {"coupons": ["WEL-XXXXXXXX"]}),
    # Елена: gift certificates
    ("elena1", ELENA, at("04-12", "12:30:00"), "S004",
     [item("SKU00803"), item("SKU01802"), item("SKU00313", 0.3)], {"certificates": [{"code": "GIFT-K3Q9X2M7PA"}]}),
    ("elena2", ELENA, at("05-20", "18:00:00"), "S004",
     [item("SKU00790"), item("SKU01695"), item("SKU03593")],
     {"certificates": [{"code": "GIFT-B7N4T8R2WD", "amount": 50000}]}),
    # gift cards bought on their own on a weekday: the programme's receipt offers and weekend points
    # would otherwise apply to them (a card is worth what is paid for its line)
    ("elena3", ELENA, at("06-25", "16:10:00"), "S004", [item("GIFT1000"), item("GIFTFLEX", price=140000)], {}),
    ("elena4", ELENA, at("09-06", "11:45:00"), "S004",
     [item("SKU00803", 2), item("SKU01799"), item("SKU00320", 2), item("SKU03682")],
     {"certificates": [{"code": "GIFT-B7N4T8R2WD"}, {"code": "{elena_card}", "amount": 100000}]}),
    # Сергей: points in lots, redeemed, the receipt returned; the rest of the oldest lot expires
    ("sergey1", SERGEY, at("03-08", "10:20:00"), "S001",
     [item("SKU00803", 2), item("SKU00306", 0.5), item("SKU01695"), item("SKU02458", 2)], {"redeem": {"points": 400}}),
    ("sergey2", SERGEY, at("05-17", "12:50:00"), "S001",
     [item("SKU00790"), item("SKU01601"), item("SKU02460", 3)], {"redeem": {"points": 400}}),
    # Дмитрий: in debt; accrues (repaying), then redeems a little (borrowing at the end)
    ("dmitry1", DMITRY, at("04-19", "20:15:00"), "S025",
     [item("SKU00803", 2), item("SKU03247", 2), item("SKU03334"), item("SKU01601"), item("SKU03593")], {}),
    ("dmitry2", DMITRY, at("05-24", "19:30:00"), "S025",
     [item("SKU00790"), item("SKU01372"), item("SKU02184")], {"redeem": {"points": "max"}}),
    ("dmitry3", DMITRY, at("06-17", "12:10:00"), "S025", [item("GIFT1000")], {}),
    # Виктор: stickers to 20+, then the knife
    ("viktor1", VIKTOR, at("03-29", "17:00:00"), "S020",
     [item("SKU00803", 2), item("SKU01799"), item("SKU01695")], {}),
    ("viktor2", VIKTOR, at("04-26", "11:30:00"), "S020", [item("SKU09001"), item("SKU01372"), item("SKU00004")], {}),
]

# Марина: a coffee (sometimes two, sometimes with a croissant) on weekday mornings in spring
COFFEE_DAYS = ["04-01", "04-03", "04-08", "04-10", "04-15", "04-17", "04-22", "04-24", "04-29", "05-06",
               "05-13", "05-15"]
for n, day in enumerate(COFFEE_DAYS):
    lines = [item(("SKU00763", "SKU00765", "SKU00767")[n % 3], 2 if n % 4 == 1 else 1)]
    if n % 3 == 0:
        lines.append(item("SKU00781"))
    PURCHASES.append((f"marina{n + 1}", MARINA, at(day, f"08:{10 + n * 3:02d}:00"), "S033", lines, {}))

# (customer, local time, store, the receipt returned, {line_no: qty} or None for all of it)
Return = tuple[str, str, str, str, dict[int, int] | None]
RETURNS: list[Return] = [
    (PETR, at("02-12", "17:30:00"), "S005", "petr2", {5: 1}),
    (SERGEY, at("03-11", "09:40:00"), "S001", "sergey1", None),
    ("C90717022", at("03-29", "15:10:00"), "S033", "R00000001", {1: 1, 6: 1}),
]


def number_lines(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"line_no": i, **line} for i, line in enumerate(lines, 1)]


def build() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The customers and receipts of the journeys (receipts in time order, ids after the generated ones)."""
    order = sorted([(p[2], 0, i) for i, p in enumerate(PURCHASES)] + [(r[1], 1, i) for i, r in enumerate(RETURNS)])
    ids: dict[str, str] = {}
    receipts: list[dict[str, Any]] = []
    for n, (when, kind, index) in enumerate(order, FIRST_ID):
        rid = f"R{n:08d}"
        if kind == 0:
            key, customer, _, store, lines, extra = PURCHASES[index]
            ids[key] = rid
            receipts.append({"receipt_id": rid, "customer_id": customer, "datetime": when, "store_id": store,
                             "lines": number_lines(lines), **json.loads(json.dumps(extra))})
        else:
            customer, _, store, original, returned = RETURNS[index]
            back = [{"line_no": ln, "qty": q} for ln, q in sorted(returned.items())] if returned else []
            receipts.append({"receipt_id": rid, "customer_id": customer, "datetime": when, "store_id": store,
                             "return_of": ids.get(original, original), "lines": back})
    codes = made_codes(receipts, ids)
    for r in receipts:
        if "coupons" in r:
            r["coupons"] = [c.format(**codes) for c in r["coupons"]]
        for cert in r.get("certificates", []):
            cert["code"] = cert["code"].format(**codes)
    return CUSTOMERS, receipts


def made_codes(receipts: list[dict[str, Any]], ids: dict[str, str]) -> dict[str, str]:
    """The codes the programme gives during the history: the welcome coupon of Катя's first purchase
    and the GIFT1000 card Елена buys (the code depends on the receipt id and line only)."""
    data, result = compile_file(HERE / "programme.loya")
    assert data is not None, result.diagnostics
    engine = Engine(load_bundle(data))
    by_id = {r["receipt_id"]: r for r in receipts}
    katya = next(c for c in CUSTOMERS if c["id"] == KATYA)
    first = engine.evaluate(by_id[ids["katya1"]], katya)
    [coupon] = [c["code"] for c in first.changes or () if c["op"] == "coupon_issue"]
    bought = engine.evaluate(by_id[ids["elena3"]], {"id": ELENA})
    [card] = [c["code"] for c in bought.changes or () if c["op"] == "certificate_issue" and c["lines"][0][0] == 1]
    return {"katya_coupon": coupon, "elena_card": card}


def main() -> None:
    customers, receipts = build()
    ours = {c["id"] for c in customers}
    # the generated records are kept as they are, byte for byte; the journeys' are written anew
    with (HERE / "customers.jsonl").open(encoding="utf-8") as f:
        lines = {c["id"]: text for text in f for c in [json.loads(text)] if c["id"] not in ours}
    plain = len(lines)
    lines.update({c["id"]: json.dumps(c, ensure_ascii=False) + "\n" for c in customers})
    (HERE / "customers.jsonl").write_text("".join(lines[cid] for cid in sorted(lines)), encoding="utf-8")
    with (HERE / "receipts.jsonl").open(encoding="utf-8") as f:
        generated = [text for text in f if int(json.loads(text)["receipt_id"][1:]) <= GENERATED]
    added = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in receipts]
    (HERE / "receipts.jsonl").write_text("".join([*generated, *added]), encoding="utf-8")
    print(f"{plain} + {len(customers)} customers, {len(generated)} + {len(receipts)} receipts")


if __name__ == "__main__":
    main()
