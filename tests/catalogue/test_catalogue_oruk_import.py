"""Import of ORUK feeds: the two real council feeds and synthetic ORUK 3.0 records."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from catalogue_samples import BRISTOL, COUNCIL_FEEDS, NORTH_LINCS, aberdeen_service
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from john.catalogue.cleaning import derived_uuid
from john.catalogue.geocode import Geocoder
from john.catalogue.models import (
    Contact,
    Location,
    Schedule,
    SearchEntry,
    Service,
    Taxonomy,
    TaxonomyTerm,
)
from john.catalogue.oruk import fetch_oruk_pages, import_oruk, read_oruk_records
from john.errors import FeedError, InvalidInput


def _import_file(
    session: Session, shared_data: Path, name: str, source: str, geocoder: Geocoder
) -> Any:
    path = shared_data / COUNCIL_FEEDS / name
    report = import_oruk(session, read_oruk_records(path), source, geocoder)
    session.commit()
    return report


def test_bristol_feed_counts(
    session: Session, shared_data: Path, geocoder: Geocoder
) -> None:
    report = _import_file(session, shared_data, BRISTOL, "Bristol", geocoder)
    assert report.records_read == 819
    assert report.records_valid == 41
    assert report.records_fixed == 776
    assert report.records_rejected == 2


def test_bristol_feed_reasons_by_field(
    session: Session, shared_data: Path, geocoder: Geocoder
) -> None:
    report = _import_file(session, shared_data, BRISTOL, "Bristol", geocoder)
    assert report.by_field["name"] == {"rejected: name missing": 1}
    assert report.by_field["id"] == {"rejected: id repeated within the feed": 1}
    assert report.by_field["url"]["fixed: URL had no scheme"] == 53
    assert report.by_field["url"]["fixed: not a web address"] == 1
    assert report.by_field["email"] == {"fixed: not an e-mail address": 1}


def test_counts_add_up_both_feeds(
    session: Session, shared_data: Path, geocoder: Geocoder
) -> None:
    for name, source in ((BRISTOL, "Bristol"), (NORTH_LINCS, "North Lincolnshire")):
        report = _import_file(session, shared_data, name, source, geocoder)
        assert report.records_read == (
            report.records_valid + report.records_fixed + report.records_rejected
        )
    stored = session.scalar(select(func.count()).select_from(Service))
    assert stored == 817 + 738


def test_feed_problems_name_records(
    session: Session, shared_data: Path, geocoder: Geocoder
) -> None:
    report = _import_file(session, shared_data, BRISTOL, "Bristol", geocoder)
    rejected = [p for p in report.problems if p["action"] == "rejected"]
    assert {p["field"] for p in rejected} == {"id", "name"}
    assert rejected[0]["record"] != ""


def test_reimport_same_source_idempotent(
    session: Session, shared_data: Path, geocoder: Geocoder
) -> None:
    _import_file(session, shared_data, NORTH_LINCS, "North Lincolnshire", geocoder)
    again = _import_file(
        session, shared_data, NORTH_LINCS, "North Lincolnshire", geocoder
    )
    assert again.records_rejected == 0
    assert session.scalar(select(func.count()).select_from(Service)) == 738
    assert session.scalar(select(func.count()).select_from(SearchEntry)) == 738


def test_other_source_cannot_overwrite(
    session: Session, shared_data: Path, geocoder: Geocoder
) -> None:
    _import_file(session, shared_data, NORTH_LINCS, "North Lincolnshire", geocoder)
    other = _import_file(session, shared_data, NORTH_LINCS, "Copycat", geocoder)
    assert other.records_rejected == 738
    assert other.by_field["id"] == {
        "rejected: id already published by North Lincolnshire": 738
    }


def test_target_audiences_become_terms(
    session: Session, shared_data: Path, geocoder: Geocoder
) -> None:
    _import_file(session, shared_data, BRISTOL, "Bristol", geocoder)
    taxonomy = session.scalars(
        select(Taxonomy).where(Taxonomy.name == "Target audience")
    ).one()
    names = set(
        session.scalars(
            select(TaxonomyTerm.name).where(TaxonomyTerm.taxonomy_id == taxonomy.id)
        )
    )
    assert "Homeless" in names
    assert "Dementia" in names


def test_v1_source_kept_verbatim(
    session: Session, shared_data: Path, geocoder: Geocoder
) -> None:
    _import_file(session, shared_data, NORTH_LINCS, "North Lincolnshire", geocoder)
    service = session.get(Service, "738f94e0-aa6c-6a5c-2395-7b64421ba2a5")
    assert service is not None
    assert service.source_json["description"].startswith("<p>Struggling")
    assert service.description.startswith("Struggling with Drug & Alcohol")
    assert service.oruk_json["organization"]["name"] == "Victor House"


def test_example_service_repairs(
    session: Session, shared_data: Path, geocoder: Geocoder
) -> None:
    path = shared_data / "oruk_profile_3.0" / "examples" / "service_full.json"
    report = import_oruk(session, read_oruk_records(path), "example", geocoder)
    assert report.records_fixed == 1
    assert report.by_field["location.latitude"] == {
        "fixed: coordinates outside the UK; dropped": 1
    }
    assert report.by_field["contacts"] == {
        "fixed: contact has no phone or e-mail; left out": 1
    }
    assert report.coordinate_sources == {"none": 1}
    assert session.scalar(select(func.count()).select_from(Contact)) == 0


def test_location_placed_by_postcode(session: Session, geocoder: Geocoder) -> None:
    report = import_oruk(session, [aberdeen_service()], "synthetic", geocoder)
    location = session.get(Location, "40000000-0000-4000-8000-000000000001")
    assert report.coordinate_sources == {"postcode": 1}
    assert location is not None
    assert location.coordinate_source == "postcode"
    assert location.latitude == pytest.approx(57.149606)
    assert location.longitude == pytest.approx(-2.096916)


def test_location_falls_back_to_authority(session: Session, geocoder: Geocoder) -> None:
    record = aberdeen_service()
    address = record["service_at_locations"][0]["location"]["addresses"][0]
    address["postal_code"] = "ZZ99 9ZZ"
    report = import_oruk(
        session,
        [record],
        "synthetic",
        geocoder,
        local_authority="Aberdeen City Council",
    )
    location = session.get(Location, "40000000-0000-4000-8000-000000000001")
    assert report.coordinate_sources == {"local_authority_centroid": 1}
    assert location is not None
    assert location.coordinate_source == "local_authority_centroid"
    assert 57.0 < (location.latitude or 0) < 57.3


def test_non_uuid_id_is_derived(session: Session, geocoder: Geocoder) -> None:
    record = aberdeen_service(id="SVC-17")
    report = import_oruk(session, [record], "synthetic", geocoder)
    expected = derived_uuid("synthetic", "id", "SVC-17")
    service = session.get(Service, expected)
    assert report.by_field["id"] == {
        "fixed: id is not a UUID; a UUID was derived from it": 1
    }
    assert service is not None
    assert service.source_id == "SVC-17"
    assert service.oruk_json["id"] == expected


def test_schedule_times_stored_as_hhmm(session: Session, geocoder: Geocoder) -> None:
    import_oruk(session, [aberdeen_service()], "synthetic", geocoder)
    schedule = session.scalars(select(Schedule)).one()
    assert (schedule.byday, schedule.opens_at, schedule.closes_at) == (
        "MO,WE",
        "10:00",
        "16:00",
    )


def test_missing_name_rejected(session: Session, geocoder: Geocoder) -> None:
    report = import_oruk(session, [aberdeen_service(name="  ")], "synthetic", geocoder)
    assert report.records_rejected == 1
    assert session.scalar(select(func.count()).select_from(Service)) == 0


def test_folder_of_pages_read(tmp_path: Path) -> None:
    for number in (1, 2):
        page = {
            "total_items": 2,
            "page_number": number,
            "contents": [aberdeen_service(number)],
        }
        (tmp_path / f"page-{number}.json").write_text(json.dumps(page))
    records = list(read_oruk_records(tmp_path))
    assert [r["name"] for r in records] == [
        "Digital skills drop-in 1",
        "Digital skills drop-in 2",
    ]


def test_feed_not_json_rejected(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    path.write_text("<html>")
    with pytest.raises(FeedError, match="not JSON"):
        list(read_oruk_records(path))


def test_empty_folder_rejected(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="contains no .json files"):
        list(read_oruk_records(tmp_path))


class _PagedFeed(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        page = int(self.path.split("page=")[1].split("&")[0])
        body = {
            "total_items": 3,
            "total_pages": 2,
            "page_number": page,
            "last_page": page == 2,
            "contents": [aberdeen_service(n) for n in ((1, 2) if page == 1 else (3,))],
        }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def loopback_feed() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PagedFeed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services"
    server.shutdown()
    server.server_close()


def test_fetch_pages_from_loopback(loopback_feed: str) -> None:
    records = list(fetch_oruk_pages(loopback_feed, per_page=2))
    assert len(records) == 3
    assert records[2]["name"] == "Digital skills drop-in 3"


def test_fetch_refuses_other_hosts() -> None:
    with pytest.raises(InvalidInput, match="not on a loopback address"):
        list(fetch_oruk_pages("https://example.org/services"))
