"""Fuzz the published OpenAPI with schemathesis against a live server.

The server runs on 127.0.0.1 on a fresh store with the synthetic learners,
and the fuzzer calls every operation as an administrator (who passes the
most access checks, so requests reach the handlers). The only check is that
no response is a 5xx.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from john.auth.testing import bearer_headers
from john.web.app import create_app

pytestmark = pytest.mark.slow

# Operations whose 5xx the catalogue still has to fix; the fuzzer still calls
# them, and an operation leaves this list once it stops failing.
# TODO: catalogue: bound integer path ids and catch ValueError in clean_url.
KNOWN_SERVER_ERRORS: dict[str, str] = {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_base(settings, engine, store) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine=engine),
            host="127.0.0.1",
            port=port,
            log_config=None,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()


@pytest.fixture
def admin_headers(live_base, session_factory) -> dict[str, str]:
    import httpx

    with httpx.Client(base_url=live_base) as http:
        return bearer_headers(http, session_factory, "administrator")


def test_no_server_errors(live_base, admin_headers) -> None:
    schema = schemathesis.openapi.from_url(f"{live_base}/api/v1/openapi.json")
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def call(case) -> None:
            case.call_and_validate(
                base_url=live_base, headers=admin_headers, checks=[not_a_server_error]
            )

        try:
            call()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collect all
            if operation.label not in KNOWN_SERVER_ERRORS:
                failures.append(f"{operation.label}: {str(error).splitlines()[0]}")
    assert operations > 40
    assert failures == [], "\n".join(failures)
