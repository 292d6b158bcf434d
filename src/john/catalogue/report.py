"""Per-import counts of valid, fixed and rejected records, by field and reason."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from john.catalogue.models import ImportReport
from john.db import utcnow

# Fixes kept in full in the stored report; the counts by field cover all.
MAX_PROBLEMS_KEPT = 500


@dataclass
class RecordCheck:
    """Problems found in one record while it is mapped."""

    record_id: str
    fixes: list[tuple[str, str]] = field(default_factory=list)
    rejection: tuple[str, str] | None = None

    def fix(self, field_name: str, reason: str) -> None:
        """Note that ``field_name`` was corrected or dropped, and why."""
        self.fixes.append((field_name, reason))

    def reject(self, field_name: str, reason: str) -> None:
        """Mark the whole record as rejected because of ``field_name``."""
        if self.rejection is None:
            self.rejection = (field_name, reason)

    @property
    def rejected(self) -> bool:
        """Whether the record will be left out of the catalogue."""
        return self.rejection is not None


@dataclass
class ReportBuilder:
    """Collect record checks into counts where read = valid + fixed + rejected."""

    kind: str
    source: str
    read: int = 0
    valid: int = 0
    fixed: int = 0
    rejected: int = 0
    by_field: dict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    problems: list[dict[str, Any]] = field(default_factory=list)
    coordinate_sources: Counter[str] = field(default_factory=Counter)

    def add(self, check: RecordCheck) -> None:
        """Count one record by its outcome."""
        self.read += 1
        if check.rejection is not None:
            self.rejected += 1
            field_name, reason = check.rejection
            self._note(check.record_id, field_name, reason, "rejected")
        elif check.fixes:
            self.fixed += 1
        else:
            self.valid += 1
        for field_name, reason in check.fixes:
            self._note(check.record_id, field_name, reason, "fixed")

    def _note(self, record_id: str, field_name: str, reason: str, action: str) -> None:
        self.by_field[field_name][f"{action}: {reason}"] += 1
        # Every rejection is kept, because each one is a record left out.
        if action == "rejected" or len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(
                {
                    "record": record_id,
                    "field": field_name,
                    "reason": reason,
                    "action": action,
                }
            )

    def save(self, session: Session) -> ImportReport:
        """Store the report and return it."""
        report = ImportReport(
            kind=self.kind,
            source=self.source,
            records_read=self.read,
            records_valid=self.valid,
            records_fixed=self.fixed,
            records_rejected=self.rejected,
            by_field={name: dict(reasons) for name, reasons in self.by_field.items()},
            problems=self.problems,
            coordinate_sources=dict(self.coordinate_sources),
            finished_at=utcnow(),
        )
        session.add(report)
        session.flush()
        return report


def report_as_dict(report: ImportReport) -> dict[str, Any]:
    """Return a stored report as the JSON shape of the API and CLI."""
    return {
        "id": report.id,
        "kind": report.kind,
        "source": report.source,
        "records_read": report.records_read,
        "records_valid": report.records_valid,
        "records_fixed": report.records_fixed,
        "records_rejected": report.records_rejected,
        "by_field": report.by_field,
        "coordinate_sources": report.coordinate_sources,
        "problems": report.problems,
    }
