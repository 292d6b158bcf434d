"""Every route of the application against every role, from a table.

The table below is the access specification of the hub. Each route maps to
the roles it allows. ``hide`` lists roles that get 404, because the fixture
learner gave them no consent and must not be seen to exist. Every other role
is denied with 401, 403, or a redirect to sign in. A
route missing from the table fails the test, so a new endpoint cannot ship
without a decision about who may call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from john.auth.deps import PRESESSION_COOKIE, SESSION_COOKIE, expected_csrf
from john.auth.principal import ROLES
from john.auth.testing import add_user, sign_in

ANONYMOUS = "anonymous"
STAFF = ("curator", "administrator")
SIGNED_IN = ROLES


@dataclass(frozen=True)
class Rule:
    """Who may call one route."""

    allow: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()
    public: bool = False
    own_statuses: tuple[int, ...] = ()


PUBLIC = Rule(public=True)


def allow(*roles: str, hide: tuple[str, ...] = ()) -> Rule:
    return Rule(allow=roles, hide=hide)


def own(*statuses: int) -> Rule:
    """Mark a route that authenticates by itself and returns these statuses."""
    return Rule(own_statuses=statuses)


LEARNER_READERS = ("learner", "curator", "administrator")

SPEC: dict[str, Rule] = {
    # Documentation, health and sign-in are open to everyone.
    "GET /": PUBLIC,
    "GET /api/v1/health": PUBLIC,
    "GET /api/v1/openapi.json": PUBLIC,
    "GET /api/v1/docs": PUBLIC,
    "GET /docs/oauth2-redirect": PUBLIC,
    "GET /signin": PUBLIC,
    "POST /signin": own(401),
    "GET /signin/oidc": PUBLIC,
    "GET /signin/oidc/callback": own(401),
    "POST /signout": PUBLIC,
    "POST /api/v1/oauth/token": own(401),
    "GET /api/v1/whoami": allow(*SIGNED_IN),
    "GET /.well-known/jwks.json": PUBLIC,
    "GET /api/v1/verifications/jwks.json": PUBLIC,
    # The xAPI Learning Record Store takes its own Basic credentials only.
    "GET /xapi/{resource:path}": own(401),
    "POST /xapi/{resource:path}": own(401),
    "PUT /xapi/{resource:path}": own(401),
    "DELETE /xapi/{resource:path}": own(401),
    # The joined-up record is for the learner and staff. A provider reads only
    # its own rows (through shared-record), and a verifier or adviser needs
    # consent.
    "GET /api/v1/learners": allow(*STAFF),
    "GET /api/v1/learners/{learner_id}": allow(
        *LEARNER_READERS, hide=("provider", "verifier", "adviser")
    ),
    "GET /learners": allow(*STAFF),
    "GET /learners/{learner_id}": allow(
        *LEARNER_READERS, hide=("provider", "verifier", "adviser")
    ),
    "GET /feeds": allow(*STAFF),
    "GET /feeds/{feed_id}": allow("provider", *STAFF),
    # Feeds over the API: a provider sends and reads its own (source is its
    # UKPRN in the query string); staff read every feed.
    "POST /api/v1/feeds": allow("provider", "administrator"),
    "GET /api/v1/feeds": allow("provider", *STAFF),
    "GET /api/v1/feeds/{feed_id}": allow("provider", *STAFF),
    "GET /api/v1/feeds/{feed_id}/quarantine": allow("provider", *STAFF),
    # Linkage and match review are staff work; linkage history is part of
    # the learner's record.
    "POST /api/v1/linkage/runs": allow(*STAFF),
    "GET /api/v1/linkage/runs": allow(*STAFF),
    "GET /api/v1/reviews": allow(*STAFF),
    "GET /api/v1/reviews/{review_id}": allow(*STAFF),
    "POST /api/v1/reviews/{review_id}/decision": allow(*STAFF),
    "GET /reviews": allow(*STAFF),
    "GET /reviews/{review_id}": allow(*STAFF),
    "POST /reviews/{review_id}/decision": allow(*STAFF),
    "GET /api/v1/learners/{learner_id}/history": allow(
        *LEARNER_READERS, hide=("provider", "verifier", "adviser")
    ),
    "GET /api/v1/learners/{learner_id}/shared-record": allow(
        "learner", "provider", *STAFF, hide=("verifier", "adviser")
    ),
    # Consent: only the learner grants, revokes and decides.
    "POST /api/v1/consents": allow("learner"),
    "GET /api/v1/consents": allow("learner"),
    "GET /api/v1/consents/{grant_id}/receipt": allow("learner", *STAFF),
    "POST /api/v1/consents/{grant_id}/revoke": allow("learner"),
    "POST /api/v1/consent-requests": allow("verifier", "adviser"),
    "GET /api/v1/consent-requests": allow("learner"),
    "GET /api/v1/consent-requests/{request_id}": allow("verifier", hide=("adviser",)),
    "POST /api/v1/consent-requests/{request_id}/approve": allow("learner"),
    "POST /api/v1/consent-requests/{request_id}/decline": allow("learner"),
    # Verification and what hangs off it.
    "POST /api/v1/verifications": allow("verifier"),
    "GET /api/v1/verifications/{verification_id}": allow("verifier", *STAFF),
    "POST /api/v1/exemption-rules": allow("provider"),
    "GET /api/v1/exemption-rules": allow(*SIGNED_IN),
    "GET /api/v1/learners/{learner_id}/exemptions": allow(
        "learner", "provider", *STAFF, hide=("adviser",)
    ),
    "POST /api/v1/right-to-work-checks": allow("verifier"),
    "GET /api/v1/learners/{learner_id}/right-to-work": allow(hide=("verifier",)),
    "POST /api/v1/bogus-institutions": allow(*STAFF),
    "GET /api/v1/fraud-signals": allow(*STAFF),
    # Audit and subject access.
    "GET /api/v1/learners/{learner_id}/audit": allow(*LEARNER_READERS),
    "GET /api/v1/audit/verify": allow(*STAFF),
    "GET /api/v1/learners/{learner_id}/export": allow("learner", "administrator"),
    "POST /api/v1/learners/{learner_id}/rectifications": allow("learner"),
    "GET /api/v1/rectifications": allow("provider"),
    "POST /api/v1/learners/{learner_id}/erasure": allow("administrator"),
    # The learner's own pages.
    "GET /account": allow("learner"),
    "POST /account/consents": allow("learner"),
    "GET /account/consents/{grant_id}": allow("learner"),
    "POST /account/consents/{grant_id}/revoke": allow("learner"),
    "POST /account/requests/{request_id}/{decision}": allow("learner"),
    "GET /account/export": allow("learner"),
    # The public directory (Open Referral UK) and catalogue search.
    "GET /oruk/": PUBLIC,
    "GET /oruk/openapi.json": PUBLIC,
    "GET /oruk/services": PUBLIC,
    "GET /oruk/services/{service_id}": PUBLIC,
    "GET /oruk/service_at_locations": PUBLIC,
    "GET /oruk/service_at_locations/{link_id}": PUBLIC,
    "GET /oruk/taxonomies": PUBLIC,
    "GET /oruk/taxonomies/{taxonomy_id}": PUBLIC,
    "GET /oruk/taxonomy_terms": PUBLIC,
    "GET /oruk/taxonomy_terms/{term_id}": PUBLIC,
    "GET /oruk/organizations": PUBLIC,
    "GET /oruk/organizations/{org_id}": PUBLIC,
    "GET /api/v1/catalogue/search": PUBLIC,
    "GET /api/v1/catalogue/services/{service_id}": PUBLIC,
    "GET /api/v1/catalogue/courses/{course_id}": PUBLIC,
    "GET /api/v1/catalogue/funding-sources": PUBLIC,
    "GET /api/v1/catalogue/funding-sources/{source_id}": PUBLIC,
    "GET /api/v1/catalogue/venues/{venue_id}": PUBLIC,
    "POST /api/v1/catalogue/funding-fit": PUBLIC,
    "GET /catalogue": PUBLIC,
    "GET /catalogue/services/{service_id}": PUBLIC,
    "GET /catalogue/courses/{course_id}": PUBLIC,
    "GET /catalogue/funding/{source_id}": PUBLIC,
    "GET /catalogue/venues/{venue_id}": PUBLIC,
    "GET /catalogue/services/new": allow(*STAFF),
    "POST /catalogue/services": allow(*STAFF),
    "POST /catalogue/services/{service_id}": allow(*STAFF),
    "GET /catalogue/duplicates": allow(*STAFF),
    "POST /catalogue/duplicates/{candidate_id}": allow(*STAFF),
    "POST /catalogue/duplicates/{candidate_id}/undo": allow(*STAFF),
    "GET /catalogue/courses/new": allow(*STAFF),
    "POST /catalogue/courses": allow(*STAFF),
    "GET /catalogue/courses/{entry_id}/edit": allow(*STAFF),
    "POST /catalogue/courses/{entry_id}": allow(*STAFF),
    "GET /catalogue/funding/new": allow(*STAFF),
    "POST /catalogue/funding": allow(*STAFF),
    "GET /catalogue/funding/{entry_id}/edit": allow(*STAFF),
    "POST /catalogue/funding/{entry_id}": allow(*STAFF),
    "GET /catalogue/venues/new": allow(*STAFF),
    "POST /catalogue/venues": allow(*STAFF),
    "GET /catalogue/venues/{entry_id}/edit": allow(*STAFF),
    "POST /catalogue/venues/{entry_id}": allow(*STAFF),
    "GET /catalogue/imports": allow(*STAFF),
    # Catalogue changes and curation are for staff.
    "POST /api/v1/catalogue/services": allow(*STAFF),
    "PATCH /api/v1/catalogue/services/{service_id}": allow(*STAFF),
    "PUT /api/v1/catalogue/services/{service_id}/schedules": allow(*STAFF),
    "POST /api/v1/catalogue/services/{service_id}/exceptions": allow(*STAFF),
    "GET /api/v1/catalogue/revisions/{entity_type}/{entity_id}": allow(*STAFF),
    "POST /api/v1/catalogue/courses": allow(*STAFF),
    "PATCH /api/v1/catalogue/courses/{course_id}": allow(*STAFF),
    "POST /api/v1/catalogue/funding-sources": allow(*STAFF),
    "PATCH /api/v1/catalogue/funding-sources/{source_id}": allow(*STAFF),
    "POST /api/v1/catalogue/venues": allow(*STAFF),
    "PATCH /api/v1/catalogue/venues/{venue_id}": allow(*STAFF),
    "GET /api/v1/catalogue/imports": allow(*STAFF),
    "GET /api/v1/catalogue/imports/{report_id}": allow(*STAFF),
    "GET /api/v1/catalogue/duplicates": allow(*STAFF),
    "POST /api/v1/catalogue/duplicates/{candidate_id}": allow(*STAFF),
    "POST /api/v1/catalogue/duplicates/{candidate_id}/undo": allow(*STAFF),
}

# Query strings some routes need to get past validation to the access check.
QUERIES = {
    "GET /api/v1/learners": "?q=ada",
    "GET /api/v1/feeds": "?source=10000001",
    "POST /api/v1/feeds": "?source=10000001&type=achievements",
    "GET /api/v1/exemption-rules": "?ukprn=10000001",
    "GET /api/v1/learners/{learner_id}/exemptions": "?ukprn=10000001",
}

# Routes that change state for everyone after them run last: approving the
# request grants the verifier consent, erasure removes a learner, and signing
# out ends each caller's session.
LAST = (
    "POST /api/v1/consent-requests/{request_id}/approve",
    "POST /api/v1/consent-requests/{request_id}/decline",
    "POST /account/requests/{request_id}/{decision}",
    "POST /api/v1/learners/{learner_id}/erasure",
    "POST /signout",
)


def route_table(app) -> list[str]:
    """Return ``METHOD path`` for every route the application serves."""
    keys = []
    for context in iter_route_contexts(app.routes):
        methods = getattr(context.original_route, "methods", None) or ()
        for method in sorted(set(methods) - {"HEAD"}):
            keys.append(f"{method} {context.path}")
    return keys


@dataclass
class World:
    """Ids of objects the routes' path parameters point at."""

    values: dict[str, str] = field(default_factory=dict)

    def fill(self, key: str) -> str:
        method, path = key.split(" ", 1)
        values = dict(self.values)
        if key == "POST /api/v1/learners/{learner_id}/erasure":
            values["learner_id"] = values["other_learner_id"]
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        path = path.replace("{resource:path}", "statements")
        for name in (
            "entity_type",
            "entity_id",
            "candidate_id",
            "report_id",
            "review_id",
        ):
            path = path.replace("{" + name + "}", "1")
        while "{" in path:
            start, end = path.index("{"), path.index("}")
            path = path[:start] + "no-such-id" + path[end + 1 :]
        return path + QUERIES.get(key, "")


