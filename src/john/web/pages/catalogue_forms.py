"""Curator forms to add and edit courses, funding sources and learning venues.

Each kind of entry is described once, as a table of fields. One form template
renders every kind, and one parser turns the posted form into the catalogue's
input model. Saving goes through the same service functions as the API, so a
change made here is written to the entry's history in the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from john.auth.deps import require
from john.auth.principal import Principal
from john.catalogue import service
from john.catalogue.api import request_geocoder
from john.catalogue.models import Course, FundingSource, Location
from john.catalogue.schemas import CourseInput, FundingSourceInput, VenueInput
from john.catalogue.search import DELIVERY_MODES
from john.errors import UserError
from john.web.deps import get_session
from john.web.templating import templates

router = APIRouter()
SessionDep = Annotated[Session, Depends(get_session)]
CuratorDep = Annotated[Principal, Depends(require(roles=("curator", "administrator")))]


@dataclass(frozen=True)
class Field:
    """One form field: its input name, label, kind and hint.

    ``kind`` is one of ``text``, ``textarea``, ``int``, ``float``, ``money``,
    ``date``, ``list`` (comma-separated words), ``modes`` (delivery mode
    checkboxes), ``yes_no`` (yes, no or not stated) or ``choice``.
    """

    name: str
    label: str
    kind: str = "text"
    hint: str | None = None
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class EntryForm:
    """The add and edit forms of one kind of catalogue entry."""

    kind: str
    label: str
    path: str
    model: type[Any]
    schema: type[BaseModel]
    fields: tuple[Field, ...]
    entity_type: str


AGE_HINT = "In years; leave empty for no limit"
LIST_HINT = "Separate entries with commas; leave empty for no restriction"

COURSE_FORM = EntryForm(
    kind="course",
    label="course",
    path="courses",
    model=Course,
    schema=CourseInput,
    entity_type="course",
    fields=(
        Field("title", "Title", required=True),
        Field("description", "Description", "textarea"),
        Field("provider_ukprn", "Provider UKPRN", hint="8 digits, starting with 1"),
        Field("qualification_number", "Qualification number", hint="Ofqual number"),
        Field("level_framework", "Level framework", "choice", choices=("RQF", "FHEQ")),
        Field("level", "Level", "int", hint="0 to 8"),
        Field("credits", "Credits", "int"),
        Field("guided_learning_hours", "Guided learning hours", "int"),
        Field("delivery_modes", "How it is delivered", "modes", required=True),
        Field("cost", "Cost in pounds", "money", hint="0 if free"),
        Field(
            "start_dates",
            "Start dates",
            "list",
            hint="Dates such as 2027-01-11, separated by commas",
        ),
        Field("prerequisites", "Before you start", "textarea"),
        Field("minimum_age", "Youngest age", "float", hint=AGE_HINT),
        Field("maximum_age", "Oldest age", "float", hint=AGE_HINT),
        Field("location_id", "Venue id", hint="The id shown on the venue's page"),
        Field("url", "Website", hint="For example, https://example.org"),
    ),
)

FUNDING_FORM = EntryForm(
    kind="funding source",
    label="funding source",
    path="funding",
    model=FundingSource,
    schema=FundingSourceInput,
    entity_type="funding_source",
    fields=(
        Field("name", "Name", required=True),
        Field("funder", "Funder", required=True),
        Field("description", "Description", "textarea"),
        Field("pays_for", "Pays for", "list", hint="For example, fees, travel"),
        Field("cap_amount", "Pays up to, in pounds", "money"),
        Field("minimum_age", "Youngest age", "int", hint=AGE_HINT),
        Field("maximum_age", "Oldest age", "int", hint=AGE_HINT),
        Field("residency", "Must live in", "list", hint="Nations or GSS codes"),
        Field(
            "prior_attainment_below",
            "Highest level already held must be below",
            "int",
            hint="0 to 9; leave empty for no restriction",
        ),
        Field("employment_statuses", "Employment statuses", "list", hint=LIST_HINT),
        Field("benefits", "Benefits", "list", hint=LIST_HINT),
        Field("sectors", "Sectors", "list", hint=LIST_HINT),
        Field("course_level_min", "Lowest course level", "int"),
        Field("course_level_max", "Highest course level", "int"),
        Field("delivery_modes", "Delivery modes it pays for", "modes"),
        Field(
            "opens_on", "Opens for applications", "date", hint="For example, 2027-04-01"
        ),
        Field(
            "closes_on",
            "Closes for applications",
            "date",
            hint="For example, 2028-03-31",
        ),
        Field("how_to_apply", "How to apply", "textarea"),
        Field("url", "Website", hint="For example, https://example.org"),
    ),
)

VENUE_FORM = EntryForm(
    kind="venue",
    label="place to learn",
    path="venues",
    model=Location,
    schema=VenueInput,
    entity_type="venue",
    fields=(
        Field("name", "Name", required=True),
        Field("description", "Description", "textarea"),
        Field("address_1", "Address"),
        Field("city", "Town or city"),
        Field("postal_code", "Postcode", hint="Places the venue on the map"),
        Field(
            "local_authority",
            "Local authority",
            hint="Used for the position when the postcode is not known",
        ),
        Field("study_spaces", "Study spaces", "int"),
        Field("public_devices", "Computers for public use", "int"),
        Field("wifi", "Wi-Fi", "yes_no"),
        Field(
            "connectivity", "Connectivity", hint="For example, free Wi-Fi, 100 Mbit/s"
        ),
        Field("safeguarding", "Safeguarding", "textarea"),
        Field("url", "Website", hint="For example, https://example.org"),
        Field("email", "Email address"),
    ),
)

FORMS = {form.path: form for form in (COURSE_FORM, FUNDING_FORM, VENUE_FORM)}


def _shown(value: Any, field: Field) -> Any:
    """Return a stored value as the form shows it."""
    if value is None:
        return [] if field.kind == "modes" else ""
    if field.kind == "modes":
        return value if isinstance(value, list) else value.split(",")
    if field.kind == "list":
        return ", ".join(str(item) for item in value)
    if field.kind == "yes_no":
        return "yes" if value else "no"
    if field.kind == "float":
        return f"{value:g}"
    return str(value)


def form_values(form: EntryForm, entry: Any) -> dict[str, Any]:
    """Return the form's values for an existing entry."""
    return {
        field.name: _shown(getattr(entry, field.name), field) for field in form.fields
    }


