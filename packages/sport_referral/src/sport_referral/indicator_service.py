"""Observer indicators (domain-sport §10): referral facts from the sport referral tables, suppressed
tables, and the open-data export.

The facts are read from ``sport_referral_detail`` (no name, no free text, no identity), plus the
attendance rows and the status history (``referral_event``) for the 3-month adherence. Geography
is the patient-residence snapshot taken when the referral was created (``geo_basis =
patient_residence``, the §10.1 default), or the structure's place (``structure_location``).

The observer's scope (one region or one department, or national) is applied **before**
``rules.indicators.compute_indicators``, so suppression runs on the exact table delivered (I-5).
Nothing returned here describes one referral: ``referral_id`` stays inside this module's facts and
``IndicatorTable`` holds aggregated, suppressed cells only (C-8).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import multiprocessing
import threading
import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import FieldError, ValidationFailed
from shared_core.services import audit
from shared_core.tables import ReferralEvent
from sport_referral.admin_tables import SportSuppressionRegister
from sport_referral.model.indicators import (
    CellKey,
    IndicatorCell,
    IndicatorSettings,
    IndicatorTable,
    ReferralFact,
    TerminalStatus,
    load_indicator_settings,
)
from sport_referral.referral_tables import SportAttendance, SportReferralDetail
from sport_referral.rules.indicators import NATIONAL, cast_key, compute_indicators
from sport_referral.rules.opendata import export_csv, export_json

__all__ = [
    "GEO_BASES",
    "IndicatorQuery",
    "ObserverIndicators",
    "indicator_export",
    "load_facts",
    "observer_indicators",
    "parse_indicator_query",
    "planned_sessions_to_day_90",
]

PARIS = ZoneInfo("Europe/Paris")
ADHERENCE_DAYS = 90
MAX_MONTHS = 24
BATCH = 900
COG_YEAR = 2026
SOFTWARE_VERSION = "parcours 0.1.0"
CACHE_SIZE = 4
# From this many referrals a table is computed in a child process (its peak memory stays out of the web worker).
CHILD_PROCESS_FACTS = 1000
GEO_BASES: tuple[str, ...] = ("patient_residence", "structure_location")
GeoBasis = Literal["patient_residence", "structure_location"]


class IndicatorQuery(msgspec.Struct, frozen=True, kw_only=True):
    period_start: dt.date
    period_end: dt.date
    scope_level: Literal["national", "region", "department"] = "national"
    scope_code: str = NATIONAL
    geo_basis: GeoBasis = "patient_residence"

    @property
    def period_label(self) -> str:
        return f"{self.period_start.isoformat()}/{self.period_end.isoformat()}"


class ObserverIndicators(msgspec.Struct, frozen=True, kw_only=True):
    query: IndicatorQuery
    table: IndicatorTable
    generated_at: dt.datetime  # when this answer was given (the export's timestamp)
    computed_at: dt.datetime  # when the table was computed from the referral data


def _local_date(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else value.astimezone(PARIS).date()


def _month_start(text: str) -> dt.date | None:
    try:
        year, month = text.split("-")
        return dt.date(int(year), int(month), 1)
    except ValueError:
        return None


def _month_end(start: dt.date) -> dt.date:
    following = dt.date(start.year + 1, 1, 1) if start.month == 12 else dt.date(start.year, start.month + 1, 1)
    return following - dt.timedelta(days=1)


def parse_indicator_query(raw: dict[str, str | None], today: dt.date) -> IndicatorQuery:
    """``period_from`` / ``period_to`` as months ``YYYY-MM`` (default: the last 12 months), ``area``
    (``FR``, ``R:<region>`` or ``D:<department>``) and geo basis; ValidationFailed (422) on bad input."""
    errors: list[FieldError] = []
    default_end = dt.date(today.year, today.month, 1)
    default_start = dt.date(default_end.year - 1, default_end.month, 1) + dt.timedelta(days=31)
    default_start = dt.date(default_start.year, default_start.month, 1)
    start = _month_start(raw.get("period_from") or "") if raw.get("period_from") else default_start
    end_month = _month_start(raw.get("period_to") or "") if raw.get("period_to") else default_end
    if start is None:
        errors.append(FieldError("period_from", "Enter a month as YYYY-MM."))
    if end_month is None:
        errors.append(FieldError("period_to", "Enter a month as YYYY-MM."))
    if start is not None and end_month is not None:
        months = (end_month.year - start.year) * 12 + end_month.month - start.month + 1
        if months < 1:
            errors.append(FieldError("period_to", "The last month must not be before the first month."))
        elif months > MAX_MONTHS:
            errors.append(FieldError("period_from", "Choose a period of at most 24 months."))
    scope = (raw.get("area") or "").strip().upper()
    level: Literal["national", "region", "department"] = "national"
    code = NATIONAL
    if scope and scope != NATIONAL:
        kind, _, value = scope.partition(":")
        if kind == "R" and value.isdigit() and len(value) == 2:
            level, code = "region", value
        elif kind == "D" and (value.isdigit() or value in ("2A", "2B")) and len(value) in (2, 3):
            level, code = "department", value
        else:
            errors.append(FieldError("area", "Choose a region or a department from the list."))
    basis = raw.get("basis") or "patient_residence"
    if basis not in GEO_BASES:
        errors.append(FieldError("basis", "Choose a geographic basis from the list."))
    if errors or start is None or end_month is None:
        raise ValidationFailed(errors)
    return IndicatorQuery(period_start=start, period_end=_month_end(end_month), scope_level=level, scope_code=code,
                          geo_basis=basis)  # type: ignore[arg-type]


def planned_sessions_to_day_90(sessions_per_week_min: int, sessions_planned: int | None) -> int:
    """Sessions planned up to day 90 (I05, product definition): the prescribed weekly minimum over
    90 days, capped by the number of sessions planned for the whole programme when it is stated."""
    by_frequency = math.floor(sessions_per_week_min * ADHERENCE_DAYS / 7)
    return min(by_frequency, sessions_planned) if sessions_planned else by_frequency


def _terminal(detail: Any) -> TerminalStatus | None:
    """``detail``: a row of ``_FACT_COLUMNS``."""
    if detail.closed_at is None:
        return None
    if detail.status == "completed":
        return "completed"
    if detail.status == "lost_to_follow_up":
        return "lost_to_follow_up"
    if detail.status == "cancelled" and detail.accepted_at is not None:
        return "cancelled_after_acceptance"
    return None


def _geo_columns(basis: GeoBasis) -> tuple[Any, Any]:
    if basis == "structure_location":
        return SportReferralDetail.structure_department_code, SportReferralDetail.structure_region_code
    return SportReferralDetail.patient_department_code, SportReferralDetail.patient_region_code


# Columns, not entities: a national period reads a few hundred thousand referrals.
_FACT_COLUMNS = (
    SportReferralDetail.referral_id, SportReferralDetail.disability_families, SportReferralDetail.limitation_level,
    SportReferralDetail.structure_kind, SportReferralDetail.sent_at, SportReferralDetail.accepted_at,
    SportReferralDetail.declined_at, SportReferralDetail.first_session_at, SportReferralDetail.sessions_per_week_min,
    SportReferralDetail.sessions_planned, SportReferralDetail.status, SportReferralDetail.closed_at,
)


def _fact_conditions(query: IndicatorQuery) -> list[Any]:
    """The referrals that have an event in the period, within the query's scope."""
    department_column, region_column = _geo_columns(query.geo_basis)
    start = dt.datetime.combine(query.period_start, dt.time(), PARIS) - dt.timedelta(days=1)
    end = dt.datetime.combine(query.period_end + dt.timedelta(days=1), dt.time(), PARIS) + dt.timedelta(days=1)
    in_period = or_(*(and_(column >= start, column < end) for column in (
        SportReferralDetail.sent_at, SportReferralDetail.decided_at, SportReferralDetail.first_session_at,
        SportReferralDetail.closed_at)))
    conditions: list[Any] = [in_period]
    if query.scope_level == "region":
        conditions.append(region_column == query.scope_code)
    elif query.scope_level == "department":
        conditions.append(department_column == query.scope_code)
    return conditions


