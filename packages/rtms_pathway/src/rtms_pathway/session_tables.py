"""Tables of session delivery (domain-rtms §8): delivered sessions, motor thresholds, adverse events,
and what a course edit keeps about each planned session (skips, replacements, extensions).

Kept apart from ``tables.py`` so triage/planning and delivery evolve in their own modules; the same
metadata and the same migration history (0005).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared_core.db import Base, UTCDateTime, Versioned, utcnow


class MotorThresholdRow(Base):
    """One MT measurement (§8.2 ``MotorThresholdMeasurement``); immutable, a new value is a new row."""

    __tablename__ = "rtms_motor_threshold"
    __table_args__ = (Index("ix_rtms_motor_threshold_patient_at", "patient_id", "measured_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    course_id: Mapped[str] = mapped_column(ForeignKey("rtms_course.id"), index=True)
    measured_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    value_pct_mso: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(30))
    mep_criterion: Mapped[str] = mapped_column(String(120), default="")
    muscle: Mapped[str] = mapped_column(String(10))
    hemisphere: Mapped[str] = mapped_column(String(10))
    device_id: Mapped[str] = mapped_column(String(80))
    coil_id: Mapped[str] = mapped_column(String(80))
    trigger: Mapped[str] = mapped_column(String(30))
    measured_by: Mapped[str] = mapped_column(String(64))
    # R-MT-06 against the previous measurement: exact relative change as text, and whether to re-measure.
    relative_change: Mapped[str | None] = mapped_column(String(40))
    confirm_required: Mapped[bool] = mapped_column(Boolean, default=False)
    alerts: Mapped[list[Any]] = mapped_column(JSON)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SessionRecordRow(Versioned, Base):
    """A delivered session (§8.1): the prescription snapshot beside what was delivered, the device, the MT
    used, who delivered it, the check-in answers and interruptions. One per planned session."""

    __tablename__ = "rtms_session_record"
    __table_args__ = (
        UniqueConstraint("planned_session_id", name="uq_rtms_session_record_planned"),
        Index("ix_rtms_session_record_course_performed", "course_id", "performed_on"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("rtms_course.id"))
    planned_session_id: Mapped[str] = mapped_column(ForeignKey("rtms_planned_session.id"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    session_number: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(30))  # delivered | partially_delivered
    counts_towards_course: Mapped[bool | None] = mapped_column(Boolean)
    performed_on: Mapped[dt.date] = mapped_column(Date)
    performed_start: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    performed_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # prescription snapshot (protocol_id@version and its parameters at the time of the session)
    protocol_ref: Mapped[str] = mapped_column(String(80))
    prescribed_frequency_hz: Mapped[str | None] = mapped_column(String(16))
    prescribed_intensity_pct_mt: Mapped[int] = mapped_column(Integer)
    prescribed_pulses: Mapped[int] = mapped_column(Integer)
    prescribed_trains: Mapped[int] = mapped_column(Integer)
    prescribed_duration_s: Mapped[int | None] = mapped_column(Integer)
    # delivered (decimal values as exact text, never floats)
    frequency_hz: Mapped[str | None] = mapped_column(String(16))
    intensity_pct_mt: Mapped[int] = mapped_column(Integer)
    intensity_pct_mso: Mapped[int] = mapped_column(Integer)
    pulses_delivered: Mapped[int] = mapped_column(Integer)
    trains_delivered: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[int | None] = mapped_column(Integer)
    # device, target, motor threshold
    device_id: Mapped[str] = mapped_column(String(80))
    coil_id: Mapped[str] = mapped_column(String(80))
    targeting_method: Mapped[str] = mapped_column(String(40))
    mt_measurement_id: Mapped[str | None] = mapped_column(ForeignKey("rtms_motor_threshold.id"))
    mt_value_pct_mso: Mapped[int | None] = mapped_column(Integer)
    device_max_acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    # people
    operator_id: Mapped[str] = mapped_column(String(64))
    supervising_physician: Mapped[str | None] = mapped_column(String(120))
    # per-session check-in (§3.4) and the physician's release when it put the session on hold (R-SAF-04)
    checkin_sleep_deprivation: Mapped[bool] = mapped_column(Boolean, default=False)
    checkin_alcohol: Mapped[bool] = mapped_column(Boolean, default=False)
    checkin_medication_change: Mapped[bool] = mapped_column(Boolean, default=False)
    checkin_new_device: Mapped[bool] = mapped_column(Boolean, default=False)
    checkin_possible_pregnancy: Mapped[bool] = mapped_column(Boolean, default=False)
    checkin_seizure_or_syncope: Mapped[bool] = mapped_column(Boolean, default=False)
    checkin_metal_removed: Mapped[bool] = mapped_column(Boolean, default=False)
    released_by: Mapped[str | None] = mapped_column(String(120))
    # tolerability, deviations, interruptions
    pain_vas: Mapped[int | None] = mapped_column(Integer)
    interruptions: Mapped[list[Any]] = mapped_column(JSON)
    deviation_reason: Mapped[str | None] = mapped_column(Text)
    deviation_physician: Mapped[str | None] = mapped_column(String(120))
    mso_override_reason: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # what the rules said when it was recorded (R-SES-01..03, R-MT-05), for the record
    explanations: Mapped[list[Any]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AdverseEventRow(Versioned, Base):
    """An adverse event (§8.3), with the seizure/syncope form when one is required."""

    __tablename__ = "rtms_adverse_event"
    __table_args__ = (Index("ix_rtms_adverse_event_course_reported", "course_id", "reported_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("rtms_course.id"))
    session_record_id: Mapped[str | None] = mapped_column(ForeignKey("rtms_session_record.id"))
    type: Mapped[str] = mapped_column(String(40))
    onset: Mapped[str] = mapped_column(String(20))
    onset_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    severity: Mapped[str] = mapped_column(String(20))
    serious: Mapped[bool] = mapped_column(Boolean, default=False)
    serious_criteria: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(30))
    relatedness: Mapped[str] = mapped_column(String(20))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(Text)
    loss_of_consciousness: Mapped[bool | None] = mapped_column(Boolean)
    # R-SES-04 outcome at the time of the report
    sae_required: Mapped[bool] = mapped_column(Boolean, default=False)
    form_required: Mapped[bool] = mapped_column(Boolean, default=False)
    seizure_form: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    form_initial_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    form_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlannedSessionEditRow(Base):
    """What a course edit keeps about one planned session beyond its date and status (R-SCH-06, R-SCH-09):
    why it was skipped and what replaced it, or the extension that added it."""

    __tablename__ = "rtms_planned_session_edit"

    # Named by hand: the conventional name would pass PostgreSQL's 63-character limit.
    planned_session_id: Mapped[str] = mapped_column(
        ForeignKey("rtms_planned_session.id", name="fk_rtms_planned_session_edit_planned_session"), primary_key=True)
    skip_reason: Mapped[str | None] = mapped_column(String(30))
    skip_action: Mapped[str | None] = mapped_column(String(30))
    skip_note: Mapped[str] = mapped_column(Text, default="")
    original_number: Mapped[int | None] = mapped_column(Integer)
    replaces_id: Mapped[str | None] = mapped_column(String(32))
    replaced_by_id: Mapped[str | None] = mapped_column(String(32))
    nominal_date: Mapped[dt.date | None] = mapped_column(Date)
    cluster: Mapped[str | None] = mapped_column(String(40))
    extension: Mapped[int | None] = mapped_column(Integer)


class CourseExtensionRow(Base):
    """R-SCH-09: sessions added to a course, with the reason (audited)."""

    __tablename__ = "rtms_course_extension"
    __table_args__ = (UniqueConstraint("course_id", "number", name="uq_rtms_course_extension_course_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("rtms_course.id"))
    number: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