def _parsed(raw: str, field: Field, errors: dict[str, str]) -> Any:
    value = raw.strip()
    parsers: dict[str, Callable[[str], Any]] = {
        "int": int,
        "float": float,
        "money": Decimal,
        "date": date.fromisoformat,
    }
    if field.kind in parsers:
        if not value:
            return None
        try:
            return parsers[field.kind](value)
        except (ValueError, InvalidOperation):
            wanted = "a date such as 2027-01-11" if field.kind == "date" else "a number"
            errors[field.name] = f"Enter {field.label.lower()} as {wanted}"
            return None
    if field.kind == "list":
        items = [item.strip() for item in value.split(",") if item.strip()]
        if field.name != "start_dates":
            return items
        try:
            return [date.fromisoformat(item) for item in items]
        except ValueError:
            errors[field.name] = (
                "Enter start dates such as 2027-01-11, separated by commas"
            )
            return None
    if field.kind == "yes_no":
        return {"yes": True, "no": False}.get(value)
    if field.kind == "textarea":
        return value
    return value or None


async def read_form(
    request: Request, form: EntryForm
) -> tuple[dict[str, Any], BaseModel | None, dict[str, str]]:
    """Parse a posted form into shown values, the input model and errors."""
    posted = await request.form()
    shown: dict[str, Any] = {}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in form.fields:
        if field.kind == "modes":
            modes = [str(mode) for mode in posted.getlist(field.name)]
            shown[field.name] = modes
            values[field.name] = modes
            if field.required and not modes:
                errors[field.name] = (
                    f"Choose at least one way the {form.label} is delivered"
                )
            continue
        raw = str(posted.get(field.name) or "")
        shown[field.name] = raw
        values[field.name] = _parsed(raw, field, errors)
        if field.required and not raw.strip():
            errors[field.name] = f"Enter the {field.label.lower()} of the {form.label}"
    if errors:
        return shown, None, errors
    try:
        return shown, form.schema(**values), errors
    except ValidationError as error:
        for item in error.errors():
            name = str(item["loc"][0]) if item["loc"] else "form"
            label = next((f.label for f in form.fields if f.name == name), name)
            if item["type"] == "string_pattern_mismatch":
                wording = label[0].lower() + label[1:]
                errors[name] = f"Enter the {wording} as the hint shows"
            else:
                errors[name] = f"{label}: {item['msg']}"
        return shown, None, errors