@pytest.fixture
def world(store, session_factory) -> World:
    from john.auth.principal import ROLE_SCOPES, Principal
    from john.consent import service
    from john.consent.models import Verification

    learner = Principal(
        subject="user:ada",
        kind="user",
        role="learner",
        scopes=ROLE_SCOPES["learner"],
        learner_id=store.ada,
    )
    verifier = Principal(
        subject="user:vera",
        kind="user",
        role="verifier",
        scopes=ROLE_SCOPES["verifier"],
        organisation="Acme Recruiting",
    )
    until = date.today() + timedelta(days=30)
    with session_factory() as db:
        grant = service.grant_consent(
            db,
            learner,
            grantee="Unrelated Org",
            grantee_role="verifier",
            terms=service.GrantTerms("record", None, "matrix", until),
        )
        request = service.request_consent(
            db,
            session_factory,
            verifier,
            identity={
                "given_name": "Ada",
                "family_name": "Testperson",
                "date_of_birth": date(2001, 2, 3),
            },
            terms=service.GrantTerms("record", None, "matrix", until),
        )
        db.add(
            Verification(
                id="V-matrix",
                requester="Acme Recruiting",
                requester_subject="user:vera",
                learner_id=None,
                identity_sha256="0" * 64,
                purpose="matrix",
                answer={},
                jws="x",
            )
        )
        db.commit()
        return World(
            {
                "learner_id": store.ada,
                "other_learner_id": store.bo,
                "feed_id": "F-1",
                "grant_id": grant.id,
                "request_id": request.id,
                "verification_id": "V-matrix",
                "decision": "approve",
            }
        )


