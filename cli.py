"""The `loya` command: verbs that mirror the toolchain's stages (check, compile, eval, convert, fmt).

Exit codes: 0 ok, 1 findings (errors in a programme, warnings under ``check --strict``, a failing
assertion, a rejected receipt or bundle), 2 usage or I/O (a misspelt assertion too): docs/cli.md.
Every verb prints for people by default and takes ``--format json`` for machines; ``check``,
``simulate`` and ``diff`` also write sarif, junit and github annotations (``loyadsl/formats/``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from loyadsl import __version__, i18n
from loyadsl.ab import ab as ab_app
from loyadsl.api import CheckResult, check_file, compile_file, is_yaml
from loyadsl.diagnostics import Diagnostic, Span, did_you_mean, error, has_errors
from loyadsl.evaluation import Evaluation
from loyadsl.offers.cli import offers as offers_app
from loyadsl.raffle_cli import raffle as raffle_app
from loyadsl.render import (
    CI_FORMATS,
    ci_report,
    diagnostics_json,
    money,
    outcome_table,
    print_diagnostics,
    state_lines,
)
from loyadsl.runtime import CodeCache, DirectoryCache, Engine, LoyaError, jsonio, load_bundle
from loyadsl.runtime.bundle import FORMAT_VERSION
from loyadsl.runtime.limits import MAX_CUSTOMER_BYTES, MAX_DATE, MAX_RECEIPT_BYTES, MAX_VALUE, MIN_DATE
from loyadsl.runtime.state import CustomerState, read_customers
from loyadsl.server.commands import db_app, serve

app = typer.Typer(
    name="loya",
    help="Loyalty programmes as code: check, compile, evaluate and convert .loya programmes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(ab_app, name="ab")
app.add_typer(offers_app, name="offers")
app.add_typer(db_app, name="db")  # `loya db` and `loya serve`: the processing server (docs/server.md)
app.add_typer(raffle_app, name="raffle")  # `loya raffle draw`: prize draws from tickets (docs/rewards.md)
app.command()(serve)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
USAGE = "LOY700"  # a command-line value that cannot be used (LOY407 is for files that cannot be read or written)


class Format(StrEnum):
    text = "text"
    json = "json"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="text for people, json for machines")]
TrustedKeyOpt = Annotated[list[Path] | None, typer.Option(
    "--trusted-key", help="an Ed25519 public key (the .pub of `loya keygen`) that may have signed the bundle; "
                          "repeatable; trusting a key requires a valid signature by one of them")]
RequireSignatureOpt = Annotated[bool, typer.Option(
    "--require-signature", help="refuse a bundle that is not signed by a trusted key")]


@dataclass(frozen=True)
class Trust:
    """Which signatures a verb accepts: trusting keys implies requiring a signature by one of them."""

    keys: tuple[bytes, ...] = ()
    require: bool = False

    @property
    def asked(self) -> bool:
        return bool(self.keys) or self.require
AllowDirOpt = Annotated[list[Path] | None, typer.Option(
    "--allow-dir", exists=True, file_okay=False, dir_okay=True,
    help="a folder the programme may also read imports and lists from (repeatable); "
         "its own folder is always allowed")]


def _fail(message: str, code: int = EXIT_USAGE, as_json: bool = False, diag_code: str = "LOY407") -> NoReturn:
    if as_json:
        print(json.dumps({"error": {"code": diag_code, "message": message}}, ensure_ascii=False))
    else:
        err.print(f"[bold red]{i18n.say('error')}[{diag_code}][/]: {escape(i18n.message(diag_code, message))}")
    raise typer.Exit(code)


def _report(result: CheckResult, fmt: Format) -> None:
    if fmt is Format.json:
        print(diagnostics_json(result.diagnostics))
    else:
        print_diagnostics(err, result.diagnostics, result.sources)


class CheckFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    github = "github"


@app.command()
def check(
    paths: Annotated[list[Path], typer.Argument(help=".loya or .yaml programme files, or project folders to walk")],
    allow_dir: AllowDirOpt = None,
    fmt: Annotated[CheckFormat, typer.Option(
        "--format", "-f", help="text for people, json for machines, sarif, junit or github (annotations) for CI")
    ] = CheckFormat.text,
    strict: Annotated[bool, typer.Option("--strict", help="warnings fail too (exit 1)")] = False,
    collisions: Annotated[bool, typer.Option("--collisions/--no-collisions", help="the collision findings, "
                                             "LOY310-LOY313, of a programme that checks clean (docs/collisions.md; "
                                             "skipped with a note without the analysis extra)")] = True,
    lang: LangOpt = None,
) -> None:
    """Parse and type-check programmes; print diagnostics (exit 1 if any error, or warning with --strict).
    A folder is walked for its main programmes (those with a `programme` header; docs/cli.md)."""
    from loyadsl.formats import Case, located, relative

    _use_language(lang, fmt is CheckFormat.json)
    every: list[Diagnostic] = []
    cases: list[Case] = []
    for path in _programme_files(paths, fmt is CheckFormat.json):
        strategies = _strategy_file(path)
        if strategies is not None:  # a file of offer strategies only (docs/offers.md): no programme to check
            diags, names, sources = strategies
            every += diags
            if fmt is CheckFormat.text:
                print_diagnostics(err, diags, sources)
                if not has_errors(diags):
                    out.print(i18n.say("[green]ok[/] {path}: offer strategies {names}", path=escape(str(path)),
                                       names=escape(", ".join(names))))
            cases.append(Case(relative(path), relative(path), tuple(located(d, path) for d in diags),
                              _fails(diags, strict)))
            continue
        result = check_file(path, allow_dir or ())
        if collisions and result.ok:
            result.diagnostics += _new_findings(_collision_findings(path, fmt, allow_dir or ()), result.diagnostics)
        if result.ok and result.programme is not None and result.programme.asserts:
            result.diagnostics += _assertion_verdicts(path, fmt is CheckFormat.json, allow_dir or ())
        every += result.diagnostics
        if fmt is CheckFormat.text:
            print_diagnostics(err, result.diagnostics, result.sources)
        if fmt is CheckFormat.text and result.ok:
            p = result.programme
            assert p is not None
            out.print(i18n.say("[green]ok[/] {path}: programme “{name}”, {campaigns} campaigns in {groups} groups",
                               path=escape(str(path)), name=escape(p.name), campaigns=len(p.campaigns),
                               groups=len(p.groups)))
        cases.append(Case(relative(path), relative(path), tuple(located(d, path) for d in result.diagnostics),
                          _fails(result.diagnostics, strict)))
    if fmt is CheckFormat.json:
        print(diagnostics_json(every))
    elif fmt is not CheckFormat.text:
        sys.stdout.write(ci_report(fmt.value, cases, "loya check"))
    raise typer.Exit(EXIT_FINDINGS if _fails(every, strict) else EXIT_OK)


def _strategy_file(path: Path) -> tuple[list[Diagnostic], list[str], dict[str, str]] | None:
    """A file of offer strategies only, checked without a model: its diagnostics, strategies and source;
    None for anything else (a programme, or a file check_file is to refuse)."""
    if path.suffix.lower() not in (".loya", ".yaml", ".yml"):
        return None
    from loyadsl.check.files import Refused, read_source
    from loyadsl.offers.strategy_loya import check_strategy_file
    try:
        text = read_source(path)
    except (Refused, OSError):
        return None
    found = check_strategy_file(path, text)
    return None if found is None else (found[0], found[1], {path.name: text})


def _collision_findings(path: Path, fmt: CheckFormat, allow_dirs: Iterable[Path]) -> list[Diagnostic]:
    """The findings, when the solver is installed; without it, a note in text (nothing is claimed)."""
    import importlib.util

    if importlib.util.find_spec("z3") is None:
        if fmt is CheckFormat.text:
            err.print(i18n.say("note: collision findings (LOY310-LOY313) need the analysis extra: "
                               "pip install 'loyadsl[analysis]' (--no-collisions skips them)"))
        return []
    from loyadsl.analysis import cli as analysis
    try:
        return analysis.check_findings(path, allow_dirs)
    except LoyaError as exc:
        _fail(exc.message, EXIT_FINDINGS, fmt is CheckFormat.json, exc.code)


def _new_findings(findings: list[Diagnostic], known: list[Diagnostic]) -> list[Diagnostic]:
    """The findings, less a LOY311 (never fires) on a campaign the checker already said can never apply (LOY301)."""
    def within(inner: Span | None, outer: Span | None) -> bool:
        return inner is not None and outer is not None and inner.file == outer.file and \
            (outer.line, outer.col) <= (inner.line, inner.col) <= (outer.end_line, outer.end_col)
    never = [d.span for d in known if d.code == "LOY301"]
    return [f for f in findings if not (f.code == "LOY311" and any(within(span, f.span) for span in never))]


def _assertion_verdicts(path: Path, as_json: bool, allow_dirs: Iterable[Path]) -> list[Diagnostic]:
    """The programme's `assert` blocks, proved or broken (LOY239) or unproved (LOY312)."""
    from loyadsl.analysis import cli as analysis
    try:
        return analysis.check_asserts(path, allow_dirs)
    except LoyaError as exc:
        _fail(exc.message, EXIT_FINDINGS, as_json, exc.code)


