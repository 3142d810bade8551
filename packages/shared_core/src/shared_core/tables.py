"""Tables owned by shared_core: identities, assessments, referrals, consent, audit, closures.

Identifiers are opaque strings so records can be exchanged (FHIR, exports) without exposing
database sequences; the patient id is pseudonymous and never derived from identity data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared_core.db import Base, UTCDateTime, Versioned, utcnow


class Organisation(Versioned, Base):
    """A centre, a referrer's practice, or a sport-health structure."""

    __tablename__ = "organisation"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    finess: Mapped[str | None] = mapped_column(String(9), unique=True)
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    holiday_zone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Practitioner(Versioned, Base):
    __tablename__ = "practitioner"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_name: Mapped[str] = mapped_column(String(100))
    given_name: Mapped[str] = mapped_column(String(100))
    profession: Mapped[str] = mapped_column(String(40))
    rpps: Mapped[str | None] = mapped_column(String(11), unique=True)
    organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Patient(Versioned, Base):
    __tablename__ = "patient"
    __table_args__ = (
        Index("ix_patient_org_search", "organisation_id", "search_key"),
        Index("ix_patient_org_updated", "organisation_id", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"))
    family_name: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(150))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    ins: Mapped[str | None] = mapped_column(String(15), unique=True)
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    address_line: Mapped[str | None] = mapped_column(String(250))
    # Lower-case, accent-free "family given id" so search is one indexed LIKE on every backend.
    search_key: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Assessment(Base):
    """One administration of a rating scale: item answers plus the derived score, immutable."""

    __tablename__ = "assessment"
    __table_args__ = (Index("ix_assessment_patient_scale_time", "patient_id", "scale_code", "administered_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    scale_code: Mapped[str] = mapped_column(String(32))
    scale_version: Mapped[str] = mapped_column(String(32))
    administered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(16))
    entered_by: Mapped[str] = mapped_column(String(64))
    items: Mapped[list[Any]] = mapped_column(JSON)
    total: Mapped[int | None] = mapped_column(Integer)
    band: Mapped[str | None] = mapped_column(String(40))
    subscores: Mapped[dict[str, Any]] = mapped_column(JSON)
    alerts: Mapped[list[Any]] = mapped_column(JSON)
    prorated: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SafetyAlert(Base):
    """A safety trigger raised by an assessment (e.g. PHQ-9 item 9 > 0), kept until acknowledged."""

    __tablename__ = "safety_alert"
    __table_args__ = (Index("ix_safety_alert_patient_open", "patient_id", "acknowledged_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    assessment_id: Mapped[str] = mapped_column(ForeignKey("assessment.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    scale_code: Mapped[str] = mapped_column(String(32))
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)


class Referral(Versioned, Base):
    """A referral on one of the shared workflows (rTMS intake, sport referral)."""

    __tablename__ = "referral"
    __table_args__ = (
        Index("ix_referral_recipient_status", "recipient_organisation_id", "status"),
        Index("ix_referral_patient", "patient_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workflow: Mapped[str] = mapped_column(String(40))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    sender_organisation_id: Mapped[str | None] = mapped_column(ForeignKey("organisation.id"))
    recipient_organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReferralEvent(Base):
    """Who moved a referral from which state to which, when and why; append-only."""

    __tablename__ = "referral_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), index=True)
    source: Mapped[str | None] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    reason_code: Mapped[str | None] = mapped_column(String(60))
    reason_text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Consent(Base):
    """A consent as given; withdrawal is a separate append-only row (domain-sport C-6)."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_patient_scope", "patient_id", "scope"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    scope: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str | None] = mapped_column(String(64))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    granted_by: Mapped[str] = mapped_column(String(32))
    collection_mode: Mapped[str] = mapped_column(String(32))
    notice_version: Mapped[str] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsentWithdrawal(Base):
    __tablename__ = "consent_withdrawal"

    consent_id: Mapped[str] = mapped_column(ForeignKey("consent.id"), primary_key=True)
    withdrawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEvent(Base):
    """Append-only trail of every read of a patient record and every write.

    Database triggers (see the migration) refuse UPDATE and DELETE, so not even a bug in the
    application can rewrite history.
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_patient_at", "patient_id", "at"),
        Index("ix_audit_event_actor_at", "actor_id", "at"),
        Index("ix_audit_event_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(String(500))


class CentreClosure(Base):
    """Days a centre is closed (in addition to public holidays), for the working-day calendar."""

    __tablename__ = "centre_closure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisation.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(120))