BINDINGS = {
    "learner": {"learner_id": "L-ada"},
    "provider": {"ukprn": "10000001"},
    "verifier": {"organisation": "Acme Recruiting"},
    "adviser": {"organisation": "Careers Hub"},
    "sponsor": {"organisation": "Sponsor Trust"},
}


@pytest.fixture
def callers(client, session_factory, world) -> dict[str, TestClient]:
    made = {}
    for role in ROLES:
        add_user(session_factory, f"matrix-{role}", role, **BINDINGS.get(role, {}))
        http = TestClient(client.app)
        assert sign_in(http, f"matrix-{role}").status_code == 303
        made[role] = http
    anonymous = TestClient(client.app)
    anonymous.get("/signin")
    made[ANONYMOUS] = anonymous
    return made


def _call(http: TestClient, key: str, path: str):
    method = key.split(" ", 1)[0]
    if path.startswith("/xapi/"):
        headers = {"X-Experience-API-Version": "2.0.0"}
        return http.request(method, path, headers=headers, follow_redirects=False)
    if method in ("GET", "DELETE"):
        return http.request(method, path, follow_redirects=False)
    if key == "POST /api/v1/oauth/token":
        return http.post(path, data={"grant_type": "client_credentials"})
    if not path.startswith(("/api/", "/xapi/")):
        basis = http.cookies.get(SESSION_COOKIE) or http.cookies.get(PRESESSION_COOKIE)
        token = expected_csrf(http.app.state.secret_key, basis or "")
        return http.request(
            method, path, data={"csrf_token": token}, follow_redirects=False
        )
    return http.request(method, path, json={}, follow_redirects=False)


