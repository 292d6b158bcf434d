"""Roles, scopes and the principal a request acts as."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES: tuple[str, ...] = (
    "learner",
    "provider",
    "verifier",
    "adviser",
    "sponsor",
    "curator",
    "network_operator",
    "administrator",
)

# Scopes a token may carry. A client asks for a subset of its granted scopes;
# a signed-in person holds every scope of their role.
SCOPES: dict[str, str] = {
    "records:read": "read learner records the caller may see",
    "feeds:write": "send feeds of records",
    "feeds:read": "read ingest reports and quarantine",
    "linkage:write": "run linkage and decide match reviews",
    "consent:read": "read consent grants and receipts",
    "consent:write": "grant, revoke and request consent",
    "verifications:write": "ask verification questions",
    "verifications:read": "fetch signed verification answers",
    "exemptions:write": "publish exemption rules",
    "right_to_work:write": "record and confirm right-to-work checks",
    "fraud:write": "keep the list of bogus institutions and review fraud signals",
    "audit:read": "read the audit trail",
    "subject_access:write": "export, rectify and erase a learner's data",
    "access:read": "read accredited-access policies",
    "sponsor:read": "read sponsored usage and billing",
    "users:write": "manage users and clients",
}

ROLE_SCOPES: dict[str, frozenset[str]] = {
    "learner": frozenset(
        {"records:read", "consent:read", "consent:write", "subject_access:write"}
    ),
    "provider": frozenset(
        {"records:read", "feeds:write", "feeds:read", "exemptions:write"}
    ),
    "verifier": frozenset(
        {
            "verifications:write",
            "verifications:read",
            "consent:write",
            "right_to_work:write",
        }
    ),
    "adviser": frozenset({"records:read", "consent:write"}),
    "sponsor": frozenset({"sponsor:read"}),
    "curator": frozenset(
        {
            "records:read",
            "feeds:read",
            "linkage:write",
            "fraud:write",
            "audit:read",
            "verifications:read",
        }
    ),
    "network_operator": frozenset({"access:read"}),
    "administrator": frozenset(SCOPES),
}


@dataclass(frozen=True)
class Principal:
    """The person or machine client a request acts as, with what binds it.

    A provider is bound to its UKPRN, a verifier, adviser or sponsor to its
    organisation, and a learner to one learner id.
    """

    subject: str
    kind: str
    role: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    name: str = ""
    learner_id: str | None = None
    ukprn: str | None = None
    organisation: str | None = None
    session_id: str | None = None

    @property
    def actor(self) -> str:
        """Return the stable actor name written to the audit trail."""
        return self.subject

    def has_scope(self, scope: str) -> bool:
        """Return whether the principal holds ``scope``."""
        return scope in self.scopes
