"""`loya raffle draw`: the winners of a prize draw among the raffle tickets customers hold, from a
published seed (runtime/raffle.py documents the algorithm; docs/rewards.md, "Raffles")."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from loyadsl.api import compile_file
from loyadsl.cli_errors import coded_failures
from loyadsl.runtime import LoyaError, load_bundle
from loyadsl.runtime.raffle import draw, entries_digest
from loyadsl.runtime.state import CustomerState, read_customers

raffle = typer.Typer(help="Raffles: draw prize winners from tickets, auditable from a seed.", no_args_is_help=True)


class Output(StrEnum):
    text = "text"
    json = "json"


@raffle.command("draw")
def draw_cmd(
    programme: Annotated[Path, typer.Argument(help="the .loya or .yaml programme declaring the tickets")],
    customers: Annotated[Path, typer.Argument(help="customer states, JSON Lines (as `loya eval --customers`)")],
    tickets: Annotated[str, typer.Option(help="the counter or chips that holds the tickets")],
    prizes: Annotated[int, typer.Option(help="how many prizes (one per customer)")],
    seed: Annotated[str, typer.Option(help="the published seed")],
    fmt: Annotated[Output, typer.Option("--format", "-f", help="text or json")] = Output.text,
) -> None:
    """Draw the winners: the same seed and tickets always give the same winners."""
    with coded_failures():
        result = run_draw(programme, customers, tickets, prizes, seed)
    if fmt == Output.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    typer.echo(f"seed {seed!r}; {result['holders']} customers hold {result['tickets']} tickets "
               f"(entries sha256 {result['entries_sha256']})")
    for w in result["winners"]:
        typer.echo(f"{w['place']}. {w['customer']} ({w['tickets']} tickets; ticket {w['ticket']}, {w['score'][:16]}…)")


def run_draw(programme: Path, customers: Path, tickets: str, prizes: int, seed: str) -> dict[str, Any]:
    """The draw as data: the seed, the ticket list's digest and the winners."""
    data, result = compile_file(programme)
    if data is None:
        first = next((d for d in result.diagnostics if d.is_error), None)
        raise LoyaError("LOY565", f"{programme} does not compile" + (f": {first}" if first else ""))
    decls = load_bundle(data).state
    if tickets not in {c.name for c in decls.counters}:
        known = ", ".join(c.name for c in decls.counters) or "none"
        raise LoyaError("LOY565", f"no counter or chips `{tickets}` in {programme} (declared: {known})")
    problems: list[LoyaError] = []
    try:
        f = customers.open("rb")
    except OSError as exc:
        raise LoyaError("LOY565", f"cannot read {customers}: {exc.strerror}") from None
    with f:
        states = read_customers(f, str(customers), problems, decls)
    if problems:
        raise problems[0]
    entries = [(cid, _tickets(state, tickets)) for cid, state in sorted(states.items())]
    winners = draw(entries, seed, prizes)
    return {"seed": seed, "tickets_counter": tickets, "holders": sum(1 for _, n in entries if n),
            "tickets": sum(n for _, n in entries), "entries_sha256": entries_digest(entries),
            "winners": [w._asdict() for w in winners]}


def _tickets(state: CustomerState, name: str) -> int:
    counter = state.counters.get(name)
    return counter.value if counter is not None else 0
