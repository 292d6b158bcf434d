"""Import of Open Referral UK feeds into the catalogue.

Two shapes are read: ORUK 3.0 (HSDS 3.0 as profiled for the UK, fully nested
services) and the older ORUK API v1 list shape that many council directories
still publish (``pc_targetAudience``, ``attending_type``, no nested
locations). Every record becomes an ORUK 3.0 document, which is stored whole
for re-serving, and its parts go into the catalogue tables.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from john.catalogue import merging, search
from john.catalogue.bulk import upsert
from john.catalogue.cleaning import (
    as_number,
    clean_byday,
    clean_date,
    clean_datetime,
    clean_email,
    clean_time,
    clean_url,
    derived_uuid,
    html_to_text,
    is_uuid,
)
from john.catalogue.geocode import Geocoder, is_in_uk, normalise_postcode
from john.catalogue.models import (
    Accessibility,
    Attribute,
    Contact,
    CostOption,
    ImportReport,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    SearchEntry,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from john.catalogue.report import RecordCheck, ReportBuilder
from john.db import utcnow
from john.errors import FeedError, InvalidInput

log = logging.getLogger(__name__)

STATUSES = ("active", "inactive", "defunct", "temporarily closed")
LOCATION_TYPES = ("physical", "postal", "virtual")
V1_MARKERS = ("pc_metadata", "pc_targetAudience", "attending_type", "deliverable_type")
ATTENDING_TYPES = {
    "venue": "in_person",
    "online": "online",
    "phone": "phone",
    "telephone": "phone",
    "home visit": "home_visit",
}
TARGET_AUDIENCE_TAXONOMY = "Target audience"
SERVICE_TYPE_TAXONOMY = "Service type"
BATCH_SIZE = 500


def read_oruk_records(path: Path) -> Iterator[dict[str, Any]]:
    """Yield service records from a feed file or a folder of saved API pages.

    A file contains a JSON list of services, one API page (an object with
    ``contents``, or ``content`` in the v1 API) or a single service. A folder
    is read file by file in name order.
    """
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".json")
        if not files:
            raise FeedError(
                f"folder {path} contains no .json files; save the pages there"
            )
        for file in files:
            yield from _records_in_file(file)
        return
    if not path.is_file():
        raise FeedError(f"feed {path} not found; give a .json file or a folder")
    yield from _records_in_file(path)


def _records_in_file(path: Path) -> Iterator[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as error:
        raise FeedError(f"feed {path} is not UTF-8: {error}") from error
    except json.JSONDecodeError as error:
        raise FeedError(f"feed {path} is not JSON: {error}") from error
    yield from records_in_document(data, str(path))


def records_in_document(data: Any, where: str) -> Iterator[dict[str, Any]]:
    """Yield the service records held in one parsed feed document."""
    if isinstance(data, list):
        items: Iterable[Any] = data
    elif isinstance(data, dict) and isinstance(data.get("contents"), list):
        items = data["contents"]
    elif isinstance(data, dict) and isinstance(data.get("content"), list):
        items = data["content"]
    elif isinstance(data, dict) and "id" in data and "name" in data:
        items = [data]
    else:
        raise FeedError(
            f"{where} is neither a list of services, an ORUK page with "
            "'contents' nor a single service"
        )
    for item in items:
        if isinstance(item, dict):
            yield item


def _is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def fetch_oruk_pages(url: str, per_page: int = 500) -> Iterator[dict[str, Any]]:
    """Yield the service records of every page of a ``/services`` endpoint.

    Only loopback addresses are fetched: the importer serves tests and local
    mirrors, and a public feed is saved to files first.
    """
    import httpx

    parts = urlsplit(url)
    if not _is_loopback(parts.hostname):
        raise InvalidInput(
            f"URL {url} is not on a loopback address; save the feed's pages as "
            "files and import the folder"
        )
    page = 1
    with httpx.Client(timeout=30.0) as client:
        while True:
            query = urlencode({"page": page, "per_page": per_page})
            page_url = urlunsplit(parts._replace(query=query))
            try:
                response = client.get(page_url)
                response.raise_for_status()
                data = response.json()
            except (httpx.HTTPError, ValueError) as error:
                raise FeedError(f"page {page} of {url} failed: {error}") from error
            yield from records_in_document(data, page_url)
            if not isinstance(data, dict) or data.get("last_page", True):
                return
            page += 1


class _Mapper:
    """Map one feed record to an ORUK 3.0 document, noting every repair."""

    def __init__(
        self,
        raw: dict[str, Any],
        source: str,
        geocoder: Geocoder,
        authority: str | None,
    ) -> None:
        self.raw = raw
        self.source = source
        self.geocoder = geocoder
        self.authority = authority
        self.check = RecordCheck(record_id=str(raw.get("id", "")))
        self.coordinate_sources: list[str] = []
        self.delivery_modes: list[str] = []
        self.terms: list[tuple[str, str, str, str | None]] = []

    def item_id(self, value: Any, field_name: str, *scope: str) -> str:
        if is_uuid(value):
            return str(value).lower()
        if value in (None, ""):
            self.check.fix(field_name, "id missing; a UUID was assigned")
            return derived_uuid(self.source, field_name, *scope)
        self.check.fix(field_name, "id is not a UUID; a UUID was derived from it")
        return derived_uuid(self.source, field_name, str(value))

    def map(self) -> dict[str, Any] | None:
        raw = self.raw
        if raw.get("id") in (None, ""):
            self.check.reject("id", "id missing")
            return None
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            self.check.reject("name", "name missing")
            return None

        doc: dict[str, Any] = {}
        if not any(key in raw for key in V1_MARKERS):
            doc.update({k: v for k, v in raw.items() if v is not None})
        doc["id"] = self.item_id(raw["id"], "id")
        doc["name"] = " ".join(name.split())
        self._map_text(doc, "description", required=True)
        for key in ("fees", "accreditations", "alert"):
            self._map_text(doc, key)
        self._map_scalars(doc)
        self._map_organization(doc)
        self._map_v1_extras(doc)
        doc["schedules"] = self._map_schedules(raw.get("schedules"))
        doc["service_at_locations"] = self._map_locations(raw)
        doc["contacts"] = self._map_contacts(raw.get("contacts"))
        doc["cost_options"] = self._map_costs(raw.get("cost_options"))
        doc["languages"] = self._map_items(raw.get("languages"), "languages")
        doc["funding"] = self._map_items(raw.get("funding"), "funding")
        doc["service_areas"] = self._map_items(
            raw.get("service_areas"), "service_areas"
        )
        doc["attributes"] = self._map_attributes(raw.get("attributes"), doc)
        for key in [k for k, v in doc.items() if v in ([], None)]:
            del doc[key]
        return doc

    def _map_text(self, doc: dict[str, Any], key: str, required: bool = False) -> None:
        value = self.raw.get(key)
        text, had_html = html_to_text(value if isinstance(value, str) else None)
        if had_html:
            self.check.fix(key, "HTML markup converted to text")
        if text or required:
            doc[key] = text
        else:
            doc.pop(key, None)

    def _map_scalars(self, doc: dict[str, Any]) -> None:
        raw = self.raw
        url, reason = clean_url(raw.get("url"))
        if reason:
            self.check.fix("url", reason)
        doc.pop("url", None)
        if url:
            doc["url"] = url
        for key in ("email", "assurer_email"):
            email, reason = clean_email(raw.get(key))
            if reason:
                self.check.fix(key, reason)
            doc.pop(key, None)
            if email:
                doc[key] = email

        status = str(raw.get("status") or "").strip().lower()
        if status not in STATUSES:
            self.check.fix(
                "status",
                f"status {raw.get('status')!r} is not an ORUK status; set to active",
            )
            status = "active"
        doc["status"] = status

        ages = [as_number(raw.get("minimum_age")), as_number(raw.get("maximum_age"))]
        doc.pop("minimum_age", None)
        doc.pop("maximum_age", None)
        if any(age is not None and not 0 <= age <= 130 for age in ages) or (
            ages[0] is not None and ages[1] is not None and ages[0] > ages[1]
        ):
            self.check.fix("minimum_age", "age range impossible; ages dropped")
        else:
            if ages[0] is not None:
                doc["minimum_age"] = ages[0]
            if ages[1] is not None:
                doc["maximum_age"] = ages[1]

        assured = clean_date(raw.get("assured_date"))
        doc.pop("assured_date", None)
        if assured:
            doc["assured_date"] = assured.isoformat()
        metadata = raw.get("pc_metadata") or {}
        modified = clean_datetime(raw.get("last_modified")) or clean_datetime(
            metadata.get("date_modified") if isinstance(metadata, dict) else None
        )
        doc["last_modified"] = (modified or utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _map_organization(self, doc: dict[str, Any]) -> None:
        raw_org = self.raw.get("organization")
        doc.pop("organization", None)
        doc.pop("organization_id", None)
        if not isinstance(raw_org, dict):
            return
        name = raw_org.get("name")
        if not isinstance(name, str) or not name.strip():
            self.check.fix(
                "organization.name", "organisation name missing; organisation left out"
            )
            return
        org: dict[str, Any] = {
            "id": self.item_id(raw_org.get("id"), "organization.id", name),
            "name": " ".join(name.split()),
            "description": html_to_text(raw_org.get("description"))[0],
        }
        website, reason = clean_url(raw_org.get("website") or raw_org.get("url"))
        if reason:
            self.check.fix("organization.website", reason)
        if website:
            org["website"] = website
        email, reason = clean_email(raw_org.get("email"))
        if reason:
            self.check.fix("organization.email", reason)
        if email:
            org["email"] = email
        for key in ("logo", "uri"):
            link, _ = clean_url(raw_org.get(key))
            if link:
                org[key] = link
        identifiers = raw_org.get("organization_identifiers")
        if isinstance(identifiers, list):
            org["organization_identifiers"] = [
                {
                    **item,
                    "id": self.item_id(
                        item.get("id"), "organization_identifiers", str(index)
                    ),
                }
                for index, item in enumerate(identifiers)
                if isinstance(item, dict) and item.get("identifier")
            ]
        doc["organization"] = org
        doc["organization_id"] = org["id"]

    def _map_v1_extras(self, doc: dict[str, Any]) -> None:
        raw = self.raw
        attending = str(raw.get("attending_type") or "").strip().lower()
        if attending in ATTENDING_TYPES:
            self.delivery_modes.append(ATTENDING_TYPES[attending])
        for audience in raw.get("pc_targetAudience") or []:
            if (
                isinstance(audience, dict)
                and str(audience.get("audienceType", "")).strip()
            ):
                label = " ".join(str(audience["audienceType"]).split())
                # Feeds number audiences per record, so the label is the key.
                self.terms.append(
                    (TARGET_AUDIENCE_TAXONOMY, label.lower(), label, None)
                )
        service_type = str(raw.get("deliverable_type") or "").strip()
        if service_type:
            self.terms.append((SERVICE_TYPE_TAXONOMY, service_type, service_type, None))

    def _map_items(self, items: Any, key: str) -> list[dict[str, Any]]:
        mapped = []
        for index, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            entry = {k: v for k, v in item.items() if v is not None}
            entry["id"] = self.item_id(
                item.get("id"), f"{key}.id", self.check.record_id, str(index)
            )
            mapped.append(entry)
        return mapped

    def _map_schedules(self, items: Any) -> list[dict[str, Any]]:
        schedules = self._map_items(items, "schedules")
        for schedule in schedules:
            for key in ("opens_at", "closes_at"):
                if key in schedule:
                    cleaned = clean_time(schedule[key])
                    if cleaned is None:
                        self.check.fix(f"schedules.{key}", "not a time; dropped")
                        del schedule[key]
                    else:
                        schedule[key] = f"{cleaned}:00"
            if "freq" in schedule and schedule["freq"] not in ("WEEKLY", "MONTHLY"):
                self.check.fix("schedules.freq", "not WEEKLY or MONTHLY; dropped")
                del schedule["freq"]
            if "byday" in schedule:
                byday = clean_byday(schedule["byday"])
                if byday != schedule["byday"]:
                    self.check.fix("schedules.byday", "unknown day codes removed")
                if byday:
                    schedule["byday"] = byday
                else:
                    del schedule["byday"]
        return schedules

    def _map_locations(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        links = self._map_items(raw.get("service_at_locations"), "service_at_locations")
        kept = []
        for link in links:
            location = link.get("location")
            if not isinstance(location, dict):
                self.check.fix(
                    "service_at_locations.location", "no location; link left out"
                )
                continue
            link["location"] = self._map_location(location)
            link["location_id"] = link["location"]["id"]
            link["service_id"] = self.check.record_id
            kept.append(link)
        return kept

    def _map_location(self, location: dict[str, Any]) -> dict[str, Any]:
        mapped = {k: v for k, v in location.items() if v is not None}
        mapped["id"] = self.item_id(
            location.get("id"), "location.id", str(location.get("name"))
        )
        if mapped.get("location_type") not in LOCATION_TYPES:
            self.check.fix(
                "location.location_type", "missing or unknown; set to physical"
            )
            mapped["location_type"] = "physical"

        addresses = self._map_items(location.get("addresses"), "addresses")
        for address in addresses:
            for key in ("address_1", "city", "state_province", "postal_code"):
                if not isinstance(address.get(key), str):
                    self.check.fix(f"addresses.{key}", "missing; set to empty text")
                    address[key] = ""
            address.setdefault("country", "GB")
            if address.get("address_type") not in LOCATION_TYPES:
                address["address_type"] = "physical"
        if addresses:
            mapped["addresses"] = addresses
        mapped["accessibility"] = self._map_items(
            location.get("accessibility"), "accessibility"
        )
        if not mapped["accessibility"]:
            del mapped["accessibility"]

        latitude = as_number(location.get("latitude"))
        longitude = as_number(location.get("longitude"))
        postcode = addresses[0].get("postal_code") if addresses else None
        mapped.pop("latitude", None)
        mapped.pop("longitude", None)
        source = None
        if is_in_uk(latitude, longitude):
            source = "feed"
        else:
            if latitude is not None or longitude is not None:
                self.check.fix(
                    "location.latitude", "coordinates outside the UK; dropped"
                )
            found = self.geocoder.locate(postcode, self.authority)
            if found is not None:
                latitude, longitude, source = (
                    found.latitude,
                    found.longitude,
                    found.source,
                )
        if source is not None:
            mapped["latitude"] = latitude
            mapped["longitude"] = longitude
        self.coordinate_sources.append(source or "none")
        mapped["_coordinate_source"] = source
        return mapped

    def _map_contacts(self, items: Any) -> list[dict[str, Any]]:
        contacts = []
        for contact in self._map_items(items, "contacts"):
            email, _ = clean_email(contact.get("email"))
            phones = [
                {
                    **phone,
                    "id": self.item_id(
                        phone.get("id"), "phones.id", contact["id"], str(index)
                    ),
                }
                for index, phone in enumerate(contact.get("phones") or [])
                if isinstance(phone, dict)
                and sum(ch.isdigit() for ch in str(phone.get("number", ""))) >= 6
            ]
            if not email and not phones:
                self.check.fix("contacts", "contact has no phone or e-mail; left out")
                continue
            contact.pop("email", None)
            if email:
                contact["email"] = email
            if phones:
                contact["phones"] = phones
            contacts.append(contact)
        return contacts

    def _map_costs(self, items: Any) -> list[dict[str, Any]]:
        costs = self._map_items(items, "cost_options")
        for cost in costs:
            if "amount" in cost:
                amount = as_number(cost["amount"])
                if amount is None or amount < 0:
                    self.check.fix("cost_options.amount", "not a price; dropped")
                    del cost["amount"]
                elif amount != cost["amount"]:
                    self.check.fix("cost_options.amount", "text converted to number")
                    cost["amount"] = amount
        return costs

    def _map_attributes(self, items: Any, doc: dict[str, Any]) -> list[dict[str, Any]]:
        attributes = self._map_items(items, "attributes")
        kept = []
        for attribute in attributes:
            term = attribute.get("taxonomy_term")
            if not isinstance(term, dict) or not term.get("name"):
                self.check.fix("attributes.taxonomy_term", "no term name; left out")
                continue
            taxonomy = str(term.get("taxonomy") or term.get("taxonomy_id") or "Unnamed")
            code = str(term.get("code") or term.get("id") or term["name"])
            self.terms.append((taxonomy, code, str(term["name"]), term.get("term_uri")))
            kept.append(attribute)
        return kept


def _taxonomy_ids(taxonomy_name: str, code: str) -> tuple[str, str]:
    taxonomy_id = (
        taxonomy_name
        if is_uuid(taxonomy_name)
        else derived_uuid("taxonomy", taxonomy_name)
    )
    term_id = code if is_uuid(code) else derived_uuid("term", taxonomy_id, code)
    return taxonomy_id, term_id


def _public_document(doc: dict[str, Any], terms: list[Any]) -> dict[str, Any]:
    public = json.loads(json.dumps(doc, default=str))
    for link in public.get("service_at_locations", []):
        link["location"].pop("_coordinate_source", None)
    named = {
        attribute.get("taxonomy_term", {}).get("name")
        for attribute in public.get("attributes", [])
    }
    for taxonomy_name, code, name, uri in terms:
        if name in named:
            continue
        taxonomy_id, term_id = _taxonomy_ids(taxonomy_name, code)
        term = {
            "id": term_id,
            "name": name,
            "description": name,
            "taxonomy": taxonomy_name,
            "taxonomy_id": taxonomy_id,
        }
        if uri:
            term["term_uri"] = uri
        public.setdefault("attributes", []).append(
            {
                "id": derived_uuid("attribute", public["id"], term_id),
                "taxonomy_term_id": term_id,
                "link_type": "service",
                "link_id": public["id"],
                "taxonomy_term": term,
            }
        )
        named.add(name)
    return public


class _Batch:
    """Rows for one batch of services, written with one statement per table."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.service_ids: list[str] = []
        self.location_ids: list[str] = []

    def add(self, model: type[Any], **values: Any) -> None:
        self.rows[model.__tablename__].append(values)

    def add_service(self, mapper: _Mapper, doc: dict[str, Any], source: str) -> None:
        now = utcnow()
        org = doc.get("organization")
        if org is not None:
            self.add(
                Organization,
                id=org["id"],
                name=org["name"],
                description=org.get("description", ""),
                email=org.get("email"),
                website=org.get("website"),
                logo=org.get("logo"),
                uri=org.get("uri"),
                source=source,
                created_at=now,
                updated_at=now,
            )

        modes = set(mapper.delivery_modes)
        if doc.get("service_at_locations"):
            modes.add("in_person")
        public = _public_document(doc, mapper.terms)
        self.service_ids.append(doc["id"])
        self.add(
            Service,
            id=doc["id"],
            organization_id=doc.get("organization_id"),
            name=doc["name"],
            description=doc.get("description", ""),
            url=doc.get("url"),
            email=doc.get("email"),
            status=doc["status"],
            fees=doc.get("fees"),
            accreditations=doc.get("accreditations"),
            minimum_age=doc.get("minimum_age"),
            maximum_age=doc.get("maximum_age"),
            assured_date=clean_date(doc.get("assured_date")),
            alert=doc.get("alert"),
            delivery_modes=",".join(sorted(modes)),
            oruk_json=public,
            source_json=mapper.raw,
            source=source,
            source_id=str(mapper.raw.get("id")),
            last_modified=clean_datetime(doc["last_modified"]) or now,
            created_at=now,
        )

        first_location = self._add_locations(doc, source)
        self._add_parts(doc)
        term_names = []
        for taxonomy_name, code, name, uri in mapper.terms:
            taxonomy_id, term_id = _taxonomy_ids(taxonomy_name, code)
            self.add(
                Taxonomy,
                id=taxonomy_id,
                name=taxonomy_name,
                description=f"Terms of {taxonomy_name} from imported feeds",
                uri=None,
                version=None,
            )
            self.add(
                TaxonomyTerm,
                id=term_id,
                taxonomy_id=taxonomy_id,
                code=code,
                name=name,
                description=name,
                parent_id=None,
                term_uri=uri,
            )
            self.add(
                Attribute,
                id=derived_uuid("attribute", doc["id"], term_id),
                link_type="service",
                link_id=doc["id"],
                taxonomy_term_id=term_id,
            )
            term_names.append(name)
        self.add(
            SearchEntry,
            **search.service_entry(public, modes, first_location, term_names),
        )

    def _add_locations(self, doc: dict[str, Any], source: str) -> dict[str, Any] | None:
        first = None
        for link in doc.get("service_at_locations", []):
            loc = link["location"]
            address = (loc.get("addresses") or [{}])[0]
            self.location_ids.append(loc["id"])
            self.add(
                Location,
                id=loc["id"],
                organization_id=doc.get("organization_id"),
                location_type=loc["location_type"],
                name=loc.get("name"),
                description=loc.get("description"),
                latitude=loc.get("latitude"),
                longitude=loc.get("longitude"),
                coordinate_source=loc.get("_coordinate_source"),
                address_1=address.get("address_1"),
                city=address.get("city"),
                region=address.get("region") or address.get("state_province"),
                postal_code=normalise_postcode(address.get("postal_code")),
                external_identifier=loc.get("external_identifier"),
                external_identifier_type=loc.get("external_identifier_type"),
                source=source,
                created_at=utcnow(),
            )
            for item in loc.get("accessibility", []):
                self.add(
                    Accessibility,
                    id=item["id"],
                    location_id=loc["id"],
                    description=item.get("description"),
                    details=item.get("details"),
                    url=item.get("url"),
                )
            self.add(
                ServiceAtLocation,
                id=link["id"],
                service_id=doc["id"],
                location_id=loc["id"],
            )
            first = first or loc
        return first

    def _add_parts(self, doc: dict[str, Any]) -> None:
        service_id = doc["id"]
        for item in doc.get("schedules", []):
            self.add(
                Schedule,
                id=item["id"],
                service_id=service_id,
                location_id=None,
                valid_from=clean_date(item.get("valid_from")),
                valid_to=clean_date(item.get("valid_to")),
                dtstart=clean_date(item.get("dtstart")),
                freq=item.get("freq"),
                interval=int(as_number(item.get("interval")) or 1),
                byday=item.get("byday"),
                bymonthday=item.get("bymonthday"),
                opens_at=clean_time(item.get("opens_at")),
                closes_at=clean_time(item.get("closes_at")),
                description=item.get("description"),
                attending_type=item.get("attending_type"),
                notes=item.get("notes"),
            )
        for item in doc.get("contacts", []):
            self.add(
                Contact,
                id=item["id"],
                service_id=service_id,
                name=item.get("name"),
                title=item.get("title"),
                email=item.get("email"),
            )
            for phone in item.get("phones", []):
                self.add(
                    Phone,
                    id=phone["id"],
                    service_id=None,
                    contact_id=item["id"],
                    location_id=None,
                    number=str(phone["number"])[:40],
                    type=phone.get("type"),
                    description=phone.get("description"),
                )
        for item in doc.get("cost_options", []):
            amount = item.get("amount")
            self.add(
                CostOption,
                id=item["id"],
                service_id=service_id,
                option=item.get("option"),
                amount=None if amount is None else round(float(amount), 2),
                currency=str(item.get("currency") or "GBP")[:3],
                amount_description=item.get("amount_description"),
                valid_from=clean_date(item.get("valid_from")),
                valid_to=clean_date(item.get("valid_to")),
            )
        for item in doc.get("languages", []):
            self.add(
                Language,
                id=item["id"],
                service_id=service_id,
                name=item.get("name"),
                code=item.get("code"),
                note=item.get("note"),
            )

    def write(self, session: Session, replacing: bool) -> None:
        """Replace the batch's services and their parts in the store.

        ``replacing`` is true when any of the services is already stored. A
        batch of new services has no old parts to remove.
        """
        if self.service_ids and replacing:
            _remove_children(session, self.service_ids)
        if self.location_ids:
            session.execute(
                delete(Accessibility).where(
                    Accessibility.location_id.in_(self.location_ids)
                )
            )
        for model, key, update in (
            (Organization, ["id"], True),
            (Taxonomy, ["id"], False),
            (TaxonomyTerm, ["id"], False),
            (Service, ["id"], True),
            (Location, ["id"], True),
            (Accessibility, ["id"], True),
            (ServiceAtLocation, ["id"], True),
            (Contact, ["id"], True),
            (Phone, ["id"], True),
            (Schedule, ["id"], True),
            (CostOption, ["id"], True),
            (Language, ["id"], True),
            (Attribute, ["id"], False),
            (SearchEntry, ["kind", "entry_id"], True),
        ):
            rows = _last_by_key(self.rows.get(model.__tablename__, []), key)
            upsert(session, model.__table__, rows, key, update)


