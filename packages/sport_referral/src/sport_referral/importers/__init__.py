"""Structure importers (domain-sport §6): ``parcours import structures FILE --format dataes|finess|parcours``.

Pure-ish: each importer takes bytes, text or a stream plus the gazetteer, validates every row
independently and returns an :class:`~sport_referral.importers.report.ImportResult` — records,
their idempotency keys ``(source, source_ref)`` and a row-by-row report. Nothing is written;
persistence (and the rule that coordinator-confirmed fields are never overwritten) belongs to the
caller.
"""

from __future__ import annotations

from typing import Literal

from sport_referral.geo.gazetteer import Gazetteer
from sport_referral.importers.dataes import import_dataes
from sport_referral.importers.finess import import_finess
from sport_referral.importers.parcours_format import import_parcours
from sport_referral.importers.report import ImportReport, ImportResult, ImportSource, ProgressCallback
from sport_referral.model.imports import ImportSettings

__all__ = [
    "ImportFormat",
    "ImportReport",
    "ImportResult",
    "import_dataes",
    "import_finess",
    "import_parcours",
    "import_structures",
]

ImportFormat = Literal["dataes", "finess", "parcours"]


def import_structures(
    source: ImportSource,
    file_format: ImportFormat,
    gazetteer: Gazetteer,
    *,
    settings: ImportSettings | None = None,
    encoding: str | None = None,
    all_or_nothing: bool = False,
    progress: ProgressCallback | None = None,
    total: int | None = None,
) -> ImportResult:
    """Dispatch on ``--format``. ``encoding`` defaults to UTF-8 (Data ES), auto (FINESS: UTF-8 else
    ISO-8859-15); the Parcours format is always UTF-8."""
    if file_format == "dataes":
        return import_dataes(source, gazetteer, settings=settings, encoding=encoding or "utf-8",
                             all_or_nothing=all_or_nothing, progress=progress, total=total)
    if file_format == "finess":
        return import_finess(source, gazetteer, settings=settings, encoding=encoding or "auto",
                             all_or_nothing=all_or_nothing, progress=progress, total=total)
    if file_format == "parcours":
        return import_parcours(source, gazetteer, settings=settings, all_or_nothing=all_or_nothing,
                               progress=progress, total=total)
    raise ValueError(f"unknown import format {file_format!r}: expected dataes, finess or parcours")