def _fails(diagnostics: list[Diagnostic], strict: bool) -> bool:
    """Errors fail a check; under --strict, warnings too."""
    return has_errors(diagnostics) or (strict and bool(diagnostics))


def _programme_files(paths: list[Path], as_json: bool) -> Iterator[Path]:
    """The files named, and the main programmes of each folder named (``loyadsl/walk.py``)."""
    from loyadsl.walk import programmes

    for path in paths:
        if not path.exists():  # anything else (a FIFO, a device) is check_file's to refuse (LOY109)
            _fail(f"{path}: no such file", as_json=as_json)
        if not path.is_dir():
            yield path
            continue
        found = programmes(path)
        if not found:
            _fail(f"{path}: no programme in this folder (a .loya or .yaml file with a `programme` header)",
                  as_json=as_json, diag_code=USAGE)
        yield from found


@app.command("compile")
def compile_cmd(
    source: Annotated[Path, typer.Argument(help="the main .loya or .yaml file")],
    output: Annotated[Path, typer.Option("--output", "-o", help="where to write the bundle")],
    sign_key: Annotated[
        Path | None, typer.Option(help="Ed25519 private key (hex, from `loya keygen`) to sign the bundle")
    ] = None,
    allow_dir: AllowDirOpt = None,
    fmt: FormatOpt = Format.text,
    lang: LangOpt = None,
) -> None:
    """Compile a programme into a verified bytecode bundle."""
    as_json = fmt is Format.json
    _use_language(lang, as_json)
    if not source.exists():
        _fail(f"{source}: no such file", as_json=as_json)
    key = _read_key(sign_key, as_json) if sign_key else None
    data, result = compile_file(source, signing_key=key, allow_dirs=allow_dir or ())
    if data is None:
        _report(result, fmt)
        raise typer.Exit(EXIT_FINDINGS)
    try:
        output.write_bytes(data)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc}", as_json=as_json)
    bundle = load_bundle(data)
    summary = _bundle_summary(bundle, output, len(data))
    if as_json:
        print(json.dumps({"bundle": summary, **json.loads(diagnostics_json(result.diagnostics))},
                         ensure_ascii=False, indent=2))
    else:
        print_diagnostics(err, result.diagnostics, result.sources)
        out.print(i18n.say("[green]compiled[/] {source} → {output} ({bytes} bytes, {campaigns} campaigns, "
                           "cost ≤ {fixed} + {per_line}·lines, {digest}…)", source=escape(str(source)),
                           output=escape(str(output)), bytes=summary['bytes'], campaigns=summary['campaigns'],
                           fixed=summary['cost']['fixed'], per_line=summary['cost']['per_line'],
                           digest=summary['digest'][:19]))


def _bundle_summary(bundle: Any, path: Path, size: int) -> dict[str, Any]:
    return {
        "path": str(path),
        "bytes": size,
        "digest": bundle.digest,
        "programme": bundle.manifest.programme_name,
        "campaigns": len(bundle.campaigns),
        "groups": len(bundle.groups),
        "cost": {"fixed": bundle.cost_fixed, "per_line": bundle.cost_per_line},
        "signed": bundle.signed,
        "signature": {"alg": "ed25519", "key_id": bundle.key_id, "verified": bundle.signature_verified}
        if bundle.signed else None,
    }


def _signature_text(signature: dict[str, Any] | None) -> str:
    if signature is None:
        return "none (unsigned)"
    if signature["verified"]:
        return f"ed25519 by key {signature['key_id']}, verified against a trusted key"
    return (f"ed25519 by key {signature['key_id']}, present but NOT verified "
            "(give the signer's public key with --trusted-key to check it)")


