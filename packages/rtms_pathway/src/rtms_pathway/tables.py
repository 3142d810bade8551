"""Tables owned by rtms_pathway, on shared_core's metadata (one migration history)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared_core.db import Base, UTCDateTime, utcnow


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
