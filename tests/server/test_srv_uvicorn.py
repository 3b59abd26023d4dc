"""How ``loya serve`` configures uvicorn: the application it loads is ours as it is, with no middleware
of uvicorn's in front of every request (its ProxyHeadersMiddleware reads X-Forwarded-* headers into
the scope's client and scheme, which the server never reads: 4 us of the event loop per request)."""

from __future__ import annotations

from typing import Any

import pytest


async def _app(scope: Any, receive: Any, send: Any) -> None:
    return None


def test_uvicorn_runs_the_app_without_a_middleware_in_front() -> None:
    uvicorn = pytest.importorskip("uvicorn")
    from loyadsl.server.commands import uvicorn_options

    options = {k: v for k, v in uvicorn_options().items() if k != "factory"}
    config = uvicorn.Config(_app, **options)
    config.load()
    assert config.loaded_app is _app