def load_facts(database: Database, query: IndicatorQuery, as_of: dt.date) -> list[ReferralFact]:
    """The facts of the referrals that have an event in the period, within the query's scope."""
    department_column, region_column = _geo_columns(query.geo_basis)
    conditions = _fact_conditions(query)
    with database.read() as session:
        details = session.execute(select(*_FACT_COLUMNS, department_column.label("department"),
                                         region_column.label("region")).where(*conditions)).all()
        cohort = {d.referral_id: d for d in details if d.first_session_at is not None
                  and _local_date(d.first_session_at) + dt.timedelta(days=ADHERENCE_DAYS) <= as_of}  # type: ignore[operator]
        attended: dict[str, int] = defaultdict(int)
        status_at_90: dict[str, str] = {}
        ids = sorted(cohort)
        for offset in range(0, len(ids), BATCH):
            chunk = ids[offset:offset + BATCH]
            for referral_id, session_on in session.execute(
                    select(SportAttendance.referral_id, SportAttendance.session_on).where(
                        SportAttendance.referral_id.in_(chunk), SportAttendance.kind == "session",
                        SportAttendance.attended.is_(True))):
                first = _local_date(cohort[referral_id].first_session_at)
                if first is not None and first <= session_on <= first + dt.timedelta(days=ADHERENCE_DAYS):
                    attended[referral_id] += 1
            for referral_id, target, at in session.execute(
                    select(ReferralEvent.referral_id, ReferralEvent.target, ReferralEvent.at)
                    .where(ReferralEvent.referral_id.in_(chunk)).order_by(ReferralEvent.at, ReferralEvent.id)):
                first = cohort[referral_id].first_session_at
                if first is not None and at <= first + dt.timedelta(days=ADHERENCE_DAYS):
                    status_at_90[referral_id] = target
    facts = []
    for detail in details:
        in_cohort = detail.referral_id in cohort
        facts.append(ReferralFact(
            referral_id=detail.referral_id,
            department_code=detail.department,
            region_code=detail.region,
            disability_families=tuple(sorted(str(f) for f in detail.disability_families or ())),
            limitation_level=detail.limitation_level,
            structure_kind=detail.structure_kind,
            sent_at=_local_date(detail.sent_at),
            decided_at=_local_date(detail.accepted_at or detail.declined_at),
            decision="accepted" if detail.accepted_at else "declined" if detail.declined_at else None,
            first_session_at=_local_date(detail.first_session_at),
            planned_sessions_day_90=(planned_sessions_to_day_90(detail.sessions_per_week_min, detail.sessions_planned)
                                     if in_cohort else None),
            attended_sessions_day_90=attended.get(detail.referral_id, 0) if in_cohort else None,
            status_at_day_90=(status_at_90.get(detail.referral_id, detail.status) if in_cohort else None),
            terminal_at=_local_date(detail.closed_at),
            terminal_status=_terminal(detail),
            is_cancelled_draft=detail.status == "cancelled" and detail.sent_at is None,
        ))
    return facts


