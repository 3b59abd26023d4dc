"""`loya offers fit | show | issue | backtest` (docs/offers.md). A coded failure is printed as
`error[LOYnnn]: ...` on stderr with exit code 2, never a traceback."""

from __future__ import annotations

import datetime as dt
import json
import resource
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from loyadsl.cli_errors import coded_failures
from loyadsl.runtime import LoyaError

from .errors import BAD_OPTION, OVER_BUDGET, OffersError

offers = typer.Typer(help="Personal offers: fit customer models, issue offers by a strategy, backtest them.",
                     no_args_is_help=True)


class Fmt(StrEnum):
    text = "text"
    json = "json"


MapFile = Annotated[Path | None, typer.Option("--map-file", help="column mapping YAML (docs/simulate.md)")]
MapSpec = Annotated[str | None, typer.Option("--map", help="column mapping on one line (docs/simulate.md)")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="fit configuration YAML (docs/offers.md)")]
Seed = Annotated[int, typer.Option(help="seed of the optimiser's extra starts")]
MaxAge = Annotated[str | None, typer.Option("--max-age", help="the oldest the model may be, e.g. 7 days (default: its max_age)")]
StrategyName = Annotated[str | None, typer.Option("--name", help="the strategy to use, when the .loya file declares several")]


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise OffersError(BAD_OPTION, f"`{text}` is not a date (YYYY-MM-DD)", option) from None


def parse_now(text: str | None, default: dt.date) -> dt.datetime:
    if text is None:
        return dt.datetime(default.year, default.month, default.day, tzinfo=dt.UTC)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise OffersError(BAD_OPTION, f"`{text}` is not an ISO 8601 time", "--now") from None
    if value.tzinfo is None:
        raise OffersError(BAD_OPTION, f"`{text}` needs a UTC offset, e.g. 2017-10-01T00:00:00+00:00", "--now")
    return value


def load_history(paths: list[Path], map_file: Path | None, map_spec: str | None) -> Any:
    from loyadsl.simulate.mapping import load_mapping

    from .history import read_history
    mapping = load_mapping(map_spec, map_file) if (map_spec or map_file) else None
    return read_history(paths, mapping)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@offers.command("fit")
def fit_cmd(
    history: Annotated[list[Path], typer.Argument(help="receipt files (JSONL, CSV, Parquet; gzip too)")],
    output: Annotated[Path, typer.Option("-o", "--output", help="the model file (JSON; .gz compresses)")],
    map_file: MapFile = None, map_spec: MapSpec = None, config: ConfigOpt = None, seed: Seed = 0,
    as_of: Annotated[str | None, typer.Option(help="fit on purchases up to this date (default: the last)")] = None,
) -> None:
    """Fit BG/NBD, Gamma-Gamma, CLV, purchase cycles, affinity and RFM on a history."""
    from .config import load_config
    from .fit import fit
    with coded_failures():
        start = time.perf_counter()
        h = load_history(history, map_file, map_spec)
        read = time.perf_counter() - start
        day = parse_date(as_of, "--as-of").toordinal() if as_of else None
        model = fit(h, load_config(config), seed, day)
        model.save(output)
    for w in model.header["warnings"]:
        typer.echo(f"warning[{w['code']}]: {w['message']}", err=True)
    bg, gg, hist = model.header["bgnbd"], model.header["gamma_gamma"], model.header["history"]
    typer.echo(f"fitted {hist['customers']:,} customers, {hist['purchases']:,} purchase days, "
               f"{len(model.categories):,} categories, up to {model.header['as_of']} -> {output}")
    typer.echo(f"BG/NBD r {bg['r']:.4g} alpha {bg['alpha']:.4g} a {bg['a']:.4g} b {bg['b']:.4g} LL {bg['loglik']:.1f}; "
               f"Gamma-Gamma p {gg['p']:.4g} q {gg['q']:.4g} gamma {gg['gamma']:.4g} on {gg['customers']:,}")
    typer.echo(f"time: read {read:.1f} s, total {time.perf_counter() - start:.1f} s; peak memory {peak_mb():.0f} MB")