@app.command()
def inspect(
    bundle_path: Annotated[Path, typer.Argument(help="a compiled bundle")],
    trusted_key: TrustedKeyOpt = None,
    require_signature: RequireSignatureOpt = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Show a bundle's manifest, signature, groups, campaigns and cost bound (after verifying it)."""
    as_json = fmt is Format.json
    bundle = _load_bundle_file(bundle_path, as_json, _trust(trusted_key, require_signature, as_json))
    summary = _bundle_summary(bundle, bundle_path, bundle_path.stat().st_size)
    if as_json:
        summary["campaign_list"] = [
            {"name": c.name, "title": c.title, "group": bundle.groups[c.group].name, "priority": c.priority,
             "cost": {"fixed": c.cost_fixed, "per_line": c.cost_per_line}} for c in bundle.campaigns
        ]
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    out.print(f"bundle {escape(str(bundle_path))}: programme “{escape(summary['programme'])}”, "
              f"{summary['campaigns']} campaigns, digest {summary['digest']}")
    out.print(f"signature: {_signature_text(summary['signature'])}")
    table = Table("campaign", "title", "group", "priority", "cost")
    for c in bundle.campaigns:
        table.add_row(escape(c.name), escape(c.title or ""), escape(bundle.groups[c.group].name), str(c.priority),
                      f"{c.cost_fixed} + {c.cost_per_line}·lines")
    out.print(table)


@app.command("eval")
def eval_cmd(
    programme: Annotated[Path, typer.Argument(help="a bundle, or a .loya/.yaml source compiled on the fly")],
    receipts: Annotated[Path, typer.Argument(help="a receipt .json, or .jsonl with one receipt a line")],
    customers: Annotated[
        Path | None, typer.Option(help="customer states, JSON Lines (as for simulate), matched by id")
    ] = None,
    now: Annotated[str | None, typer.Option(help="evaluation time (ISO 8601); default: each receipt's time")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="print why each campaign applied or not")] = False,
    hints: Annotated[bool, typer.Option("--hints", help="say what nearly applied campaigns lack (`add 120.00 RUB`), "
                                        "as a cashier would tell the customer")] = False,
    max_cost: Annotated[int | None, typer.Option(
        min=1, help="refuse (LOY520) a receipt whose static cost under the programme exceeds this many units: "
                    "a hard bound on the time per receipt (docs/limits.md)")] = None,
    budgets: Annotated[Path | None, typer.Option(
        help="what each budget-limited campaign has left programme-wide: a JSON object, campaign -> amount in "
             "minor units (its budget's unit); a campaign left out has its whole budget (docs/state.md)")] = None,
    code_cache: Annotated[Path | None, typer.Option(
        help="a directory (this user's alone; POSIX) where the bundle's compiled Python is kept between runs, so the "
             "next run loads it without compiling it again (docs/bundle.md, \"Code cache\")")] = None,
    trusted_key: TrustedKeyOpt = None,
    require_signature: RequireSignatureOpt = False,
    fmt: FormatOpt = Format.text,
    lang: LangOpt = None,
) -> None:
    """Evaluate receipts: one receipt prints its outcome, several print a summary per campaign."""
    as_json = fmt is Format.json
    _use_language(lang, as_json)
    engine = _engine_for(programme, as_json, _trust(trusted_key, require_signature, as_json), max_cost,
                         DirectoryCache(code_cache) if code_cache else None)
    people = _load_customers(customers, engine, as_json) if customers else {}
    left = _load_budgets(budgets, engine, as_json) if budgets else None
    at = _parse_now(now, as_json) if now else None
    run = Evaluation(engine, people, at, explain, left, hints).all(_read_receipts(receipts))
    outcomes, problems = run.outcomes, run.problems
    settings = engine.bundle.settings
    if as_json:
        print(json.dumps({"outcomes": outcomes, "refunds": run.refunds, "problems": problems,
                          "returns_skipped": len(run.unmatched)}, ensure_ascii=False, indent=2))
    elif len(outcomes) == 1 and not problems and not run.refunds:
        _print_outcome(outcomes[0], settings, explain)
    else:
        for o in outcomes if explain else ():
            _print_outcome(o, settings, explain)
        _print_summary(outcomes, settings)
        _print_refunds(run.refunds, settings)
    for p in problems if not as_json else ():
        err.print(f"[bold red]{i18n.say('error')}[{p['code']}][/]: {escape(p['where'])}: "
                  f"{escape(i18n.message(p['code'], p['message']))}")
    if run.unmatched and not as_json:
        err.print(i18n.say("note: {n} return(s) skipped: their original receipts ({ids}) are not in this run",
                           n=len(run.unmatched), ids=', '.join(run.unmatched[:3]) + (', …' if len(run.unmatched) > 3 else '')))
    raise typer.Exit(EXIT_FINDINGS if problems else EXIT_OK)


def _print_refunds(refunds: list[dict[str, Any]], settings: Any) -> None:
    """One line per return: what it gave back, in money, points and certificates."""
    for r in refunds:
        parts = [f"{money(r['money'], settings.minor)} {settings.currency}"]
        if r["points_money"]:
            parts.append(i18n.say("{amount} {currency} as points", amount=money(r['points_money'], settings.minor),
                                  currency=settings.currency))
        if r["certificates_money"]:
            parts.append(i18n.say("{amount} {currency} to certificates", currency=settings.currency,
                                  amount=money(r['certificates_money'], settings.minor)))
        whole = i18n.say("the whole receipt" if r["full"] else "part of the receipt")
        out.print(i18n.say("return {id} of {receipt} ({whole}): {parts}", id=escape(r['return_id']),
                           receipt=escape(r['receipt_id']), whole=whole, parts=', '.join(parts)))


