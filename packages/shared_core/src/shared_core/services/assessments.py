"""Rating-scale administrations: score, persist, raise safety alerts, and build the patient overview."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

import msgspec
from sqlalchemy import CursorResult, select, update

from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared_core.ids import new_id
from shared_core.scales import Progress, ScaleCatalogue, ScaleDefinition, classify_progress, score
from shared_core.services import audit
from shared_core.services.patients import PatientDetail, _detail, load_patient
from shared_core.tables import Assessment, Patient, SafetyAlert

SOURCES = ("clinician", "kiosk")
# An administration may be back-dated (paper form typed in later) but never more than this.
MAX_BACKDATING = dt.timedelta(days=366)
ALERT_ALREADY_ACKNOWLEDGED = ("This alert was already acknowledged by someone else since you opened the page: "
                              "reload it to see their note.")


class AssessmentView(msgspec.Struct, frozen=True):
    id: str
    patient_id: str
    scale_code: str
    scale_version: str
    administered_at: dt.datetime
    source: str
    entered_by: str
    items: list[int | None]
    total: int | None
    band: str | None
    subscores: dict[str, int]
    alerts: list[str]
    prorated: bool


class Change(msgspec.Struct, frozen=True):
    """Change of one administration against the patient's first administration of that scale."""

    baseline_id: str
    baseline_total: int
    baseline_at: dt.datetime
    delta: int
    improvement_pct: float | None
    status: str


class AlertView(msgspec.Struct, frozen=True):
    id: str
    code: str
    scale_code: str
    assessment_id: str
    raised_at: dt.datetime
    acknowledged_at: dt.datetime | None
    acknowledged_by: str | None


class SeriesPoint(msgspec.Struct, frozen=True):
    assessment_id: str
    at: dt.datetime
    total: int
    band: str | None


class AssessmentDetail(msgspec.Struct, frozen=True):
    patient: PatientDetail
    assessment: AssessmentView
    change: Change | None
    points: list[SeriesPoint]  # every administration of the same scale, for the trajectory chart
    open_alerts: list[AlertView]  # unacknowledged alerts raised by this administration


class ScaleSeries(msgspec.Struct, frozen=True):
    scale_code: str
    points: list[SeriesPoint]
    latest: AssessmentView
    change: Change | None


class TimelineEntry(msgspec.Struct, frozen=True):
    at: dt.datetime
    kind: str
    title: str
    detail: str
    assessment_id: str | None = None


# Entries per timeline page: a patient followed for years has hundreds; the page shows the newest
# and loads older ones on demand, so its cost does not grow with the record.
TIMELINE_PAGE = 40


class TimelinePage(msgspec.Struct, frozen=True):
    entries: list[TimelineEntry]
    older_than: dt.datetime | None  # where the next page starts; None when this is the oldest page


class PatientOverview(msgspec.Struct, frozen=True):
    patient: PatientDetail
    open_alerts: list[AlertView]
    series: list[ScaleSeries]
    timeline: TimelinePage


def _view(row: Assessment) -> AssessmentView:
    return AssessmentView(
        row.id, row.patient_id, row.scale_code, row.scale_version, row.administered_at, row.source,
        row.entered_by, list(row.items), row.total, row.band, dict(row.subscores), list(row.alerts), row.prorated,
    )


def _alert_view(row: SafetyAlert) -> AlertView:
    return AlertView(row.id, row.code, row.scale_code, row.assessment_id, row.raised_at,
                     row.acknowledged_at, row.acknowledged_by)


def _change(definition: ScaleDefinition, baseline: Assessment | None, current: Assessment) -> Change | None:
    if baseline is None or baseline.id == current.id or baseline.total is None or current.total is None:
        return None
    progress: Progress = classify_progress(definition, baseline.total, current.total)
    return Change(baseline.id, baseline.total, baseline.administered_at, current.total - baseline.total,
                  progress.improvement_pct, progress.status)


def validate_administered_at(value: dt.datetime, now: dt.datetime) -> None:
    if value > now + dt.timedelta(minutes=5):
        raise ValidationFailed([FieldError("administered_at", "The date of administration is in the future.")])
    if value < now - MAX_BACKDATING:
        raise ValidationFailed([FieldError("administered_at", "The date of administration is more than a year ago.")])


