"""`loya ab`: arm assignment for CRM export and sample-size planning (docs/experiments.md).

`assign` puts customer ids into arms with the runtime's own hash (runtime/experiments.py), so a CRM
export agrees with what the till does. `plan` sizes an experiment with statsmodels' power analysis
for a two-sample t-test (imported lazily; missing extra -> LOY721).
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import math
import re
import sys
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

from loyadsl import i18n
from loyadsl.cli_errors import coded_failures
from loyadsl.runtime import LoyaError
from loyadsl.runtime.experiments import BUCKETS, Arm, arm_of

BAD_VALUE = "LOY720"  # an `ab` option value that cannot be used
NO_EXTRA = "LOY721"  # the `ab` extra (scipy, statsmodels) is not installed

ab = typer.Typer(help="A/B experiments: assign customers to arms, plan sample sizes.", no_args_is_help=True)


class Table(StrEnum):
    csv = "csv"
    json = "json"


class Output(StrEnum):
    text = "text"
    json = "json"


class Method(StrEnum):
    welch = "welch"
    bootstrap = "bootstrap"


def parse_arm(spec: str) -> Arm:
    """`NAME=PERCENT` (up to two decimals, e.g. `offer=33.33`) as an Arm with basis points."""
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_-]*)=(\d{1,3}(?:\.\d{1,2})?)", spec)
    if match is None:
        raise LoyaError(BAD_VALUE, f"`{spec}` is not NAME=PERCENT (e.g. offer=50 or control=33.34)", "--arm")
    return Arm(match[1], int(Decimal(match[2]) * 100))


def parse_arms(specs: list[str]) -> list[Arm]:
    arms = [parse_arm(s) for s in specs]
    names = [a.name for a in arms]
    if len(arms) < 2 or len(set(names)) != len(names):
        raise LoyaError(BAD_VALUE, f"give two or more arms with distinct names, not {names}", "--arm")
    total = sum(a.weight for a in arms)
    if total != BUCKETS:
        raise LoyaError(BAD_VALUE, f"arm weights sum to {Decimal(total) / 100}%, not 100%", "--arm")
    return arms


def read_ids(path: Path) -> list[str]:
    """One customer id a line; blank lines are skipped, surrounding spaces dropped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoyaError("LOY407", f"cannot read customer ids: {exc}", str(path)) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def assignments(ids: list[str], experiment: str, salt: str, arms: list[Arm], fmt: Table) -> str:
    rows = [(cid, experiment, arm_of(arms, salt, cid)) for cid in ids]
    if fmt is Table.json:
        return json.dumps([{"customer": c, "experiment": e, "arm": a} for c, e, a in rows], ensure_ascii=False) + "\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["customer", "experiment", "arm"])
    writer.writerows(rows)
    return buf.getvalue()


LangOpt = Annotated[str | None, typer.Option(
    "--lang", envvar="LOYA_LANG", help="en or ru: the text in that language, money and numbers formatted for it "
                                       "(needs loyadsl[i18n]); default: the locale's language (LANG), else English")]


@ab.command("assign")
def assign_cmd(
    ids: Annotated[Path, typer.Argument(help="customer ids, one a line")],
    salt: Annotated[str, typer.Option(help="the experiment's salt")],
    arm: Annotated[list[str], typer.Option(help="NAME=PERCENT, in declared order (repeat)")],
    experiment: Annotated[str | None, typer.Option(help="experiment name in the output (default: the salt)")] = None,
    fmt: Annotated[Table, typer.Option("--format", "-f", help="csv or json")] = Table.csv,
) -> None:
    """Assign customer ids to arms (id, experiment, arm) for export to a CRM."""
    with coded_failures():
        text = assignments(read_ids(ids), experiment or salt, salt, parse_arms(arm), fmt)
    sys.stdout.write(text)


def stats_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        raise LoyaError(NO_EXTRA, f"{name} is not installed: pip install 'loyadsl[ab]'") from None


