"""Fixtures for the LRS tests: a registered client speaking each version."""

from __future__ import annotations

from typing import Any

import pytest
from xapi_support import Xapi, with_version

from john.lrs.clients import add_client


@pytest.fixture
def xapi(client: Any, session_factory: Any) -> Xapi:
    """Return an xAPI 2.0 client with every scope."""
    with session_factory() as session:
        key, secret = add_client(session, "10000001", ["all"])
    return Xapi(client, key, secret, "2.0.0")


@pytest.fixture
def xapi_v1(xapi: Xapi) -> Xapi:
    """Return the same client speaking xAPI 1.0.3."""
    return with_version(xapi, "1.0.3")
