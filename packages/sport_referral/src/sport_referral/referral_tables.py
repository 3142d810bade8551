"""Tables of the sport referral lifecycle (domain-sport §1, §4, §8), on shared_core's metadata.

A sport referral is a shared ``referral`` row (workflow ``sport_referral``, its events in
``referral_event``, its optimistic version on ``referral.version``) plus the rows below. Column
names are a stable contract: the observer indicators (domain-sport §10) read them directly.

``sport_prescription`` — one signed APA prescription (§4.1), versioned (``version``).
    id, patient_id, organisation_id (prescriber's centre), prescriber_id (user id),
    prescriber_name, prescriber_rpps, prescribed_on, signed_at, expires_on (P-4),
    limitation_level (none|minimal|moderate|severe), intensity (light|moderate|vigorous),
    programme_months, sessions_per_week_min, sessions_per_week_max, sessions_planned,
    renews_prescription_id, status (active|cancelled), disability_families (JSON list of
    DisabilityFamily codes), data (JSON: the full ``ApaPrescription``, including the clinical
    ``eligibility_basis`` and ``severe_criteria``: prescriber side only), eligibility (JSON: the
    E-rule answers and outcome; clinical), needs (JSON: ``PatientNeeds``), lint_hits (JSON: C-5
    warnings the physician saw), medical_notes (prescriber-only free text; never leaves the
    prescriber side), created_by, created_at, updated_at, version.

``sport_referral_detail`` — one row per sport referral (primary key = ``referral.id``):
    referral_id, prescription_id, structure_id, patient_id, prescriber_id,
    prescriber_organisation_id, recipient_organisation_id (= the structure's organisation_id at
    creation), status (copy of ``referral.status``, kept in step by the service),
    structure_kind, structure_department_code, structure_region_code (geo_basis
    ``structure_location``), patient_department_code, patient_region_code (geo_basis
    ``patient_residence``, from the patient's commune at creation), disability_families (JSON
    list), limitation_level, sessions_per_week_min, programme_months, sessions_planned,
    created_at, sent_at, received_at, decided_at (accepted or declined), accepted_at,
    declined_at, decline_reason (DeclineReason code), first_session_planned_on (booking),
    first_session_at (R-6), closed_at (terminal), close_reason (reason code of the terminal
    move), previous_referral_id (R-10), consent_id (the ``share_referral`` consent in force
    when it was sent), updated_at. No free text, no identity: indicators can be built from this
    table alone.

``sport_attendance`` — a session attended or missed, or a contact attempt (R-7):
    id, referral_id, kind (session|contact_attempt), session_on, attended (bool; null for a
    contact attempt), recorded_by, recorded_at.

``sport_report`` — a D.1172-5 document (§1.5, §4.3, §4.5):
    id, referral_id, report_type (initial_assessment|periodic_report|final_assessment),
    performed_on, performer_profession, six_minute_walk_m, chair_stand_30s (count),
    one_leg_stance_s, handgrip_kg, ricci_gagnon_score (9-45), ricci_gagnon_band,
    motivation_stage, weekly_activity_minutes (LOINC 82290-8, indicator I10), flags_risk,
    shared_with_prescriber (``share_reports_with_prescriber`` in force when recorded: I09),
    data (JSON: programme, proposals, notes), recorded_by, recorded_at.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared_core.db import Base, UTCDateTime, Versioned, utcnow


class SportPrescription(Versioned, Base):
    __tablename__ = "sport_prescription"
    __table_args__ = (
        Index("ix_sport_prescription_patient", "patient_id", "prescribed_on"),
        Index("ix_sport_prescription_org_level", "organisation_id", "limitation_level"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id", name="fk_sport_prescription_patient"))
    organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisation.id", name="fk_sport_prescription_organisation"))
    prescriber_id: Mapped[str] = mapped_column(String(64))
    prescriber_name: Mapped[str] = mapped_column(String(200))
    prescriber_rpps: Mapped[str | None] = mapped_column(String(11))
    prescribed_on: Mapped[dt.date] = mapped_column(Date)
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    expires_on: Mapped[dt.date] = mapped_column(Date)
    limitation_level: Mapped[str] = mapped_column(String(10))
    intensity: Mapped[str] = mapped_column(String(10))
    programme_months: Mapped[int] = mapped_column(Integer)
    sessions_per_week_min: Mapped[int] = mapped_column(Integer)
    sessions_per_week_max: Mapped[int] = mapped_column(Integer)
    sessions_planned: Mapped[int | None] = mapped_column(Integer)
    renews_prescription_id: Mapped[str | None] = mapped_column(
        ForeignKey("sport_prescription.id", name="fk_sport_prescription_renews"))
    status: Mapped[str] = mapped_column(String(12), default="active")
    disability_families: Mapped[list[Any]] = mapped_column(JSON)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON)
    needs: Mapped[dict[str, Any]] = mapped_column(JSON)
    lint_hits: Mapped[list[Any]] = mapped_column(JSON)
    medical_notes: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SportReferralDetail(Base):
    __tablename__ = "sport_referral_detail"
    __table_args__ = (
        Index("ix_sport_referral_detail_structure_status", "structure_id", "status"),
        Index("ix_sport_referral_detail_prescription", "prescription_id"),
        Index("ix_sport_referral_detail_sent", "sent_at"),
        Index("ix_sport_referral_detail_patient_geo", "patient_region_code", "patient_department_code"),
    )

    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", name="fk_sport_referral_detail_referral"), primary_key=True)
    prescription_id: Mapped[str] = mapped_column(
        ForeignKey("sport_prescription.id", name="fk_sport_referral_detail_prescription"))
    structure_id: Mapped[str] = mapped_column(
        ForeignKey("sport_structure.id", name="fk_sport_referral_detail_structure"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id", name="fk_sport_referral_detail_patient"))
    prescriber_id: Mapped[str] = mapped_column(String(64))
    prescriber_organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisation.id", name="fk_sport_referral_detail_prescriber_org"))
    recipient_organisation_id: Mapped[str] = mapped_column(
        ForeignKey("organisation.id", name="fk_sport_referral_detail_recipient_org"))
    status: Mapped[str] = mapped_column(String(24))
    structure_kind: Mapped[str] = mapped_column(String(20))
    structure_department_code: Mapped[str | None] = mapped_column(String(3))
    structure_region_code: Mapped[str | None] = mapped_column(String(3))
    patient_department_code: Mapped[str | None] = mapped_column(String(3))
    patient_region_code: Mapped[str | None] = mapped_column(String(3))
    disability_families: Mapped[list[Any]] = mapped_column(JSON)
    limitation_level: Mapped[str] = mapped_column(String(10))
    sessions_per_week_min: Mapped[int] = mapped_column(Integer)
    programme_months: Mapped[int] = mapped_column(Integer)
    sessions_planned: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    declined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decline_reason: Mapped[str | None] = mapped_column(String(60))
    first_session_planned_on: Mapped[dt.date | None] = mapped_column(Date)
    first_session_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(String(60))
    previous_referral_id: Mapped[str | None] = mapped_column(
        ForeignKey("referral.id", name="fk_sport_referral_detail_previous"))
    consent_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SportAttendance(Base):
    __tablename__ = "sport_attendance"
    __table_args__ = (
        UniqueConstraint("referral_id", "kind", "session_on", name="uq_sport_attendance_referral_kind_day"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(
        ForeignKey("referral.id", name="fk_sport_attendance_referral"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    session_on: Mapped[dt.date] = mapped_column(Date)
    attended: Mapped[bool | None] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SportReport(Base):
    __tablename__ = "sport_report"
    __table_args__ = (Index("ix_sport_report_referral_type", "referral_id", "report_type"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id", name="fk_sport_report_referral"))
    report_type: Mapped[str] = mapped_column(String(24))
    performed_on: Mapped[dt.date] = mapped_column(Date)
    performer_profession: Mapped[str] = mapped_column(String(32))
    six_minute_walk_m: Mapped[int | None] = mapped_column(Integer)
    chair_stand_30s: Mapped[int | None] = mapped_column(Integer)
    one_leg_stance_s: Mapped[float | None] = mapped_column(Float)
    handgrip_kg: Mapped[float | None] = mapped_column(Float)
    ricci_gagnon_score: Mapped[int | None] = mapped_column(Integer)
    ricci_gagnon_band: Mapped[str | None] = mapped_column(String(16))
    motivation_stage: Mapped[str | None] = mapped_column(String(20))
    weekly_activity_minutes: Mapped[int | None] = mapped_column(Integer)
    flags_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    shared_with_prescriber: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