def _load_budgets(path: Path, engine: Engine, as_json: bool) -> dict[str, int]:
    """``--budgets FILE``: a JSON object, campaign -> what it has left, read under the limits; LOY700 names
    the first bad entry."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc}", as_json=as_json)
    try:
        value = jsonio.load(data, code="LOY700", what="the --budgets file", max_bytes=MAX_CUSTOMER_BYTES,
                            where=str(path))
    except LoyaError as exc:
        _fail(str(exc), as_json=as_json, diag_code=exc.code)
    if not isinstance(value, dict):
        _fail(f"--budgets {path}: expected a JSON object, campaign -> amount in minor units", as_json=as_json,
              diag_code="LOY700")
    budgeted = [c.name for c in engine.bundle.campaigns if c.state.budget is not None]
    for name, amount in value.items():
        if name not in budgeted:
            hint = did_you_mean(name, budgeted) or f"the campaigns with a budget: {', '.join(budgeted) or 'none'}"
            _fail(f"--budgets {path}: `{name}` is not a campaign with a budget; {hint}", as_json=as_json,
                  diag_code="LOY700")
        if type(amount) is not int or not 0 <= amount <= MAX_VALUE:
            _fail(f"--budgets {path}: `{name}`: expected a whole amount in minor units from 0 to {MAX_VALUE:,}, "
                  f"got {json.dumps(amount)}", as_json=as_json, diag_code="LOY700")
    return value


def _print_outcome(o: dict[str, Any], settings: Any, explain: bool) -> None:
    out.print(outcome_table(o, settings.minor, settings.points_minor))
    for e in o["effects"]:
        kind = "points" if e["kind"] == "points" else _currency_text(settings.currency)
        scale = settings.points_minor if e["kind"] == "points" else settings.minor
        capped = i18n.say(" (capped {amount})", amount=money(e['capped'], scale)) if e["capped"] else ""
        amount = f"{money(e['total'], scale)} {kind}" if kind != "points" else \
            i18n.say("{amount} points", amount=money(e['total'], scale))
        out.print(f"  [green]✓[/] {escape(i18n.campaign(e['campaign']))}: {amount}{capped}")
    for r in o["rejected"]:
        detail = f" — {i18n.explain(r['detail'])}" if r.get("detail") else ""
        out.print(f"  [dim]✗ {escape(i18n.campaign(r['campaign']))}: {escape(i18n.say(r['reason']))}{escape(detail)}[/]")
    for hint in o.get("hints") or ():
        out.print(f"  [yellow]?[/] {escape(i18n.campaign(hint['campaign']))}: {escape(i18n.explain(hint['text']))}")
    for line in state_lines(o, settings.minor, settings.points_minor, settings.currency):
        out.print(f"  [magenta]→[/] {escape(line)}")
    for experiment, arm in (o.get("arms") or {}).items():  # docs/experiments.md
        out.print(i18n.say("  experiment {experiment}: {arm}", experiment=escape(experiment),
                           arm=escape(arm) if arm else i18n.say("anonymous, in no arm")))
    for m in o.get("messages") or ():  # docs/triggers.md: campaigns' till messages
        out.print(f"  [blue]✉[/] {escape(m['channel'])} ({escape(m['campaign'])}): {escape(m['text'])}")
    if explain:
        for step in o["trace"]:
            out.print(f"  [cyan]·[/] {escape(i18n.explain(step))}")


def _print_summary(outcomes: list[dict[str, Any]], settings: Any) -> None:
    per: dict[str, dict[str, int]] = defaultdict(lambda: {"receipts": 0, "discount": 0, "points": 0})
    total = discount = points = 0
    for o in outcomes:
        total += o["total"]
        discount += o["discount_total"]
        points += o["points_total"]
        touched: set[str] = set()
        for e in o["effects"]:
            row = per[e["campaign"]]
            row["discount" if e["kind"] == "discount" else "points"] += e["total"]
            touched.add(e["campaign"])
        for name in touched:
            per[name]["receipts"] += 1

    def cost_share(money_off: int, points_given: int) -> str:
        """Discounts plus points at their declared value, as a share of turnover (display only)."""
        if not total:
            return "-"
        cost = money_off * 10**settings.points_minor + points_given * settings.point_value
        return f"{cost * 100 / (total * 10**settings.points_minor):.2f}%"

    table = Table(title=i18n.say("{receipts} receipts, turnover {turnover} {currency}", receipts=len(outcomes),
                                 turnover=money(total, settings.minor), currency=_currency_text(settings.currency)))
    table.add_column(i18n.say("campaign"))
    for col in ("receipts", f"discount, {settings.currency}", "points", "cost share"):
        table.add_column(i18n.say(col) if "," not in col else f"{i18n.say('discount')}, {_currency_text(settings.currency)}",
                         justify="right")
    for name in sorted(per, key=lambda k: (-per[k]["discount"], -per[k]["points"], k)):
        row = per[name]
        table.add_row(escape(i18n.campaign(name)), str(row["receipts"]), money(row["discount"], settings.minor),
                      money(row["points"], settings.points_minor), cost_share(row["discount"], row["points"]))
    table.add_section()
    table.add_row(i18n.say("all campaigns"), str(len(outcomes)), money(discount, settings.minor),
                  money(points, settings.points_minor), cost_share(discount, points))
    out.print(table)


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="a .loya or .yaml file")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here instead of stdout")] = None,
    to: Annotated[str | None, typer.Option(help="loya or yaml; default: the other one")] = None,
    drop_comments: Annotated[bool, typer.Option("--drop-comments",
                                                help="convert even though the YAML side loses the comments")] = False,
    fmt: FormatOpt = Format.text,
) -> None:
    """Convert a programme between the .loya syntax and its YAML twin, losslessly (comments: docs/language.md)."""
    from loyadsl.syntax.formatter import convert as convert_text

    as_json = fmt is Format.json
    text = _read_source(source, as_json)
    target = to or ("loya" if is_yaml(source.name) else "yaml")
    if target not in ("loya", "yaml"):
        _fail(f"--to must be loya or yaml, not {target}", as_json=as_json, diag_code=USAGE)
    converted, diags = convert_text(text, source.name, is_yaml(source.name), target, drop_comments)
    if converted is None:
        _report(CheckResult(None, diags, {source.name: text}), fmt)
        raise typer.Exit(EXIT_FINDINGS)
    _write_or_print(converted, output, as_json)


@app.command()
def fmt(
    paths: Annotated[list[Path], typer.Argument(help=".loya or .yaml files, or folders to walk")],
    check_only: Annotated[bool, typer.Option("--check", help="write nothing; exit 1 if a file would change")] = False,
    write: Annotated[bool, typer.Option("--write", "-w", help="rewrite the files in place")] = False,
    list_only: Annotated[bool, typer.Option("--list", "-l", help="print the files that would change")] = False,
    diff: Annotated[bool, typer.Option("--diff", "-d", help="print a unified diff of the changes")] = False,
) -> None:
    """Print programmes in canonical form, keeping every comment; a file that cannot be formatted
    faithfully is refused and left as it is (docs/language.md, "Formatting")."""
    import difflib

    from loyadsl.syntax.formatter import format_loya, format_yaml

    changed: list[Path] = []
    status = EXIT_OK
    for path in _source_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            err.print(f"[bold red]error[LOY407][/]: {escape(f'cannot read {path}: {exc}')}")
            status = EXIT_USAGE
            continue
        formatted, diags = (format_yaml if is_yaml(path.name) else format_loya)(text, str(path))
        if formatted is None:
            print_diagnostics(err, diags, {str(path): text})
            status = max(status, EXIT_FINDINGS)
            continue
        if formatted != text:
            changed.append(path)
            if list_only:
                sys.stdout.write(f"{path}\n")
            if diff:
                sys.stdout.writelines(difflib.unified_diff(text.splitlines(keepends=True),
                                                           formatted.splitlines(keepends=True),
                                                           f"{path} (original)", f"{path} (formatted)"))
        if check_only or ((list_only or diff) and not write):
            continue
        if not write:
            sys.stdout.write(formatted)
        elif formatted != text:
            try:
                write_atomically(path, formatted)
            except OSError as exc:
                err.print(f"[bold red]error[LOY407][/]: {escape(f'cannot write {path}: {exc}')}")
                status = EXIT_USAGE
    if check_only:
        for path in changed:
            out.print(f"would reformat {escape(str(path))}")
        if changed:
            status = max(status, EXIT_FINDINGS)
    raise typer.Exit(status)


@app.command()
def keygen(
    output: Annotated[Path, typer.Option("--output", "-o", help="private key file (hex); .pub gets the public key")],
) -> None:
    """Make an Ed25519 key pair for signing bundles (the POS fleet trusts the .pub file)."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    except ImportError:
        _fail("signing needs the `cryptography` package: pip install 'loyadsl[sign]'", diag_code=USAGE)
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    try:
        with os.fdopen(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as private:
            private.write(raw.hex() + "\n")  # created readable by its owner only, never world-readable for a moment
        output.with_suffix(output.suffix + ".pub").write_text(pub.hex() + "\n", encoding="ascii")
    except OSError as exc:
        _fail(f"cannot write the key: {exc}")
    out.print(f"wrote {escape(str(output))} and {escape(str(output))}.pub")


@app.command()
def version() -> None:
    """Print the toolchain version and the bundle format it writes."""
    out.print(f"loyadsl {__version__}, bundle format {FORMAT_VERSION}")


# ---------------------------------------------------------------------------------------------- helpers


def _read_source(path: Path, as_json: bool) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {path}: {exc}", as_json=as_json)


def _write_or_print(text: str, output: Path | None, as_json: bool) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        write_atomically(output, text)
    except OSError as exc:
        _fail(f"cannot write {output}: {exc}", as_json=as_json)


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` all at once: a temporary file in the same folder, synced, then
    ``os.replace``. The file keeps its mode (a new one gets the umask's); a symlink keeps pointing at
    the file, which is what is replaced. On any failure the temporary file is removed and ``path`` is
    as it was."""
    target = path.resolve()
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise


def _read_key(path: Path, as_json: bool) -> bytes:
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        _fail(f"cannot read the key {path}: {exc}", as_json=as_json)
        raise  # unreachable: _fail exits


def _trust(key_files: list[Path] | None, require: bool, as_json: bool) -> Trust:
    keys = []
    for path in key_files or ():
        key = _read_key(path, as_json)
        if len(key) != 32:
            _fail(f"--trusted-key {path}: not an Ed25519 public key (32 bytes as hex, the .pub of `loya keygen`)",
                  as_json=as_json, diag_code="LOY406")
        keys.append(key)
    return Trust(tuple(keys), require)


def _load_bundle_file(path: Path, as_json: bool, trust: Trust = Trust()) -> Any:
    try:
        data = path.read_bytes()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc}", as_json=as_json)
    try:
        return load_bundle(data, list(trust.keys), trust.require)
    except LoyaError as exc:
        _fail(f"{path}: {exc}", EXIT_FINDINGS, as_json=as_json, diag_code=exc.code)


def _engine_for(path: Path, as_json: bool, trust: Trust = Trust(), max_cost: int | None = None,
                code_cache: CodeCache | None = None) -> Engine:
    if not path.is_file():
        _fail(f"{path}: no such file", as_json=as_json)
    if path.suffix in (".loya", ".yaml", ".yml"):
        if trust.asked:
            _fail(f"{path} is a source programme, which carries no signature: --trusted-key and "
                  "--require-signature check compiled bundles", as_json=as_json, diag_code="LOY406")
        data, result = compile_file(path)
        if data is None:
            _report(result, Format.json if as_json else Format.text)
            raise typer.Exit(EXIT_FINDINGS)
        bundle = load_bundle(data)
    else:
        bundle = _load_bundle_file(path, as_json, trust)
    i18n.know_titles({c.name: c.title for c in bundle.campaigns})
    try:
        return Engine(bundle, max_cost, code_cache)
    except LoyaError as exc:
        _fail(f"{path}: {exc}", as_json=as_json, diag_code=exc.code)


def _read_receipts(path: Path) -> Iterator[tuple[str, Any]]:
    """Receipts from .json (an object or a list) or .jsonl (one a line), each read under the limits
    (``jsonio``: size, depth, digits, UTF-8), in the file's order; an unreadable entry comes as its
    ``LoyaError`` (a problem at ``file:line``) and the rest is still read."""
    try:
        with path.open("rb") as f:
            if path.suffix == ".jsonl":
                for number, line in jsonio.lines(f, MAX_RECEIPT_BYTES):
                    try:
                        yield f"{path}:{number}", _receipt_json(line, f"{path}:{number}")
                    except LoyaError as exc:
                        yield f"{path}:{number}", exc
                return
            data = f.read(MAX_RECEIPT_BYTES + 1)
    except OSError as exc:
        _fail(f"cannot read {path}: {exc}")
    try:
        value = _receipt_json(data, str(path))
    except LoyaError as exc:
        yield str(path), exc
        return
    items = value if isinstance(value, list) else [value]
    for index, item in enumerate(items):
        yield (f"{path}[{index}]" if isinstance(value, list) else str(path)), item


def _receipt_json(data: bytes, where: str) -> Any:
    return jsonio.load(data, code="LOY501", what="the receipt", max_bytes=MAX_RECEIPT_BYTES, where=where, floats=True)


def _load_customers(path: Path, engine: Engine, as_json: bool) -> dict[str, CustomerState]:
    """The customers file, read as `loya simulate` reads it (``state.read_customers``): JSON Lines, each
    record validated against the programme; any bad line stops the command, all of them reported."""
    problems: list[LoyaError] = []
    try:
        with path.open("rb") as f:
            people = read_customers(f, str(path), problems, engine.bundle.state)
    except OSError as exc:
        _fail(f"cannot read {path}: {exc}", as_json=as_json)
    if problems:  # in text, every problem in file order; in JSON, the first
        for problem in problems[:-1] if not as_json else ():
            err.print(f"[bold red]error[{problem.code}][/]: {escape(problem.message)}")
        last = problems[0] if as_json else problems[-1]
        _fail(last.message, EXIT_USAGE, as_json=as_json, diag_code=last.code)
    return people


class ReportFormat(StrEnum):
    table = "table"
    json = "json"
    html = "html"
    sarif = "sarif"  # sarif, junit and github: the assertions' verdicts for CI (docs/cli.md)
    junit = "junit"
    github = "github"


# the options `simulate` and `diff` share: how to read the history, run it, check it and report it
ReceiptsOpt = Annotated[list[Path], typer.Option("--receipts", "-r", help="JSONL, CSV or Parquet history (repeatable)")]
CustomersOpt = Annotated[Path | None, typer.Option(help="initial customer states, JSONL")]
MapOpt = Annotated[str | None, typer.Option("--map", help="column mapping: receipt_id=CHECK_ID,...")]
MapFileOpt = Annotated[Path | None, typer.Option("--map-file", help="column mapping, YAML")]
WorkersOpt = Annotated[int, typer.Option(min=1, help="parallel workers")]
BackendOpt = Annotated[str, typer.Option(help="process (local pool) or dask")]
SchedulerOpt = Annotated[str | None, typer.Option(help="dask scheduler address (default: a local cluster)")]
ReportFormatOpt = Annotated[ReportFormat, typer.Option(
    "--format", "-f", help="table, json or html; sarif, junit or github (annotations): the assertions, for CI")]
AssertOpt = Annotated[list[str] | None, typer.Option("--assert", help="a guard, e.g. 'totals.cost_share <= 3%'")]
AssertFileOpt = Annotated[list[Path] | None, typer.Option("--assert-file", help="YAML list of guards")]
QuarantineOpt = Annotated[Path | None, typer.Option(help="write unusable receipts here (JSONL)")]
StrictOpt = Annotated[bool, typer.Option(help="stop at the first unusable receipt")]
LangOpt = Annotated[str | None, typer.Option(
    "--lang", envvar="LOYA_LANG", help="en or ru: diagnostics, messages and report labels in that language, money "
                                       "and numbers formatted for it (needs loyadsl[i18n]); default: the locale's "
                                       "language (LANG), else English with plain 1,234.56 RUB")]


@app.command()
def simulate(
    programme: Annotated[Path, typer.Argument(help="a .loya/.yaml programme or a compiled bundle")],
    receipts: ReceiptsOpt,
    customers: CustomersOpt = None,
    map_spec: MapOpt = None,
    map_file: MapFileOpt = None,
    workers: WorkersOpt = 1,
    backend: BackendOpt = "process",
    scheduler: SchedulerOpt = None,
    fmt: ReportFormatOpt = ReportFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the report here")] = None,
    asserts: AssertOpt = None,
    assert_file: AssertFileOpt = None,
    quarantine: QuarantineOpt = None,
    strict: StrictOpt = False,
    trusted_key: TrustedKeyOpt = None,
    require_signature: RequireSignatureOpt = False,
    lang: LangOpt = None,
) -> None:
    """Replay history through a programme; print the report (exit 1 if an assertion fails)."""
    _use_language(lang, fmt is ReportFormat.json)
    trust = _trust(trusted_key, require_signature, fmt is ReportFormat.json)
    report = _simulate(programme, receipts, customers, map_spec, map_file, workers, backend, scheduler,
                       asserts or [], assert_file or [], quarantine, strict, fmt, trust)
    _emit_report(report, fmt, output, name=f"loya simulate {programme}")
    if any(not a["ok"] for a in report["assertions"]):
        raise typer.Exit(EXIT_FINDINGS)


def _simulate(programme: Path, receipts: list[Path], customers: Path | None, map_spec: str | None,
              map_file: Path | None, workers: int, backend: str, scheduler: str | None, asserts: list[str],
              assert_files: list[Path], quarantine: Path | None, strict: bool, fmt: ReportFormat,
              trust: Trust) -> dict[str, Any]:
    from loyadsl.simulate import asserts as guards
    from loyadsl.simulate.run import Simulation

    as_json = fmt is ReportFormat.json
    engine = _engine_for(programme, as_json, trust)
    checks, mapping = _history_inputs(engine, receipts, map_spec, map_file, asserts, assert_files, backend, as_json)
    bundle = _bundle_bytes(programme, engine)
    report = _replay(as_json, lambda progress: Simulation(bundle, receipts, customers, mapping, workers, backend,
                                                          scheduler, strict, quarantine, progress=progress).run())
    report["assertions"] = guards.check(checks, report)
    return report


def _history_inputs(engine: Engine, receipts: list[Path], map_spec: str | None, map_file: Path | None,
                    asserts: list[str], assert_files: list[Path], backend: str, as_json: bool) -> tuple[list[Any], Any]:
    """The guards (each naming a figure of ``engine``'s report) and the column mapping, and the
    history files checked, before anything runs."""
    from loyadsl.simulate import asserts as guards
    from loyadsl.simulate.errors import SimulationError
    from loyadsl.simulate.inputs import check_inputs
    from loyadsl.simulate.mapping import load_mapping
    from loyadsl.simulate.run import BACKENDS, report_shape

    if backend not in BACKENDS:
        _fail(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}", as_json=as_json,
              diag_code="LOY609")
    try:
        checks = guards.load_assertions(asserts, assert_files)
        guards.validate(checks, report_shape(engine.bundle))
        mapping = load_mapping(map_spec, map_file) if (map_spec or map_file) else None
        check_inputs(receipts, mapping)
    except SimulationError as exc:
        _fail(str(exc), as_json=as_json, diag_code=exc.code)
    return checks, mapping


def _replay(as_json: bool, run: Callable[[Callable[[str, int], None]], dict[str, Any]]) -> dict[str, Any]:
    """Run a replay of history under a progress bar, stopped cleanly by SIGTERM or SIGINT; its failures
    become coded messages, never tracebacks: exit 2 when the run cannot go on (an input, a worker that
    died; 128 + the signal when interrupted), 1 for a record under --strict or a refused programme."""
    from loyadsl.simulate.errors import Interrupted, SimulationError
    from loyadsl.simulate.pool import stop_on_signals

    with _progress_bar(as_json) as progress:
        try:
            with stop_on_signals():
                return run(progress)
        except Interrupted as exc:
            _fail(str(exc), 128 + exc.signum, as_json=as_json, diag_code=exc.code)
        except SimulationError as exc:
            _fail(str(exc), as_json=as_json, diag_code=exc.code)
        except LoyaError as exc:  # a bad record under --strict, a programme the runtime refuses
            _fail(str(exc), EXIT_FINDINGS, as_json=as_json, diag_code=exc.code)
        except OSError as exc:
            _fail(f"{exc.filename or 'I/O'}: {exc.strerror or exc}", as_json=as_json)


def _bundle_bytes(path: Path, engine: Engine) -> bytes:
    if path.suffix in (".loya", ".yaml", ".yml"):
        data, _ = compile_file(path)
        assert data is not None  # _engine_for compiled it already
        return data
    return path.read_bytes()


def _emit_report(report: dict[str, Any], fmt: ReportFormat, output: Path | None, diff: bool = False,
                 name: str = "loya simulate") -> None:
    """The report in ``fmt`` on stdout or in ``output``; then each failing assertion's reason on stderr
    unless stdout already shows it to a person (a table, annotations)."""
    _write_report(report, fmt, output, diff, name)
    if output is not None or fmt not in (ReportFormat.table, ReportFormat.github):
        for case in _assertion_cases(report, name):
            for d in case.diagnostics:
                err.print(f"[bold red]{i18n.say('error')}[{d.code}][/]: {escape(i18n.message(d.code, d.message))}")


def _assertion_cases(report: dict[str, Any], name: str) -> list[Any]:
    """Each assertion as a CI case of the suite ``name``: a failing one carries LOY614 and its reason."""
    from loyadsl.formats import Case

    return [Case(name, a["expr"], () if a["ok"] else (error(a.get("code", "LOY614"), f"{'guard' if 'code' in a else 'assertion'} failed: {a['expr']}: {a['detail']}"),),
                 not a["ok"]) for a in report["assertions"]]


def _write_report(report: dict[str, Any], fmt: ReportFormat, output: Path | None, diff: bool, name: str) -> None:
    from loyadsl.simulate.html import render_diff_html, render_html
    from loyadsl.simulate.render import render_diff, render_report

    if fmt.value in CI_FORMATS:
        text = ci_report(fmt.value, _assertion_cases(report, name), name).rstrip("\n")
    elif fmt is ReportFormat.json:
        text = json.dumps(report, ensure_ascii=False, indent=1, sort_keys=False)
    elif fmt is ReportFormat.html:
        text = render_diff_html(report) if diff else render_html(report)
    else:
        if output is None:
            (render_diff if diff else render_report)(report, out)
            return
        console = Console(file=None, record=True, width=120, force_terminal=False)
        with console.capture():
            (render_diff if diff else render_report)(report, console)
        text = console.export_text()
    if output is None:
        sys.stdout.write(text + "\n" if text else "")  # no annotation: nothing, not an empty line
        return
    try:
        output.write_text(text + ("\n" if not text.endswith("\n") else ""), encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc}")
    err.print(f"report written to {output}")


@app.command("diff")
def diff_cmd(
    old: Annotated[Path, typer.Argument(help="the programme as it is: .loya/.yaml or a compiled bundle")],
    new: Annotated[Path, typer.Argument(help="the programme as proposed: .loya/.yaml or a compiled bundle")],
    receipts: ReceiptsOpt,
    customers: CustomersOpt = None,
    map_spec: MapOpt = None,
    map_file: MapFileOpt = None,
    workers: WorkersOpt = 1,
    backend: BackendOpt = "process",
    scheduler: SchedulerOpt = None,
    top: Annotated[int, typer.Option(min=0, help="how many customers and receipts with the largest change")] = 10,
    fmt: ReportFormatOpt = ReportFormat.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the diff here")] = None,
    asserts: AssertOpt = None,
    assert_file: AssertFileOpt = None,
    quarantine: QuarantineOpt = None,
    strict: StrictOpt = False,
    trusted_key: TrustedKeyOpt = None,
    require_signature: RequireSignatureOpt = False,
    max_cost_delta: Annotated[str | None, typer.Option(
        help="fail (exit 1) if the total cost moves by more: 5% of OLD's, or 5000.00 RUB")] = None,
    max_discount_delta: Annotated[str | None, typer.Option(help="the same for the total discount")] = None,
    max_points_delta: Annotated[str | None, typer.Option(help="the same for the points accrued: 5% or 300 points")] = None,
    max_campaign_delta: Annotated[list[str] | None, typer.Option(
        help="a campaign's cost: NAME=LIMIT, or '*=LIMIT' for each campaign (repeatable)")] = None,
    lang: LangOpt = None,
) -> None:
    """Replay history through two programmes; print what changes (exit 1 if an assertion on NEW or a
    delta guard fails; docs/simulate.md, "Delta guards")."""
    from loyadsl.simulate.diff import check_comparable, run_diff
    from loyadsl.simulate.errors import DiffError
    from loyadsl.simulate.run import Simulation

    as_json = fmt is ReportFormat.json
    _use_language(lang, as_json)
    trust = _trust(trusted_key, require_signature, as_json)
    old_engine, new_engine = _engine_for(old, as_json, trust), _engine_for(new, as_json, trust)
    try:
        check_comparable(old_engine.bundle, new_engine.bundle)
    except DiffError as exc:
        _fail(str(exc), as_json=as_json, diag_code=exc.code)
    checks, mapping = _history_inputs(new_engine, receipts, map_spec, map_file, asserts or [], assert_file or [],
                                      backend, as_json)
    limits = _delta_guards(old_engine, new_engine, as_json, cost=max_cost_delta, discount=max_discount_delta,
                           points=max_points_delta, campaigns=max_campaign_delta or [])
    old_bundle, new_bundle = _bundle_bytes(old, old_engine), _bundle_bytes(new, new_engine)
    report = _replay(as_json, lambda progress: run_diff(old_bundle, Simulation(
        new_bundle, receipts, customers, mapping, workers, backend, scheduler, strict, quarantine,
        progress=progress), top, checks))
    report["assertions"] += _check_delta_guards(limits, report)
    _emit_report(report, fmt, output, diff=True, name=f"loya diff {old} {new}")
    if any(not a["ok"] for a in report["assertions"]):
        raise typer.Exit(EXIT_FINDINGS)


@contextmanager
def _progress_bar(as_json: bool, unit: str = "receipts") -> Iterator[Callable[..., None]]:
    """A progress bar on stderr (a terminal only, never with JSON output), or plain periodic lines when
    stderr is not a terminal (loyadsl/progress.py); yields the progress callback."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from loyadsl.progress import PlainProgress, interval_from_env

    if not err.is_terminal:
        yield PlainProgress(sys.stderr, interval_from_env(), unit)
        return
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:,} receipts"),
                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=err, transient=True,
                  disable=as_json or not err.is_terminal) as bar:
        task = bar.add_task("reading", total=None, rate="")

        def progress(phase: str, done: int, total: int | None = None) -> None:
            elapsed = bar.tasks[0].elapsed or 0
            rate = f"{int(done / elapsed):,}/s" if elapsed > 0 else ""
            bar.update(task, description=phase, completed=done, rate=rate)

        yield progress


def _parse_now(text: str, as_json: bool) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        _fail(f"--now: `{text}` is not an ISO 8601 time", as_json=as_json, diag_code=USAGE)
    if value.tzinfo is None:
        _fail(f"--now: `{text}` needs a UTC offset, e.g. 2025-06-01T12:00:00+03:00", as_json=as_json, diag_code=USAGE)
    if not MIN_DATE <= value.date() <= MAX_DATE:
        _fail(f"--now: `{text}` is outside {MIN_DATE} to {MAX_DATE}", as_json=as_json, diag_code=USAGE)
    return value


@app.command()
def collisions(
    programme: Annotated[Path, typer.Argument(help="the .loya or .yaml programme")],
    fmt: Annotated[CheckFormat, typer.Option(
        "--format", "-f", help="text or json: the matrix; sarif, junit or github: the findings, for CI")
    ] = CheckFormat.text,
    pairs: Annotated[str | None, typer.Option("--pairs", help="only these pairs: A,B (several: A,B;C,D)")] = None,
    findings: Annotated[bool, typer.Option("--findings", help="also the findings: campaigns that never fire "
                                           "or are always shadowed (LOY310, LOY311)")] = False,
    no_solver: Annotated[bool, typer.Option("--no-solver", help="search for witnesses only, without z3")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="findings fail too (exit 1)")] = False,
) -> None:
    """Which campaigns can meet on one receipt: disjoint (proved), meet (witness) or unknown (docs/collisions.md)."""
    from loyadsl.analysis import cli as analysis
    try:
        with _progress_bar(fmt == CheckFormat.json, "pairs") as progress:
            found = analysis.collisions(programme, fmt.value, pairs, out, not no_solver, findings, progress)
    except LoyaError as exc:
        _fail(exc.message, EXIT_FINDINGS if exc.code in (analysis.NOT_COMPILED, "LOY712") else EXIT_USAGE,
              fmt == CheckFormat.json, exc.code)
    raise typer.Exit(EXIT_FINDINGS if strict and found else EXIT_OK)


@app.command("schema")
def schema_cmd(
    name: Annotated[str, typer.Argument(help="receipt, customer, programme, bundle, simulation, collisions or "
                                             "ab-assignments")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write it here instead of stdout")] = None,
    check_file: Annotated[Path | None, typer.Option("--check", help="check this document against the schema instead "
                                                                    "(exit 1 on a mismatch, naming its path)")] = None,
) -> None:
    """Print the JSON Schema of a contract, generated from the models that validate it (docs/schemas/)."""
    from loyadsl import schemas

    if name not in schemas.SCHEMAS:
        hint = did_you_mean(name, list(schemas.SCHEMAS)) or f"one of: {', '.join(schemas.SCHEMAS)}"
        _fail(f"no schema named `{name}`; {hint}", EXIT_USAGE, diag_code=USAGE)
    if check_file is not None:
        from loyadsl.schema_check import check_file as check_against

        text = _read_source(check_file, False)
        found = check_against(name, check_file, text)
        print_diagnostics(err, found, {str(check_file): text})
        raise typer.Exit(EXIT_FINDINGS if found else EXIT_OK)
    text = schemas.text(name)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {output}: {exc}", diag_code="LOY407")


@app.command("find-sku")
def find_sku(
    programme: Annotated[Path, typer.Argument(help="the .loya or .yaml programme")],
    sku: Annotated[str, typer.Argument(help="the SKU to look for")],
    format: FormatOpt = Format.text,
) -> None:
    """Every campaign that can affect this SKU (directly, by category, brand or list) and its effect."""
    from loyadsl.analysis import cli as analysis
    try:
        analysis.find_sku(programme, sku, format.value, out)
    except LoyaError as exc:
        _fail(exc.message, EXIT_FINDINGS if exc.code == analysis.NOT_COMPILED else EXIT_USAGE,
              format == Format.json, exc.code)


class TestFormat(StrEnum):
    text = "text"
    json = "json"
    sarif = "sarif"
    junit = "junit"
    github = "github"


@app.command("test")
def test_(
    paths: Annotated[list[Path], typer.Argument(help="test files (*.test.yaml), or folders to walk for them")],
    fmt: Annotated[TestFormat, typer.Option(
        "--format", "-f", help="text for people, json for machines, sarif, junit or github (annotations) for CI")
    ] = TestFormat.text,
    lang: LangOpt = None,
) -> None:
    """Run mechanic tests (docs/testing.md): exit 0 all pass, 1 a failure, 2 a file that cannot be loaded."""
    from loyadsl.mechtest import cli as mechtest

    _use_language(lang, fmt is TestFormat.json)
    try:
        code = mechtest.run(paths, fmt.value, out)
    except LoyaError as exc:
        _fail(exc.message, EXIT_USAGE, fmt is TestFormat.json, exc.code)
    raise typer.Exit(code)


@app.command("doc")
def doc(
    paths: Annotated[list[Path] | None, typer.Argument(help=".loya files or folders of templates; "
                                                        "default: the standard mechanics")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write the Markdown here")] = None,
    check: Annotated[bool, typer.Option("--check", help="exit 1 if --output is not up to date; write nothing")
                     ] = False,
) -> None:
    """Render templates as Markdown from their doc comments and signatures (docs/testing.md)."""
    from loyadsl.mechtest import cli as mechtest
    try:
        code = mechtest.doc(paths or [], output, check, out)
    except LoyaError as exc:
        _fail(exc.message, EXIT_USAGE, diag_code=exc.code)
    raise typer.Exit(code)
# --- authoring (issue 16): `loya fmt DIR/` -----------------------------------------------------------


def _source_files(paths: list[Path]) -> Iterator[Path]:
    """The files named, and every programme source under each folder named (``walk.sources``)."""
    from loyadsl.walk import sources

    for path in paths:
        yield from sources(path) if path.is_dir() else (path,)


# --- authoring (issue 16): delta guards of `loya diff` -------------------------------------------


def _delta_guards(old: Engine, new: Engine, as_json: bool, campaigns: list[str], **totals: str | None) -> list[Any]:
    """The ``--max-*-delta`` guards, read and checked against both programmes before the replay (LOY616)."""
    from loyadsl.simulate import delta_guards
    from loyadsl.simulate.errors import SimulationError

    try:
        guards = [delta_guards.totals_guard(name, text) for name, text in totals.items() if text is not None]
        guards += [delta_guards.campaign_guard(text) for text in campaigns]
        names = [c.name for c in (*old.bundle.campaigns, *new.bundle.campaigns)]
        delta_guards.validate(guards, names, new.bundle.settings.currency)
    except SimulationError as exc:
        _fail(str(exc), as_json=as_json, diag_code=exc.code)
    return guards


def _check_delta_guards(guards: list[Any], report: dict[str, Any]) -> list[dict[str, Any]]:
    from loyadsl.simulate import delta_guards

    return delta_guards.check(guards, report)


# --- authoring (issue 16): --lang ---------------------------------------------------------------------


def _currency_text(code: str) -> str:
    """How the reader's language writes a currency (``₽`` under --lang ru), the code by default."""
    from loyadsl import locale_text

    return locale_text.currency_symbol(code)


def _use_language(lang: str | None, as_json: bool) -> None:
    """Speak ``lang`` (``loyadsl/i18n``) and format money and numbers for it (``loyadsl/locale_text.py``);
    without --lang (or LOYA_LANG), the locale's language (LANGUAGE, LC_ALL, LC_MESSAGES, LANG) when it has
    a catalogue, its numbers plain if Babel is missing; else English and plain numbers, as written."""
    try:
        i18n.speak(lang)
    except LoyaError as exc:
        _fail(exc.message, as_json=as_json, diag_code=exc.code)


# --- authoring (issue 16): the language server ---------------------------------------------------


@app.command()
def lsp() -> None:
    """Serve the Language Server Protocol over stdin/stdout for an editor (docs/editor.md)."""
    try:
        from loyadsl.lsp.server import serve
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if missing not in ("pygls", "lsprotocol"):
            raise
        _fail(f"`loya lsp` needs the language server, and {missing} is not installed; "
              "install it with: pip install 'loyadsl[lsp]'", diag_code="LOY730")
    serve()


def main() -> None:
    """Entry point: no traceback ever reaches a user; an unexpected failure is reported as a bug."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except LoyaError as exc:  # a coded failure that a verb did not report itself
        err.print(f"[bold red]error[{exc.code}][/]: {escape(exc.message)}")
        sys.exit(EXIT_FINDINGS)
    except Exception as exc:  # the last line of defence, reported as a bug with its type only
        d = error("LOY999", f"internal error: {type(exc).__name__}: {exc}",
                  hint="this is a bug in loyadsl; please report it with the input that caused it")
        err.print(f"[bold red]error[{d.code}][/]: {escape(d.message)}\n  = hint: {d.hint}")
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