def _stamps(database: Database, register_key: str) -> tuple[tuple[int, int], Any]:
    """(data stamp, register stamp): the first changes when a referral moves (every move writes an
    event, sending included) or gets an attendance row; the second when the period's suppression
    register grows. Primary-key and unique-key look-ups only, in one round trip."""
    with database.read_rows() as connection:
        events, attendance, register = connection.execute(select(
            select(func.max(ReferralEvent.id)).scalar_subquery(),
            select(func.max(SportAttendance.id)).scalar_subquery(),
            select(SportSuppressionRegister.updated_at)
            .where(SportSuppressionRegister.period_key == register_key).scalar_subquery())).one()
    return (events or 0, attendance or 0), register


def _register_key(query: IndicatorQuery) -> str:
    return f"{query.period_start.isoformat()}/{query.period_end.isoformat()}/{query.geo_basis}"


def _previously_suppressed(database: Database, key: str) -> frozenset[CellKey]:
    with database.read() as session:
        row = session.get(SportSuppressionRegister, key)
        return frozenset(cast_key(tuple(cell)) for cell in row.cells) if row is not None else frozenset()


def _keep_register(database: Database, key: str, register: frozenset[CellKey]) -> None:
    """I-2 across releases: the period's register only grows."""
    for attempt in range(2):
        try:
            with database.write() as session:
                row = session.get(SportSuppressionRegister, key)
                known = {cast_key(tuple(cell)) for cell in row.cells} if row is not None else set()
                if register <= known:
                    return
                cells = [list(cell) for cell in sorted(known | register)]
                if row is None:
                    session.add(SportSuppressionRegister(period_key=key, cells=cells, updated_at=utcnow()))
                else:
                    row.cells, row.updated_at = cells, utcnow()
            return
        except IntegrityError:  # another request created the row first: merge into it
            if attempt:
                raise


class _Entry(msgspec.Struct, frozen=True):
    table: IndicatorTable
    data_stamp: tuple[int, int]
    register_stamp: Any
    computed_at: dt.datetime


