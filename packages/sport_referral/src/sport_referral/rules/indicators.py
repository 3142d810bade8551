"""Observation indicators with small-cell suppression (domain-sport §10, rules I-1 to I-5).

Pure: referral facts in, indicator cells out; settings come in as arguments (no YAML, no I/O).

**Cells.** Every count is a cell of a cube *measure × geography × month × breakdown*: geography
is department, region and national (``FR``); month is ``YYYY-MM`` or ``all`` (the whole period);
the breakdown is ``all``, one ``limitation_level`` (``unknown`` when not stated, so levels add up
to the total) or one ``disability_family`` (``none_declared`` when none; multi-valued, so the
families do not add up — their relation is kept anyway, which only adds protection).

**Relations** (I-2, each ``total = Σ components``): departments → region → national; months →
period; levels → all; families → all; and, per coordinate, each rate's complement:
``decided = accepted + declined``, ``cohort = adherent + non_adherent``, ``terminal = completed +
not_completed``. Complements are never published, but a published rate and denominator give
them away, so they are protected like published counts (``cfg:suppression.protect_complements``).

**Suppression.** I-1 hides every count 1..k−1 (zero shown unless ``hide_zero``). I-2: while a
relation has exactly one hidden member, hide its smallest non-zero visible component (ties:
lowest key), else its total. I-3: then the published linear system is solved (exact rank test,
modulo a large prime) and, while some hidden cell is still uniquely determined, one more cell of
one of its relations is hidden. A rate is published only when its numerator, denominator and
complement are all visible; a median only when it rests on at least k first sessions.
No cell ever describes a single referral: there is no per-referral row at all.
"""

from __future__ import annotations

import heapq
import statistics
from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Generic, TypeVar

import msgspec

from sport_referral.model.indicators import (
    CellKey,
    GeoLevel,
    IndicatorCell,
    IndicatorSettings,
    IndicatorTable,
    ReferralFact,
    Suppression,
    Unit,
)

__all__ = [
    "LEVELS",
    "NATIONAL",
    "Relation",
    "compute_indicators",
    "determined_hidden_cells",
    "month_range",
    "suppress",
]

K = TypeVar("K", bound=Hashable)

NATIONAL = "FR"
ALL = "all"
LEVELS = ("none", "minimal", "moderate", "severe", "unknown")
NO_FAMILY = "none_declared"
ADHERENCE_DAYS = 90
_PRIME = (1 << 61) - 1

# Measures (counts). Complements are never published.
_RATES = {
    # indicator: (numerator, denominator, complement)
    "I02_acceptance_rate": ("accepted", "decided", "declined"),
    "I05_adherence_3m": ("adherent", "cohort", "non_adherent"),
    "I08_completion_rate": ("completed", "terminal", "not_completed"),
}
_MEASURES = ("sent", "decided", "accepted", "declined", "first_sessions", "cohort", "adherent", "non_adherent",
             "terminal", "completed", "not_completed")


class Relation(msgspec.Struct, Generic[K], frozen=True):
    """``total = Σ components`` (I-2)."""

    total: K
    components: tuple[K, ...]


# ----------------------------------------------------------------------------------------------
# Generic suppression engine (I-1, I-2, I-3)
# ----------------------------------------------------------------------------------------------


