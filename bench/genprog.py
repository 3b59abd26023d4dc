"""Generate large, realistic programmes for the compile and evaluation benchmarks.

Campaigns cycle through every mechanic the language has, over the generator's real categories,
brands, SKUs and stores, so the programme looks like a big retailer's rather than N copies of one rule.
"""

from __future__ import annotations

import random

TOPS = ["dairy", "bakery", "cafe", "meat", "fish", "produce", "grocery", "sweets", "snacks", "beverages",
        "alcohol", "frozen", "household", "personal_care", "baby", "pet"]
LEAVES = ["dairy/milk", "dairy/cheese", "bakery/bread", "cafe/coffee", "cafe/croissant", "meat/sausages",
          "produce/fruits", "grocery/tea", "sweets/chocolate", "snacks/chips", "beverages/juice", "frozen/ice_cream"]

HEADER = """programme "Generated {n}" version "1" {{
    currency RUB minor 2
    points minor 0 value 1.00 RUB
    timezone "Europe/Moscow"
    allocation largest_remainder
}}

group personal {{ priority 400 stacking best_for_customer basis original }}
group promo {{ priority 300 stacking stack_all basis original }}
group exclusive {{ priority 200 stacking first_by_priority basis discounted }}
group receipt_offers {{ priority 100 stacking stack_up_to 2 basis discounted }}
group points {{ priority 50 stacking stack_all basis discounted }}
"""


def _skus(rng: random.Random, k: int) -> str:
    return "[" + ", ".join(f'"SKU{rng.randrange(1, 4001):05d}"' for _ in range(k)) + "]"


def _stores(rng: random.Random) -> str:
    return "[" + ", ".join(f'"S{s:03d}"' for s in sorted(rng.sample(range(1, 51), rng.randint(3, 20)))) + "]"


def campaign(i: int, rng: random.Random) -> str:
    top = rng.choice(TOPS)
    leaf = rng.choice(LEAVES)
    brand = f"BR{rng.randrange(1, 161):03d}"
    pct = rng.choice([3, 5, 7, 10, 15, 20, 25])
    kind = i % 12
    body: list[str]
    if kind == 0:
        body = ["group promo", f"then discount {pct}% on lines where category \"{top}\""]
    elif kind == 1:
        body = ["group promo", f"when units(lines where sku in {_skus(rng, 30)}) >= 3",
                "then free 1 in 3 units of lines where sku in " + _skus(rng, 30)]
    elif kind == 2:
        body = ["group promo", "then combo {", f"    first: 1 of lines where category \"{leaf}\"",
                f"    second: 1 of lines where category \"{rng.choice(LEAVES)}\"", f"}} discount {pct}% on second"]
    elif kind == 3:
        body = ["group exclusive", f"priority {rng.randint(0, 100)}",
                f"when receipt.total >= {rng.randint(5, 50) * 100}.00 RUB",
                f"then discount {pct}% on receipt", "max discount 1000.00 RUB per receipt"]
    elif kind == 4:
        body = ["group receipt_offers", "then tiers receipt.payable {",
                "    >= 5000.00 RUB: discount 300.00 RUB on receipt", "    >= 2000.00 RUB: discount 100.00 RUB on receipt", "}"]
    elif kind == 5:
        body = ["group points", f"then accrue {rng.choice([1, 2, 3, 5])}% on lines where not category \"tobacco\""]
    elif kind == 6:
        body = ["group points", f"stores {_stores(rng)}", "audience customer.known",
                f"then accrue 10% on lines where brand \"{brand}\""]
    elif kind == 7:
        body = ["group promo", "weekdays mon..fri", f"hours {rng.randint(7, 12):02d}:00 .. {rng.randint(14, 22):02d}:00",
                f"then discount {pct}% on lines where category \"{top}\" and price >= {rng.randint(1, 5) * 50}.00 RUB"]
    elif kind == 8:
        body = ["group personal", f"audience customer.tier == \"{rng.choice(['gold', 'silver'])}\"",
                f"then discount {pct}% on lines where category \"{top}\" or brand \"{brand}\""]
    elif kind == 9:
        body = ["group promo", f"then price {rng.randint(3, 9)}9.90 RUB on lines where sku in {_skus(rng, 10)}"]
    elif kind == 10:
        body = ["group promo", f"when count(lines where category \"{top}\") >= 2",
                f"then free cheapest 1 unit of lines where category \"{top}\""]
    else:
        body = ["group points", f"valid 2025-{rng.randint(1, 6):02d}-01 .. 2025-{rng.randint(7, 12):02d}-28",
                "audience customer.known", f"then accrue {rng.randint(1, 5) * 10} points on lines where category \"{leaf}\""]
    inner = "\n".join("    " + line for line in body)
    return f'campaign c{i:05d} "Кампания {i}" {{\n{inner}\n}}\n'


def programme(n: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    return HEADER.format(n=n) + "\n" + "\n".join(campaign(i, rng) for i in range(n))


def targeted(n: int, seed: int = 1) -> str:
    """A programme of ``n`` product promotions, each on a few of the generator's 4,000 SKUs (as a
    retailer's weekly flyer is): on a receipt only the campaigns of its SKUs can apply, so the time
    should grow with those, not with ``n``."""
    rng = random.Random(seed)
    out = [HEADER.format(n=n)]
    for i in range(n):
        skus = _skus(rng, rng.randint(2, 8))
        action = rng.choice([f"discount {rng.choice([5, 10, 15, 20])}% on lines where sku in {skus}",
                             f"free 1 in 3 units of lines where sku in {skus}",
                             f"accrue {rng.choice([2, 5, 10])}% on lines where sku in {skus}"])
        group = "points" if action.startswith("accrue") else "promo"
        out.append(f'campaign t{i:05d} "Акция {i}" {{\n    group {group}\n    then {action}\n}}\n')
    return "\n".join(out)
