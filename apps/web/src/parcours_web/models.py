"""Every table of the application, imported so the metadata is complete (migrations, tests)."""

from __future__ import annotations

import parcours_web.auth.tables
import rtms_pathway.history_tables
import rtms_pathway.intake_tables
import rtms_pathway.session_tables
import rtms_pathway.tables
import shared_core.tables
import sport_referral.admin_tables
import sport_referral.referral_tables
import sport_referral.tables
from shared_core.db import metadata

__all__ = ["metadata"]
_TABLE_MODULES = (shared_core.tables, rtms_pathway.tables, rtms_pathway.intake_tables, rtms_pathway.session_tables,
                  rtms_pathway.history_tables,
                  sport_referral.tables, sport_referral.admin_tables,
                  sport_referral.referral_tables, parcours_web.auth.tables)
