"""Serve Ralph, a Python LRS, as the peer of the LRS benchmark.

Ralph (PyPI ``ralph-malph``, with its ``lrs`` extra) runs from its own
virtual environment outside the project: ``JOHN_LRS_BENCH_RALPH_VENV``, by
default ``ralph-venv`` beside the repository. When that environment is
missing, it is created and Ralph installed with pip. When that fails, the
benchmark reports the peer as skipped.

Ralph's filesystem backend is the one used: its other LRS backends need an
Elasticsearch, MongoDB or ClickHouse server, which neither PyPI nor Debian
provides. The backend keeps statements as JSON lines in one file, so the
preload writes that file directly, with the ``stored``, ``timestamp`` and
``authority`` values that Ralph's POST handler adds.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# Ralph 5.1.0's API imports requests but its lrs extra does not install it.
RALPH_REQUIREMENTS = ["ralph-malph[lrs]==5.1.0", "requests"]
RALPH_LRS_FILE = "fs_lrs.jsonl"
USERNAME = "bench"
AGENT = {"mbox": "mailto:bench@example.com", "objectType": "Agent"}


class PeerUnavailable(Exception):
    """Raised when Ralph cannot be installed or started here."""


def ralph_python() -> Path:
    """Return the Python of Ralph's environment, installing Ralph if needed."""
    venv = Path(os.environ.get("JOHN_LRS_BENCH_RALPH_VENV", ROOT.parent / "ralph-venv"))
    python = venv / "bin" / "python"
    if _imports_ralph(python):
        return python
    print(f"  installing Ralph into {venv}", file=sys.stderr)
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *RALPH_REQUIREMENTS],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=900,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise PeerUnavailable(f"installing Ralph failed: {error}") from error
    if not _imports_ralph(python):
        raise PeerUnavailable(f"Ralph does not import in {venv}")
    return python


def _imports_ralph(python: Path) -> bool:
    if not python.exists():
        return False
    check = subprocess.run(
        [str(python), "-c", "import bcrypt, ralph.api.auth.basic"],
        env={**os.environ, "RALPH_RUNSERVER_BACKEND": "fs"},
        capture_output=True,
    )
    return check.returncode == 0


@contextlib.contextmanager
def ralph_store() -> Iterator[Path]:
    """Yield a fresh folder for Ralph's data, credentials and history."""
    folder = Path(tempfile.mkdtemp(prefix="john-lrs-bench-ralph-"))
    try:
        (folder / "data").mkdir()
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def preload_ralph(
    folder: Path, count: int, make: Callable[[], dict]
) -> tuple[float, datetime, datetime]:
    """Write ``count`` statements to Ralph's file; return rate and time window."""
    started = time.perf_counter()
    first = datetime.now(UTC)
    with (folder / "data" / RALPH_LRS_FILE).open("w", encoding="utf-8") as file:
        for done in range(1, count + 1):
            statement = make()
            statement["stored"] = datetime.now(UTC).isoformat()
            statement["timestamp"] = statement["stored"]
            statement["authority"] = AGENT
            file.write(json.dumps(statement) + "\n")
            if done % 100_000 == 0:
                print(f"  preloaded {done:,} statements", file=sys.stderr)
    elapsed = time.perf_counter() - started
    return (count / elapsed if elapsed else 0.0), first, datetime.now(UTC)


@contextlib.contextmanager
def served_ralph(python: Path, folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Serve Ralph on a free loopback port; yield its endpoint and headers."""
    password = secrets.token_urlsafe(18)
    digest = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, bcrypt; "
            "print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt()).decode())",
            password,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    credentials = [
        {"agent": AGENT, "scopes": ["all"], "hash": digest, "username": USERNAME}
    ]
    (folder / "auth.json").write_text(json.dumps(credentials), encoding="utf-8")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "RALPH_APP_DIR": str(folder),
        "RALPH_AUTH_FILE": str(folder / "auth.json"),
        "RALPH_HISTORY_FILE": str(folder / "history.json"),
        "RALPH_RUNSERVER_BACKEND": "fs",
        "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(folder / "data"),
    }
    log_path = folder.parent / f"john-lrs-bench-ralph-{port}.log"
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [
                str(python),
                "-m",
                "uvicorn",
                "ralph.api:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=folder,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        print(f"  Ralph log: {log_path}", file=sys.stderr)
        endpoint = f"http://127.0.0.1:{port}/xAPI"
        try:
            _wait_until_up(endpoint, server)
            token = base64.b64encode(f"{USERNAME}:{password}".encode()).decode()
            yield (
                endpoint,
                {
                    "Authorization": f"Basic {token}",
                    "X-Experience-API-Version": "1.0.3",
                },
            )
        finally:
            server.terminate()
            server.wait(timeout=60)


def _wait_until_up(endpoint: str, server: subprocess.Popen) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise PeerUnavailable(f"Ralph exited with status {server.returncode}")
        try:
            httpx.get(f"{endpoint}/about", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise PeerUnavailable("Ralph did not respond on /xAPI/about within 60 s")
