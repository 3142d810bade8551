"""Course edits on the stored plan (domain-rtms §7.3-§7.5): skip, undo, postpone, extend, taper, maintenance.

Each edit loads the stored course as a :class:`CoursePlan`, applies the pure rule of
``rules/scheduling.py``, and writes the planned rows back in the same transaction, audited. The
course's version is checked first (a stale page answers :class:`Conflict`, 409) and bumped by
every edit. Only a psychiatrist changes a plan.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, cast

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from rtms_pathway.catalogue.loader_planning import (
    load_planning_settings,
    load_planning_templates,
    load_protocol_catalogue,
)
from rtms_pathway.model.planning import (
    CoursePlan,
    Extension,
    Phase,
    PlannedSession,
    PlanWarning,
    SessionStatus,
    SkipAction,
    SkipReason,
)
from rtms_pathway.rules.scheduling import (
    add_classic_maintenance,
    add_cluster_maintenance,
    add_taper,
    extend_course,
    maintenance_dose_warnings,
    plan_induction,
    skip_session,
    undo_skip,
)
from rtms_pathway.session_tables import CourseExtensionRow, PlannedSessionEditRow
from rtms_pathway.tables import Course, PlannedSessionRow
from shared_core.actors import Actor
from shared_core.calendar import WorkingCalendar
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from shared_core.ids import new_id
from shared_core.services import audit
from shared_core.services.patients import load_patient

__all__ = [
    "EDIT_ROLES",
    "SKIP_ACTIONS",
    "SKIP_REASONS",
    "EditOutcome",
    "WarningView",
    "apply_course_edit",
    "load_course",
    "load_plan",
]

EDIT_ROLES = frozenset({"psychiatrist"})
SKIP_REASONS: tuple[SkipReason, ...] = ("patient_absent", "patient_ill", "device_fault", "staff_unavailable",
                                        "clinical_hold", "other")
SKIP_ACTIONS: tuple[SkipAction, ...] = ("postpone", "skip_without_replacement")
EditKind = Literal["skip", "undo", "extend", "taper", "maintenance_classic", "maintenance_cluster", "resume"]
# A course that is over or replaced is not edited any more.
EDITABLE_STATUSES = frozenset({"planned", "active", "suspended"})


class WarningView(msgspec.Struct, frozen=True):
    code: str
    rule_id: str
    severity: str
    message_fr: str
    message_en: str
    source: str


class EditOutcome(msgspec.Struct, frozen=True):
    course_id: str
    kind: str
    version: int
    warnings: list[WarningView]


def warning_view(warning: PlanWarning) -> WarningView:
    return WarningView(warning.code, warning.rule_id, warning.severity, warning.message_fr, warning.message_en,
                       warning.source)


def load_course(session: Session, actor: Actor, patient_id: str, course_id: str) -> Course:
    """The course of a patient of the actor's centre, or NotFound."""
    patient = load_patient(session, actor, patient_id)
    course = session.get(Course, course_id)
    if course is None or course.patient_id != patient.id:
        raise NotFound("Course not found.")
    return course


# --- stored rows <-> CoursePlan ------------------------------------------------------------------


class LoadedPlan(msgspec.Struct):
    plan: CoursePlan
    rows: dict[int, PlannedSessionRow]  # plan session id -> stored row


def load_plan(session: Session, course: Course, calendar: WorkingCalendar) -> LoadedPlan:
    """The stored course as a :class:`CoursePlan`: plan ids follow the rows' (date, slot) order."""
    definition = load_protocol_catalogue().by_ref(course.protocol_ref)
    settings = load_planning_settings()
    template = plan_induction(definition, course.start_date, calendar, settings,
                              sessions=definition.sessions_per_day, course_number=course.course_number,
                              ruleset_version=settings.version)
    times = {s.slot: (s.start, s.end) for s in template.sessions}
    default_times = times[1]
    rows = sorted(session.scalars(select(PlannedSessionRow).where(PlannedSessionRow.course_id == course.id)),
                  key=lambda r: (r.date, r.slot, r.id))
    edits = {e.planned_session_id: e for e in session.scalars(
        select(PlannedSessionEditRow).where(PlannedSessionEditRow.planned_session_id.in_([r.id for r in rows])))}
    plan_ids = {row.id: index for index, row in enumerate(rows, start=1)}
    sessions: list[PlannedSession] = []
    for row in rows:
        edit = edits.get(row.id)
        start, end = times.get(row.slot, default_times)
        active = row.status not in ("skipped", "cancelled", "superseded")
        sessions.append(PlannedSession(
            id=plan_ids[row.id], phase=cast(Phase, row.phase), date=row.date, slot=row.slot, start=start, end=end,
            protocol_ref=course.protocol_ref, status=cast(SessionStatus, row.status),
            number=row.number if active else None,
            original_number=edit.original_number if edit else None,
            nominal_date=edit.nominal_date if edit else None,
            cluster=edit.cluster if edit else None,
            replaces=plan_ids.get(edit.replaces_id) if edit and edit.replaces_id else None,
            replaced_by=plan_ids.get(edit.replaced_by_id) if edit and edit.replaced_by_id else None,
            skip_reason=cast(SkipReason | None, edit.skip_reason if edit else None),
            skip_action=cast(SkipAction | None, edit.skip_action if edit else None),
            skip_note=edit.skip_note if edit else "",
            extension=edit.extension if edit else None,
        ))
    extension_rows = session.scalars(select(CourseExtensionRow).where(CourseExtensionRow.course_id == course.id)
                                     .order_by(CourseExtensionRow.number)).all()
    extensions = [Extension(number=e.number, count=e.count, reason=e.reason,
                            session_ids=[s.id for s in sessions if s.extension == e.number]) for e in extension_rows]
    plan = msgspec.structs.replace(template, sessions=sessions, planned_sessions=course.induction_sessions,
                                   next_id=len(rows) + 1, warnings=[], extensions=extensions)
    return LoadedPlan(plan, {plan_ids[row.id]: row for row in rows})


