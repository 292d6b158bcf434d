"""Commands for the Learning Record Store: register clients."""

from __future__ import annotations

import typer

from john.cli import context

lrs_app = typer.Typer(help="Learning Record Store (xAPI) administration.")
client_app = typer.Typer(help="LRS clients and their credentials.")
lrs_app.add_typer(client_app, name="client")


def register(app: typer.Typer) -> None:
    """Add the ``lrs`` command group to the root application."""
    app.add_typer(lrs_app, name="lrs")


@client_app.command("add")
def add(
    source: str = typer.Option(
        ..., "--source", help="UKPRN of the organisation that sends statements."
    ),
    scopes: str = typer.Option(
        "statements/read,statements/write,state,profile",
        "--scopes",
        help="Comma-separated scopes, e.g. statements/write,state.",
    ),
    name: str = typer.Option(None, "--name", help="A label for the client."),
) -> None:
    """Register a client and print its key and secret once."""
    from john.lrs.clients import add_client

    wanted = [scope.strip() for scope in scopes.replace(" ", ",").split(",") if scope]
    with context.sessions()() as session:
        key, secret = add_client(session, source, wanted, name)
    context.console.print(f"key: {key}", markup=False, highlight=False)
    context.console.print(f"secret: {secret}", markup=False, highlight=False)
    context.console_error("the secret is shown once; store it now")