def suppress(
    values: Mapping[K, int],
    relations: Sequence[Relation[K]],
    k: int,
    *,
    hide_zero: bool = False,
    forced: Collection[K] = (),
    audit: bool = True,
    audit_max_hidden: int | None = None,
) -> dict[K, Suppression]:
    """Suppression status of every cell: ``""`` (published), ``"primary"`` or ``"secondary"``.

    ``forced`` cells (an earlier export's register for the same period) are hidden as secondary
    unless primary. With ``audit``, cells are added until no hidden cell is uniquely determined
    by the published values through ``relations`` (I-3). The exact audit costs up to cubic time
    in the number of hidden cells: above ``audit_max_hidden`` it is skipped (the I-2 iteration
    still runs); :func:`compute_indicators` reports whether it ran.
    """
    if k < 2:
        raise ValueError("k must be at least 2")
    status: dict[K, Suppression] = {}
    for key, value in values.items():
        if 1 <= value <= k - 1 or (hide_zero and value == 0):
            status[key] = "primary"
        elif key in forced:
            status[key] = "secondary"
        else:
            status[key] = ""
    order = {key: i for i, key in enumerate(sorted(values, key=repr))}
    by_cell: dict[K, list[int]] = defaultdict(list)
    for index, relation in enumerate(relations):
        for key in (relation.total, *relation.components):
            by_cell[key].append(index)

    def hidden(key: K) -> bool:
        return status[key] != ""

    def protect(relation: Relation[K]) -> K | None:
        """The cell to hide in a relation with one hidden member (None if there is none left)."""
        visible = [c for c in relation.components if not hidden(c) and values[c] > 0]
        if visible:
            return min(visible, key=lambda c: (values[c], order[c]))
        if not hidden(relation.total) and values[relation.total] > 0:
            return relation.total
        return None

    def propagate(start: Iterable[int]) -> None:
        # Relations are revisited in index order (deterministic), each time one of their cells changes.
        queue = sorted(set(start))
        heapq.heapify(queue)
        queued = set(queue)
        while queue:
            index = heapq.heappop(queue)
            queued.discard(index)
            relation = relations[index]
            members = (relation.total, *relation.components)
            if sum(1 for m in members if hidden(m)) != 1:
                continue
            target = protect(relation)
            if target is None:
                continue
            status[target] = "secondary"
            for other in by_cell[target]:
                if other not in queued:
                    queued.add(other)
                    heapq.heappush(queue, other)

    propagate(range(len(relations)))
    hidden_count = sum(1 for state in status.values() if state)
    if audit and (audit_max_hidden is None or hidden_count <= audit_max_hidden):
        for _ in range(len(values) + 1):
            determined = determined_hidden_cells(values, relations, {key for key in values if hidden(key)})
            if not determined:
                break
            progressed = False
            for cell in sorted(determined, key=lambda c: order[c]):
                for index in by_cell[cell]:
                    target = protect(relations[index])
                    if target is not None:
                        status[target] = "secondary"
                        propagate(by_cell[target])
                        progressed = True
                        break
                if progressed:
                    break
            if not progressed:
                break  # only zero cells remain around the determined cells: nothing left to protect
    return status


def determined_hidden_cells(values: Mapping[K, int], relations: Sequence[Relation[K]],
                            hidden: Collection[K]) -> set[K]:
    """Hidden cells whose value the published cells pin down exactly (I-3).

    Unknowns are the hidden cells; each relation gives one linear equation (visible members move
    to the right-hand side). A hidden cell x is determined iff the unit vector e_x lies in the row
    space of the equations, tested on an echelon basis modulo the prime 2^61 − 1 (exact for these
    ±1 systems with overwhelming probability).
    """
    hidden_set = set(hidden)
    if not hidden_set:
        return set()
    index = {key: i for i, key in enumerate(sorted(hidden_set, key=repr))}
    basis: dict[int, dict[int, int]] = {}  # pivot column → row whose minimum column is the pivot

    def reduce(row: dict[int, int]) -> dict[int, int]:
        while row:
            column = min(row)
            pivot = basis.get(column)
            if pivot is None:
                return row
            factor = row[column] * pow(pivot[column], -1, _PRIME) % _PRIME
            for col, coefficient in pivot.items():
                updated = (row.get(col, 0) - factor * coefficient) % _PRIME
                if updated:
                    row[col] = updated
                else:
                    row.pop(col, None)
        return row

    for relation in relations:
        row: dict[int, int] = {}
        if relation.total in hidden_set:
            row[index[relation.total]] = _PRIME - 1
        for component in relation.components:
            if component in hidden_set:
                column = index[component]
                row[column] = (row.get(column, 0) + 1) % _PRIME
        row = {c: v for c, v in row.items() if v}
        if not row:
            continue
        remainder = reduce(row)
        if remainder:
            basis[min(remainder)] = remainder
    return {key for key, column in index.items() if not reduce({column: 1})}


# ----------------------------------------------------------------------------------------------
# Referral facts → cubes
# ----------------------------------------------------------------------------------------------


def month_range(start: date, end: date) -> list[str]:
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _month_bounds(month: str, start: date, end: date) -> tuple[date, date]:
    if month == ALL:
        return start, end
    year, number = int(month[:4]), int(month[5:])
    first = date(year, number, 1)
    last = (date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)) - timedelta(days=1)
    return max(first, start), min(last, end)


