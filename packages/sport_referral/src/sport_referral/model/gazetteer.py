"""Records of the offline commune gazetteer (domain-sport §12.2) and the G-3 department rule.

The shipped file is ``catalogue/communes.csv.gz`` (built by ``tools/build_gazetteer.py``); the
loader and the look-ups live in :mod:`sport_referral.geo.gazetteer`.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "GAZETTEER_COLUMNS",
    "CommuneEntry",
    "CommuneLookup",
    "EntryType",
    "GazetteerMeta",
    "PointMethod",
    "department_of",
]

EntryType = Literal["commune", "arrondissement", "commune_deleguee", "commune_associee"]
PointMethod = Literal["town_hall", "representative_point", "centroid"]

# §12.2 columns, plus ``former_codes`` (codes merged into the commune, for the G-2 warning).
GAZETTEER_COLUMNS: tuple[str, ...] = (
    "insee_code", "name", "type", "parent_insee", "department_code", "region_code", "postcodes",
    "lat", "lon", "point_method", "population", "cog_year", "former_codes",
)


def department_of(insee_code: str) -> str:
    """G-3: the first 2 characters of the INSEE code (``2A``/``2B`` for Corsica), the first 3 for
    codes starting with ``97`` or ``98`` (overseas). Does not validate the code."""
    code = insee_code.strip().upper()
    return code[:3] if code.startswith(("97", "98")) else code[:2]


class CommuneEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the gazetteer. ``lat``/``lon`` are None for the few entries the sources give no
    point for (collectivités d'outre-mer, a handful of re-established or delegated communes)."""

    insee_code: str
    name: str
    type: EntryType
    parent_insee: str | None
    department_code: str
    region_code: str | None
    postcodes: tuple[str, ...]
    lat: float | None
    lon: float | None
    point_method: PointMethod | None
    population: int | None
    cog_year: int
    former_codes: tuple[str, ...] = ()

    @property
    def is_current(self) -> bool:
        """A commune or a municipal arrondissement: the codes a structure or patient may carry."""
        return self.type in ("commune", "arrondissement")

    @property
    def rollup_insee(self) -> str:
        """G-4: the code indicators roll up to (an arrondissement's commune; else itself)."""
        return self.parent_insee if self.type == "arrondissement" and self.parent_insee else self.insee_code


class CommuneLookup(msgspec.Struct, frozen=True, kw_only=True):
    """Outcome of checking a commune code against the gazetteer (§5.6 soft check, G-2).

    ``entry`` is the current commune or arrondissement with that code. When the code is unknown
    but was merged into a current commune, ``suggestion`` is that commune and a warning says so.
    """

    code: str
    entry: CommuneEntry | None
    suggestion: CommuneEntry | None
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def found(self) -> bool:
        return self.entry is not None


class GazetteerMeta(msgspec.Struct, frozen=True, kw_only=True):
    """The parts of ``communes.meta.json`` the application shows (sources and licence)."""

    cog_year: int
    build_date: str
    rows: int
    sources: dict[str, dict[str, object]]
    licence: dict[str, str]