class _Cache:
    """The last few computed tables (a national table is large: few entries, whole-table reuse)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.lock = threading.Lock()
        self.entries: OrderedDict[tuple[Any, ...], _Entry] = OrderedDict()
        self.refreshing: set[tuple[Any, ...]] = set()
        # A key's lock lives while a thread holds or waits for it.
        self._computing: weakref.WeakValueDictionary[tuple[Any, ...], threading.Lock] = weakref.WeakValueDictionary()

    def get(self, key: tuple[Any, ...]) -> _Entry | None:
        with self.lock:
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, key: tuple[Any, ...], entry: _Entry) -> None:
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)

    def computing(self, key: tuple[Any, ...]) -> threading.Lock:
        """The lock one computation of ``key`` holds; requests needing the same table wait on it."""
        with self.lock:
            lock = self._computing.get(key)
            if lock is None:
                lock = self._computing[key] = threading.Lock()
            return lock

    def claim_refresh(self, key: tuple[Any, ...]) -> bool:
        """True for the one caller that should refresh ``key`` now (none is running)."""
        with self.lock:
            if key in self.refreshing:
                return False
            self.refreshing.add(key)
            return True

    def end_refresh(self, key: tuple[Any, ...]) -> None:
        with self.lock:
            self.refreshing.discard(key)


_CACHE = _Cache(CACHE_SIZE)
_log = logging.getLogger(__name__)


def _computed_entry(database: Database, query: IndicatorQuery, as_of: dt.date,
                    settings: IndicatorSettings) -> _Entry:
    register_key = _register_key(query)
    data_stamp, register_stamp = _stamps(database, register_key)
    facts = load_facts(database, query, as_of)
    for _attempt in range(3):
        computed = compute_indicators(facts, period_start=query.period_start, period_end=query.period_end,
                                      as_of=as_of, settings=settings, geo_basis=query.geo_basis,
                                      previously_suppressed=_previously_suppressed(database, register_key))
        _keep_register(database, register_key, computed.register)
        grown = _stamps(database, register_key)[1]
        if grown == register_stamp:
            break
        # This table hid cells the register did not hold yet: compute again against the grown register,
        # so what is cached is what any later computation of the period would give (I-2).
        register_stamp = grown
    # Scoped once, so a page shown again gets the very same table object (its rendering is cached on it).
    # The register is kept in the database; pages and exports read only the cells.
    table = msgspec.structs.replace(_scoped(computed, query), register=frozenset())
    return _Entry(table, data_stamp, register_stamp, utcnow())


class _PackedEntry(msgspec.Struct, frozen=True):
    """An entry as a child process sends it back: its cells as one tuple per field. Pickled, this keeps
    the strings the cells share shared (a msgpack copy did not). Unpickled one struct per cell instead,
    pickle's memo kept a keyword dict per cell alive to the end (45 MB for 70,000 cells), and the web
    worker's heap stayed that much larger afterwards."""

    entry: _Entry  # without its cells
    columns: tuple[tuple[Any, ...], ...]

    @classmethod
    def pack(cls, entry: _Entry) -> _PackedEntry:
        rows = [msgspec.structs.astuple(cell) for cell in entry.table.cells]
        table = msgspec.structs.replace(entry.table, cells=())
        return cls(msgspec.structs.replace(entry, table=table), tuple(zip(*rows, strict=True)))

    def unpack(self) -> _Entry:
        fields = IndicatorCell.__struct_fields__
        cells = tuple(IndicatorCell(**dict(zip(fields, row, strict=True))) for row in zip(*self.columns, strict=True))
        return msgspec.structs.replace(self.entry, table=msgspec.structs.replace(self.entry.table, cells=cells))


def _compute_in_child(database_url: str, query: IndicatorQuery, as_of: dt.date,
                      settings: IndicatorSettings) -> _PackedEntry:
    """Runs in a child process: the computation's working set (hundreds of MB for a national table)
    is returned to the system when it exits, instead of staying in the web worker's heap."""
    database = Database(database_url)
    try:
        return _PackedEntry.pack(_computed_entry(database, query, as_of, settings))
    finally:
        database.dispose()


def _fact_count(database: Database, query: IndicatorQuery) -> int:
    with database.read_rows() as connection:
        return connection.execute(select(func.count()).select_from(SportReferralDetail)
                                  .where(*_fact_conditions(query))).scalar_one()


def _outdated(entry: _Entry, stamps: tuple[tuple[int, int], Any], max_age: dt.timedelta) -> bool:
    """A table that must not be served: computed before the register grew, or before data moved when
    tables are always computed on the current data (``max_age`` zero)."""
    data_stamp, register_stamp = stamps
    return entry.register_stamp != register_stamp or (
        entry.data_stamp != data_stamp and max_age <= dt.timedelta(0))