def _has_edit_data(planned: PlannedSession) -> bool:
    return any(value is not None for value in (planned.skip_reason, planned.skip_action, planned.original_number,
                                               planned.replaces, planned.replaced_by, planned.nominal_date,
                                               planned.cluster, planned.extension))


def _write_back(session: Session, actor: Actor, course: Course, loaded: LoadedPlan, plan: CoursePlan) -> None:
    """Store the edited plan: update kept rows, add new ones, delete removed ones (an undone replacement)."""
    rows = dict(loaded.rows)
    new_ids = {s.id for s in plan.sessions}
    for plan_id, row in list(rows.items()):
        if plan_id not in new_ids:
            edit = session.get(PlannedSessionEditRow, row.id)
            if edit is not None:
                session.delete(edit)
            session.delete(row)
            del rows[plan_id]
    session.flush()
    for planned in plan.sessions:
        existing = rows.get(planned.id)
        number = planned.number or planned.original_number or (existing.number if existing else 0)
        if existing is None:
            created = PlannedSessionRow(id=new_id("PS"), course_id=course.id, number=number, date=planned.date,
                                        slot=planned.slot, phase=planned.phase, status=planned.status)
            session.add(created)
            rows[planned.id] = created
        else:
            existing.number, existing.date, existing.slot = number, planned.date, planned.slot
            existing.phase, existing.status = planned.phase, planned.status
    session.flush()
    for planned in plan.sessions:
        row = rows[planned.id]
        edit = session.get(PlannedSessionEditRow, row.id)
        if not _has_edit_data(planned):
            if edit is not None:
                session.delete(edit)
            continue
        if edit is None:
            edit = PlannedSessionEditRow(planned_session_id=row.id)
            session.add(edit)
        edit.skip_reason, edit.skip_action, edit.skip_note = planned.skip_reason, planned.skip_action, planned.skip_note
        edit.original_number, edit.nominal_date = planned.original_number, planned.nominal_date
        edit.cluster, edit.extension = planned.cluster, planned.extension
        edit.replaces_id = rows[planned.replaces].id if planned.replaces in rows else None
        edit.replaced_by_id = rows[planned.replaced_by].id if planned.replaced_by in rows else None
    stored = {e.number for e in session.scalars(select(CourseExtensionRow)
                                                .where(CourseExtensionRow.course_id == course.id))}
    for extension in plan.extensions:
        if extension.number not in stored:
            session.add(CourseExtensionRow(id=new_id("CX"), course_id=course.id, number=extension.number,
                                           count=extension.count, reason=extension.reason, created_by=actor.id,
                                           created_at=utcnow()))
    course.induction_sessions = plan.planned_sessions
    flag_modified(course, "induction_sessions")  # every edit bumps the course version, even a pure re-dating


# --- the edits -----------------------------------------------------------------------------------------------


def _session_id(loaded: LoadedPlan, planned_session_id: str | None) -> int:
    for plan_id, row in loaded.rows.items():
        if row.id == planned_session_id:
            return plan_id
    raise NotFound("Planned session not found.")


def _choice(value: str | None, allowed: tuple[str, ...], field: str, errors: list[FieldError]) -> str:
    if value not in allowed:
        errors.append(FieldError(field, "Choose one of the proposed values."))
        return allowed[0]
    return value


def _positive(value: str | None, field: str, errors: list[FieldError]) -> int:
    if value is None or not value.strip().isdigit() or int(value) < 1:
        errors.append(FieldError(field, "Enter a whole number of at least 1."))
        return 0
    return int(value)


