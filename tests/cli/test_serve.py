"""``john serve`` with several worker processes, on a real loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_with_two_workers(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "JOHN_DATABASE_URL": database_url,
        "JOHN_DATA_DIR": str(tmp_path),
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    command = "from john.cli import main; main()"
    server = subprocess.Popen(
        [sys.executable, "-c", command, "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        response = None
        # Poll until the workers have imported the application. A server
        # that never comes up fails the test instead of hanging it.
        for _ in range(300):
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/xapi/about", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None, "the server did not listen on its port"
        assert response.status_code == 200
        assert "2.0.0" in response.json()["version"]
    finally:
        server.terminate()
        server.wait(timeout=60)
