"""Per-customer A/B table from Complete Journey receipts (docs/experiments.md, "On the Complete Journey").

Usage: python ab_table.py RECEIPTS.jsonl.gz ASSIGNMENTS.csv > outcomes.csv
`pre` is what the customer paid in weeks 1-26 (the covariate), `revenue` and `receipts` weeks 27-53.
"""

from __future__ import annotations

import csv
import gzip
import json
import sys
from collections import Counter


def main(receipts: str, assignments: str) -> None:
    with open(assignments, encoding="utf-8") as f:
        arm = {row["customer"]: row["arm"] for row in csv.DictReader(f)}
    pre: Counter[str] = Counter()
    revenue: Counter[str] = Counter()
    count: Counter[str] = Counter()
    with gzip.open(receipts, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            who = r["customer_id"]
            if r["week"] <= 26:
                pre[who] += r["paid_minor"]
            else:
                revenue[who] += r["paid_minor"]
                count[who] += 1
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["customer", "arm", "revenue", "receipts", "cost", "pre"])
    for who in sorted(arm):
        out.writerow([who, arm[who], revenue[who], count[who], 0, pre[who]])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
