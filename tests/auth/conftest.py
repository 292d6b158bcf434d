"""Cheap Argon2 parameters for tests, so each hash costs microseconds."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, profiles


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch) -> None:
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr("john.auth.passwords._hasher", cheap)
    monkeypatch.setattr("john.auth.passwords._DUMMY_HASH", cheap.hash("dummy"))
