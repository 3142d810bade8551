"""Tables of the rTMS intake and after-course part: referral details, course outcome, follow-up.

The referral itself is shared_core's ``Referral`` on ``RTMS_REFERRAL_WORKFLOW``; what an rTMS
referral carries beyond the workflow (the referrer's clinical letter, the identity they sent, the
triage that answered it) lives here, one row per referral. Migration 0006.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared_core.db import Base, UTCDateTime, Versioned, utcnow


class ReferralDetail(Base):
    """What the referrer wrote (domain-rtms §1 stage 1, §11 ServiceRequest), one row per referral.

    ``referrer_user_id`` is the account that sent it: a referrer sees only the referrals whose
    ``referrer_user_id`` is their own (per user, not per practice). A referral entered by the centre
    has no referrer account, only ``referrer_name``. The identity fields are what the referrer sent,
    kept as sent: the centre's Patient row may be corrected later, the referrer never reads it.
    """

    __tablename__ = "rtms_referral_detail"
    __table_args__ = (Index("ix_rtms_referral_detail_referrer", "referrer_user_id", "created_at"),)

    referral_id: Mapped[str] = mapped_column(ForeignKey("referral.id"), primary_key=True)
    referrer_user_id: Mapped[str | None] = mapped_column(String(64))
    referrer_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(100))
    given_names: Mapped[str] = mapped_column(String(150))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    ins: Mapped[str | None] = mapped_column(String(15))
    episode_start: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    clinical_summary: Mapped[str] = mapped_column(Text)
    current_treatment: Mapped[str] = mapped_column(Text)
    past_trials: Mapped[str | None] = mapped_column(Text)
    question: Mapped[str] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(20))
    triage_id: Mapped[str | None] = mapped_column(ForeignKey("rtms_triage.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CourseOutcome(Versioned, Base):
    """The end-of-course record of one course (domain-rtms §10.2 R-MBC-05..09): one row per course.

    ``summary`` is the computed :class:`rtms_pathway.outcome.OutcomeSummary` as JSON (status per
    scale, prompts with their letter paragraphs); the letter to the referrer is rendered from it.
    """

    __tablename__ = "rtms_course_outcome"

    course_id: Mapped[str] = mapped_column(ForeignKey("rtms_course.id"), primary_key=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"), index=True)
    referral_id: Mapped[str | None] = mapped_column(ForeignKey("referral.id"), index=True)
    course_status: Mapped[str] = mapped_column(String(20))  # completed | stopped_early
    stop_reason: Mapped[str | None] = mapped_column(Text)
    outcome_status: Mapped[str] = mapped_column(String(20))  # R-MBC-04 status or not_evaluable
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    maintenance_plan: Mapped[str] = mapped_column(String(20))  # none | classic | cluster | follow_up
    maintenance_template: Mapped[str | None] = mapped_column(String(40))
    clinician_comment: Mapped[str | None] = mapped_column(Text)
    ended_on: Mapped[dt.date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    letter_issued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class FollowUp(Versioned, Base):
    """A follow-up appointment after a course (domain-rtms §10.1: 1, 3, 6, 12 months after the end)."""

    __tablename__ = "rtms_follow_up"
    __table_args__ = (
        UniqueConstraint("course_id", "months_after_end", name="uq_rtms_follow_up_course_months"),
        Index("ix_rtms_follow_up_patient_due", "patient_id", "due_on"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("rtms_course.id"))
    patient_id: Mapped[str] = mapped_column(ForeignKey("patient.id"))
    months_after_end: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # planned | done | missed
    assessment_id: Mapped[str | None] = mapped_column(ForeignKey("assessment.id"))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