def _edit(kind: EditKind, loaded: LoadedPlan, raw: dict[str, str | None], calendar: WorkingCalendar,
          today: dt.date) -> tuple[CoursePlan | None, str]:
    """Apply one edit to the loaded plan: the new plan (None: status-only edit) and the audit detail."""
    plan = loaded.plan
    settings = load_planning_settings()
    templates = load_planning_templates()
    errors: list[FieldError] = []
    if kind == "skip":
        session_id = _session_id(loaded, raw.get("planned_session_id"))
        reason = cast(SkipReason, _choice(raw.get("reason"), SKIP_REASONS, "reason", errors))
        action = cast(SkipAction, _choice(raw.get("action") or "postpone", SKIP_ACTIONS, "action", errors))
        if errors:
            raise ValidationFailed(errors)
        note = (raw.get("note") or "").strip()
        number = plan.session(session_id).number
        return (skip_session(plan, session_id, calendar, reason=reason, action=action, by_physician=True, note=note),
                f"session {number} skipped ({reason}, {action})")
    if kind == "undo":
        session_id = _session_id(loaded, raw.get("planned_session_id"))
        return undo_skip(plan, session_id, today), f"skip of {plan.session(session_id).date.isoformat()} undone"
    if kind == "extend":
        count = _positive(raw.get("count"), "count", errors)
        why = (raw.get("reason") or "").strip()
        if not why:
            errors.append(FieldError("reason", "An extension needs a reason."))
        if errors:
            raise ValidationFailed(errors)
        return extend_course(plan, count, why, calendar), f"extended by {count} sessions: {why}"
    if kind == "taper":
        ids = tuple(t.id for t in templates.tapers)
        template_id = _choice(raw.get("template"), ids, "template", errors)
        if errors:
            raise ValidationFailed(errors)
        if any(s.phase == "taper" and s.active for s in plan.sessions):
            raise Conflict("A taper is already planned for this course.")
        return add_taper(plan, templates.taper(template_id), calendar), f"taper {template_id} added"
    if kind in ("maintenance_classic", "maintenance_cluster"):
        wanted = "classic" if kind == "maintenance_classic" else "cluster"
        usable = tuple(t.id for t in templates.maintenance if t.kind == wanted and t.protocol_id is None)
        template_id = _choice(raw.get("template"), usable, "template", errors)
        if errors:
            raise ValidationFailed(errors)
        if any(s.phase in ("maintenance_classic", "maintenance_cluster") and s.active for s in plan.sessions):
            raise Conflict("A maintenance plan is already planned for this course.")
        template = templates.maintenance_template(template_id)
        if wanted == "classic":
            updated = add_classic_maintenance(plan, template, calendar, settings)
        else:
            updated = add_cluster_maintenance(plan, template, calendar, settings)
        return updated, f"{wanted} maintenance {template_id} added"
    return None, "suspension lifted"


def apply_course_edit(database: Database, actor: Actor, patient_id: str, course_id: str, kind: EditKind,
                      raw: dict[str, str | None], *, calendar: WorkingCalendar, today: dt.date) -> EditOutcome:
    """One edit of a stored plan by a psychiatrist, version-checked (``raw["version"]``) and audited.

    Raises :class:`ValidationFailed` (each bad field), :class:`Conflict` (stale version, or a state the
    rule refuses, e.g. undoing a skip whose date has passed), :class:`PermissionDenied`, :class:`NotFound`.
    """
    if actor.role not in EDIT_ROLES:
        raise PermissionDenied("Only a physician of the centre can change a course plan.")
    with database.write() as session:
        course = load_course(session, actor, patient_id, course_id)
        version = raw.get("version")
        if version is None or not version.isdigit():
            raise ValidationFailed([FieldError("version", "The form is missing the course version.")])
        if int(version) != course.version:
            raise Conflict("This course was changed by someone else since you opened it: reload the page "
                           "and check the plan before changing it again.")
        if course.status not in EDITABLE_STATUSES:
            raise Conflict(f"A {course.status} course cannot be changed.")
        loaded = load_plan(session, course, calendar)
        updated, detail = _edit(kind, loaded, raw, calendar, today)
        warnings: list[PlanWarning] = []
        if updated is None:  # resume: the physician lifts the R-SES-04 suspension
            if course.status != "suspended":
                raise Conflict("This course is not suspended.")
            course.status = "active"
        else:
            _write_back(session, actor, course, loaded, updated)
            warnings = list(updated.warnings)
            if kind.startswith("maintenance"):
                warnings += maintenance_dose_warnings(updated, load_planning_settings())
        session.flush()
        audit.record(session, actor, f"course_{kind}", "rtms_course", course.id, patient_id=course.patient_id,
                     detail=detail)
        return EditOutcome(course.id, kind, course.version, [warning_view(w) for w in warnings])


def plan_rows_by_id(loaded: LoadedPlan) -> dict[str, PlannedSession]:
    """Stored row id -> the plan's view of it (skip reason, replacement...)."""
    return {row.id: loaded.plan.session(plan_id) for plan_id, row in loaded.rows.items()}

