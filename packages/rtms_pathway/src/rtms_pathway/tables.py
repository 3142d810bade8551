"""Tables owned by rtms_pathway, on shared_core's metadata (one migration history)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared_core.db import Base, UTCDateTime, Versioned, utcnow


class TriageRecord(Base):
    """A physician's triage decision: the inputs, what Parcours proposed, and what was decided.

    Immutable: a new consultation is a new record, so the history shows every decision and override.
    """

    __tablename__ = "rtms_triage"
    __table_args__ = (Index("ix_rtms_triage_patient_at", "patient_id", "decided_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    proposal: Mapped[dict[str, Any]] = mapped_column(JSON)
    proposed_orientation: Mapped[str] = mapped_column(String(40))
    final_orientation: Mapped[str] = mapped_column(String(40))
    decision: Mapped[str] = mapped_column(String(20))  # accepted | overridden
    override_reason: Mapped[str | None] = mapped_column(Text)
    ruleset_version: Mapped[str] = mapped_column(String(40))
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Course(Versioned, Base):
    """An rTMS course (*cure*) of a patient, numbered from 1 per patient (domain-rtms §7.1)."""

    __tablename__ = "rtms_course"
    __table_args__ = (UniqueConstraint("patient_id", "course_number", name="uq_rtms_course_patient_number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    course_number: Mapped[int] = mapped_column(Integer)
    protocol_ref: Mapped[str] = mapped_column(String(80))  # "id@version"
    status: Mapped[str] = mapped_column(String(20))  # planned | active | completed | stopped_early
    start_date: Mapped[dt.date] = mapped_column(Date)
    induction_sessions: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlannedSessionRow(Base):
    """One planned session of a course: its rank, day and slot (R-SCH-08)."""

    __tablename__ = "rtms_planned_session"
    __table_args__ = (Index("ix_rtms_planned_session_course_number", "course_id", "number"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("rtms_course.id"))
    number: Mapped[int] = mapped_column(Integer)
    date: Mapped[dt.date] = mapped_column(Date)
    slot: Mapped[int] = mapped_column(Integer)
    phase: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))  # planned | skipped | delivered | superseded
