"""Accounts are bound to what their role acts for, with named errors."""

from __future__ import annotations

import pytest

from john.auth import service
from john.errors import InvalidInput


@pytest.mark.parametrize(
    ("ukprn", "message"),
    [
        (None, "a provider account needs its UKPRN; give the 8 digits"),
        ("1000", "UKPRN '1000' is invalid; give the provider's 8 digits"),
        ("1000000X", "UKPRN '1000000X' is invalid; give the provider's 8 digits"),
    ],
)
def test_provider_account_needs_ukprn(session, ukprn, message) -> None:
    with pytest.raises(InvalidInput) as raised:
        service.create_user(session, username="prov", role="provider", ukprn=ukprn)
    assert raised.value.detail == message


def test_provider_account_with_ukprn_created(session) -> None:
    user = service.create_user(
        session,
        username="prov",
        role="provider",
        ukprn="10007773",
        password="correct horse battery staple",
    )
    assert user.role == "provider"
    assert user.ukprn == "10007773"
