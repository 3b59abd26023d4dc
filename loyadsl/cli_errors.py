"""How a sub-command's coded failure reaches the user: one line on stderr and exit code 2, no traceback.

The verbs under `loya ab`, `loya db`, `loya offers` and `loya raffle` share this one context manager, so
they all print a failure the same way: ``error[CODE]: message``. A ``LoyaError``'s message already
names its place (``file:line: ...``, ``lines[3].qty: ...``), so the place is not printed again."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from loyadsl.runtime import LoyaError

USAGE_EXIT = 2  # bad usage or input, as the main CLI's EXIT_USAGE


@contextmanager
def coded_failures() -> Iterator[None]:
    """Report a ``LoyaError`` raised inside as ``error[CODE]: message`` on stderr and exit with code 2."""
    try:
        yield
    except LoyaError as exc:
        typer.echo(f"error[{exc.code}]: {exc.message}", err=True)
        raise typer.Exit(USAGE_EXIT) from None