def record_assessment(
    database: Database,
    actor: Actor,
    catalogue: ScaleCatalogue,
    patient_id: str,
    scale_code: str,
    items: Sequence[int | None],
    *,
    source: str = "clinician",
    administered_at: dt.datetime | None = None,
) -> AssessmentView:
    """Score and store one administration; every triggered safety alert is recorded with it."""
    try:
        definition = catalogue.get(scale_code)
    except KeyError:
        raise NotFound(f"Unknown scale: {scale_code}") from None
    if source not in SOURCES:
        raise ValidationFailed([FieldError("source", f"Unknown source {source!r}.")])
    now = utcnow()
    at = administered_at or now
    validate_administered_at(at, now)
    result = score(definition, items)  # raises ValidationFailed naming each bad item
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        row = Assessment(
            id=new_id("A"), patient_id=patient.id, scale_code=definition.code, scale_version=definition.version,
            administered_at=at, source=source, entered_by=actor.id, items=list(result.items),
            total=result.total, band=result.band, subscores=dict(result.subscores), alerts=list(result.alerts),
            prorated=result.prorated, created_at=now,
        )
        session.add(row)
        session.flush()
        for code in result.alerts:
            alert = SafetyAlert(id=new_id("AL"), patient_id=patient.id, assessment_id=row.id, code=code,
                                scale_code=definition.code, raised_at=now)
            session.add(alert)
            audit.record(session, actor, "alert_raised", "safety_alert", alert.id, patient_id=patient.id,
                         detail=f"{code} ({definition.code})")
        audit.record(session, actor, "create", "assessment", row.id, patient_id=patient.id,
                     detail=f"{definition.code} via {source}")
        return _view(row)


def get_assessment(database: Database, actor: Actor, catalogue: ScaleCatalogue, patient_id: str,
                   assessment_id: str) -> AssessmentDetail:
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        row = session.get(Assessment, assessment_id)
        if row is None or row.patient_id != patient.id:
            raise NotFound("Assessment not found.")
        definition = catalogue.get(row.scale_code)
        same_scale = session.scalars(
            select(Assessment).where(Assessment.patient_id == patient.id, Assessment.scale_code == row.scale_code)
            .order_by(Assessment.administered_at, Assessment.created_at)
        ).all()
        change = _change(definition, same_scale[0] if same_scale else None, row)
        alerts = session.scalars(
            select(SafetyAlert).where(SafetyAlert.assessment_id == row.id, SafetyAlert.acknowledged_at.is_(None))
        ).all()
        audit.record(session, actor, "read", "assessment", row.id, patient_id=patient.id)
        points = [SeriesPoint(r.id, r.administered_at, r.total, r.band) for r in same_scale if r.total is not None]
        return AssessmentDetail(_detail(patient), _view(row), change, points, [_alert_view(a) for a in alerts])


def patient_overview(database: Database, actor: Actor, catalogue: ScaleCatalogue, patient_id: str) -> PatientOverview:
    """Everything the patient page shows, read and audited in one transaction."""
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        rows = session.scalars(
            select(Assessment).where(Assessment.patient_id == patient.id)
            .order_by(Assessment.administered_at, Assessment.created_at)
        ).all()
        alerts = session.scalars(
            select(SafetyAlert).where(SafetyAlert.patient_id == patient.id).order_by(SafetyAlert.raised_at.desc())
        ).all()
        audit.record(session, actor, "read", "patient", patient.id, patient_id=patient.id)
        by_scale: dict[str, list[Assessment]] = {}
        for row in rows:
            by_scale.setdefault(row.scale_code, []).append(row)
        series = []
        for code in catalogue.codes():
            scale_rows = by_scale.get(code)
            if not scale_rows:
                continue
            definition = catalogue.get(code)
            points = [SeriesPoint(r.id, r.administered_at, r.total, r.band) for r in scale_rows if r.total is not None]
            series.append(ScaleSeries(code, points, _view(scale_rows[-1]),
                                      _change(definition, scale_rows[0], scale_rows[-1])))
        open_alerts = [_alert_view(a) for a in alerts if a.acknowledged_at is None]
        timeline = _timeline_page(_timeline(patient, rows, alerts), None)
        return PatientOverview(_detail(patient), open_alerts, series, timeline)


