"""The backtest report as text for people (the JSON form is the report itself)."""

from __future__ import annotations

from typing import Any


def ci(d: dict[str, float], digits: int = 3) -> str:
    return f"{d['mean']:.{digits}f} [{d['low']:.{digits}f}, {d['high']:.{digits}f}]"


def arm_lines(name: str, r: dict[str, Any]) -> list[str]:
    red = r["redemption"]
    n = r["customers"]
    out = [f"{name}: {r['offers']['offer']:,} offers to {n['offer']:,} customers ({r['offers']['holdout']:,} to "
           f"{n['holdout']:,} in holdout), used "
           f"{red['offer'] or 0:.1%} (holdout would-be {red['holdout'] or 0:.1%}), cost {r['cost_offer_arm']:,}"]
    for key in ("incremental_revenue", "incremental_margin"):
        u = r.get(key)
        if u:
            out.append(f"  {key.replace('_', ' ')}: {u['total']:+,.0f} [{u['total_low']:+,.0f}, "
                       f"{u['total_high']:+,.0f}] (per customer {u['per_customer']:+.1f}, p {u['p']:.3g})")
    return out


def margin_verdict(rankings: dict[str, Any]) -> str | None:
    """Which ranking's offers had the highest incremental margin, and whether any interval excludes 0:
    said plainly, whichever ranking it is."""
    margins = {name: r["incremental_margin"] for name, r in rankings.items() if r.get("incremental_margin")}
    if len(margins) < len(rankings):
        return None
    best = max(margins, key=lambda name: margins[name]["total"])
    clear = [name for name, m in margins.items() if m["total_low"] > 0 or m["total_high"] < 0]
    return (f"incremental margin: highest with the categories of {best} ({margins[best]['total']:+,.0f}); "
            + (f"intervals that exclude 0: {', '.join(clear)}" if clear else
               "no interval excludes 0: no ranking's offers are shown to pay"))


def lines(report: dict[str, Any]) -> list[str]:
    h, cal, t = report["hits"], report["calibration"], report.get("timing", {})
    bg = report["bgnbd"]
    out = [f"backtest: fit before {report['cut']} ({report['train']['customers']:,} customers, "
           f"{report['train']['purchases']:,} purchase days), replay {report['weeks']} weeks "
           f"({report['test']['customers']:,} customers bought, {report['test']['purchases']:,} purchase days)",
           f"BG/NBD r {bg['r']:.4g} alpha {bg['alpha']:.4g} a {bg['a']:.4g} b {bg['b']:.4g}",
           f"categories at k={h['k']} over {h['customers']:,} customers who bought (mean, 95% interval):"]
    for method in ("model", "popular", "own"):
        out.append(f"  {method:8} precision@{h['k']} {ci(h[method]['precision'])}  recall@{h['k']} "
                   f"{ci(h[method]['recall'])}")
    for base in ("popular", "own"):
        d = h[f"model_vs_{base}"]
        verdict = "model better" if d["low"] > 0 else f"{base} better" if d["high"] < 0 else "no clear winner"
        out.append(f"  model - {base}: {d['diff']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}], p {d['p']:.3g}: {verdict}")
    out.append(f"calibration: predicted {cal['predicted_total']:,.0f} purchase days, actual {cal['actual_total']:,.0f}; "
               "by decile of prediction (predicted/actual): "
               + " ".join(f"{b['predicted']:.2f}/{b['actual']:.2f}" for b in cal["bins"]))
    out.append(f"offers (margin {report['margin']}; money in minor units; offer arm vs holdout: "
               f"{report['strategy']['method']}):")
    out += arm_lines("strategy", report["strategy"])
    for name, r in report["rankings"].items():
        out += arm_lines(f"same offers, categories by {name}", r)
    said = margin_verdict(report["rankings"])
    if said:
        out.append(said)
    out.append("note: the history never saw these offers, so the revenue difference is an A/A check (its "
               "interval should hold 0) and the margin is net of discounts on purchases made anyway.")
    out += [f"warning: {w}" for w in report["warnings"]]
    if t:
        out.append(f"time: read {t['read_s']} s, total {t['total_s']} s; peak memory {t['peak_mb']} MB")
    return out
