"""`loya serve` and `loya db upgrade|import|export|key` (docs/server.md).

The HTTP stack (starlette, uvicorn) and psycopg are the ``serve`` extra, imported only when a verb
needs them; without them the verb stops with LOY817 naming the extra. Every coded failure is one line
on stderr and exit code 2.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from loyadsl.cli_errors import coded_failures
from loyadsl.runtime import CodeCache, DirectoryCache, Engine, load_bundle
from loyadsl.runtime.errors import LoyaError
from loyadsl.runtime.state import read_customers
from loyadsl.server.connect import open_store
from loyadsl.server.errors import NO_EXTRA
from loyadsl.server.processing import Processor
from loyadsl.server.store import BAD_URL, Store

db_app = typer.Typer(help="The processing server's database: upgrade its schema, import and export customers, "
                          "make API keys.", no_args_is_help=True)
DbOpt = Annotated[str, typer.Option("--db", help="sqlite:///PATH (or a path) or postgresql://...")]
CodeCacheOpt = Annotated[Path | None, typer.Option(
    help="a directory (this user's alone; POSIX) where the bundle's compiled Python is kept between loads: "
         "a restart or another worker loads the bundle without compiling it again (docs/bundle.md)")]


def need(module: str) -> None:
    """Import ``module`` or stop with LOY817 naming the extra."""
    try:
        importlib.import_module(module)
    except ImportError:
        raise LoyaError(NO_EXTRA, f"`loya serve` needs {module}, which is not installed: "
                                  "pip install 'loyadsl[serve]'") from None


def _store(url: str) -> Store:
    if url.startswith(("postgresql:", "postgres:")):
        need("psycopg")
    return open_store(url)


def _bundle_bytes(path: Path, code_cache: CodeCache | None = None) -> bytes:
    """A compiled bundle's bytes, or the bundle compiled from a programme (.loya, .yaml); a bundle file is
    loaded, so that a broken one stops the server before it starts (its compiled code kept in ``code_cache``
    for the workers' first load)."""
    if path.suffix in (".loya", ".yaml", ".yml"):
        from loyadsl.api import compile_file
        data, result = compile_file(path)
        if data is None:
            first = next(d for d in result.diagnostics if d.is_error)
            raise LoyaError(first.code, f"{path}: does not compile: {first.message} (`loya check` lists all)")
        return data
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoyaError("LOY407", f"cannot read {path}: {exc.strerror}") from None
    Engine(load_bundle(data), code_cache=code_cache)
    return data


def serve(
    bundle: Annotated[Path, typer.Argument(help="the compiled bundle (or programme) in force from now on")],
    db: DbOpt = "loya.db",
    host: Annotated[str, typer.Option(help="address to listen on (TLS: at a reverse proxy, docs/server.md)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
    workers: Annotated[int, typer.Option(min=1, help="server processes")] = 1,
    trusted_key: Annotated[list[Path] | None, typer.Option(
        "--trusted-key", help="a public key (.pub of `loya keygen`) whose signed bundles may be uploaded")] = None,
    hold_seconds: Annotated[int, typer.Option(min=1, help="how long calculate holds points")] = 300,
    code_cache: CodeCacheOpt = None,
) -> None:
    """Run the processing server: tills calculate, confirm, cancel and return receipts over HTTP."""
    with contextlib.ExitStack() as folders:
        # several workers share a folder for this run (removed when it ends): their counters, summed per
        # scrape, and without --code-cache their compiled bundles, so that a bundle loaded here or uploaded
        # to one of them is compiled once. One worker makes none: uvicorn raises SIGTERM again once it has
        # stopped, so nothing after it would run to remove it.
        shared = folders.enter_context(tempfile.TemporaryDirectory(prefix="loya-serve-")) if workers > 1 else None
        cache = code_cache or (Path(shared) / "code" if shared is not None else None)
        with coded_failures():
            for module in ("starlette", "uvicorn"):
                need(module)
            keys = [_public_key(path) for path in trusted_key or ()]
            store = _store(db)
            store.upgrade()
            Processor(store).install_bundle(_bundle_bytes(bundle, DirectoryCache(cache) if cache else None))
            store.close()
        from loyadsl.server.app import ENV_CODE_CACHE, ENV_DB, ENV_HOLD, ENV_KEYS  # (starlette: found above)
        _serve(host, port, workers, shared, {ENV_DB: db, ENV_KEYS: ",".join(k.hex() for k in keys),
                                             ENV_HOLD: str(hold_seconds), ENV_CODE_CACHE: str(cache or "")})


def _serve(host: str, port: int, workers: int, shared: str | None, settings: dict[str, str]) -> None:
    """uvicorn with ``workers`` processes, configured through the environment (``app.from_environment``)."""
    os.environ.update({name: value for name, value in settings.items() if value})
    for name in [name for name, value in settings.items() if not value]:  # none from an earlier shell
        os.environ.pop(name, None)
    import uvicorn

    from loyadsl.server import workers as processes
    from loyadsl.server.app import ENV_METRICS
    app = "loyadsl.server.app:from_environment"
    options = uvicorn_options()
    if shared is None:
        uvicorn.run(app, host=host, port=port, **options)
        return
    os.environ[ENV_METRICS] = shared
    if processes.balanced():  # a listening socket each: the tills spread evenly (workers.py)
        status = processes.run(app, host, port, workers, **options)
        if status:
            raise typer.Exit(status)
        return
    uvicorn.run(app, host=host, port=port, workers=workers, **options)


def uvicorn_options() -> dict[str, Any]:
    """How ``loya serve`` runs uvicorn. ``proxy_headers`` off: uvicorn's ProxyHeadersMiddleware would
    read X-Forwarded-For/-Proto into the scope's client and scheme for every request from 127.0.0.1
    (4 us of the event loop's time each), and the server reads neither. ``http``: uvicorn's httptools
    protocol with calculate and confirm answered without the ASGI cycle (protocol.py), where it can be."""
    options: dict[str, Any] = {"factory": True, "log_level": "warning", "access_log": False,  # none at warning anyway
                               "timeout_graceful_shutdown": 10, "proxy_headers": False}
    if importlib.util.find_spec("httptools") is not None:
        from loyadsl.server import protocol
        if protocol.usable():
            options["http"] = "loyadsl.server.protocol:HotProtocol"
    return options


def _public_key(path: Path) -> bytes:
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise LoyaError("LOY406", f"--trusted-key {path}: cannot read the key ({exc})") from None
    if len(key) != 32:
        raise LoyaError("LOY406", f"--trusted-key {path}: not an Ed25519 public key (the .pub of `loya keygen`)")
    return key


@db_app.command()
def upgrade(db: DbOpt = "loya.db") -> None:
    """Apply the schema migrations the database has not seen yet."""
    with coded_failures():
        done = _store(db).upgrade()
    typer.echo(f"applied migrations {', '.join(map(str, done))}" if done else "the schema is up to date")


@db_app.command("import")
def import_customers(
    customers: Annotated[Path, typer.Argument(help="customer states, JSON Lines (as `loya simulate --customers`)")],
    db: DbOpt = "loya.db",
) -> None:
    """Create or replace customers from JSON Lines, all or none, checked against the bundle in force."""
    with coded_failures():
        store = _ready(db)
        processor = Processor(store)
        engine = processor.current_engine()
        problems: list[LoyaError] = []
        try:
            with customers.open("rb") as f:
                states = read_customers(f, str(customers), problems, engine.bundle.state)
        except OSError as exc:
            raise LoyaError("LOY818", f"cannot read {customers}: {exc.strerror}") from None
        if problems:
            for problem in problems[1:]:
                typer.echo(f"error[{problem.code}]: {problem.message}", err=True)
            raise LoyaError(problems[0].code, problems[0].message + " (nothing imported)")
        count = processor.import_customers([state.to_dict() for state in states.values()])["imported"]
    typer.echo(f"imported {count} customers")


@db_app.command("export")
def export_customers(
    db: DbOpt = "loya.db",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here (default: stdout)")] = None,
) -> None:
    """Write every customer's state as JSON Lines (what `loya simulate --customers` and `db import` read)."""
    with coded_failures():
        store = _ready(db)
        out = output.open("w", encoding="utf-8") if output else sys.stdout
        try:
            for state in Processor(store).export_customers():
                out.write(json.dumps(state, ensure_ascii=False, separators=(",", ":")) + "\n")
        finally:
            if output:
                out.close()


@db_app.command()
def key(
    db: DbOpt = "loya.db",
    admin: Annotated[bool, typer.Option("--admin", help="a key that manages bundles and customers")] = False,
    store_id: Annotated[str | None, typer.Option("--store", help="a till key for this store")] = None,
) -> None:
    """Make an API key and print it (once: the database keeps only its hash)."""
    with coded_failures():
        if admin == (store_id is not None):
            raise LoyaError("LOY700", "give either --admin or --store STORE_ID")
        token = Processor(_ready(db)).add_key("admin" if admin else "till", store_id)
    typer.echo(token)


def _ready(url: str) -> Store:
    store = _store(url)
    from loyadsl.server.sql import SCHEMA_VERSION
    if store.schema_version() != SCHEMA_VERSION:
        raise LoyaError(BAD_URL, f"the database's schema is version {store.schema_version()}, this loyadsl needs "
                                 f"{SCHEMA_VERSION}: run `loya db upgrade --db {url}`")
    return store


@db_app.command()
def tick(
    db: DbOpt = "loya.db",
    now: Annotated[str | None, typer.Option("--now", help="ISO 8601 with a UTC offset (default: the clock)")] = None,
) -> None:
    """Tick every customer (trigger chains, docs/server.md): time events, segment changes, birthdays, steps due."""
    import datetime as dt

    from loyadsl.server import chains

    with coded_failures():
        moment = chains.read_time(now, "--now") if now else dt.datetime.now(dt.UTC)
        counts = chains.tick_all(Processor(_ready(db)), moment)
    typer.echo(f"ticked {counts['customers']} customers at {moment.isoformat()}: {counts['changed']} changed, "
               f"{counts['scheduled']} actions scheduled")
