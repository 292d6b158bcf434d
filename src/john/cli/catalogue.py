"""Commands for the catalogue: import feeds and registers, search, duplicates."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from john.catalogue.duplicates import find_duplicates, list_candidates
from john.catalogue.geocode import Geocoder, reference_geocoder
from john.catalogue.models import ImportReport
from john.catalogue.oruk import fetch_oruk_pages, import_oruk, read_oruk_records
from john.catalogue.registers import (
    import_esco,
    import_he_institutions,
    import_libraries,
    import_soc2020,
)
from john.catalogue.report import report_as_dict
from john.catalogue.search import SearchQuery, search
from john.cli import context
from john.errors import ConfigurationError

catalogue_app = typer.Typer(
    help="Services, courses, funding and venues (ORUK).", no_args_is_help=True
)
import_app = typer.Typer(
    help="Import feeds and public registers.", no_args_is_help=True
)
catalogue_app.add_typer(import_app, name="import")

LIBRARIES_FILE = Path(
    "public_libraries_uk/librarieshacked_uk_libraries_schema_2025-04.csv"
)
ESCO_FOLDER = Path("esco_v1.2.0_en")
SOC_FILE = Path("uk_soc2020/soc2020_structure_descriptions.csv")
HE_FILE = Path("uk_he_institutions_ukprn/dfe_degree_institutions.csv")


def register(app: typer.Typer) -> None:
    """Add the catalogue commands to the root application."""
    app.add_typer(catalogue_app, name="catalogue")


def _reference_path(given: Path | None, default: Path) -> Path:
    if given is not None:
        return given
    folder = context.settings().reference_dir
    if folder is None:
        raise ConfigurationError(
            f"no file given and JOHN_REFERENCE_DIR is not set; pass the path to "
            f"{default.name} or set JOHN_REFERENCE_DIR to the reference data folder"
        )
    return folder / default


def _geocoder(session: Session) -> Geocoder:
    return reference_geocoder(session, context.settings().reference_dir)


def _print_report(report: ImportReport) -> None:
    data = report_as_dict(report)
    context.console.print(
        f"{data['kind']} import {data['id']} from {data['source']}: "
        f"read {data['records_read']} = valid {data['records_valid']} + fixed "
        f"{data['records_fixed']} + rejected {data['records_rejected']}",
        markup=False,
        highlight=False,
    )
    for field, reasons in sorted(data["by_field"].items()):
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            context.console.print(
                f"  {field}: {reason} ({count})", markup=False, highlight=False
            )
    if data["coordinate_sources"]:
        sources = ", ".join(
            f"{name} {count}"
            for name, count in sorted(data["coordinate_sources"].items())
        )
        context.console.print(
            f"  coordinates: {sources}", markup=False, highlight=False
        )


@import_app.command("oruk")
def import_oruk_command(
    path: Annotated[
        Path | None,
        typer.Argument(help="A feed file (JSON) or a folder of saved API pages."),
    ] = None,
    source: str = typer.Option(
        None, help="Name of the publisher; default the file or folder name."
    ),
    local_authority: str = typer.Option(
        None,
        help="Local authority (name or GSS "
        "code) whose centroid places locations "
        "with unknown postcodes.",
    ),
    url: str = typer.Option(
        None, help="A /services endpoint on a loopback address to fetch page by page."
    ),
) -> None:
    """Import an Open Referral UK feed and print its report."""

    if (path is None) == (url is None):
        raise typer.BadParameter(
            "give either a PATH or --url, not both", param_hint="PATH"
        )
    if url:
        records = fetch_oruk_pages(url)
        label = source or url
    else:
        assert path is not None
        records = read_oruk_records(path)
        label = source or path.stem
    with context.sessions()() as session:
        report = import_oruk(
            session, records, label, _geocoder(session), local_authority
        )
        session.commit()
        _print_report(report)


@import_app.command("libraries")
def import_libraries_command(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Libraries Hacked schema CSV; default from JOHN_REFERENCE_DIR."
        ),
    ] = None,
) -> None:
    """Import public libraries as learning venues."""

    file = _reference_path(path, LIBRARIES_FILE)
    with context.sessions()() as session:
        report = import_libraries(session, file, _geocoder(session))
        session.commit()
        _print_report(report)


@import_app.command("esco")
def import_esco_command(
    folder: Annotated[
        Path | None,
        typer.Argument(help="ESCO 1.2.0 CSV folder; default from JOHN_REFERENCE_DIR."),
    ] = None,
) -> None:
    """Import ESCO skills and occupations as taxonomies."""

    with context.sessions()() as session:
        reports = import_esco(session, _reference_path(folder, ESCO_FOLDER))
        session.commit()
        for report in reports:
            _print_report(report)


@import_app.command("soc")
def import_soc_command(
    path: Annotated[
        Path | None,
        typer.Argument(help="SOC 2020 tidy CSV; default from JOHN_REFERENCE_DIR."),
    ] = None,
) -> None:
    """Import the SOC 2020 occupation groups as a taxonomy."""

    with context.sessions()() as session:
        report = import_soc2020(session, _reference_path(path, SOC_FILE))
        session.commit()
        _print_report(report)


@import_app.command("he")
def import_he_command(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="DfE degree-awarding institutions CSV; default from "
            "JOHN_REFERENCE_DIR.",
        ),
    ] = None,
) -> None:
    """Import higher education institutions with a UKPRN as organisations."""

    with context.sessions()() as session:
        report = import_he_institutions(session, _reference_path(path, HE_FILE))
        session.commit()
        _print_report(report)


@catalogue_app.command("search")
def search_command(
    text: Annotated[str | None, typer.Argument(help="Words to look for.")] = None,
    kind: str = typer.Option(None, help="service, course or venue."),
    postcode: str = typer.Option(None, help="Search near this UK postcode."),
    radius_km: float = typer.Option(10.0, help="Distance from the postcode, in km."),
    age: float = typer.Option(None, help="Age of the person, in years."),
    day: str = typer.Option(None, help="Open on this day: MO, TU, WE, TH, FR, SA, SU."),
    time: str = typer.Option(None, help="Open at this local time, HH:MM."),
    delivery_mode: str = typer.Option(
        None, help="in_person, online, hybrid, phone or home_visit."
    ),
    free: bool = typer.Option(False, help="Only entries known to be free."),
    level: int = typer.Option(None, help="Course level (RQF 0-8 or FHEQ 4-8)."),
    limit: int = typer.Option(20, help="Number of results to show (1-100)."),
) -> None:
    """Search services, courses and venues and print why each matched."""

    query = SearchQuery(
        text=text,
        kind=kind,
        postcode=postcode,
        radius_km=radius_km,
        age=age,
        day=day.upper() if day else None,
        time=time,
        delivery_mode=delivery_mode,
        free_only=free,
        level=level,
        per_page=limit,
    )
    with context.sessions()() as session:
        result = search(session, query, _geocoder(session))
    context.console.print(f"{result.total} results", markup=False)
    for hit in result.hits:
        context.console.print(
            f"{hit.kind} {hit.entry_id} {hit.title}", markup=False, highlight=False
        )
        context.console.print(
            "  " + "; ".join(hit.reasons), markup=False, highlight=False
        )


@catalogue_app.command("duplicates")
def duplicates_command(
    find: bool = typer.Option(True, help="Look for new candidates before listing."),
) -> None:
    """Find services published twice by different bodies and list them."""

    with context.sessions()() as session:
        created = find_duplicates(session) if find else 0
        session.commit()
        pending = list_candidates(session)
        context.console.print(
            f"{created} new candidates, {len(pending)} pending", markup=False
        )
        for view in pending:
            data = view.as_dict()
            context.console.print(
                f"#{data['id']} score {data['score']}: {data['first']['name']} "
                f"({data['first']['source']}) / {data['second']['name']} "
                f"({data['second']['source']}): {'; '.join(data['reasons'])}",
                markup=False,
                highlight=False,
            )
