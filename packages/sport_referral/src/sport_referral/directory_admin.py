"""Directory administration and structure profiles (domain-sport §5.5, MH-8).

* Admins list and search the structures, and link a structure to the organisation whose
  coordinator accounts answer for it (``SportStructure.organisation_id``).
* A coordinator keeps the profile of **their own** structures only: disciplines, disability
  families, professions and qualifications, activity types, accessibility (three-valued),
  capacity, accepting referrals, contact. Any other structure is "not found", whatever the URL.
  Confirming the profile sets ``profile_confirmed_at``; imports then never overwrite it
  (``service.save_structures``). Saves are versioned: a stale save is a :class:`Conflict`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared_core.services import audit
from shared_core.tables import Organisation
from sport_referral.catalogue.loader_sport import load_matching_settings
from sport_referral.importers.report import split_multi
from sport_referral.model.structures import (
    ACCESS_FEATURES,
    ACTIVITY_TYPES,
    PROFESSIONS,
    QUALIFICATIONS,
    STRUCTURE_KINDS,
    Structure,
    structure_errors,
)
from sport_referral.tables import SportStructure

__all__ = [
    "PAGE_SIZE",
    "ProfileInput",
    "StructureDetail",
    "StructureFilter",
    "StructurePage",
    "StructureRow",
    "coordinator_structures",
    "enabled_families",
    "link_structure",
    "load_profile",
    "parse_profile_input",
    "save_profile",
    "search_structures",
    "structure_detail",
]

PAGE_SIZE = 25
MAX_DISCIPLINES = 30
MAX_DISCIPLINE_LENGTH = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^(?:0[1-9]\d{8}|\+\d{8,15})$")
_URL = re.compile(r"^https?://\S+$")
_DEPARTMENT = re.compile(r"^(?:\d{2}|2A|2B|97\d)$")


class StructureRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kind: str
    name: str
    commune_insee: str
    department_code: str | None
    accepting_referrals: bool
    organisation_id: str | None
    source: str
    profile_confirmed_at: dt.datetime | None


class StructureFilter(msgspec.Struct, frozen=True, kw_only=True):
    query: str = ""
    kind: str = ""
    department: str = ""
    accepting: str = ""  # "", "yes", "no"
    linked: str = ""  # "", "yes", "no"

    def as_query_string(self) -> str:
        from urllib.parse import urlencode

        return urlencode({"q": self.query, "kind": self.kind, "department": self.department,
                          "accepting": self.accepting, "linked": self.linked})


class StructurePage(msgspec.Struct, frozen=True, kw_only=True):
    rows: list[StructureRow]
    total: int
    page: int
    page_size: int
    filters: StructureFilter

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.page_size))


class StructureDetail(msgspec.Struct, frozen=True, kw_only=True):
    """One structure with its full §5.5 record, its version (for the next save) and its organisation."""

    row: StructureRow
    version: int
    structure: Structure
    organisation_name: str | None


class ProfileInput(msgspec.Struct, frozen=True, kw_only=True):
    """What the coordinator may change (domain-sport §5.5); everything else stays as imported."""

    disciplines: tuple[str, ...]
    disability_families: frozenset[str]
    professions: frozenset[str]
    qualifications: frozenset[str]
    activity_types: frozenset[str]
    accessibility: dict[str, bool]
    accepting_referrals: bool
    capacity_open_slots: int | None
    waiting_weeks: int | None
    referral_email: str | None
    phone: str | None
    website: str | None
    confirm: bool


def enabled_families() -> tuple[str, ...]:
    """The disability families offered (``cfg:families.*``)."""
    return tuple(load_matching_settings().enabled_families())


def _row(structure: SportStructure) -> StructureRow:
    return StructureRow(id=structure.id, kind=structure.kind, name=structure.name,
                        commune_insee=structure.commune_insee, department_code=structure.department_code,
                        accepting_referrals=structure.accepting_referrals, organisation_id=structure.organisation_id,
                        source=structure.source, profile_confirmed_at=structure.profile_confirmed_at)


def _clean_filter(filters: StructureFilter) -> StructureFilter:
    department = filters.department.strip().upper()
    return StructureFilter(
        query=filters.query.strip()[:100],
        kind=filters.kind if filters.kind in STRUCTURE_KINDS else "",
        department=department if _DEPARTMENT.match(department) else "",
        accepting=filters.accepting if filters.accepting in ("yes", "no") else "",
        linked=filters.linked if filters.linked in ("yes", "no") else "",
    )


def search_structures(database: Database, filters: StructureFilter, page: int = 1,
                      page_size: int = PAGE_SIZE) -> StructurePage:
    """Admin list: name or id contains the query, plus kind / department / accepting / linked filters."""
    filters = _clean_filter(filters)
    conditions: list[Any] = []
    if filters.query:
        pattern = "%" + filters.query.lower().replace("\\", "").replace("%", "").replace("_", r"\_") + "%"
        conditions.append(or_(func.lower(SportStructure.name).like(pattern, escape="\\"),
                              SportStructure.id == filters.query))
    if filters.kind:
        conditions.append(SportStructure.kind == filters.kind)
    if filters.department:
        conditions.append(SportStructure.department_code == filters.department)
    if filters.accepting:
        conditions.append(SportStructure.accepting_referrals.is_(filters.accepting == "yes"))
    if filters.linked == "yes":
        conditions.append(SportStructure.organisation_id.is_not(None))
    elif filters.linked == "no":
        conditions.append(SportStructure.organisation_id.is_(None))
    with database.read() as session:
        total = session.scalar(select(func.count()).select_from(SportStructure).where(*conditions)) or 0
        pages = max(1, math.ceil(total / page_size))
        page = min(max(page, 1), pages)
        rows = session.scalars(select(SportStructure).where(*conditions).order_by(SportStructure.name,
                                                                                   SportStructure.id)
                               .offset((page - 1) * page_size).limit(page_size))
        return StructurePage(rows=[_row(row) for row in rows], total=total, page=page, page_size=page_size,
                             filters=filters)


def _detail(session: Session, structure: SportStructure) -> StructureDetail:
    organisation_name = None
    if structure.organisation_id is not None:
        organisation = session.get(Organisation, structure.organisation_id)
        organisation_name = organisation.name if organisation is not None else None
    return StructureDetail(row=_row(structure), version=structure.version,
                           structure=msgspec.convert(structure.data, Structure), organisation_name=organisation_name)


def structure_detail(database: Database, structure_id: str) -> StructureDetail:
    with database.read() as session:
        structure = session.get(SportStructure, structure_id)
        if structure is None:
            raise NotFound("Structure not found.")
        return _detail(session, structure)


def link_structure(database: Database, actor: Actor, structure_id: str, organisation_id: str | None,
                   expected_version: int) -> StructureDetail:
    """Admin: set (or clear) the organisation whose coordinators answer for the structure."""
    with database.write() as session:
        structure = session.get(SportStructure, structure_id)
        if structure is None:
            raise NotFound("Structure not found.")
        if structure.version != expected_version:
            raise Conflict("This structure was changed by someone else in the meantime. "
                           "Reload the page to see the current version.")
        if organisation_id is not None and session.get(Organisation, organisation_id) is None:
            raise ValidationFailed([FieldError("organisation_id", "Choose an existing organisation.")])
        previous = structure.organisation_id
        structure.organisation_id = organisation_id
        structure.updated_at = utcnow()
        session.flush()
        audit.record(session, actor, "update", "sport_structure", structure_id,
                     detail=f"organisation {previous or '-'} -> {organisation_id or '-'}")
        return _detail(session, structure)


def coordinator_structures(database: Database, actor: Actor) -> list[StructureRow]:
    """The structures the coordinator's organisation answers for (none without an organisation)."""
    if actor.organisation_id is None:
        return []
    with database.read() as session:
        rows = session.scalars(select(SportStructure).where(SportStructure.organisation_id == actor.organisation_id)
                               .order_by(SportStructure.name, SportStructure.id))
        return [_row(row) for row in rows]


