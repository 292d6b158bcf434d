"""The Statement Resource: storing, reading, filters, paging and voiding."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlparse

from xapi_support import statement

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def test_post_returns_statement_ids(xapi) -> None:
    response = xapi.post_statements([statement(), statement()])
    assert response.status_code == 200
    assert len(response.json()) == 2
    assert all(uuid.UUID(value) for value in response.json())


def test_get_by_id_adds_lrs_properties(xapi) -> None:
    statement_id = xapi.post_statements(statement()).json()[0]
    response = xapi.get_statements(statementId=statement_id)
    body = response.json()
    assert response.status_code == 200
    assert body["id"] == statement_id
    assert body["stored"].endswith("Z")
    assert body["authority"]["account"]["name"] == xapi.key
    assert body["version"] == "2.0.0"


def test_get_sends_required_headers(xapi) -> None:
    statement_id = xapi.post_statements(statement()).json()[0]
    response = xapi.get_statements(statementId=statement_id)
    assert response.headers["x-experience-api-version"] == "2.0.0"
    assert "x-experience-api-consistent-through" in response.headers
    assert response.headers["last-modified"].endswith("GMT")


def test_missing_version_header_rejected(xapi) -> None:
    response = xapi.client.get("/xapi/statements", headers={"Authorization": xapi.auth})
    assert response.status_code == 400
    assert "X-Experience-API-Version" in response.json()["detail"]


def test_version_one_zero_accepted(xapi) -> None:
    response = xapi.request(
        "GET", "statements", headers={"X-Experience-API-Version": "1.0"}
    )
    assert response.status_code == 200
    assert response.headers["x-experience-api-version"] == "1.0.3"


def test_unknown_version_rejected(xapi) -> None:
    response = xapi.request(
        "GET", "statements", headers={"X-Experience-API-Version": "3.0.0"}
    )
    assert response.status_code == 400


def test_put_same_content_accepted_twice(xapi) -> None:
    statement_id = str(uuid.uuid4())
    first = xapi.request(
        "PUT", "statements", params={"statementId": statement_id}, json=statement()
    )
    second = xapi.request(
        "PUT", "statements", params={"statementId": statement_id}, json=statement()
    )
    assert first.status_code == 204
    assert second.status_code == 204


def test_put_different_content_conflicts(xapi) -> None:
    statement_id = str(uuid.uuid4())
    xapi.request(
        "PUT", "statements", params={"statementId": statement_id}, json=statement()
    )
    changed = statement(verb={"id": "http://adlnet.gov/expapi/verbs/attempted"})
    response = xapi.request(
        "PUT", "statements", params={"statementId": statement_id}, json=changed
    )
    assert response.status_code == 409
    stored = xapi.get_statements(statementId=statement_id).json()
    assert stored["verb"]["id"] == "http://adlnet.gov/expapi/verbs/experienced"


def test_batch_repeating_id_rejected(xapi) -> None:
    statement_id = str(uuid.uuid4())
    response = xapi.post_statements(
        [statement(id=statement_id), statement(id=statement_id)]
    )
    assert response.status_code == 400
    assert xapi.get_statements(statementId=statement_id).status_code == 404


def test_filters_select_matching_statements(xapi) -> None:
    registration = str(uuid.uuid4())
    other_actor = {"mbox": "mailto:grace@example.com"}
    xapi.post_statements(
        [
            statement(context={"registration": registration}),
            statement(actor=other_actor),
            statement(verb={"id": "http://adlnet.gov/expapi/verbs/attempted"}),
        ]
    )
    by_agent = xapi.get_statements(agent='{"mbox": "mailto:grace@example.com"}')
    by_verb = xapi.get_statements(verb="http://adlnet.gov/expapi/verbs/attempted")
    by_registration = xapi.get_statements(registration=registration)
    assert len(by_agent.json()["statements"]) == 1
    assert len(by_verb.json()["statements"]) == 1
    assert len(by_registration.json()["statements"]) == 1


def test_related_activities_include_context(xapi) -> None:
    parent = "http://example.com/courses/safeguarding"
    context = {"contextActivities": {"parent": [{"id": parent}]}}
    xapi.post_statements(statement(context=context))
    direct = xapi.get_statements(activity=parent)
    related = xapi.get_statements(activity=parent, related_activities="true")
    assert direct.json()["statements"] == []
    assert len(related.json()["statements"]) == 1


def test_related_agents_include_instructor(xapi) -> None:
    context = {"instructor": {"mbox": "mailto:tutor@example.com"}}
    xapi.post_statements(statement(context=context))
    agent = '{"mbox": "mailto:tutor@example.com"}'
    direct = xapi.get_statements(agent=agent)
    related = xapi.get_statements(agent=agent, related_agents="true")
    assert direct.json()["statements"] == []
    assert len(related.json()["statements"]) == 1


def test_since_until_bound_stored_time(xapi) -> None:
    first = xapi.post_statements(statement()).json()[0]
    stored = xapi.get_statements(statementId=first).json()["stored"]
    second = xapi.post_statements(statement()).json()[0]
    after = xapi.get_statements(since=stored).json()["statements"]
    before = xapi.get_statements(until=stored).json()["statements"]
    assert [s["id"] for s in after] == [second]
    assert [s["id"] for s in before] == [first]


def test_filter_with_since_until_window(xapi) -> None:
    verb = {"id": "http://adlnet.gov/expapi/verbs/attended"}
    ids = [xapi.post_statements(statement(verb=verb)).json()[0] for _ in range(3)]
    xapi.post_statements(statement())
    stored = [xapi.get_statements(statementId=i).json()["stored"] for i in ids]
    window = xapi.get_statements(verb=verb["id"], since=stored[0], until=stored[1])
    assert [s["id"] for s in window.json()["statements"]] == [ids[1]]


def test_filtered_results_newest_first(xapi) -> None:
    verb = {"id": "http://adlnet.gov/expapi/verbs/answered"}
    ids = [xapi.post_statements(statement(verb=verb)).json()[0] for _ in range(3)]
    newest = xapi.get_statements(verb=verb["id"]).json()["statements"]
    oldest = xapi.get_statements(verb=verb["id"], ascending="true").json()
    assert [s["id"] for s in newest] == ids[::-1]
    assert [s["id"] for s in oldest["statements"]] == ids


def test_more_link_pages_through_equal_stored(xapi) -> None:
    # A batch shares one stored time, so the cursor must break ties by
    # sequence number to neither skip nor repeat a statement.
    verb = {"id": "http://adlnet.gov/expapi/verbs/shared"}
    ids = xapi.post_statements([statement(verb=verb) for _ in range(7)]).json()
    seen = []
    response = xapi.get_statements(verb=verb["id"], limit=3)
    while True:
        body = response.json()
        seen.extend(s["id"] for s in body["statements"])
        if not body["more"]:
            break
        token = parse_qs(urlparse(body["more"]).query)["more"][0]
        response = xapi.get_statements(more=token)
    assert seen == ids[::-1]


def test_more_link_reaches_every_statement(xapi) -> None:
    verb = {"id": "http://adlnet.gov/expapi/verbs/progressed"}
    ids = xapi.post_statements([statement(verb=verb) for _ in range(23)]).json()
    xapi.post_statements(statement())
    seen, pages = [], 0
    response = xapi.get_statements(verb=verb["id"], limit=5, ascending="true")
    while True:
        pages += 1
        body = response.json()
        seen.extend(s["id"] for s in body["statements"])
        if not body["more"]:
            break
        url = urlparse(body["more"])
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        response = xapi.request("GET", "statements", params=params)
        assert response.status_code == 200
    assert seen == ids
    assert pages == 5


def test_more_link_ignores_later_statements(xapi) -> None:
    xapi.post_statements([statement() for _ in range(4)])
    first = xapi.get_statements(limit=2).json()
    xapi.post_statements(statement())
    token = parse_qs(urlparse(first["more"]).query)["more"][0]
    second = xapi.get_statements(more=token).json()
    assert len(second["statements"]) == 2
    assert second["more"] == ""


def test_voided_statement_hidden_from_queries(xapi) -> None:
    target = xapi.post_statements(statement()).json()[0]
    voiding = statement(
        verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": target}
    )
    voiding_id = xapi.post_statements(voiding).json()[0]
    listed = [s["id"] for s in xapi.get_statements().json()["statements"]]
    assert target not in listed
    assert voiding_id in listed
    assert xapi.get_statements(statementId=target).status_code == 404
    assert xapi.get_statements(voidedStatementId=target).status_code == 200


def test_voiding_needs_statement_ref(xapi) -> None:
    response = xapi.post_statements(statement(verb={"id": VOIDED}))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "object"


def test_statement_ref_matches_target_filter(xapi) -> None:
    activity = "http://example.com/activities/unique-target"
    target = xapi.post_statements(
        statement(object={"id": activity, "objectType": "Activity"})
    ).json()[0]
    referring = xapi.post_statements(
        statement(object={"objectType": "StatementRef", "id": target})
    ).json()[0]
    found = [
        s["id"] for s in xapi.get_statements(activity=activity).json()["statements"]
    ]
    assert found == [referring, target]


def test_ids_format_keeps_identifiers(xapi) -> None:
    statement_id = xapi.post_statements(statement()).json()[0]
    body = xapi.get_statements(statementId=statement_id, format="ids").json()
    assert body["verb"] == {"id": "http://adlnet.gov/expapi/verbs/experienced"}
    assert "definition" not in body["object"]
    assert body["actor"]["mbox"] == "mailto:ada@example.com"


def test_canonical_format_picks_language(xapi) -> None:
    verb = {
        "id": "http://adlnet.gov/expapi/verbs/experienced",
        "display": {"en-GB": "experienced", "fr": "a vécu"},
    }
    statement_id = xapi.post_statements(statement(verb=verb)).json()[0]
    response = xapi.request(
        "GET",
        "statements",
        params={"statementId": statement_id, "format": "canonical"},
        headers={"Accept-Language": "fr"},
    )
    assert response.json()["verb"]["display"] == {"fr": "a vécu"}


def test_timestamp_offset_converted_to_utc(xapi) -> None:
    body = statement(timestamp="2026-03-01T10:15:30.1234567+01:00")
    statement_id = xapi.post_statements(body).json()[0]
    stored = xapi.get_statements(statementId=statement_id).json()
    assert stored["timestamp"] == "2026-03-01T09:15:30.1234567Z"


def test_activities_resource_returns_definition(xapi) -> None:
    xapi.post_statements(statement())
    response = xapi.request(
        "GET",
        "activities",
        params={"activityId": "http://example.com/activities/first-aid"},
    )
    assert response.status_code == 200
    assert response.json()["definition"]["name"] == {"en-GB": "First aid"}


def test_agents_resource_returns_person(xapi) -> None:
    response = xapi.request(
        "GET", "agents", params={"agent": '{"mbox": "mailto:ada@example.com"}'}
    )
    assert response.json() == {
        "objectType": "Person",
        "mbox": ["mailto:ada@example.com"],
    }


def test_about_needs_no_credentials(client) -> None:
    response = client.get("/xapi/about")
    assert response.status_code == 200
    assert response.json()["version"] == ["2.0.0", "1.0.3"]


def test_head_has_no_body(xapi) -> None:
    response = xapi.request("HEAD", "statements")
    assert response.status_code == 200
    assert response.content == b""


def test_alternate_syntax_in_version_one(xapi_v1) -> None:
    statement_id = xapi_v1.post_statements(statement()).json()[0]
    response = xapi_v1.client.post(
        "/xapi/statements",
        params={"method": "GET"},
        data={
            "statementId": statement_id,
            "Authorization": xapi_v1.auth,
            "X-Experience-API-Version": "1.0.3",
        },
    )
    assert response.status_code == 200
    assert response.json()["id"] == statement_id


def test_alternate_syntax_rejected_in_two(xapi) -> None:
    response = xapi.client.post(
        "/xapi/statements",
        params={"method": "GET"},
        data={"Authorization": xapi.auth, "X-Experience-API-Version": "2.0.0"},
    )
    assert response.status_code == 400


def test_context_agents_only_in_two(xapi, xapi_v1) -> None:
    context = {
        "contextAgents": [
            {
                "objectType": "contextAgent",
                "agent": {"mbox": "mailto:mentor@example.com"},
                "relevantTypes": ["http://example.com/types/mentor"],
            }
        ]
    }
    assert xapi.post_statements(statement(context=context)).status_code == 200
    assert xapi_v1.post_statements(statement(context=context)).status_code == 400


def test_concurrent_same_statement_all_accepted(xapi) -> None:
    import threading

    body = statement(id=str(uuid.uuid4()))
    start = threading.Barrier(5)
    codes: list[int] = []

    def send() -> None:
        start.wait()
        codes.append(xapi.post_statements(body).status_code)

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 5
    stored = xapi.get_statements(statementId=body["id"])
    assert stored.status_code == 200
    assert stored.json()["id"] == body["id"]
