"""Organisations and practitioners: identifier checks (FINESS, RPPS) and the centre's closures.

FINESS and RPPS key checks are warnings only (domain-sport §5.6: the key algorithms are not in an
official document); the format is an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import msgspec
from sqlalchemy import select

from shared_core.actors import Actor
from shared_core.calendar import HOLIDAY_ZONES, WorkingCalendar
from shared_core.db import Database, utcnow
from shared_core.errors import FieldError, NotFound, ValidationFailed
from shared_core.ids import new_id
from shared_core.rules.identifiers import check_commune_insee, check_finess, check_rpps
from shared_core.services import audit
from shared_core.tables import CentreClosure, Organisation, Practitioner

ORGANISATION_KINDS = ("centre", "referrer_practice", "mss", "esms", "club", "venue", "apa_practice", "trail")
PROFESSIONS = ("psychiatrist", "general_practitioner", "physician", "nurse", "technician", "physiotherapist",
               "occupational_therapist", "psychomotor_therapist", "apa_teacher", "sport_educator", "other")


class OrganisationView(msgspec.Struct, frozen=True):
    id: str
    kind: str
    name: str
    finess: str | None
    commune_insee: str | None
    holiday_zone: str | None
    version: int


class Saved(msgspec.Struct, frozen=True):
    """What was stored, plus the warnings the user should see (e.g. a FINESS key that does not check)."""

    id: str
    warnings: list[str]


class ClosureView(msgspec.Struct, frozen=True):
    id: int
    start_date: dt.date
    end_date: dt.date
    label: str


def _organisation_view(row: Organisation) -> OrganisationView:
    return OrganisationView(row.id, row.kind, row.name, row.finess, row.commune_insee, row.holiday_zone, row.version)


def create_organisation(database: Database, actor: Actor, raw: Mapping[str, str | None]) -> Saved:
    errors: list[FieldError] = []
    warnings: list[str] = []
    kind = (raw.get("kind") or "").strip()
    if kind not in ORGANISATION_KINDS:
        errors.append(FieldError("kind", "Choose the kind of organisation."))
    name = (raw.get("name") or "").strip()
    if not name or len(name) > 200:
        errors.append(FieldError("name", "A name of 1 to 200 characters is required."))
    finess = (raw.get("finess") or "").strip() or None
    if finess is not None:
        check = check_finess(finess)
        finess = check.value
        errors.extend(FieldError("finess", message) for message in check.errors)
        warnings.extend(check.warnings)
    commune = (raw.get("commune_insee") or "").strip() or None
    if commune is not None:
        commune_check = check_commune_insee(commune)
        commune = commune_check.value
        errors.extend(FieldError("commune_insee", message) for message in commune_check.errors)
    zone = (raw.get("holiday_zone") or "").strip() or None
    if zone is not None and zone not in HOLIDAY_ZONES:
        errors.append(FieldError("holiday_zone", "Unknown holiday zone."))
    if errors:
        raise ValidationFailed(errors)
    with database.write() as session:
        if finess and session.scalar(select(Organisation.id).where(Organisation.finess == finess)):
            raise ValidationFailed([FieldError("finess", "An organisation with this FINESS number already exists.")])
        row = Organisation(id=new_id("ORG"), kind=kind, name=name, finess=finess, commune_insee=commune,
                           holiday_zone=zone, created_at=utcnow())
        session.add(row)
        audit.record(session, actor, "create", "organisation", row.id, detail=kind)
    return Saved(row.id, warnings)


def list_organisations(database: Database) -> list[OrganisationView]:
    with database.read() as session:
        rows = session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)).all()
        return [_organisation_view(row) for row in rows]


def create_practitioner(database: Database, actor: Actor, raw: Mapping[str, str | None]) -> Saved:
    errors: list[FieldError] = []
    warnings: list[str] = []
    family_name = (raw.get("family_name") or "").strip()
    given_name = (raw.get("given_name") or "").strip()
    if not family_name or len(family_name) > 100:
        errors.append(FieldError("family_name", "Family name is required (at most 100 characters)."))
    if not given_name or len(given_name) > 100:
        errors.append(FieldError("given_name", "Given name is required (at most 100 characters)."))
    profession = (raw.get("profession") or "").strip()
    if profession not in PROFESSIONS:
        errors.append(FieldError("profession", "Choose a profession."))
    rpps = (raw.get("rpps") or "").strip() or None
    if rpps is not None:
        check = check_rpps(rpps)
        rpps = check.value
        errors.extend(FieldError("rpps", message) for message in check.errors)
        warnings.extend(check.warnings)
    organisation_id = (raw.get("organisation_id") or "").strip() or None
    if errors:
        raise ValidationFailed(errors)
    with database.write() as session:
        if organisation_id and session.get(Organisation, organisation_id) is None:
            raise ValidationFailed([FieldError("organisation_id", "Unknown organisation.")])
        if rpps and session.scalar(select(Practitioner.id).where(Practitioner.rpps == rpps)):
            raise ValidationFailed([FieldError("rpps", "A practitioner with this RPPS number already exists.")])
        row = Practitioner(id=new_id("PR"), family_name=family_name, given_name=given_name, profession=profession,
                           rpps=rpps, organisation_id=organisation_id, created_at=utcnow())
        session.add(row)
        audit.record(session, actor, "create", "practitioner", row.id, detail=profession)
    return Saved(row.id, warnings)


def add_closure(database: Database, actor: Actor, organisation_id: str, start: dt.date, end: dt.date,
                label: str) -> ClosureView:
    errors = []
    if end < start:
        errors.append(FieldError("end_date", "The last day cannot be before the first day."))
    if (end - start).days > 366:
        errors.append(FieldError("end_date", "A closure cannot last more than a year."))
    label = label.strip()
    if not label or len(label) > 120:
        errors.append(FieldError("label", "Give the closure a label (at most 120 characters)."))
    if errors:
        raise ValidationFailed(errors)
    with database.write() as session:
        if session.get(Organisation, organisation_id) is None:
            raise NotFound("Organisation not found.")
        row = CentreClosure(organisation_id=organisation_id, start_date=start, end_date=end, label=label)
        session.add(row)
        session.flush()
        audit.record(session, actor, "create", "centre_closure", str(row.id),
                     detail=f"{organisation_id} {start.isoformat()}..{end.isoformat()}")
        return ClosureView(row.id, start, end, label)


def remove_closure(database: Database, actor: Actor, organisation_id: str, closure_id: int) -> None:
    with database.write() as session:
        row = session.get(CentreClosure, closure_id)
        if row is None or row.organisation_id != organisation_id:
            raise NotFound("Closure not found.")
        session.delete(row)
        audit.record(session, actor, "delete", "centre_closure", str(closure_id), detail=organisation_id)


def list_closures(database: Database, organisation_id: str) -> list[ClosureView]:
    with database.read() as session:
        rows = session.scalars(select(CentreClosure).where(CentreClosure.organisation_id == organisation_id)
                               .order_by(CentreClosure.start_date)).all()
        return [ClosureView(r.id, r.start_date, r.end_date, r.label) for r in rows]


def centre_calendar(database: Database, organisation_id: str, default_zone: str) -> WorkingCalendar:
    """The centre's working days: its holiday zone (or the site default) minus its closures."""
    with database.read() as session:
        organisation = session.get(Organisation, organisation_id)
        if organisation is None:
            raise NotFound("Organisation not found.")
        zone = organisation.holiday_zone or default_zone
        closures = [(r.start_date, r.end_date) for r in session.scalars(
            select(CentreClosure).where(CentreClosure.organisation_id == organisation_id))]
    return WorkingCalendar(zone=zone, closures=closures)


class PractitionerView(msgspec.Struct, frozen=True):
    id: str
    family_name: str
    given_name: str
    profession: str
    rpps: str | None
    organisation_id: str | None


def list_practitioners(database: Database) -> list[PractitionerView]:
    with database.read() as session:
        rows = session.scalars(select(Practitioner).order_by(Practitioner.family_name, Practitioner.given_name)).all()
        return [PractitionerView(r.id, r.family_name, r.given_name, r.profession, r.rpps, r.organisation_id)
                for r in rows]
