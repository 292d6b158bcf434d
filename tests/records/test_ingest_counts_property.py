"""Property: for any mix of good, bad and repeated rows, the counts add up."""

from __future__ import annotations

import itertools

from feed_samples import achievement_row, count_rows, csv_bytes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

BAD_CHANGES = {
    "bad_uln": {"uln": "1234567890"},
    "future_award": {"awarded_on": "2999-01-01"},
    "no_title": {"title": ""},
    "bad_kind": {"kind": "trophy"},
    "young_learner": {"date_of_birth": "2018-01-01"},
}
KINDS = ["good", "repeat", *BAD_CHANGES]
_feed_numbers = itertools.count()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(kinds=st.lists(st.sampled_from(KINDS), max_size=30))
def test_counts_add_up_for_any_mix(ingest, session_factory, kinds) -> None:
    feed = next(_feed_numbers)
    rows = []
    last_good = None
    expected_duplicates = 0
    for index, kind in enumerate(kinds):
        if kind == "repeat" and last_good is not None:
            rows.append(last_good)
            expected_duplicates += 1
            continue
        reference = f"P{feed}-{index}"
        row = achievement_row(source_person_ref=reference, **BAD_CHANGES.get(kind, {}))
        rows.append(row)
        if kind not in BAD_CHANGES:
            last_good = row
    expected_bad = sum(1 for kind in kinds if kind in BAD_CHANGES)
    stored_before = count_rows(session_factory, "achievements")

    report = ingest(csv_bytes(rows))

    assert report.rows_read == len(rows)
    assert (
        report.rows_accepted + report.rows_quarantined + report.rows_duplicate
        == report.rows_read
    )
    assert report.rows_quarantined == expected_bad
    assert report.rows_duplicate == expected_duplicates
    stored_after = count_rows(session_factory, "achievements")
    assert stored_after - stored_before == report.rows_accepted
    with session_factory() as session:
        quarantined_rows = session.execute(
            text(
                "SELECT count(DISTINCT row_number) FROM quarantined_rows "
                "WHERE feed_id = :feed"
            ),
            {"feed": report.feed_id},
        ).scalar_one()
    assert quarantined_rows == expected_bad