def plan(sd: float, alpha: float, power: float, mde: float | None, n: int | None) -> dict[str, float]:
    """Per-arm sample size for an effect `mde`, or the effect detectable with `n` per arm (Welch/t, two-sided)."""
    if sd <= 0 or not 0 < alpha < 1 or not 0 < power < 1 or (mde is None) == (n is None):
        raise LoyaError(BAD_VALUE, "need sd > 0, 0 < alpha < 1, 0 < power < 1 and exactly one of --mde and --n")
    solver = stats_module("statsmodels.stats.power").TTestIndPower()
    if mde is not None:
        if mde <= 0:
            raise LoyaError(BAD_VALUE, "--mde must be positive", "--mde")
        size = solver.solve_power(effect_size=mde / sd, alpha=alpha, power=power, ratio=1.0)
        return {"n_per_arm": float(size), "mde": mde}
    if n is None or n < 2:
        raise LoyaError(BAD_VALUE, "--n must be at least 2", "--n")
    effect = solver.solve_power(nobs1=n, alpha=alpha, power=power, ratio=1.0)
    return {"n_per_arm": float(n), "mde": float(effect) * sd}


@ab.command("plan")
def plan_cmd(
    mean: Annotated[float, typer.Option(help="baseline mean (e.g. revenue per customer)")],
    sd: Annotated[float, typer.Option(help="baseline standard deviation")],
    mde: Annotated[float | None, typer.Option(help="minimum detectable effect, absolute")] = None,
    n: Annotated[int | None, typer.Option(help="customers per arm")] = None,
    alpha: Annotated[float, typer.Option(help="two-sided significance level")] = 0.05,
    power: Annotated[float, typer.Option(help="power")] = 0.8,
    lang: LangOpt = None,
) -> None:
    """Sample size per arm for a given effect, or the minimum detectable effect for a given size."""
    with coded_failures():
        i18n.speak(lang)
        result = plan(sd, alpha, power, mde, n)
    size = int(-(-result["n_per_arm"] // 1))  # round up: a fraction of a customer is one more customer
    rel = result["mde"] / mean if mean else float("nan")
    if i18n.current() == "ru":
        from loyadsl.i18n import ru_ab

        typer.echo("\n".join(ru_ab.plan_lines(alpha, power, size, result["mde"], rel, mean)))
        return
    typer.echo(f"method: two-sample t-test power (statsmodels TTestIndPower), alpha {alpha}, power {power}")
    typer.echo(f"customers per arm: {size}   minimum detectable effect: {result['mde']:.4g} ({rel:.2%} of {mean:g})")


BAD_TABLE = "LOY620"  # a per-customer outcome table `loya ab report` cannot use
BAD_SIMULATION = "LOY622"  # a simulation report `loya ab report` cannot use
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 12  # the resampling is seeded: the same report gives the same interval
FIGURES = ("revenue", "cost", "receipts", "pre")  # integer columns; revenue, cost and pre in minor units


def read_table(path: Path) -> dict[str, list[dict[str, int]]]:
    """Rows of `customer,arm,revenue[,cost,receipts,pre]` grouped by arm (one row a customer)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LoyaError("LOY407", f"cannot read the outcome table: {exc}", str(path)) from None
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    if not {"customer", "arm", "revenue"} <= set(columns):
        raise LoyaError(BAD_TABLE, f"needs columns customer, arm, revenue; has {columns}", f"{path}:1")
    arms: dict[str, list[dict[str, int]]] = {}
    seen: set[str] = set()
    for line, row in enumerate(reader, start=2):
        where = f"{path}:{line}"
        if row["customer"] in seen:
            raise LoyaError(BAD_TABLE, f"customer {row['customer']!r} appears twice (one row a customer)", where)
        seen.add(row["customer"])
        try:
            figures = {k: int(row[k] or 0) for k in FIGURES if k in columns}
        except (TypeError, ValueError):
            raise LoyaError(BAD_TABLE, "revenue, cost, receipts and pre are integers (minor units)", where) from None
        arms.setdefault(row["arm"] or "", []).append(figures)
    return arms


def read_simulation(path: Path, experiment: str | None) -> tuple[dict[str, list[dict[str, int]]], dict[str, float]]:
    """One experiment of a `loya simulate -f json` report: its customers grouped by arm (every declared
    arm, in declared order) and the arms' declared shares, for the SRM check (docs/experiments.md)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LoyaError("LOY407", f"cannot read the simulation report: {exc}", str(path)) from None
    sections = data.get("experiments") if isinstance(data, dict) and data.get("kind") == "simulation" else None
    if not isinstance(sections, list) or not sections:
        raise LoyaError(BAD_SIMULATION, "not a simulation report with experiments (run `loya simulate -f json` "
                                        "on a programme that declares one)", str(path))
    names = [x.get("name") for x in sections if isinstance(x, dict)]
    if experiment is None and len(names) > 1:
        raise LoyaError(BAD_VALUE, f"the report has experiments {names}: choose one with --experiment", "--experiment")
    wanted = experiment or names[0]
    found = next((x for x in sections if isinstance(x, dict) and x.get("name") == wanted), None)
    if found is None:
        raise LoyaError(BAD_VALUE, f"no experiment {wanted!r} in the report (it has {names})", "--experiment")
    try:
        groups: dict[str, list[dict[str, int]]] = {str(a["name"]): [] for a in found["arms"]}
        shares = {str(a["name"]): int(a["weight_bp"]) / BUCKETS for a in found["arms"]}
        fields = found["customer_fields"]
        for row in found["customers"]:
            record = dict(zip(fields, row, strict=True))
            groups[record["arm"]].append({k: int(record[k]) for k in ("revenue", "cost", "receipts", "pre")
                                          if k in record})
    except (KeyError, TypeError, ValueError) as exc:
        raise LoyaError(BAD_SIMULATION, f"the experiment {wanted!r} of the report is damaged ({exc!r})",
                        str(path)) from None
    return groups, shares


def srm(counts: dict[str, int], shares: dict[str, float]) -> tuple[float, float]:
    """Sample-ratio-mismatch chi-square test of the arms' customer counts against their weights."""
    chisquare = stats_module("scipy.stats").chisquare
    total = sum(counts.values())
    result = chisquare([counts[a] for a in counts], [total * shares[a] for a in counts])
    return float(result.statistic), float(result.pvalue)


def cuped(groups: dict[str, list[dict[str, int]]]) -> dict[str, list[float]]:
    """Revenue adjusted by the pre-period covariate: y - theta (x - mean x), theta = cov(x, y) / var(x), pooled."""
    theta, mean_x, _ = cuped_fit(groups)
    return {a: [r["revenue"] - theta * (r["pre"] - mean_x) for r in rows] for a, rows in groups.items()}


def cuped_fit(groups: dict[str, list[dict[str, int]]]) -> tuple[float, float, float]:
    """(theta, mean of the covariate, variance reduction): theta is the pooled least-squares slope of
    revenue on ``pre``, and the adjusted revenue's variance is (1 - reduction) times the raw one, the
    reduction being the squared correlation of the two (Deng et al. 2013, "CUPED")."""
    np = stats_module("numpy")
    y = np.array([r["revenue"] for rows in groups.values() for r in rows], dtype=float)
    x = np.array([r["pre"] for rows in groups.values() for r in rows], dtype=float)
    if np.var(x) == 0:
        return 0.0, float(x.mean()), 0.0
    theta = float(np.cov(x, y)[0, 1] / np.var(x, ddof=1))
    adjusted = y - theta * (x - x.mean())
    reduction = 1 - float(np.var(adjusted, ddof=1) / np.var(y, ddof=1)) if np.var(y) > 0 else 0.0
    return theta, float(x.mean()), reduction


def compare(treated: list[float], control: list[float], level: float) -> tuple[float, float, float, float]:
    """Difference of means (treated - control), its Welch confidence interval and p-value (scipy)."""
    result = stats_module("scipy.stats").ttest_ind(treated, control, equal_var=False)
    ci = result.confidence_interval(confidence_level=level)
    diff = sum(treated) / len(treated) - sum(control) / len(control)
    return diff, float(ci.low), float(ci.high), float(result.pvalue)


def bootstrap(treated: list[float], control: list[float], level: float) -> tuple[float, float, float, None]:
    """Difference of means (treated - control) and its BCa bootstrap interval (scipy.stats.bootstrap,
    9,999 resamples of each arm, seeded); a bootstrap gives no p-value."""
    np = stats_module("numpy")
    result = stats_module("scipy.stats").bootstrap(
        (np.asarray(treated, dtype=float), np.asarray(control, dtype=float)),
        lambda x, y, axis: np.mean(x, axis=axis) - np.mean(y, axis=axis),
        confidence_level=level, n_resamples=BOOTSTRAP_RESAMPLES, method="BCa", vectorized=True,
        rng=np.random.default_rng(BOOTSTRAP_SEED))
    diff = sum(treated) / len(treated) - sum(control) / len(control)
    return diff, float(result.confidence_interval.low), float(result.confidence_interval.high), None


def analyse(groups: dict[str, list[dict[str, int]]], control: str, shares: dict[str, float],
            alpha: float, method: str = "welch") -> dict[str, Any]:
    """The A/B report as data (docs/schemas/ab-report.schema.json): per-arm figures, the sample ratio
    check, CUPED when every row has `pre`, and each arm's uplift against ``control``."""
    if control not in groups:
        raise LoyaError(BAD_VALUE, f"no customer in control arm {control!r}; arms are {sorted(groups)}", "--control")
    if set(shares) != set(groups) or any(len(rows) < 2 for rows in groups.values()):
        raise LoyaError(BAD_TABLE, f"arms {sorted(groups)} must match the weights {sorted(shares)}, "
                        "each with two or more customers")
    chi2, p_srm = srm({a: len(r) for a, r in groups.items()}, shares)
    arms = []
    for arm, rows in groups.items():
        n, revenue = len(rows), sum(r["revenue"] for r in rows)
        receipts, cost = sum(r.get("receipts", 0) for r in rows), sum(r.get("cost", 0) for r in rows)
        arms.append({"arm": arm, "customers": n, "receipts": receipts, "revenue": revenue, "cost": cost,
                     "revenue_per_customer": revenue / n, "average_receipt": revenue / receipts if receipts else None,
                     "frequency": receipts / n})
    has_pre = all("pre" in r for rows in groups.values() for r in rows)
    values = cuped(groups) if has_pre else {a: [float(r["revenue"]) for r in rows] for a, rows in groups.items()}
    test = ("Welch's t-test (scipy.stats.ttest_ind, equal_var=False)" if method == "welch" else
            f"BCa bootstrap (scipy.stats.bootstrap, {BOOTSTRAP_RESAMPLES:,} resamples, seed {BOOTSTRAP_SEED})") \
        + (", CUPED on `pre`" if has_pre else "")
    interval = compare if method == "welch" else bootstrap
    fitted = None
    if has_pre:
        theta, _, reduction = cuped_fit(groups)
        fitted = {"theta": theta, "variance_reduction": reduction}
    uplift = []
    for arm, rows in groups.items():
        if arm == control:
            continue
        diff, low, high, p = interval(values[arm], values[control], 1 - alpha)
        n, cost = len(rows), sum(r.get("cost", 0) for r in rows)
        uplift.append({"arm": arm, "difference": {"estimate": diff, "low": low, "high": high}, "p": p,
                       "customers": n, "control_customers": len(values[control]),
                       "significant": p < alpha if p is not None else not low <= 0 <= high,
                       "incremental_net": {"estimate": diff * n - cost, "low": low * n - cost, "high": high * n - cost},
                       "cost": cost})
    return {"kind": "ab-report", "control": control, "alpha": alpha, "method": method, "test": test,
            "sample_ratio": {"chi2": chi2, "p": p_srm, "ok": p_srm >= 0.001}, "arms": arms, "cuped": fitted,
            "uplift": uplift}


def finite(value: Any) -> Any:
    """``value`` with every float that is not a number (a t-test of arms without variance) as None,
    so the JSON report is JSON (``null``), never ``NaN``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def report(groups: dict[str, list[dict[str, int]]], control: str, shares: dict[str, float],
           alpha: float, method: str = "welch") -> list[str]:
    """The A/B report as text lines (``analyse``'s figures)."""
    return report_lines(analyse(groups, control, shares, alpha, method))


def report_lines(a: dict[str, Any]) -> list[str]:
    srm_check = a["sample_ratio"]
    verdict = "ok" if srm_check["ok"] else "MISMATCH: the split is broken, do not trust the uplift"
    lines = [f"sample ratio check (chi-square vs weights): chi2 {srm_check['chi2']:.3f}, p {srm_check['p']:.4g}: "
             f"{verdict}",
             "arm  customers  receipts  revenue  cost  revenue/customer  avg receipt  frequency"]
    for row in a["arms"]:
        avg = "-" if row["average_receipt"] is None else f"{row['average_receipt']:.2f}"
        lines.append(f"{row['arm']}  {row['customers']}  {row['receipts']}  {row['revenue']}  {row['cost']}  "
                     f"{row['revenue_per_customer']:.2f}  {avg}  {row['frequency']:.3f}")
    if a["cuped"] is not None:
        lines.append(f"CUPED on `pre`: theta {a['cuped']['theta']:.4g}, variance of revenue per customer reduced by "
                     f"{a['cuped']['variance_reduction']:.1%}")
    lines.append(f"uplift in revenue per customer vs {a['control']}, {1 - a['alpha']:.0%} interval by {a['test']}:")
    for u in a["uplift"]:
        d, net = u["difference"], u["incremental_net"]
        sig = "significant" if u["significant"] else "NOT significant: the interval includes no effect"
        shown_p = f"p {u['p']:.4g}, " if u["p"] is not None else ""
        lines.append(f"{u['arm']}: {d['estimate']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}], {shown_p}"
                     f"n {u['customers']} vs {u['control_customers']}: {sig}")
        lines.append(f"{u['arm']}: incremental revenue net of cost {net['estimate']:+.0f} "
                     f"[{net['low']:+.0f}, {net['high']:+.0f}] (minor units; cost {u['cost']})")
    return lines


@ab.command("report")
def report_cmd(
    table: Annotated[Path, typer.Argument(help="CSV, one row a customer: customer,arm,revenue[,cost,receipts,pre]; "
                                               "or a `loya simulate -f json` report of a programme with experiments")],
    control: Annotated[str, typer.Option(help="the control arm")] = "control",
    arm: Annotated[list[str] | None, typer.Option(help="NAME=PERCENT weights for the SRM check (default equal; "
                                                       "a simulation report has the declared ones)")] = None,
    alpha: Annotated[float, typer.Option(help="two-sided significance level")] = 0.05,
    experiment: Annotated[str | None, typer.Option(help="the experiment of a simulation report (if it has several)")]
    = None,
    method: Annotated[Method, typer.Option(help="welch (t-test, p-value) or bootstrap (BCa interval)")] = Method.welch,
    fmt: Annotated[Output, typer.Option("--format", "-f", help="text for people, json for machines "
                                                               "(docs/schemas/ab-report.schema.json)")] = Output.text,
    lang: LangOpt = None,
) -> None:
    """Compare arms: per-arm figures, SRM check, uplift vs control with Welch or bootstrap intervals (CUPED if `pre`)."""
    with coded_failures():
        i18n.speak(lang)
        if not 0 < alpha < 1:
            raise LoyaError(BAD_VALUE, "alpha must be in (0, 1)", "--alpha")
        if table.suffix == ".json":
            groups, shares = read_simulation(table, experiment)
            if arm:
                weights = parse_arms(arm)
                shares = {a.name: a.weight / BUCKETS for a in weights}
        else:
            groups = read_table(table)
            weights = parse_arms(arm) if arm else [Arm(a, 0) for a in groups]
            shares = {a.name: (a.weight / BUCKETS if arm else 1 / len(groups)) for a in weights}
        analysis = analyse(groups, control, shares, alpha, method.value)
    if fmt is Output.json:
        typer.echo(json.dumps(finite(analysis), ensure_ascii=False, allow_nan=False))
        return
    if i18n.current() == "ru":
        from loyadsl.i18n import ru_ab

        typer.echo("\n".join(ru_ab.report_lines(analysis, BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED)))
        return
    typer.echo("\n".join(report_lines(analysis)))
