"""Commands for the store itself: initialise, serve."""

from __future__ import annotations

import typer

from john.cli import context


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
) -> None:
    """Serve the API and pages until interrupted."""
    import uvicorn

    from john.web.app import create_app

    current = context.settings()
    bind_host = host or current.host
    if bind_host not in ("127.0.0.1", "localhost", "::1"):
        # Every route needs a signed-in role, so the hub may listen beyond
        # loopback; cookies still need TLS in front (JOHN_COOKIE_SECURE=true).
        context.console.print(
            f"listening on {bind_host}: put TLS in front and set JOHN_COOKIE_SECURE"
        )
    application = create_app(context.settings(), engine=context.engine())
    uvicorn.run(application, host=bind_host, port=port or current.port, log_config=None)