def _compute(database: Database, query: IndicatorQuery, as_of: dt.date, settings: IndicatorSettings,
             cache_key: tuple[Any, ...], max_age: dt.timedelta) -> _Entry:
    """One computation per table at a time: requests that need the same table meanwhile wait for it
    and share it. Without this, eight observers opening the page after a restart started eight
    child processes of a national computation at once."""
    with _CACHE.computing(cache_key):
        waited_for = _CACHE.get(cache_key)
        if waited_for is not None and not _outdated(waited_for, _stamps(database, _register_key(query)), max_age):
            return waited_for
        if database.url.database in (None, "", ":memory:") or _fact_count(database, query) < CHILD_PROCESS_FACTS:
            entry = _computed_entry(database, query, as_of, settings)
        else:
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
                entry = pool.submit(_compute_in_child, database.url.render_as_string(hide_password=False), query,
                                    as_of, settings).result().unpack()
        _CACHE.put(cache_key, entry)
        return entry


def _refresh_behind(database: Database, query: IndicatorQuery, as_of: dt.date, settings: IndicatorSettings,
                    cache_key: tuple[Any, ...]) -> None:
    if not _CACHE.claim_refresh(cache_key):
        return

    def refresh() -> None:
        try:
            _compute(database, query, as_of, settings, cache_key, max_age=dt.timedelta(0))
        except Exception:  # the stale table stays served; the next request past max_age tries again
            _log.exception("indicator refresh failed for %s", query)
        finally:
            _CACHE.end_refresh(cache_key)

    threading.Thread(target=refresh, name="indicator-refresh", daemon=True).start()


def observer_indicators(database: Database, actor: Actor, query: IndicatorQuery, *,
                        settings: IndicatorSettings | None = None, as_of: dt.date | None = None,
                        max_age: dt.timedelta = dt.timedelta(0)) -> ObserverIndicators:
    """Scoped facts → suppressed indicator table. The read is audited (who looked at which scope).

    Cells hidden in an earlier output of the same period stay hidden (the register, I-2): a table
    computed before the register grew is never served again. When referrals have moved since the
    table was computed, it is still served while younger than ``max_age``; older, it is served once
    more while a background thread computes the new one, so no observer waits for a national
    computation. ``max_age`` zero: always computed on the current data.
    """
    settings = settings or load_indicator_settings()
    now = utcnow()
    as_of = as_of or now.astimezone(PARIS).date()
    stamps = _stamps(database, _register_key(query))
    cache_key = (str(database.url), query, as_of, settings.k, settings.hide_zero)
    entry = _CACHE.get(cache_key)
    if entry is None or _outdated(entry, stamps, max_age):
        entry = _compute(database, query, as_of, settings, cache_key, max_age)
    elif entry.data_stamp != stamps[0] and now - entry.computed_at >= max_age:
        _refresh_behind(database, query, as_of, settings, cache_key)
    with audit.audited_read(database) as session:
        audit.record(session, actor, "read", "sport_indicators", None,
                     detail=f"{query.scope_level}:{query.scope_code} {query.period_label} {query.geo_basis}")
    return ObserverIndicators(query=query, table=entry.table, generated_at=now, computed_at=entry.computed_at)


def _scoped(table: IndicatorTable, query: IndicatorQuery) -> IndicatorTable:
    """Only the cells inside the scope. Facts were already scoped, so every cell was computed and
    suppressed on the delivered data; this drops the national/region totals that would merely
    repeat the scope's own total under another name."""
    if query.scope_level == "national":
        return table
    keep: list[IndicatorCell] = []
    for cell in table.cells:
        if query.scope_level == "region" and cell.geo_level in ("region", "department"):
            if cell.geo_level == "department" or cell.geo_code == query.scope_code:
                keep.append(cell)
        elif query.scope_level == "department" and cell.geo_level == "department" and cell.geo_code == query.scope_code:
            keep.append(cell)
    return IndicatorTable(cells=tuple(keep), register=table.register, k=table.k, period_start=table.period_start,
                          period_end=table.period_end, geo_basis=table.geo_basis, audited=table.audited)


def indicator_export(result: ObserverIndicators, fmt: Literal["csv", "json"], *, organisation: str,
                     settings: IndicatorSettings | None = None,
                     geo_names: dict[tuple[str, str], str] | None = None) -> str:
    """The §10.3 open-data file of exactly the cells shown on the page."""
    settings = settings or load_indicator_settings()
    cells: Sequence[IndicatorCell] = result.table.cells
    if fmt == "csv":
        return export_csv(cells, generated_at=result.generated_at, software_version=SOFTWARE_VERSION,
                          cog_year=COG_YEAR, geo_names=geo_names)
    return export_json(cells, settings, organisation=organisation, period=result.query.period_label,
                       generated_at=result.generated_at, software_version=SOFTWARE_VERSION, cog_year=COG_YEAR,
                       geo_names=geo_names)