class _Cube:
    """Counts and first-session delays per cell, over a fixed universe of coordinates."""

    def __init__(self, months: list[str], departments: dict[str, str | None], families: list[str]) -> None:
        self.months = months
        self.departments = departments
        self.regions = sorted({r for r in departments.values() if r})
        self.families = families
        self.counts: dict[CellKey, int] = {}
        self.delays: dict[CellKey, list[int]] = defaultdict(list)

    def geos(self) -> list[tuple[GeoLevel, str]]:
        return ([("department", d) for d in sorted(self.departments)] + [("region", r) for r in self.regions]
                + [("national", NATIONAL)])

    def breakdowns(self) -> list[tuple[str, str]]:
        return ([(ALL, "")] + [("limitation_level", level) for level in LEVELS]
                + [("disability_family", family) for family in self.families])

    def universe(self) -> None:
        for measure in _MEASURES:
            for level, code in self.geos():
                for month in [*self.months, ALL]:
                    for dimension, value in self.breakdowns():
                        self.counts[(measure, level, code, month, dimension, value)] = 0

    def add(self, measure: str, fact: ReferralFact, month: str, delay: int | None = None) -> None:
        geos: list[tuple[str, str]] = [("national", NATIONAL)]
        if fact.department_code:
            geos.append(("department", fact.department_code))
        if fact.region_code:
            geos.append(("region", fact.region_code))
        level = fact.limitation_level if fact.limitation_level in LEVELS else "unknown"
        families = sorted(set(fact.disability_families)) or [NO_FAMILY]
        breakdowns = [(ALL, ""), ("limitation_level", level)] + [("disability_family", f) for f in families]
        for geo_level, code in geos:
            for m in (month, ALL):
                for dimension, value in breakdowns:
                    key = (measure, geo_level, code, m, dimension, value)
                    self.counts[key] += 1
                    if delay is not None:
                        self.delays[key].append(delay)

    def relations(self, protect_complements: bool) -> list[Relation[CellKey]]:
        out: list[Relation[CellKey]] = []
        by_region: dict[str, list[str]] = defaultdict(list)
        orphans: list[str] = []
        for department, region in sorted(self.departments.items()):
            (by_region[region] if region else orphans).append(department)
        months = [*self.months, ALL]
        for measure in _MEASURES:
            for month in months:
                for dimension, value in self.breakdowns():
                    def key(level: str, code: str, ms: str = measure, m: str = month, d: str = dimension,
                            v: str = value) -> CellKey:
                        return (ms, level, code, m, d, v)
                    for region, departments in sorted(by_region.items()):
                        out.append(Relation(key("region", region), tuple(key("department", d) for d in departments)))
                    out.append(Relation(key("national", NATIONAL),
                                        tuple(key("region", r) for r in self.regions)
                                        + tuple(key("department", d) for d in orphans)))
            for level, code in self.geos():
                for dimension, value in self.breakdowns():
                    out.append(Relation((measure, level, code, ALL, dimension, value),
                                        tuple((measure, level, code, m, dimension, value) for m in self.months)))
                for month in months:
                    total = (measure, level, code, month, ALL, "")
                    out.append(Relation(total, tuple((measure, level, code, month, "limitation_level", lv)
                                                     for lv in LEVELS)))
                    out.append(Relation(total, tuple((measure, level, code, month, "disability_family", f)
                                                     for f in self.families)))
        if protect_complements:
            for numerator, denominator, complement in _RATES.values():
                for level, code in self.geos():
                    for month in months:
                        for dimension, value in self.breakdowns():
                            coordinate = (level, code, month, dimension, value)
                            out.append(Relation((denominator, *coordinate),
                                                ((numerator, *coordinate), (complement, *coordinate))))
        return out


def _in(day: date | None, start: date, end: date) -> bool:
    return day is not None and start <= day <= end


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _build_cube(facts: Iterable[ReferralFact], start: date, end: date, as_of: date,
                settings: IndicatorSettings) -> _Cube:
    facts = [fact for fact in facts if not fact.is_cancelled_draft]
    departments: dict[str, str | None] = {}
    families: set[str] = set()
    for fact in facts:
        if fact.department_code:
            departments.setdefault(fact.department_code, fact.region_code)
        families.update(fact.disability_families or (NO_FAMILY,))
    cube = _Cube(month_range(start, end), departments, sorted(families))
    cube.universe()
    for fact in facts:
        if fact.sent_at is not None and _in(fact.sent_at, start, end):
            cube.add("sent", fact, _month(fact.sent_at))
        if fact.decision is not None and fact.decided_at is not None and _in(fact.decided_at, start, end):
            month = _month(fact.decided_at)
            cube.add("decided", fact, month)
            cube.add("accepted" if fact.decision == "accepted" else "declined", fact, month)
        if fact.first_session_at is not None and _in(fact.first_session_at, start, end):
            month = _month(fact.first_session_at)
            if fact.sent_at is not None:
                cube.add("first_sessions", fact, month, delay=(fact.first_session_at - fact.sent_at).days)
            if fact.first_session_at + timedelta(days=ADHERENCE_DAYS) <= as_of:
                cube.add("cohort", fact, month)
                cube.add("adherent" if _adherent(fact, settings) else "non_adherent", fact, month)
        if fact.terminal_status is not None and fact.terminal_at is not None and _in(fact.terminal_at, start, end):
            month = _month(fact.terminal_at)
            cube.add("terminal", fact, month)
            cube.add("completed" if fact.terminal_status == "completed" else "not_completed", fact, month)
    return cube


