"""Drive the LRS over HTTP with the @xapi/xapi client library from npm."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from john.lrs.clients import add_client

CLIENT_DIR = Path(__file__).parent / "client"
SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served_lrs(tmp_path, database_url, session_factory):
    """Serve the test's store on 127.0.0.1 and return (endpoint, key, secret)."""
    with session_factory() as session:
        key, secret = add_client(session, "10000001", ["all"])
    port = _free_port()
    env = {
        **os.environ,
        "JOHN_DATA_DIR": str(tmp_path),
        "JOHN_DATABASE_URL": database_url,
        "PYTHONPATH": str(SRC),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from john.cli import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}/xapi/"
    try:
        for _ in range(300):
            try:
                httpx.get(endpoint + "about", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield endpoint, key, secret
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("version", ["2.0.0", "1.0.3"])
def test_xapi_library_round_trip(served_lrs, version) -> None:
    if shutil.which("node") is None or not (CLIENT_DIR / "node_modules").is_dir():
        pytest.skip("node or tests/lrs/client/node_modules missing; run npm ci")
    endpoint, key, secret = served_lrs
    env = {
        **os.environ,
        "LRS_ENDPOINT": endpoint,
        "LRS_KEY": key,
        "LRS_SECRET": secret,
        "LRS_VERSION": version,
    }
    result = subprocess.run(
        ["node", "drive.mjs"],
        cwd=CLIENT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["sent"] == 7
    assert summary["seen_in_order"] is True
    assert summary["pages"] == 3
    assert summary["voided_id"] is True
    assert summary["state"] == {"page": 4}
    assert summary["versions"] == ["2.0.0", "1.0.3"]