def _outcome(response) -> str:
    status = response.status_code
    if status in (401, 403):
        return "deny"
    if status == 303 and response.headers.get("location", "").startswith("/signin"):
        return "deny"
    if status == 404:
        return "hide"
    return "allow"


def _expected(rule: Rule, who: str) -> set[str]:
    if rule.public:
        return {"allow", "hide"}
    if who in rule.allow:
        # An allowed role may still meet a 404 for a placeholder id.
        return {"allow"} if rule.hide else {"allow", "hide"}
    if who in rule.hide:
        return {"hide"}
    return {"deny"}


def test_every_route_has_a_rule(client) -> None:
    routes = set(route_table(client.app))
    assert sorted(routes - set(SPEC)) == []
    assert sorted(set(SPEC) - routes) == []


def test_roles_matrix_matches_spec(client, world, callers) -> None:
    keys = [k for k in route_table(client.app) if k not in LAST]
    keys += [k for k in LAST if k in SPEC]
    wrong = []
    for key in keys:
        rule = SPEC[key]
        path = world.fill(key)
        for who in (ANONYMOUS, *ROLES):
            response = _call(callers[who], key, path)
            if rule.own_statuses:
                if response.status_code not in rule.own_statuses:
                    wrong.append(f"{key} as {who}: {response.status_code}")
                continue
            got = _outcome(response)
            if got not in _expected(rule, who):
                wrong.append(f"{key} as {who}: {response.status_code} ({got})")
    assert wrong == [], "\n".join(wrong)
