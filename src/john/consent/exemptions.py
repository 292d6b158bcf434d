"""Exemption rules: a provider says which prior learning exempts which module.

A rule's requirement is either a qualification (by number, or title words,
at a minimum level and grade) or an experience (a kind, for a minimum number
of months, optionally in a role). Evaluation explains which record satisfied
which rule, and is done only over the parts of the record the caller may see.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from john.auth.principal import Principal
from john.consent import claims as rules
from john.consent.access import (
    require_visibility,
    visible_achievements,
    visible_experiences,
)
from john.consent.audit import AuditEvent, EventType, append
from john.consent.models import ExemptionRule
from john.db import new_public_id, utcnow
from john.errors import Forbidden


class QualificationRequirement(BaseModel):
    """A prior qualification that exempts a module."""

    kind: Literal["qualification"]
    qualification_number: str | None = Field(default=None, max_length=12)
    title_contains: str | None = Field(default=None, max_length=200)
    min_level: int | None = Field(default=None, ge=0, le=8)
    min_grade: str | None = Field(default=None, max_length=40)


class ExperienceRequirement(BaseModel):
    """Prior experience that exempts a module."""

    kind: Literal["experience"]
    experience_kind: Literal[
        "employment", "volunteering", "work_experience", "apprenticeship", "cpd"
    ]
    min_months: int = Field(ge=0, le=600)
    role_contains: str | None = Field(default=None, max_length=200)


class RuleIn(BaseModel):
    """A rule as a provider publishes it."""

    module_code: str = Field(min_length=1, max_length=40)
    module_title: str = Field(min_length=1, max_length=300)
    requirement: QualificationRequirement | ExperienceRequirement = Field(
        discriminator="kind"
    )


def publish_rule(session: Session, provider: Principal, rule: RuleIn) -> ExemptionRule:
    """Store a provider's rule under its UKPRN; the caller commits."""
    if provider.role != "provider" or not provider.ukprn:
        raise Forbidden("only a provider bound to a UKPRN can publish exemption rules")
    stored = ExemptionRule(
        id=new_public_id("X"),
        provider_ukprn=provider.ukprn,
        module_code=rule.module_code,
        module_title=rule.module_title,
        requirement=rule.requirement.model_dump(mode="json"),
        created_at=utcnow(),
    )
    session.add(stored)
    session.flush()
    return stored


def rules_of(session: Session, ukprn: str) -> list[ExemptionRule]:
    """Return a provider's published rules in module order."""
    return list(
        session.scalars(
            select(ExemptionRule)
            .where(ExemptionRule.provider_ukprn == ukprn)
            .order_by(ExemptionRule.module_code)
        )
    )


def _months(start: date | None, end: date | None) -> int:
    if start is None:
        return 0
    end = end or utcnow().date()
    return max(0, (end.year - start.year) * 12 + end.month - start.month)


def _explain_qualification(
    requirement: QualificationRequirement, achievements: list[Any]
) -> dict[str, Any] | None:
    claim = rules.QualificationClaim(
        type="qualification",
        qualification_number=requirement.qualification_number,
        title=requirement.title_contains,
        min_grade=requirement.min_grade,
        min_level=requirement.min_level,
    )
    result = rules.check_qualification(claim, achievements)
    if result.status == rules.NOT_VERIFIED:
        return None
    achievement = next(a for a, _ in achievements if a.id == result.achievement_ids[0])
    return {
        "status": "exempt" if result.status == rules.VERIFIED else rules.PENDING,
        "satisfied_by": {"achievement_id": achievement.id, "title": achievement.title},
        "matched_fields": result.matched_fields,
    }


def _explain_experience(
    requirement: ExperienceRequirement, experiences: list[Any]
) -> dict[str, Any] | None:
    for experience, _ in experiences:
        if experience.kind != requirement.experience_kind:
            continue
        if (
            requirement.role_contains
            and requirement.role_contains.lower() not in (experience.role or "").lower()
        ):
            continue
        months = _months(experience.started_on, experience.ended_on)
        if months < requirement.min_months:
            continue
        return {
            "status": "exempt",
            "satisfied_by": {
                "experience_id": experience.id,
                "organisation": experience.organisation,
                "months": months,
            },
            "matched_fields": ["kind", "months"]
            + (["role"] if requirement.role_contains else []),
        }
    return None


def evaluate_rules(
    session: Session, principal: Principal, learner_id: str, ukprn: str
) -> list[dict[str, Any]]:
    """Evaluate a provider's rules against the visible record and explain each."""
    seen = require_visibility(session, principal, learner_id, "evaluate exemptions")
    achievements = visible_achievements(session, seen)
    experiences = visible_experiences(session, seen)
    outcomes = []
    for rule in rules_of(session, ukprn):
        kind = rule.requirement.get("kind")
        explained = None
        if kind == "qualification":
            explained = _explain_qualification(
                QualificationRequirement.model_validate(rule.requirement), achievements
            )
        elif kind == "experience":
            explained = _explain_experience(
                ExperienceRequirement.model_validate(rule.requirement), experiences
            )
        outcomes.append(
            {
                "rule_id": rule.id,
                "module_code": rule.module_code,
                "module_title": rule.module_title,
                "requirement": rule.requirement,
                **(explained or {"status": "not_exempt", "satisfied_by": None}),
            }
        )
    append(
        session,
        AuditEvent.by(
            principal,
            EventType.EXEMPTION_EVALUATED,
            "evaluate exemptions",
            learner_id=learner_id,
            purpose=f"exemptions at provider {ukprn}",
            object_ids=tuple(o["rule_id"] for o in outcomes),
            detail={"exempt": sum(1 for o in outcomes if o["status"] == "exempt")},
        ),
    )
    return outcomes
