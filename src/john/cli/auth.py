"""Commands for users and machine clients: ``john users``, ``john clients``."""

from __future__ import annotations

import getpass
import os
from typing import Annotated

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from john.auth import service
from john.auth.models import ApiClient, User
from john.auth.principal import ROLES
from john.cli import context
from john.errors import InvalidInput, NotFound
from john.identity.service import resolve_learner_id

users_app = typer.Typer(help="Manage people who sign in to the pages.")
clients_app = typer.Typer(help="Manage machine clients (OAuth 2 client credentials).")


def register(app: typer.Typer) -> None:
    """Add the ``users`` and ``clients`` command groups to the root application."""
    app.add_typer(users_app, name="users")
    app.add_typer(clients_app, name="clients")


def _read_password() -> str:
    # An environment variable lets scripts create users without a terminal;
    # the prompt keeps the password out of shell history otherwise.
    from_env = os.environ.get("JOHN_NEW_PASSWORD")
    if from_env:
        return from_env
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password again: "):
        raise InvalidInput("the two passwords differ; run the command again")
    return first


def _check_learner(db: Session, learner_id: str | None) -> None:
    # Auth sits below identity, so the command checks that the learner an
    # account reads exists; a typo would otherwise bind it to nobody.
    if learner_id is None:
        return
    try:
        resolve_learner_id(db, learner_id)
    except NotFound:
        raise NotFound(
            f"learner {learner_id} not found; give the id of an existing "
            "learner (L-...), as the learner's page or search shows it"
        ) from None


@users_app.command("add")
def add_user(
    username: str = typer.Argument(..., help="Name the person signs in with."),
    role: str = typer.Option(..., help=f"One of: {', '.join(ROLES)}."),
    name: str = typer.Option("", help="Name shown in the page header."),
    learner_id: str = typer.Option(None, help="Learner id a learner account reads."),
    ukprn: str = typer.Option(None, help="UKPRN a provider's staff act for."),
    organisation: str = typer.Option(
        None, help="Organisation a verifier, adviser or sponsor acts for."
    ),
    oidc_subject: str = typer.Option(
        None, help="OpenID Connect 'issuer|sub' to link instead of a password."
    ),
) -> None:
    """Add a person with a role; prompts for the password unless OIDC is used."""
    # Checked before the prompt, so a typo does not cost the password typing.
    service.check_binding(role, learner_id, ukprn, organisation)
    with context.sessions()() as db:
        _check_learner(db, learner_id)
    password = None if oidc_subject else _read_password()
    with context.sessions()() as db:
        user = service.create_user(
            db,
            username=username,
            role=role,
            password=password,
            display_name=name,
            learner_id=learner_id,
            ukprn=ukprn,
            organisation=organisation,
            external_subject=oidc_subject,
        )
        db.commit()
        context.console.print(f"user {user.username} added as {user.role} ({user.id})")


@users_app.command("list")
def list_users() -> None:
    """List users with their roles and bindings."""
    with context.sessions()() as db:
        for user in db.scalars(select(User).order_by(User.username)):
            binding = user.learner_id or user.ukprn or user.organisation or ""
            state = "active" if user.active else "disabled"
            context.console.print(
                f"{user.username}\t{user.role}\t{binding}\t{state}", markup=False
            )


@users_app.command("disable")
def disable_user(username: str) -> None:
    """Disable a user and end their sessions at once."""
    from sqlalchemy import delete

    from john.auth.models import WebSession

    with context.sessions()() as db:
        user = service.get_user(db, username)
        user.active = False
        db.execute(delete(WebSession).where(WebSession.user_id == user.id))
        db.commit()
    context.console.print(f"user {username} disabled")


@clients_app.command("add")
def add_client(
    name: str = typer.Argument(
        ..., help="Name of the client's organisation or system."
    ),
    role: str = typer.Option(..., help=f"One of: {', '.join(ROLES)}."),
    scope: Annotated[
        list[str] | None,
        typer.Option(help="Scope to grant; repeat for several. Default: the role's."),
    ] = None,
    ukprn: str = typer.Option(None, help="UKPRN a provider client is bound to."),
    organisation: str = typer.Option(
        None, help="Organisation a verifier, adviser or sponsor client acts for."
    ),
    learner_id: str = typer.Option(None, help="Learner id a learner's client reads."),
) -> None:
    """Register a client and print its secret once; only a hash is stored."""
    with context.sessions()() as db:
        _check_learner(db, learner_id)
        created = service.create_client(
            db,
            name=name,
            role=role,
            scopes=scope or None,
            ukprn=ukprn,
            organisation=organisation,
            learner_id=learner_id,
        )
        db.commit()
    context.console.print(f"client_id={created.client.client_id}", markup=False)
    context.console.print(f"client_secret={created.secret}", markup=False)
    context.console.print(
        "the secret is shown once; store it now", markup=False, style="bold"
    )


@clients_app.command("list")
def list_clients() -> None:
    """List clients with their roles, bindings and scopes."""
    with context.sessions()() as db:
        for client in db.scalars(select(ApiClient).order_by(ApiClient.name)):
            binding = client.ukprn or client.organisation or client.learner_id or ""
            context.console.print(
                f"{client.client_id}\t{client.name}\t{client.role}\t{binding}\t"
                f"{' '.join(client.scopes)}",
                markup=False,
            )


@clients_app.command("disable")
def disable_client(client_id: str) -> None:
    """Disable a client; its tokens stop working at their next use."""
    with context.sessions()() as db:
        client = db.get(ApiClient, client_id)
        if client is None:
            raise InvalidInput(f"client {client_id!r} not found; see john clients list")
        client.active = False
        db.commit()
    context.console.print(f"client {client_id} disabled")
