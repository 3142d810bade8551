"""The offline commune gazetteer (domain-sport §12.1-12.2): look-ups by INSEE code and by postcode
and name, department and region derivation (G-3), arrondissement roll-up (G-4), and the
merged-commune warning of §5.6.

The shipped file (``catalogue/communes.csv.gz``, ~0.8 MB) is read lazily, once per process, by
:func:`get_gazetteer`. Tests and tools can build a :class:`Gazetteer` from their own rows.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import cast

import msgspec

from shared_core.rules.identifiers import check_commune_insee
from shared_core.text import fold
from sport_referral.model.gazetteer import (
    GAZETTEER_COLUMNS,
    CommuneEntry,
    CommuneLookup,
    EntryType,
    GazetteerMeta,
    PointMethod,
    department_of,
)

__all__ = ["Gazetteer", "GazetteerError", "get_gazetteer", "normalise_place_name", "parse_gazetteer_csv"]

_CATALOGUE = "sport_referral.catalogue"
_CSV_NAME = "communes.csv.gz"
_META_NAME = "communes.meta.json"
_ENTRY_TYPES = frozenset({"commune", "arrondissement", "commune_deleguee", "commune_associee"})
_POINT_METHODS = frozenset({"town_hall", "representative_point", "centroid"})


class GazetteerError(ValueError):
    """The gazetteer file is missing or malformed."""


# La Poste "libellé d'acheminement" style: upper case, no accents, ST/STE abbreviations, CEDEX.
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}
_CEDEX = re.compile(r"\bcedex\b.*$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalise_place_name(name: str) -> str:
    """A comparison key for commune names: accent-free, lower case, punctuation as spaces,
    ``ST``/``STE`` expanded, any ``CEDEX …`` suffix dropped ("ST-DENIS CEDEX 9" → "saint denis")."""
    folded = _CEDEX.sub("", fold(name))
    words = _NON_ALNUM.sub(" ", folded).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)


def _split(value: str) -> tuple[str, ...]:
    return tuple(sys.intern(part) for part in value.split("|") if part)


def parse_gazetteer_csv(lines: Iterable[str]) -> Iterator[CommuneEntry]:
    """Parse gazetteer CSV text lines (header included) into entries; raises GazetteerError.

    Values many entries repeat (types, departments, postcodes, parent codes, years) are shared: every web
    worker keeps the 37,000 entries for its life. With the streamed parse of :meth:`Gazetteer.from_bytes`,
    the loaded gazetteer went from 51 to 21 MB of RSS."""
    reader = csv.DictReader(lines)
    missing = set(GAZETTEER_COLUMNS) - {"former_codes"} - set(reader.fieldnames or ())
    if missing:
        raise GazetteerError(f"gazetteer: missing columns {sorted(missing)}")
    years: dict[str, int] = {}
    for row in reader:
        try:
            entry_type = row["type"]
            method = row["point_method"] or None
            if entry_type not in _ENTRY_TYPES or (method is not None and method not in _POINT_METHODS):
                raise ValueError(f"bad type or point_method {entry_type!r}/{method!r}")
            year = row["cog_year"]
            yield CommuneEntry(
                insee_code=sys.intern(row["insee_code"]),
                name=row["name"],
                type=cast(EntryType, sys.intern(entry_type)),
                parent_insee=sys.intern(row["parent_insee"]) if row["parent_insee"] else None,
                department_code=sys.intern(row["department_code"]),
                region_code=sys.intern(row["region_code"]) if row["region_code"] else None,
                postcodes=_split(row["postcodes"]),
                lat=float(row["lat"]) if row["lat"] else None,
                lon=float(row["lon"]) if row["lon"] else None,
                point_method=cast("PointMethod | None", sys.intern(method) if method else None),
                population=int(row["population"]) if row["population"] else None,
                cog_year=years.setdefault(year, int(year)),
                former_codes=_split(row.get("former_codes") or ""),
            )
        except (KeyError, ValueError) as error:
            raise GazetteerError(f"gazetteer line {reader.line_num}: {error}") from None


class Gazetteer:
    """In-memory indexes over the gazetteer entries. Immutable after construction."""

    def __init__(self, entries: Iterable[CommuneEntry], meta_loader: Path | None = None) -> None:
        self._current: dict[str, CommuneEntry] = {}
        self._all: dict[str, list[CommuneEntry]] = {}
        self._by_postcode: dict[str, list[CommuneEntry]] = {}
        self._successor: dict[str, str] = {}
        self._region_of_department: dict[str, str] = {}
        self._meta_path = meta_loader
        self._meta: GazetteerMeta | None = None
        self._by_name: dict[str, list[CommuneEntry]] | None = None
        count = 0
        for entry in entries:
            count += 1
            self._all.setdefault(entry.insee_code, []).append(entry)
            if entry.is_current:
                self._current[entry.insee_code] = entry
                for former in entry.former_codes:
                    self._successor.setdefault(former, entry.insee_code)
                if entry.region_code and entry.type == "commune":
                    self._region_of_department.setdefault(entry.department_code, entry.region_code)
            elif entry.parent_insee:
                self._successor.setdefault(entry.insee_code, entry.parent_insee)
            for postcode in entry.postcodes:
                self._by_postcode.setdefault(postcode, []).append(entry)
        self.size = count

    # -- loading ------------------------------------------------------------------------------

    @classmethod
    def from_path(cls, path: Path) -> Gazetteer:
        """Load a gazetteer CSV (gzip when the name ends in ``.gz``)."""
        try:
            raw = path.read_bytes()
        except OSError as error:
            raise GazetteerError(f"gazetteer file {path}: {error}") from None
        return cls.from_bytes(raw, gzipped=path.suffix == ".gz", meta_path=path.with_name(_META_NAME))

    @classmethod
    def from_bytes(cls, raw: bytes, *, gzipped: bool = True, meta_path: Path | None = None) -> Gazetteer:
        # Streamed: the whole text decoded at once was a 16 MB peak the heap kept.
        binary = gzip.GzipFile(fileobj=io.BytesIO(raw)) if gzipped else io.BytesIO(raw)
        with io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
            return cls(parse_gazetteer_csv(text), meta_path)

    @classmethod
    def shipped(cls) -> Gazetteer:
        """The gazetteer shipped in ``sport_referral/catalogue`` (prefer :func:`get_gazetteer`)."""
        package = resources.files(_CATALOGUE)
        raw = package.joinpath(_CSV_NAME).read_bytes()
        meta = package.joinpath(_META_NAME)
        return cls.from_bytes(raw, gzipped=True, meta_path=Path(str(meta)) if meta.is_file() else None)

    @property
    def meta(self) -> GazetteerMeta | None:
        """Sources, licences, build date and COG year from ``communes.meta.json``, when present."""
        if self._meta is None and self._meta_path is not None and self._meta_path.is_file():
            raw = json.loads(self._meta_path.read_text("utf-8"))
            licence = raw.get("licence", {})
            self._meta = GazetteerMeta(
                cog_year=int(raw["cog_year"]), build_date=str(raw["build_date"]), rows=int(raw["rows"]),
                sources=raw.get("sources", {}),
                licence={key: str(value) for key, value in licence.items()},
            )
        return self._meta

    # -- look-ups -----------------------------------------------------------------------------

    def current_entries(self) -> list[CommuneEntry]:
        """Every current commune and arrondissement (not the former codes)."""
        return list(self._current.values())

    def commune(self, insee_code: str) -> CommuneEntry | None:
        """The current commune or municipal arrondissement with this code, or None."""
        return self._current.get(insee_code.strip().upper())

    def entries(self, insee_code: str) -> list[CommuneEntry]:
        """Every entry with this code (a delegated commune may share its code with its commune)."""
        return list(self._all.get(insee_code.strip().upper(), ()))

    def successor(self, insee_code: str) -> CommuneEntry | None:
        """The current commune a former, delegated or associated code now belongs to, if known."""
        code = insee_code.strip().upper()
        seen: set[str] = set()
        while code in self._successor and code not in seen:
            seen.add(code)
            code = self._successor[code]
            current = self._current.get(code)
            if current is not None:
                return current
        return None

    def check(self, insee_code: str) -> CommuneLookup:
        """§5.6 / G-2: format error, or presence in the gazetteer (absent = warning + suggestion)."""
        identifier = check_commune_insee(insee_code)
        code = identifier.value
        if not identifier.valid:
            return CommuneLookup(code=code, entry=None, suggestion=None, errors=tuple(identifier.errors), warnings=())
        entry = self._current.get(code)
        if entry is not None:
            return CommuneLookup(code=code, entry=entry, suggestion=None, errors=(), warnings=())
        suggestion = self.successor(code)
        if suggestion is not None:
            warning = (f"commune {code} is not a current commune (COG {suggestion.cog_year}): it was merged into "
                       f"{suggestion.insee_code} {suggestion.name}; use {suggestion.insee_code}")
        else:
            warning = f"commune {code} is not in the gazetteer (merged, renamed or mistyped?)"
        return CommuneLookup(code=code, entry=None, suggestion=suggestion, errors=(), warnings=(warning,))

    def by_postcode(self, postcode: str, *, include_former: bool = False) -> list[CommuneEntry]:
        """Current communes/arrondissements served by a postcode (G-2: possibly several)."""
        found = self._by_postcode.get(postcode.strip(), [])
        if include_former:
            return list(found)
        return [entry for entry in found if entry.is_current]

    def _name_index(self) -> dict[str, list[CommuneEntry]]:
        if self._by_name is None:
            index: dict[str, list[CommuneEntry]] = {}
            for entries in self._all.values():
                for entry in entries:
                    index.setdefault(normalise_place_name(entry.name), []).append(entry)
            self._by_name = index
        return self._by_name

    def find(self, postcode: str, name: str) -> list[CommuneEntry]:
        """Current communes matching a postcode and a name (La Poste spelling tolerated).

        A name matching a delegated or associated commune resolves to its current commune. Several
        results are possible; the caller must then ask (G-2: the product never guesses).
        """
        postcode = postcode.strip()
        results: dict[str, CommuneEntry] = {}
        for entry in self._name_index().get(normalise_place_name(name), ()):
            current = entry if entry.is_current else self.successor(entry.insee_code)
            if current is None:
                continue
            # The postcode may be listed on the entry itself or only on its current commune
            # (the sources often give no postcode to delegated communes).
            if postcode in entry.postcodes or postcode in current.postcodes:
                results[current.insee_code] = current
        return sorted(results.values(), key=lambda entry: entry.insee_code)

    def postcode_matches(self, insee_code: str, postcode: str) -> bool | None:
        """Whether the postcode serves the commune; None when the commune is unknown or has no postcode."""
        entry = self.commune(insee_code)
        if entry is None or not entry.postcodes:
            return None
        if postcode in entry.postcodes:
            return True
        # Paris/Lyon/Marseille: the commune code with an arrondissement postcode, or the reverse.
        related = [self.commune(entry.parent_insee)] if entry.parent_insee else []
        related += [e for e in self._by_postcode.get(postcode, []) if e.parent_insee == entry.insee_code]
        return any(other is not None and postcode in other.postcodes for other in related)

    def department_code(self, insee_code: str) -> str:
        """G-3 (from the code itself; the gazetteer is not needed)."""
        return department_of(insee_code)

    def region_code(self, insee_code: str) -> str | None:
        """The region of a commune: its gazetteer entry, else its department's region."""
        entry = self.commune(insee_code) or self.successor(insee_code)
        if entry is not None and entry.region_code:
            return entry.region_code
        return self._region_of_department.get(department_of(insee_code))

    def region_of_department(self, department_code: str) -> str | None:
        return self._region_of_department.get(department_code.strip().upper())

    def point(self, insee_code: str) -> tuple[float, float] | None:
        """The commune point ``(lat, lon)``, or None when the sources give none."""
        entry = self.commune(insee_code)
        if entry is None or entry.lat is None or entry.lon is None:
            return None
        return entry.lat, entry.lon

    def rollup(self, insee_code: str) -> str:
        """G-4: arrondissements roll up to their commune (75111 → 75056); other codes unchanged."""
        entry = self.commune(insee_code)
        return entry.rollup_insee if entry is not None else insee_code.strip().upper()

    def __len__(self) -> int:
        return self.size

    def __contains__(self, insee_code: object) -> bool:
        return isinstance(insee_code, str) and insee_code.strip().upper() in self._current


_LOCK = threading.Lock()
_SHIPPED: Gazetteer | None = None


def get_gazetteer() -> Gazetteer:
    """The shipped gazetteer, loaded on first use and then shared (thread-safe, loaded once)."""
    global _SHIPPED
    if _SHIPPED is None:
        with _LOCK:
            if _SHIPPED is None:
                _SHIPPED = Gazetteer.shipped()
    return _SHIPPED


def entry_to_dict(entry: CommuneEntry) -> dict[str, object]:
    """Plain-data form of an entry (for JSON answers)."""
    return cast("dict[str, object]", msgspec.to_builtins(entry))
