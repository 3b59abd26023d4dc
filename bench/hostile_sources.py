"""How long `check_text` takes on hostile programmes as they double in size: each row should about
double too (linear), never quadruple. Prints seconds (best of two) per size.

    python bench/hostile_sources.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

from loyadsl.api import check_text

HEAD = 'programme "P" {\n    currency RUB minor 2\n    timezone "Europe/Moscow"\n}\n' \
       "group g { priority 1 stacking stack_all basis original }\n"
YAML_HEAD = "programme: {name: P, currency: RUB, minor: 2, timezone: Europe/Moscow}\n" \
            "groups: [{name: g, priority: 1, stacking: stack_all, basis: original}]\ncampaigns:\n"


def campaign(body: str) -> str:
    return HEAD + "campaign c {\n    group g\n    " + body + "\n    then discount 1% on receipt\n}\n"


SHAPES: dict[str, tuple[str, Callable[[int], str]]] = {
    "campaigns": ("t.loya", lambda k: HEAD + "".join(
        f"campaign c{i} {{\n    group g\n    then discount 1% on receipt\n}}\n" for i in range(k))),
    "YAML campaigns": ("t.yaml", lambda k: YAML_HEAD + "".join(
        f"  - {{name: c{i}, group: g, then: discount 1% on receipt}}\n" for i in range(k))),
    "escapes in a string": ("t.loya", lambda k: HEAD + 'skus a = ["' + "\\n" * (50 * k) + '"]\n'),
    "items in a list": ("t.loya", lambda k: HEAD + "skus a = [" + ",".join(f'"s{i}"' for i in range(10 * k)) + "]\n"),
    "terms of an `or`": ("t.loya", lambda k: campaign("when " + " or ".join(["receipt.lines > 1"] * k))),
    "tier branches": ("t.loya", lambda k: HEAD + "campaign c {\n    group g\n    then tiers receipt.total {\n"
                      + "".join(f"        >= {k - i}.00 RUB: discount 1% on receipt\n" for i in range(k)) + "    }\n}\n"),
    "syntax errors": ("t.loya", lambda k: HEAD + "campaign c { ??? }\n" * (10 * k)),
    "digits in numbers": ("t.loya", lambda k: campaign(" ".join(["when receipt.lines >= " + "9" * k] * 1))),
}


def seconds(text: str, file: str) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        check_text(text, file)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    sizes = (1000, 2000, 4000, 8000)
    print(f"{'shape':24}" + "".join(f"{k:>9}" for k in sizes))
    for name, (file, make) in SHAPES.items():
        print(f"{name:24}" + "".join(f"{seconds(make(k), file):9.3f}" for k in sizes), flush=True)


if __name__ == "__main__":
    main()