def _last_by_key(rows: list[dict[str, Any]], key: list[str]) -> list[dict[str, Any]]:
    # One statement may not touch the same row twice (PostgreSQL rejects it),
    # so a repeated id within a batch keeps its last version.
    unique = {tuple(row[k] for k in key): row for row in rows}
    return list(unique.values())


def _remove_children(session: Session, service_ids: list[str]) -> None:
    contact_ids = select(Contact.id).where(Contact.service_id.in_(service_ids))
    session.execute(delete(Phone).where(Phone.contact_id.in_(contact_ids)))
    for table in (Phone, Contact, Schedule, CostOption, Language, ServiceAtLocation):
        session.execute(delete(table).where(table.service_id.in_(service_ids)))
    session.execute(
        delete(Attribute).where(
            Attribute.link_type == "service", Attribute.link_id.in_(service_ids)
        )
    )


def import_oruk(
    session: Session,
    records: Iterable[dict[str, Any]],
    source: str,
    geocoder: Geocoder | None = None,
    local_authority: str | None = None,
) -> ImportReport:
    """Import ORUK service records, repairing what can be repaired.

    ``source`` names the feed (for example the publishing council). A service
    id already stored from another source is rejected rather than overwritten;
    one from the same source is replaced, so a re-import is idempotent.
    ``local_authority`` (name or GSS code) gives the fallback centroid for
    locations whose postcode is unknown. The caller commits.
    """
    geocoder = geocoder or Geocoder(session)
    builder = ReportBuilder(kind="oruk", source=source)
    seen: set[str] = set()
    chunk: list[tuple[_Mapper, dict[str, Any] | None]] = []

    def write_chunk() -> None:
        ids = [doc["id"] for _m, doc in chunk if doc is not None]
        owners = dict(
            session.execute(
                select(Service.id, Service.source).where(Service.id.in_(ids))
            ).all()
        )
        batch = _Batch()
        for mapper, doc in chunk:
            if doc is not None and doc["id"] in seen:
                mapper.check.reject("id", "id repeated within the feed")
            elif doc is not None and owners.get(doc["id"], source) != source:
                mapper.check.reject(
                    "id", f"id already published by {owners[doc['id']]}"
                )
            if doc is not None and not mapper.check.rejected:
                seen.add(doc["id"])
                batch.add_service(mapper, doc, source)
                builder.coordinate_sources.update(mapper.coordinate_sources)
            builder.add(mapper.check)
        batch.write(session, replacing=bool(owners))
        if owners:
            merging.reapply_merges(session, batch.service_ids)
        chunk.clear()

    for raw in records:
        mapper = _Mapper(raw, source, geocoder, local_authority)
        chunk.append((mapper, mapper.map()))
        if len(chunk) >= BATCH_SIZE:
            write_chunk()
    write_chunk()

    report = builder.save(session)
    log.info(
        "ORUK import %s: read %d, valid %d, fixed %d, rejected %d",
        report.id,
        report.records_read,
        report.records_valid,
        report.records_fixed,
        report.records_rejected,
    )
    return report