def _own_structure(session: Session, actor: Actor, structure_id: str) -> SportStructure:
    """The coordinator's own structure, or NotFound: another structure's existence is not revealed."""
    structure = session.get(SportStructure, structure_id)
    if (structure is None or actor.organisation_id is None
            or structure.organisation_id != actor.organisation_id):
        raise NotFound("Structure not found.")
    return structure


def load_profile(database: Database, actor: Actor, structure_id: str) -> StructureDetail:
    with database.read() as session:
        return _detail(session, _own_structure(session, actor, structure_id))


def _non_negative(raw: str | None, field: str, errors: list[FieldError]) -> int | None:
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if not text.isdigit() or len(text) > 6:
        errors.append(FieldError(field, "Enter a whole number, 0 or more."))
        return None
    return int(text)


def _codes(values: Sequence[str], allowed: Sequence[str], field: str, errors: list[FieldError]) -> frozenset[str]:
    chosen = frozenset(value for value in values if value)
    if chosen - set(allowed):
        errors.append(FieldError(field, "Choose only values from the list."))
    return chosen & frozenset(allowed)


def parse_profile_input(raw: Mapping[str, Sequence[str]]) -> ProfileInput:
    """Read the profile form (every field's values as a list); raises ValidationFailed listing every bad field."""
    parsed, errors = _parse_profile(raw)
    if errors:
        raise ValidationFailed(errors)
    return parsed