def _save(
    request: Request,
    session: Session,
    form: EntryForm,
    data: BaseModel,
    actor: str,
    entry_id: str | None,
) -> Any:
    if form is COURSE_FORM:
        assert isinstance(data, CourseInput)
        return service.save_course(session, data, actor, entry_id)
    if form is FUNDING_FORM:
        assert isinstance(data, FundingSourceInput)
        return service.save_funding_source(session, data, actor, entry_id)
    assert isinstance(data, VenueInput)
    return service.save_venue(
        session, data, actor, request_geocoder(request, session), entry_id
    )


def _render_form(
    request: Request,
    form: EntryForm,
    values: dict[str, Any],
    errors: dict[str, str],
    entry_id: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if entry_id is None:
        title, action, button = (
            f"Add a {form.label}",
            f"/catalogue/{form.path}",
            f"Add {form.label}",
        )
    else:
        title, action, button = (
            f"Edit {values.get('name') or values.get('title') or form.label}",
            f"/catalogue/{form.path}/{entry_id}",
            "Save changes",
        )
    return templates.TemplateResponse(
        request,
        "catalogue/entry_form.html",
        {
            "title": title,
            "form": form,
            "values": values,
            "errors": errors,
            "action": action,
            "button": button,
            "modes": DELIVERY_MODES,
            "back": f"/catalogue/{form.path}/{entry_id}" if entry_id else "/catalogue",
        },
        status_code=status_code,
    )


async def _submit(
    request: Request,
    session: Session,
    form: EntryForm,
    actor: str,
    entry_id: str | None = None,
) -> Response:
    if entry_id is not None:
        service.get_entity(session, form.model, entry_id, form.kind)
    shown, data, errors = await read_form(request, form)
    if data is not None:
        try:
            saved = _save(request, session, form, data, actor, entry_id)
            session.commit()
            suffix = "?saved=1" if entry_id else ""
            return RedirectResponse(f"/catalogue/{form.path}/{saved.id}{suffix}", 303)
        except UserError as error:
            session.rollback()
            errors["form"] = error.detail
    return _render_form(request, form, shown, errors, entry_id, status_code=422)


def _add_routes(form: EntryForm) -> None:
    # Registered once per kind; the paths name the kind, the handlers do not.
    async def new_page(request: Request, _curator: CuratorDep) -> HTMLResponse:
        return _render_form(request, form, {}, {})

    async def create(
        request: Request, session: SessionDep, curator: CuratorDep
    ) -> Response:
        return await _submit(request, session, form, curator.actor)

    async def edit_page(
        request: Request, entry_id: str, session: SessionDep, _curator: CuratorDep
    ) -> HTMLResponse:
        entry = service.get_entity(session, form.model, entry_id, form.kind)
        return _render_form(request, form, form_values(form, entry), {}, entry_id)

    async def edit(
        request: Request, entry_id: str, session: SessionDep, curator: CuratorDep
    ) -> Response:
        return await _submit(request, session, form, curator.actor, entry_id)

    base = f"/{form.path}"
    for path, method, endpoint, summary in (
        (f"{base}/new", "GET", new_page, f"Render the form to add a {form.label}."),
        (base, "POST", create, f"Add a {form.label} from the form."),
        (
            f"{base}/{{entry_id}}/edit",
            "GET",
            edit_page,
            f"Render the form to edit a {form.label}.",
        ),
        (f"{base}/{{entry_id}}", "POST", edit, f"Save an edit of a {form.label}."),
    ):
        router.add_api_route(
            path,
            endpoint,
            methods=[method],
            response_model=None,
            response_class=HTMLResponse,
            include_in_schema=False,
            description=summary,
        )


for entry_form in FORMS.values():
    _add_routes(entry_form)