@offers.command("show")
def show_cmd(
    model: Annotated[Path, typer.Argument(help="a model of `loya offers fit`")],
    customer: Annotated[str, typer.Argument(help="the customer id")],
    fmt: Annotated[Fmt, typer.Option("--format", "-f")] = Fmt.text,
    top: Annotated[int, typer.Option(help="categories listed (text)")] = 10,
) -> None:
    """A customer's scores: p_alive, expected purchases, spend, CLV, RFM, cycles, affinity."""
    from .model import Model
    with coded_failures():
        m = Model.load(model)
        c = m.customer(customer)
    for code, message in customer_warnings(m, customer, c):
        typer.echo(f"warning[{code}]: {message}", err=True)
    if fmt is Fmt.json:
        typer.echo(json.dumps({"customer": customer, "as_of": m.header["as_of"], **c}, ensure_ascii=False, indent=2))
        return
    cfg, cur = m.header["config"], m.header["currency"]
    typer.echo(f"customer {customer} (model as of {m.header['as_of']}, {cur} minor units)")
    typer.echo(f"  purchases {c['purchases']} ({c['first']} .. {c['last']}), total {c['total']}, "
               f"RFM {c['rfm']['code']}")
    typer.echo(f"  p_alive {c['p_alive']:.3f}; expected purchases {c['expected']:.2f} in {cfg['expected_within']} days, "
               f"{c['expected_horizon']:.2f} in {cfg['clv_horizon']} days")
    typer.echo(f"  spend per purchase {c['spend']} ({c['spend_from']}); CLV {cfg['clv_horizon']} days {c['clv']}")
    due = sorted((v["next"], k, v) for k, v in c["categories"].items() if v["next"] and v["next"] > m.header["as_of"])[:top]
    typer.echo("  next purchases due after the model's date: " + ("; ".join(f"{k} {n} (every {v['every']:.1f} d)" for n, k, v in due) or "none"))
    typer.echo("  affinity: " + ", ".join(f"{k} {s:.2f}" for k, s in c["affinity"][:top]))
    if "next_categories" in c:
        typer.echo(f"  next categories (chance of buying within {m.header['ranker']['within']} days, if they shop): "
                   + (", ".join(f"{k} {p:.2f}" for k, p in c["next_categories"][:top]) or "none"))


def customer_warnings(m: Any, cid: str, c: dict[str, Any]) -> list[tuple[str, str]]:
    """What `show` cannot say of this customer: no ranking in the model, or one on little history (LOY746)."""
    from .errors import THIN_HISTORY
    least = m.header["config"].get("next_min_purchases", 1)
    if "ranker" not in m.header:
        return [(THIN_HISTORY, "the model file predates next categories: fit it again to rank them")]
    if "next_categories" not in c:
        return [(THIN_HISTORY, f"the model ranks no next categories (fitted up to {m.header['as_of']} on too "
                 "little history to learn a ranking): fit it again on a longer history")]
    if c["purchases"] < least:
        return [(THIN_HISTORY, f"customer {cid!r} has {c['purchases']} purchase day(s) up to "
                 f"{m.header['as_of']}, fewer than {least}: their next categories rest mostly on what other "
                 "customers buy")]
    return []