def _adherent(fact: ReferralFact, settings: IndicatorSettings) -> bool:
    """I05 (product definition): still in progress or completed at day 90 AND attended at least
    ``adherence_min_share`` of the sessions planned up to day 90."""
    if fact.status_at_day_90 not in ("in_progress", "completed"):
        return False
    planned, attended = fact.planned_sessions_day_90, fact.attended_sessions_day_90
    if not planned or attended is None:
        return False
    return attended / planned >= settings.adherence_min_share


# ----------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------


def compute_indicators(
    facts: Iterable[ReferralFact],
    *,
    period_start: date,
    period_end: date,
    as_of: date,
    settings: IndicatorSettings,
    geo_basis: str = "patient_residence",
    previously_suppressed: Collection[CellKey] = (),
) -> IndicatorTable:
    """I01, I02, I04 (median), I05 and I08 by department, region and national, by month and for
    the whole period, overall and by limitation level and disability family, suppressed (I-1..I-4).

    Scope first (I-5): pass only the facts the observer may see; suppression is computed on the
    exact table returned. ``previously_suppressed`` is the register of earlier exports of the
    same period; the returned ``register`` must be kept for the next one.
    """
    if period_end < period_start:
        raise ValueError("period_end is before period_start")
    k = settings.k
    cube = _build_cube(facts, period_start, period_end, as_of, settings)
    relations = cube.relations(settings.protect_complements)
    status = suppress(cube.counts, relations, k, hide_zero=settings.hide_zero, forced=previously_suppressed,
                      audit=settings.audit, audit_max_hidden=settings.audit_max_hidden)
    hidden_total = sum(1 for state in status.values() if state)
    audited = settings.audit and hidden_total <= settings.audit_max_hidden
    cells: list[IndicatorCell] = []

    def emit(code: str, key: CellKey, value: float | None, numerator: int | None, denominator: int | None,
             unit: Unit, suppression: Suppression) -> None:
        _, level, geo_code, month, dimension, dimension_value = key
        start, end = _month_bounds(month, period_start, period_end)
        hidden = suppression != ""
        cells.append(IndicatorCell(
            indicator_code=code, period_start=start, period_end=end, geo_level=level,  # type: ignore[arg-type]
            geo_code=geo_code, geo_basis=geo_basis, dimension=dimension, dimension_value=dimension_value,
            value=None if hidden else value, numerator=None if hidden else numerator,
            denominator=None if hidden else denominator, unit=unit, suppressed=hidden, suppression=suppression,
        ))

    for key, count in cube.counts.items():
        measure, *coordinate = key
        if measure == "sent":
            emit("I01_referrals_sent", key, float(count), None, None, "count", status[key])
        elif measure == "first_sessions":
            delays = cube.delays.get(key, [])
            primary = 1 <= count <= k - 1
            median = float(statistics.median(delays)) if delays else None
            denominator = count if status[key] == "" else None
            emit("I04_days_to_first_session", key, median, None, denominator, "days", "primary" if primary else "")
        for code, (numerator_name, denominator_name, complement_name) in _RATES.items():
            if measure != denominator_name:
                continue
            keys = [(name, *coordinate) for name in (numerator_name, denominator_name, complement_name)]
            states = [status[cast_key(item)] for item in keys]
            numerator = cube.counts[cast_key(keys[0])]
            suppression: Suppression = ("primary" if "primary" in states
                                        else "secondary" if "secondary" in states else "")
            value = round(numerator / count, 4) if count else None
            emit(code, key, value, numerator, count, "ratio", suppression)
    register = frozenset(key for key, state in status.items() if state != "")
    return IndicatorTable(cells=tuple(cells), register=register, k=k, period_start=period_start,
                          period_end=period_end, geo_basis=geo_basis, audited=audited)


def cast_key(item: tuple[str, ...]) -> CellKey:
    """Narrow a 6-tuple built by unpacking to :data:`CellKey`."""
    measure, level, code, month, dimension, value = item
    return (measure, level, code, month, dimension, value)
