"""Tables of the directory administration: structure import jobs and their progress (domain-sport §6).

A job row is written before the file is read and updated while it runs, so the progress bar and
the final report survive a page reload or a second browser tab. The structures themselves are
written by ``service.save_structures`` in one transaction: a job that dies mid-way has written
nothing, and its row (heartbeat gone stale) is shown as failed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared_core.db import Base, UTCDateTime, utcnow


class SportImportJob(Base):
    """One uploaded directory file and what became of it.

    ``status``: ``queued`` → ``reading`` → ``saving`` → ``done`` (rows written, the report says
    which were skipped) | ``rejected`` (nothing written: a file error, or an all-or-nothing file
    with a bad row) | ``failed`` (the job crashed or was interrupted; nothing written).
    """

    __tablename__ = "sport_import_job"
    __table_args__ = (Index("ix_sport_import_job_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(20))
    all_or_nothing: Mapped[bool] = mapped_column(Boolean)
    encoding: Mapped[str | None] = mapped_column(String(20))  # None = the format's default (§6)
    file_bytes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Counts and the row-by-row report (skipped rows with every reason, warnings, conflicts), as JSON.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)


class SportSuppressionRegister(Base):
    """Cells hidden in earlier indicator outputs of one period (domain-sport §10.2 I-2): they stay
    hidden in every later table of the same period, so two releases can never be subtracted to
    recover a suppressed value. Keyed by ``<period_start>/<period_end>/<geo_basis>``."""

    __tablename__ = "sport_suppression_register"

    period_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    cells: Mapped[list[Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