@offers.command("issue")
def issue_cmd(
    strategy: Annotated[Path, typer.Argument(help="the strategy: .loya, or its YAML form (docs/offers.md)")],
    model: Annotated[Path, typer.Option("--model", help="a model of `loya offers fit`")],
    output: Annotated[Path, typer.Option("-o", "--output", help="the offers (JSON Lines, both arms)")],
    now: Annotated[str | None, typer.Option(help="issue time, ISO 8601 with offset (default: day after as_of)")] = None,
    customers: Annotated[Path | None, typer.Option(help="customer states (JSONL): birthdays; coupons are added")] = None,
    states: Annotated[Path | None, typer.Option(help="write the customer states with their coupons (JSONL)")] = None,
    name: StrategyName = None,
    max_age: MaxAge = None,
) -> None:
    """Choose each customer's offers, draw the holdout, and issue personal coupons (coupon_issue changes)."""
    from .issue import issue
    from .model import Model
    from .strategy_loya import load_any, placed
    with coded_failures():
        start = time.perf_counter()
        s, m = load_any(strategy, name), Model.load(model)
        known = read_states(customers) if customers else None
        birthdays = {cid: st.birthday for cid, st in known.items() if st.birthday} if known is not None else None
        try:
            issued = issue(s, m, parse_now(now, dt.date.fromordinal(m.as_of + 1)), birthdays, days_option(max_age))
        except OffersError as exc:
            raise placed(exc, strategy, name) from None
        # the states first: a coupon a customer holds already is refused (LOY503) before anything is written
        updated = state_lines(known or {}, issued) if states is not None else None
        write_lines(output, (json.dumps(o, ensure_ascii=False, sort_keys=True) for o in issued.offers))
        if states is not None and updated is not None:
            write_lines(states, updated)
    took = time.perf_counter() - start
    for w in issued.warnings:
        typer.echo(f"warning[{OVER_BUDGET}]: {w}", err=True)
    counts = {a: sum(1 for o in issued.offers if o["arm"] == a) for a in ("offer", "holdout")}
    cost = sum(o["cost"] for o in issued.offers if o["arm"] == "offer")
    typer.echo(f"{counts['offer']:,} offers issued to {len(issued.changes()):,} customers (estimated cost {cost}), "
               f"{counts['holdout']:,} held out; {len(m.customers):,} customers in {took:.2f} s -> {output}")


def read_states(path: Path) -> dict[str, Any]:
    from loyadsl.runtime.state import read_customers
    problems: list[LoyaError] = []
    try:
        with open(path, "rb") as f:
            found = read_customers(f, str(path), problems)
    except OSError as exc:
        raise OffersError(BAD_OPTION, f"cannot read customer states: {exc}", str(path)) from None
    if problems:
        raise problems[0]
    return found


