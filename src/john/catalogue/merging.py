"""Merge a duplicate service into the one kept, and undo the merge.

The kept service gains the other's locations, contacts (with their phones) and
taxonomy terms, as new rows with ids derived from both services, so that the
merged service's own rows stay as its publisher sent them. The merged service
points to the kept one through ``merged_into``: it leaves search and its id
serves the kept service's ORUK document. The ids of every row a merge added
are returned so that the merge can be undone exactly.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from john.catalogue import search
from john.catalogue.cleaning import derived_uuid
from john.catalogue.models import (
    Attribute,
    Contact,
    DuplicateCandidate,
    Phone,
    SearchEntry,
    Service,
    ServiceAtLocation,
    Taxonomy,
    TaxonomyTerm,
)
from john.catalogue.service import record_revision
from john.db import utcnow
from john.errors import Conflict

log = logging.getLogger(__name__)

PART_KEYS = ("service_at_locations", "contacts", "phones", "attributes")
# A chain of merges longer than this is taken as a cycle.
MAX_MERGE_CHAIN = 20


def resolve_merged(session: Session, service: Service) -> Service:
    """Return the service that ``service`` was merged into, following chains."""
    current = service
    for _ in range(MAX_MERGE_CHAIN):
        if current.merged_into is None:
            return current
        kept = session.get(Service, current.merged_into)
        if kept is None:
            return current
        current = kept
    return current


def merge_services(
    session: Session, kept: Service, merged: Service, actor: str
) -> dict[str, list[str]]:
    """Merge ``merged`` into ``kept`` and return the ids of the rows added.

    Raises Conflict when either service has already been merged into another.
    """
    for item in (kept, merged):
        if item.merged_into is not None:
            raise Conflict(
                f"service {item.id} is already merged into {item.merged_into}; "
                "undo that merge first"
            )
    added = copy_parts(session, kept, merged)

    merged.merged_into = kept.id
    session.execute(
        delete(SearchEntry).where(
            SearchEntry.kind == "service", SearchEntry.entry_id == merged.id
        )
    )
    session.flush()
    search.index_service(session, kept)
    record_revision(
        session,
        "service",
        kept.id,
        "merge",
        actor,
        {},
        {"merged_from": merged.id, "added": added},
    )
    record_revision(
        session,
        "service",
        merged.id,
        "merge",
        actor,
        {"merged_into": None},
        {"merged_into": kept.id},
    )
    log.info("service %s merged into service %s", merged.id, kept.id)
    return added


def copy_parts(
    session: Session, kept: Service, merged: Service
) -> dict[str, list[str]]:
    """Give ``kept`` the locations, contacts and terms of ``merged`` it lacks.

    Copies the rows and the matching parts of the ORUK document. Parts that
    ``kept`` already has (the same location, contact e-mail or term) are left
    out. Returns the ids of the rows added, by table.
    """
    added: dict[str, list[str]] = {key: [] for key in PART_KEYS}
    document = copy.deepcopy(kept.oruk_json)
    merged_document = merged.oruk_json or {}

    _copy_locations(session, kept, merged, document, merged_document, added)
    _copy_contacts(session, kept, merged, document, merged_document, added)
    _copy_terms(session, kept, merged, document, added)

    if any(added.values()):
        kept.last_modified = utcnow()
        document["last_modified"] = kept.last_modified.strftime("%Y-%m-%dT%H:%M:%SZ")
        kept.oruk_json = document
    session.flush()
    return added


def _document_item(document: dict[str, Any], key: str, item_id: str) -> Any:
    for item in document.get(key) or []:
        if isinstance(item, dict) and item.get("id") == item_id:
            return copy.deepcopy(item)
    return None


def _copy_locations(
    session: Session,
    kept: Service,
    merged: Service,
    document: dict[str, Any],
    merged_document: dict[str, Any],
    added: dict[str, list[str]],
) -> None:
    have = set(
        session.scalars(
            select(ServiceAtLocation.location_id).where(
                ServiceAtLocation.service_id == kept.id
            )
        )
    )
    links = session.scalars(
        select(ServiceAtLocation)
        .where(ServiceAtLocation.service_id == merged.id)
        .order_by(ServiceAtLocation.id)
    )
    for link in list(links):
        if link.location_id in have:
            continue
        new_id = derived_uuid("merged link", kept.id, link.id)
        session.add(
            ServiceAtLocation(
                id=new_id, service_id=kept.id, location_id=link.location_id
            )
        )
        have.add(link.location_id)
        added["service_at_locations"].append(new_id)

        item = _document_item(merged_document, "service_at_locations", link.id) or {
            "location": {"id": link.location_id, "location_type": "physical"}
        }
        item["id"] = new_id
        item["service_id"] = kept.id
        document.setdefault("service_at_locations", []).append(item)


def _copy_contacts(
    session: Session,
    kept: Service,
    merged: Service,
    document: dict[str, Any],
    merged_document: dict[str, Any],
    added: dict[str, list[str]],
) -> None:
    have = {
        (contact.email or "").lower()
        for contact in session.scalars(
            select(Contact).where(Contact.service_id == kept.id)
        )
        if contact.email
    }
    contacts = session.scalars(
        select(Contact).where(Contact.service_id == merged.id).order_by(Contact.id)
    )
    for contact in list(contacts):
        if contact.email and contact.email.lower() in have:
            continue
        new_id = derived_uuid("merged contact", kept.id, contact.id)
        session.add(
            Contact(
                id=new_id,
                service_id=kept.id,
                name=contact.name,
                title=contact.title,
                email=contact.email,
            )
        )
        added["contacts"].append(new_id)
        item = _document_item(merged_document, "contacts", contact.id) or {}
        item.update(id=new_id, service_id=kept.id, phones=[])

        phones = session.scalars(
            select(Phone).where(Phone.contact_id == contact.id).order_by(Phone.id)
        )
        for phone in list(phones):
            phone_id = derived_uuid("merged phone", kept.id, phone.id)
            session.add(
                Phone(
                    id=phone_id,
                    contact_id=new_id,
                    number=phone.number,
                    type=phone.type,
                    description=phone.description,
                )
            )
            added["phones"].append(phone_id)
            phone_item = {"id": phone_id, "contact_id": new_id, "number": phone.number}
            if phone.type:
                phone_item["type"] = phone.type
            item["phones"].append(phone_item)
        if contact.email:
            have.add(contact.email.lower())
        document.setdefault("contacts", []).append(item)


def _copy_terms(
    session: Session,
    kept: Service,
    merged: Service,
    document: dict[str, Any],
    added: dict[str, list[str]],
) -> None:
    def service_terms(service_id: str) -> list[Attribute]:
        return list(
            session.scalars(
                select(Attribute)
                .where(
                    Attribute.link_type == "service", Attribute.link_id == service_id
                )
                .order_by(Attribute.id)
            )
        )

    have = {attribute.taxonomy_term_id for attribute in service_terms(kept.id)}
    for attribute in service_terms(merged.id):
        if attribute.taxonomy_term_id in have:
            continue
        new_id = derived_uuid("attribute", kept.id, attribute.taxonomy_term_id)
        session.add(
            Attribute(
                id=new_id,
                link_type="service",
                link_id=kept.id,
                taxonomy_term_id=attribute.taxonomy_term_id,
            )
        )
        have.add(attribute.taxonomy_term_id)
        added["attributes"].append(new_id)
        item = _attribute_item(session, new_id, kept.id, attribute.taxonomy_term_id)
        document.setdefault("attributes", []).append(item)


def _attribute_item(
    session: Session, attribute_id: str, service_id: str, term_id: str
) -> dict[str, Any]:
    # Feeds give their own attribute ids, so the merged service's document
    # part is rebuilt from the stored term rather than looked up.
    item: dict[str, Any] = {
        "id": attribute_id,
        "taxonomy_term_id": term_id,
        "link_type": "service",
        "link_id": service_id,
    }
    term = session.get(TaxonomyTerm, term_id)
    if term is not None:
        taxonomy = session.get(Taxonomy, term.taxonomy_id)
        item["taxonomy_term"] = {
            "id": term.id,
            "name": term.name,
            "description": term.description or term.name,
            "taxonomy": taxonomy.name if taxonomy else None,
            "taxonomy_id": term.taxonomy_id,
        }
        if term.term_uri:
            item["taxonomy_term"]["term_uri"] = term.term_uri
    return item


def undo_merge(
    session: Session,
    kept: Service,
    merged: Service,
    added: dict[str, list[str]] | None,
    actor: str,
) -> None:
    """Take back what a merge added to ``kept`` and return ``merged`` to search.

    ``added`` is the record that :func:`merge_services` returned. A merge made
    before such records were stored has none, so only the link between the
    two services is removed.
    """
    added = added or {}
    remove_parts(session, kept, added)
    merged.merged_into = None
    session.flush()
    search.index_service(session, kept)
    search.index_service(session, merged)
    record_revision(
        session,
        "service",
        kept.id,
        "unmerge",
        actor,
        {"merged_from": merged.id},
        {"merged_from": None, "removed": added},
    )
    record_revision(
        session,
        "service",
        merged.id,
        "unmerge",
        actor,
        {"merged_into": kept.id},
        {"merged_into": None},
    )
    log.info("merge of service %s into service %s undone", merged.id, kept.id)


def remove_parts(session: Session, kept: Service, added: dict[str, list[str]]) -> None:
    """Delete the rows and document parts listed in ``added`` from ``kept``."""
    for model, key in (
        (Phone, "phones"),
        (Contact, "contacts"),
        (ServiceAtLocation, "service_at_locations"),
        (Attribute, "attributes"),
    ):
        ids = added.get(key) or []
        if ids:
            session.execute(delete(model).where(model.id.in_(ids)))

    document = copy.deepcopy(kept.oruk_json)
    for key in ("service_at_locations", "contacts", "attributes"):
        removed = set(added.get(key) or [])
        if key in document and removed:
            document[key] = [
                item
                for item in document[key]
                if not (isinstance(item, dict) and item.get("id") in removed)
            ]
    kept.oruk_json = document
    session.flush()


def reapply_merges(session: Session, service_ids: list[str]) -> None:
    """Keep merges in force after an import has replaced ``service_ids``.

    An import rewrites a service's parts and search entry from its feed. A
    merged service therefore leaves search again, and a kept service gains
    the merged service's parts again.
    """
    if not service_ids:
        return
    merged_ids = select(Service.id).where(
        Service.id.in_(service_ids), Service.merged_into.is_not(None)
    )
    session.execute(
        delete(SearchEntry).where(
            SearchEntry.kind == "service", SearchEntry.entry_id.in_(merged_ids)
        )
    )

    candidates = session.scalars(
        select(DuplicateCandidate).where(
            DuplicateCandidate.status == "merged",
            DuplicateCandidate.first_service_id.in_(service_ids),
        )
    )
    for candidate in list(candidates):
        kept = session.get(Service, candidate.first_service_id, populate_existing=True)
        merged = session.get(Service, candidate.second_service_id)
        if kept is None or merged is None:
            continue
        candidate.merge_record = copy_parts(session, kept, merged)
        search.index_service(session, kept)
