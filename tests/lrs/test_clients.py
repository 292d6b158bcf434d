"""Basic authentication, scopes and the client command."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

from xapi_support import Xapi, statement

from john.lrs.clients import add_client

SRC = Path(__file__).resolve().parents[2] / "src"


def test_missing_credentials_unauthorised(client) -> None:
    response = client.get(
        "/xapi/statements", headers={"X-Experience-API-Version": "2.0.0"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


def test_wrong_secret_unauthorised(xapi) -> None:
    token = base64.b64encode(f"{xapi.key}:wrong".encode()).decode()
    response = xapi.client.get(
        "/xapi/statements",
        headers={
            "Authorization": f"Basic {token}",
            "X-Experience-API-Version": "2.0.0",
        },
    )
    assert response.status_code == 401


def test_read_only_client_cannot_write(client, session_factory) -> None:
    with session_factory() as session:
        key, secret = add_client(session, "10000002", ["statements/read"])
    reader = Xapi(client, key, secret, "2.0.0")
    assert reader.get_statements().status_code == 200
    assert reader.post_statements(statement()).status_code == 403


def test_state_scope_cannot_read_statements(client, session_factory) -> None:
    with session_factory() as session:
        key, secret = add_client(session, "10000002", ["state"])
    holder = Xapi(client, key, secret, "2.0.0")
    assert holder.get_statements().status_code == 403


def test_invalid_ukprn_rejected(session) -> None:
    import pytest

    from john.errors import InvalidInput

    with pytest.raises(InvalidInput):
        add_client(session, "123", ["statements/read"])


def test_cli_prints_key_and_secret(tmp_path, database_url) -> None:
    env = {
        **os.environ,
        "JOHN_DATA_DIR": str(tmp_path),
        "JOHN_DATABASE_URL": database_url,
        "PYTHONPATH": str(SRC),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from john.cli import main; main()",
            "lrs",
            "client",
            "add",
            "--source",
            "10000003",
            "--scopes",
            "statements/write,state",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = dict(
        line.split(": ", 1) for line in result.stdout.splitlines() if ": " in line
    )
    assert result.returncode == 0
    assert len(lines["key"]) == 20
    assert len(lines["secret"]) >= 24