def write_lines(path: Path, lines: Iterator[str] | Any) -> None:
    """Written beside its name and moved into place."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8") as f:
            for line in lines:
                f.write(line + "\n")
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise OffersError(BAD_OPTION, f"cannot write: {exc}", str(path)) from None


def state_lines(known: dict[str, Any], issued: Any) -> list[str]:
    """The customer states with their coupons, one canonical JSON line each, by id."""
    from loyadsl.runtime.bundle import canonical_json

    from .issue import with_coupons
    updated = with_coupons(known, issued)
    return [canonical_json(updated[cid].to_dict()).decode("utf-8") for cid in sorted(updated)]


@offers.command("backtest")
def backtest_cmd(
    strategy: Annotated[Path, typer.Argument(help="the strategy: .loya, or its YAML form")],
    history: Annotated[list[Path], typer.Argument(help="receipt files")],
    cut: Annotated[str, typer.Option(help="fit before this date, issue on it, replay after it")],
    weeks: Annotated[int, typer.Option(help="weeks replayed after the cut")] = 4,
    margin: Annotated[str, typer.Option(help="gross margin on revenue, e.g. 30%")] = "30%",
    k: Annotated[int, typer.Option(help="categories predicted per customer (precision/recall at k)")] = 3,
    map_file: MapFile = None, map_spec: MapSpec = None, config: ConfigOpt = None, seed: Seed = 0,
    fmt: Annotated[Fmt, typer.Option("--format", "-f")] = Fmt.text,
    name: StrategyName = None,
) -> None:
    """Fit up to --cut, issue with the holdout, replay the next weeks; report against two baselines."""
    from . import units
    from .backtest import backtest
    from .config import load_config
    from .report import lines
    from .strategy_loya import load_any
    with coded_failures():
        if weeks < 1 or not 1 <= k <= 50:
            raise OffersError(BAD_OPTION, "--weeks is at least 1 and --k from 1 to 50")
        try:
            rate = units.percent(margin)
        except ValueError as exc:
            raise OffersError(BAD_OPTION, str(exc), "--margin") from None
        s, cfg, day = load_any(strategy, name), load_config(config), parse_date(cut, "--cut")
        start = time.perf_counter()
        h = load_history(history, map_file, map_spec)
        read = time.perf_counter() - start
        report = backtest(h, s, cfg, day, weeks, seed, Decimal(rate), k)
    report["timing"] = {"read_s": round(read, 2), "total_s": round(time.perf_counter() - start, 2),
                        "peak_mb": round(peak_mb())}
    if fmt is Fmt.json:
        typer.echo(json.dumps(report, indent=2, default=str))
    else:
        sys.stdout.write("\n".join(lines(report)) + "\n")


@offers.command("score")
def score_cmd(
    model: Annotated[Path, typer.Argument(help="a model of `loya offers fit`")],
    output: Annotated[Path, typer.Option("-o", "--output", help="the customer states with their scores (JSONL)")],
    customers: Annotated[Path | None, typer.Option(help="customer states (JSONL) to refresh")] = None,
    now: Annotated[str | None, typer.Option(help="refresh time, ISO 8601 with offset (default: day after as_of)")] = None,
    programme: Annotated[Path | None, typer.Option(help="check that the model has every score this .loya reads")] = None,
    changes_out: Annotated[Path | None, typer.Option("--changes", help="also write the `scores` changes (JSONL, one customer a line)")] = None,
    max_age: MaxAge = None,
) -> None:
    """Write each customer's model scores into their state (a `scores` change), for .loya conditions."""
    from loyadsl.api import check_file

    from .model import Model
    from .scoring import applied, changes, check_reads, reads
    with coded_failures():
        m = Model.load(model)
        if programme is not None:
            checked = check_file(programme)
            problems = [d for d in checked.diagnostics if d.is_error]
            if problems or checked.programme is None:
                first = problems[0] if problems else None
                raise OffersError(first.code if first else BAD_OPTION,
                                  first.message if first else "the programme does not check", str(programme))
            check_reads(m, reads(checked.programme), str(programme))
        known = read_states(customers) if customers else {}
        found = changes(m, known, parse_now(now, dt.date.fromordinal(m.as_of + 1)), days_option(max_age))
        updated = applied(known, found)
        if changes_out is not None:
            write_lines(changes_out, change_lines(found))
        write_lines(output, state_lines_of(updated))
    with_scores = sum(1 for s in updated.values() if s.scores is not None)
    typer.echo(f"scores of {with_scores:,} customers (model as of {m.header['as_of']}) -> {output}")


def change_lines(found: dict[str, Any]) -> list[str]:
    """One canonical JSON line per customer: ``{"customer": ID, "changes": [the scores change]}``."""
    from loyadsl.runtime.bundle import canonical_json
    return [canonical_json({"customer": cid, "changes": [c.to_dict()]}).decode("utf-8") for cid, c in found.items()]


def days_option(text: str | None) -> int | None:
    from . import units
    if text is None:
        return None
    try:
        value = units.days(text)
    except ValueError as exc:
        raise OffersError(BAD_OPTION, str(exc), "--max-age") from None
    if value < 1:
        raise OffersError(BAD_OPTION, f"`{text}` is not a duration of at least 1 day", "--max-age")
    return value


def state_lines_of(states: dict[str, Any]) -> list[str]:
    from loyadsl.runtime.bundle import canonical_json
    return [canonical_json(states[cid].to_dict()).decode("utf-8") for cid in sorted(states)]
