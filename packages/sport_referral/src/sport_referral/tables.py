"""Tables owned by sport_referral, on shared_core's metadata (one migration history)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared_core.db import Base, UTCDateTime, Versioned, utcnow


class SportStructure(Versioned, Base):
    """A receiving structure or practice place of the directory.

    The full record (domain-sport §5.5) is kept as JSON; the columns searched or joined on are
    copied out so a 30 km search is an index range scan, not a table scan.
    """

    __tablename__ = "sport_structure"
    __table_args__ = (
        UniqueConstraint("source", "source_ref", name="uq_sport_structure_source_ref"),
        Index("ix_sport_structure_position", "latitude", "longitude"),
        Index("ix_sport_structure_department", "department_code", "kind"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    commune_insee: Mapped[str] = mapped_column(String(5))
    department_code: Mapped[str | None] = mapped_column(String(3))
    region_code: Mapped[str | None] = mapped_column(String(3))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accepting_referrals: Mapped[bool] = mapped_column(Boolean)
    # The organisation whose coordinator accounts receive this structure's referrals and edit its
    # profile; None for a structure nobody in Parcours answers for yet.
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisation.id", name="fk_sport_structure_organisation"), index=True)
    source: Mapped[str] = mapped_column(String(20))
    source_ref: Mapped[str] = mapped_column(String(100))
    profile_confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
