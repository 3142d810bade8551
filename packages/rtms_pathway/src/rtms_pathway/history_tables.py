"""Tables of the treatment history (domain-rtms §5.1) and of the current medication list (§4).

- ``rtms_episode``: the depressive episode a patient's trials belong to, with the facts the staging
  needs (diagnosis, MSM severity at entry, start or duration, pseudo-resistance answers, DTD label).
  The current episode is the one without ``closed_on``; only its trials count for TRD definitions.
- ``rtms_treatment_trial``: one antidepressant, augmentation, psychotherapy, ECT, rTMS or esketamine
  trial (``TreatmentTrial``). Doses, weeks and percentages are stored as exact decimal text.
- ``rtms_medication``: one line of the current medication list, with its last dose change, which the
  medication review (R-MED-03) reads as a trigger.

All three are versioned: a stale save is a conflict, never a silent overwrite. Migration 0010.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared_core.db import Base, UTCDateTime, Versioned, utcnow


class EpisodeRow(Versioned, Base):
    """A depressive episode of a patient (``StagingInput`` minus the trials)."""

    __tablename__ = "rtms_episode"
    __table_args__ = (Index("ix_rtms_episode_patient_closed", "patient_id", "closed_on"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    diagnosis: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(40))
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    # Only when the start date is not known (a referrer's "about 14 months").
    duration_months: Mapped[int | None] = mapped_column(Integer)
    # R-STG-06 answers: checklist code -> True (present) / False (ruled out); absent = not reviewed.
    pseudo_resistance: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Clinician-assigned "difficult-to-treat depression" label (never computed, §5.3).
    dtd: Mapped[bool | None] = mapped_column(Boolean)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TreatmentTrialRow(Versioned, Base):
    """One treatment trial (domain-rtms §5.1 ``TreatmentTrial``)."""

    __tablename__ = "rtms_treatment_trial"
    __table_args__ = (
        Index("ix_rtms_treatment_trial_patient_start", "patient_id", "start_date"),
        Index("ix_rtms_treatment_trial_episode", "episode_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    episode_id: Mapped[str] = mapped_column(ForeignKey("rtms_episode.id"))
    modality: Mapped[str] = mapped_column(String(20))
    agent: Mapped[str] = mapped_column(String(120))
    atc: Mapped[str | None] = mapped_column(String(10))
    pharm_class: Mapped[str | None] = mapped_column(String(30))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    max_daily_dose: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(20))
    weeks_at_adequate_dose: Mapped[str | None] = mapped_column(String(20))
    adherence: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(30))
    improvement_pct: Mapped[str | None] = mapped_column(String(20))
    improvement_scale: Mapped[str | None] = mapped_column(String(40))
    stop_reason: Mapped[str | None] = mapped_column(String(30))
    sessions: Mapped[int | None] = mapped_column(Integer)
    ect_laterality: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str | None] = mapped_column(String(20))
    augments_agent: Mapped[str | None] = mapped_column(String(120))
    dose_confirmed_adequate: Mapped[bool | None] = mapped_column(Boolean)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MedicationRow(Versioned, Base):
    """One line of the patient's medication list. A stopped drug stays listed so R-MED-03 sees its stop."""

    __tablename__ = "rtms_medication"
    __table_args__ = (Index("ix_rtms_medication_patient_inn", "patient_id", "inn"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    inn: Mapped[str] = mapped_column(String(120))
    dose: Mapped[str | None] = mapped_column(String(20))
    unit: Mapped[str | None] = mapped_column(String(20))
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    # increase | decrease | stop (None: unchanged since it started)
    last_change_kind: Mapped[str | None] = mapped_column(String(20))
    last_change_on: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
