"""``open_store``: the store a ``--db`` URL names (``sqlite:///PATH`` or a plain path, ``postgresql://...``)."""

from __future__ import annotations

from loyadsl.server.store import BAD_URL, Store, StoreError


def open_store(url: str) -> Store:
    """``sqlite:///PATH`` (or a plain path), ``postgresql://...``."""
    if url.startswith(("postgresql://", "postgres://")):
        from loyadsl.server.postgres import PostgresStore
        return PostgresStore(url)
    if url.startswith("sqlite:"):
        path = url.removeprefix("sqlite:").removeprefix("//")
        if not path:
            raise StoreError(BAD_URL, f"--db {url!r}: no file (sqlite:///path/to/loya.db)")
        from loyadsl.server.sqlite import SqliteStore
        return SqliteStore(path)
    if "://" in url:
        raise StoreError(BAD_URL, f"--db {url!r}: unknown database; use sqlite:///PATH or postgresql://...")
    from loyadsl.server.sqlite import SqliteStore
    return SqliteStore(url)