def patient_timeline(database: Database, actor: Actor, patient_id: str,
                     older_than: dt.datetime | None) -> TimelinePage:
    """One page of timeline entries, newest first: before ``older_than``, or the newest when it is None."""
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        assessment_filter = [Assessment.patient_id == patient.id]
        alert_filter = [SafetyAlert.patient_id == patient.id]
        if older_than is not None:
            assessment_filter.append(Assessment.administered_at < older_than)
            alert_filter.append(SafetyAlert.raised_at < older_than)
        rows = session.scalars(select(Assessment).where(*assessment_filter)).all()
        alerts = session.scalars(select(SafetyAlert).where(*alert_filter)).all()
        audit.record(session, actor, "read", "patient_timeline", patient.id, patient_id=patient.id,
                     detail=f"before {older_than.isoformat()}" if older_than else "newest")
        return _timeline_page(_timeline(patient, rows, alerts), older_than)


def _timeline(patient: Patient, rows: Sequence[Assessment], alerts: Sequence[SafetyAlert]) -> list[TimelineEntry]:
    timeline = [TimelineEntry(patient.created_at, "created", "patient_created", "")]
    timeline += [
        TimelineEntry(r.administered_at, "assessment", r.scale_code,
                      "" if r.total is None else str(r.total) + (f" · {r.band}" if r.band else ""), r.id)
        for r in rows
    ]
    for alert in alerts:
        timeline.append(TimelineEntry(alert.raised_at, "alert", alert.code, alert.scale_code, alert.assessment_id))
        if alert.acknowledged_at is not None:
            timeline.append(TimelineEntry(alert.acknowledged_at, "alert_acknowledged", alert.code,
                                          alert.acknowledgement_note or "", alert.assessment_id))
    timeline.sort(key=lambda entry: entry.at, reverse=True)
    return timeline


def _timeline_page(newest_first: list[TimelineEntry], older_than: dt.datetime | None) -> TimelinePage:
    """One page, never splitting entries that share an instant (the next page starts strictly before)."""
    entries = [e for e in newest_first if older_than is None or e.at < older_than]
    if len(entries) <= TIMELINE_PAGE:
        return TimelinePage(entries, None)
    cut = TIMELINE_PAGE
    while cut < len(entries) and entries[cut].at == entries[cut - 1].at:
        cut += 1
    return TimelinePage(entries[:cut], entries[cut - 1].at if cut < len(entries) else None)


def acknowledge_alert(database: Database, actor: Actor, patient_id: str, alert_id: str, note: str) -> None:
    note = note.strip()
    if len(note) > 1000:
        raise ValidationFailed([FieldError("note", "The note must be at most 1000 characters.")])
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        alert = session.get(SafetyAlert, alert_id)
        if alert is None or alert.patient_id != patient.id:
            raise NotFound("Alert not found.")
        # The alert has no version column: the condition on acknowledged_at makes the first of two
        # acknowledgements win (PostgreSQL re-checks it after waiting on the other's row lock), and the
        # second is told instead of having its note silently dropped.
        done = session.execute(
            update(SafetyAlert).where(SafetyAlert.id == alert.id, SafetyAlert.acknowledged_at.is_(None))
            .values(acknowledged_at=utcnow(), acknowledged_by=actor.id, acknowledgement_note=note or None)
            .execution_options(synchronize_session=False))
        if cast(CursorResult[Any], done).rowcount != 1:
            raise Conflict(ALERT_ALREADY_ACKNOWLEDGED)
        audit.record(session, actor, "acknowledge", "safety_alert", alert.id, patient_id=patient.id)


class CentreAlert(msgspec.Struct, frozen=True):
    alert: AlertView
    patient_id: str
    patient_name: str


def open_alerts_for_centre(database: Database, actor: Actor, limit: int = 50) -> list[CentreAlert]:
    """Unacknowledged safety alerts of the actor's centre, newest first (the clinicians' home page)."""
    with audit.audited_read(database) as session:
        rows = session.execute(
            select(SafetyAlert, Patient).join(Patient, Patient.id == SafetyAlert.patient_id)
            .where(Patient.organisation_id == actor.organisation_id, SafetyAlert.acknowledged_at.is_(None))
            .order_by(SafetyAlert.raised_at.desc()).limit(limit)
        ).all()
        if rows:
            audit.record(session, actor, "read", "alert_list", None, detail=f"{len(rows)} open alerts")
        return [CentreAlert(_alert_view(alert), patient.id, f"{patient.family_name} {patient.given_names}")
                for alert, patient in rows]
