"""Commands for the store itself: initialise, serve."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from john.cli import context

if TYPE_CHECKING:
    from fastapi import FastAPI


def register(app: typer.Typer) -> None:
    """Add the store commands to the root application."""
    app.command("init")(init)
    app.command("serve")(serve)


def init() -> None:
    """Create or upgrade the store's schema."""
    engine = context.engine()
    context.console.print(f"store ready: {engine.dialect.name} {engine.url.database}")


def serve(
    host: str = typer.Option(None, help="Address to listen on; default 127.0.0.1."),
    port: int = typer.Option(None, min=1, max=65535, help="TCP port; default 8000."),
    workers: int = typer.Option(
        1,
        min=1,
        help="Server processes. Each one has its own connection pool, so "
        "more than one needs PostgreSQL or tolerates SQLite's single writer.",
    ),
) -> None:
    """Serve the API and pages until interrupted."""
    import uvicorn

    # A thread that returns from a store call waits for the interpreter lock
    # for up to the switch interval (5 ms by default) while request threads
    # compute, and a writer holding SQLite's lock makes every other writer
    # wait too. A shorter interval cut p99 verification latency from 17 ms to
    # 12 ms at 200 requests a second (benchmarks/verification.py).
    sys.setswitchinterval(0.0005)

    from john.web.app import create_app

    current = context.settings()
    bind_host = host or current.host
    if bind_host not in ("127.0.0.1", "localhost", "::1"):
        # Every route needs a signed-in role, so the hub may listen beyond
        # loopback; cookies still need TLS in front (JOHN_COOKIE_SECURE=true).
        context.console.print(
            f"listening on {bind_host}: put TLS in front and set JOHN_COOKIE_SECURE"
        )
    bind_port = port or current.port
    if workers == 1:
        application = create_app(context.settings(), engine=context.engine())
        uvicorn.run(application, host=bind_host, port=bind_port, log_config=None)
        return
    # Migrate once here, so the worker processes only open the store.
    context.engine().dispose()
    uvicorn.run(
        "john.cli.hub:create_worker_app",
        factory=True,
        workers=workers,
        host=bind_host,
        port=bind_port,
        log_config=None,
    )


def create_worker_app() -> FastAPI:
    """Create the application in a server worker process, from JOHN_* settings."""
    from john.web.app import create_app

    return create_app(context.settings())
