"""`loya serve --workers N`: N uvicorn processes, each with a listening socket of its own on the same
port (``SO_REUSEPORT``), so that the kernel spreads the tills' connections among them by a hash.

uvicorn's own workers share one listening socket, and whichever is awake first takes the next
connection: with 64 keep-alive tills connecting at once, one of two workers often got 60-67 % of
them and of the requests (bench/serve_trace.py), and queued behind its own GIL while the other had
time to spare. With a socket each, the kernel picks the worker by a hash of the connection's
addresses (the busier of two got 50-66 %, mean 56 %). Connections made while a worker is still
starting all go to the others. Where ``SO_REUSEPORT`` does not balance (not Linux) uvicorn's workers serve as before.

This process supervises: it checks the port is free (so a second server on it fails, as uvicorn's
would, instead of sharing it), starts the workers, starts a worker again when one dies, and stops
them all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import sys
import threading
import time
from typing import Any

STARTUP_SECONDS = 5  # a worker that dies sooner than this after its start failed to start: all stop


def balanced() -> bool:
    """Whether the kernel spreads connections among sockets sharing a port (Linux's ``SO_REUSEPORT``)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _socket(host: str, port: int, share: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(app: str, host: str, port: int, options: dict[str, Any]) -> None:
    """One worker process: its own socket on the shared port, one uvicorn server on it."""
    import uvicorn

    sock = _socket(host, port, share=True)
    uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options)).run(sockets=[sock])


def run(app: str, host: str, port: int, workers: int, **options: Any) -> int:
    """Serve ``app`` (uvicorn's import string) with ``workers`` processes until SIGINT or SIGTERM; the
    exit status (1: the port is taken or a worker could not start)."""
    try:
        _socket(host, port, share=False).close()
    except OSError as exc:
        print(f"error: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start() -> tuple[Any, float]:
        process = context.Process(target=_worker, args=(app, host, port, options), daemon=False)
        process.start()
        return process, time.monotonic()

    running = [start() for _ in range(workers)]
    status = 0
    try:
        while not stop.wait(0.5):
            for n, (process, started) in enumerate(running):
                if process.is_alive():
                    continue
                if time.monotonic() - started < STARTUP_SECONDS:
                    print(f"error: worker {process.pid} stopped at its start (exit code {process.exitcode})",
                          file=sys.stderr)
                    status = 1
                    stop.set()
                    break
                running[n] = start()
    finally:
        for process, _ in running:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests it has, then stops
        for process, _ in running:
            process.join(timeout=options.get("timeout_graceful_shutdown", 10) + 5)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