def _parse_profile(raw: Mapping[str, Sequence[str]]) -> tuple[ProfileInput, list[FieldError]]:
    """The profile as far as it can be read, and every field error (bad values are left out)."""

    def one(name: str) -> str | None:
        values = [value.strip() for value in raw.get(name, ()) if value.strip()]
        return values[0] if values else None

    errors: list[FieldError] = []
    disciplines_text = "\n".join(raw.get("disciplines", ()))
    disciplines, _ = split_multi(disciplines_text, ",;\n")
    if len(disciplines) > MAX_DISCIPLINES:
        errors.append(FieldError("disciplines", "List at most 30 disciplines."))
    if any(len(item) > MAX_DISCIPLINE_LENGTH for item in disciplines):
        errors.append(FieldError("disciplines", "Each discipline has at most 100 characters."))
    accessibility: dict[str, bool] = {}
    for feature in ACCESS_FEATURES:
        value = one(f"access_{feature}")
        if value in ("true", "false"):
            accessibility[feature] = value == "true"
        elif value not in (None, "unknown"):
            errors.append(FieldError(f"access_{feature}", "Choose only values from the list."))
    email, phone, website = one("referral_email"), one("phone"), one("website")
    if email is not None and (len(email) > 254 or not _EMAIL.match(email)):
        errors.append(FieldError("referral_email", "Enter an email address such as accueil@structure.fr."))
    if phone is not None:
        phone = phone.replace(" ", "").replace(".", "")
        if not _PHONE.match(phone):
            errors.append(FieldError("phone", "Enter a phone number such as 0388000000 or +33388000000."))
    if website is not None and (len(website) > 500 or not _URL.match(website)):
        errors.append(FieldError("website", "Enter a web address starting with https:// or http://."))
    parsed = ProfileInput(
        disciplines=tuple(disciplines),
        disability_families=_codes(raw.get("disability_families", ()), enabled_families(), "disability_families",
                                   errors),
        professions=_codes(raw.get("professions", ()), PROFESSIONS, "professions", errors),
        qualifications=_codes(raw.get("qualifications", ()), QUALIFICATIONS, "qualifications", errors),
        activity_types=_codes(raw.get("activity_types", ()), ACTIVITY_TYPES, "activity_types", errors),
        accessibility=accessibility,
        accepting_referrals=one("accepting_referrals") in ("on", "true", "1", "yes"),
        capacity_open_slots=_non_negative(one("capacity_open_slots"), "capacity_open_slots", errors),
        waiting_weeks=_non_negative(one("waiting_weeks"), "waiting_weeks", errors),
        referral_email=email, phone=phone, website=website,
        confirm=one("confirm") in ("on", "true", "1", "yes"),
    )
    if any(error.field == "referral_email" for error in errors):
        parsed = msgspec.structs.replace(parsed, referral_email=None)
    if any(error.field == "phone" for error in errors):
        parsed = msgspec.structs.replace(parsed, phone=None)
    if any(error.field == "website" for error in errors):
        parsed = msgspec.structs.replace(parsed, website=None)
    return parsed, errors


def _sorted(values: frozenset[str]) -> list[str]:
    return sorted(values)


def save_profile(database: Database, actor: Actor, structure_id: str, expected_version: int,
                 raw: Mapping[str, Sequence[str]]) -> StructureDetail:
    """The coordinator's save: their own structure only, version-checked, validated as a whole record
    (the form's field errors and the record's cross-field errors are reported together)."""
    profile, errors = _parse_profile(raw)
    now = utcnow()
    with database.write() as session:
        structure = _own_structure(session, actor, structure_id)
        if structure.version != expected_version:
            raise Conflict("This profile was changed by someone else in the meantime. "
                           "Your changes were not saved: review the current profile and save again.")
        data: dict[str, Any] = dict(structure.data)
        data.update({
            "disciplines": list(profile.disciplines),
            "disability_families": _sorted(profile.disability_families),
            "professions": _sorted(profile.professions),
            "qualifications": _sorted(profile.qualifications),
            "activity_types": _sorted(profile.activity_types),
            "accessibility": dict(sorted(profile.accessibility.items())),
            "accepting_referrals": profile.accepting_referrals,
            "capacity_open_slots": profile.capacity_open_slots,
            "waiting_weeks": profile.waiting_weeks,
            "referral_email": profile.referral_email,
            "phone": profile.phone,
            "website": profile.website,
        })
        confirmed_at = now if profile.confirm else structure.profile_confirmed_at
        data["profile_confirmed_at"] = confirmed_at.isoformat() if confirmed_at else None
        try:
            record = msgspec.convert(data, Structure)
        except msgspec.ValidationError:
            raise ValidationFailed(errors or [FieldError("profile", "The profile is not valid.")]) from None
        problems = errors + [problem for problem in structure_errors(record)
                             if problem.field not in {error.field for error in errors}]
        if problems:
            raise ValidationFailed(problems)
        structure.data = msgspec.json.decode(msgspec.json.encode(record, order="deterministic"))
        structure.accepting_referrals = record.accepting_referrals
        structure.profile_confirmed_at = confirmed_at
        structure.updated_at = now
        session.flush()
        audit.record(session, actor, "update", "sport_structure", structure_id,
                     detail="profile saved" + (" and confirmed" if profile.confirm else ""))
        return _detail(session, structure)
