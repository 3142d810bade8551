"""Working-day calendar of a site: weekdays minus public holidays of its zone minus closures.

Source: domain-rtms §7.2 ("Working-day calendar"); the zone is the setting PARCOURS_HOLIDAY_ZONE
(api-contract). Pure: no clock and no I/O. The ``holidays`` package is used as data; §7.2 is
the authority, and where the package says something else the correction is explicit below.

Vocabulary: in this module a *holiday* is a public holiday the site observes (so Whit Monday is
not a holiday of a site that sets ``whit_monday_closed=False``); a *closure* is a site closure
day; a *working day* is a site weekday that is neither.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from holidays.countries.france import France as HolidaysFrance

__all__ = [
    "HOLIDAY_ZONES",
    "UnknownZone",
    "WorkingCalendar",
    "easter_sunday",
]

HOLIDAY_ZONES: dict[str, str] = {
    "metropole": "France métropolitaine",
    "alsace_moselle": "Alsace-Moselle (Bas-Rhin, Haut-Rhin, Moselle)",
    "971": "Guadeloupe",
    "972": "Martinique",
    "973": "Guyane",
    "974": "La Réunion",
    "976": "Mayotte",
    "977": "Saint-Barthélemy",
    "978": "Saint-Martin",
}

# Subdivision codes of holidays.France (0.109). "6AE" (Alsace) and "57" (Moselle) give the same
# days; the combined "Alsace-Moselle" code is deprecated in the package.
_PACKAGE_SUBDIV: dict[str, str | None] = {
    "metropole": None,
    "alsace_moselle": "6AE",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
    "977": "BL",
    "978": "MF",
}

# Names shown to users follow the §7.2 table; the package spells two of them differently.
_DOC_NAMES: dict[str, str] = {
    "Jour de l'an": "Jour de l'An",
    "Fête de la Victoire": "Victoire 1945",
}
_GOOD_FRIDAY = "Vendredi saint"
_WHIT_MONDAY = "Lundi de Pentecôte"
_ABOLITION = "Abolition de l'esclavage"

# Days the package adds that §7.2 does not list. §7.2 wins: "other local days (e.g. 21 July in
# Guadeloupe and Martinique; Saint-Barthélemy)" are [to verify] and, by §0.1, must not be
# hard-coded as holidays until verified (also domain-rtms §13 item 14). A site that closes on
# one of them declares it as a closure.
_PACKAGE_DAYS_NOT_IN_DOC: dict[str, frozenset[str]] = {
    "971": frozenset({"Mi-Carême", "Fête de Victor Schoelcher"}),
    "972": frozenset({"Fête de Victor Schoelcher"}),
    "977": frozenset({_ABOLITION}),  # the package's 9 October; §7.2 lists no date for Saint-Barthélemy
    "978": frozenset({"Fête de Victor Schoelcher"}),
}
# §7.2: Saint-Martin's 28 May applies "since 2018"; the package starts it in 2012.
_ABOLITION_FIRST_YEAR: dict[str, int] = {"978": 2018}


class UnknownZone(ValueError):
    """The holiday zone code is not one of :data:`HOLIDAY_ZONES`."""

    def __init__(self, zone: str) -> None:
        valid = ", ".join(HOLIDAY_ZONES)
        super().__init__(f"unknown holiday zone {zone!r}; valid codes: {valid}")
        self.zone = zone


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday by the anonymous (Meeus/Jones/Butcher) algorithm (§7.2 asks for it)."""
    if year < 1583:
        raise ValueError("the Gregorian Easter computation starts in 1583")
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's published variable name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


@functools.lru_cache(maxsize=512)
def _package_days(subdiv: str | None, year: int) -> tuple[tuple[date, str], ...]:
    # language="fr" pins the names the corrections below match on. France.__init__ is
    # unannotated in the package, hence the ignore.
    days = HolidaysFrance(subdiv=subdiv, years=year, language="fr")  # type: ignore[no-untyped-call]
    return tuple(sorted(days.items()))


def _zone_holidays(
    zone: str, year: int, whit_monday_closed: bool, good_friday_closed: bool
) -> dict[date, str]:
    days: dict[date, str] = {}
    dropped = _PACKAGE_DAYS_NOT_IN_DOC.get(zone, frozenset())
    for day, raw_name in _package_days(_PACKAGE_SUBDIV[zone], year):
        # The package may join two names with "; " when days coincide; keep each part apart.
        for name in raw_name.split("; "):
            if name in dropped or name in (_GOOD_FRIDAY, _WHIT_MONDAY):
                continue
            if name == _ABOLITION and year < _ABOLITION_FIRST_YEAR.get(zone, 0):
                continue
            _add_name(days, day, _DOC_NAMES.get(name, name))
    easter = easter_sunday(year)
    # Whit Monday and Good Friday are site settings (§7.2: site.whit_monday_closed, default true,
    # journée de solidarité; site.good_friday_closed, default true only in 57/67/68), so they come
    # from the flags and not from the package. This also covers 2005-2007, when the package drops
    # Whit Monday and §7.2's setting still decides.
    if whit_monday_closed:
        _add_name(days, easter + timedelta(days=50), _WHIT_MONDAY)
    if good_friday_closed:
        _add_name(days, easter - timedelta(days=2), _GOOD_FRIDAY)
    return dict(sorted(days.items()))


def _add_name(days: dict[date, str], day: date, name: str) -> None:
    # Two holidays can share a date (Ascension on 1 May 2008; Whit Monday on 10 June in Guyane
    # in some years): keep both names rather than lose one.
    days[day] = f"{days[day]}; {name}" if day in days else name


def _normalise_zone(zone: str) -> str:
    code = zone.strip().lower()
    if code not in HOLIDAY_ZONES:
        raise UnknownZone(zone)
    return code


class WorkingCalendar:
    """A site's working days (domain-rtms §7.2).

    ``closures`` are single dates or inclusive ``(first, last)`` ranges (``site_closure``).
    ``weekdays`` uses ``date.weekday()`` numbers (Monday 0); §7.2 defaults to Monday-Friday
    (*jours ouvrés*), Saturday being a site option. ``good_friday_closed`` defaults to true only
    for ``alsace_moselle``; a site elsewhere that observes it (e.g. overseas) sets it explicitly.
    """

    __slots__ = ("_closures", "_good_friday_closed", "_weekdays", "_whit_monday_closed", "_years", "zone")

    def __init__(
        self,
        zone: str = "metropole",
        closures: Iterable[date | tuple[date, date]] = (),
        weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4}),
        whit_monday_closed: bool = True,
        good_friday_closed: bool | None = None,
    ) -> None:
        self.zone = _normalise_zone(zone)
        weekdays = frozenset(weekdays)
        if not weekdays or not weekdays <= frozenset(range(7)):
            raise ValueError("weekdays must be a non-empty subset of 0 (Monday) .. 6 (Sunday)")
        self._weekdays = weekdays
        self._whit_monday_closed = whit_monday_closed
        self._good_friday_closed = (
            self.zone == "alsace_moselle" if good_friday_closed is None else good_friday_closed
        )
        ranges: list[tuple[date, date]] = []
        for closure in closures:
            first, last = closure if isinstance(closure, tuple) else (closure, closure)
            if last < first:
                raise ValueError(f"closure range ends before it starts: {first} .. {last}")
            ranges.append((first, last))
        self._closures = tuple(sorted(ranges))
        self._years: dict[int, dict[date, str]] = {}

    @property
    def weekdays(self) -> frozenset[int]:
        return self._weekdays

    @property
    def whit_monday_closed(self) -> bool:
        return self._whit_monday_closed

    @property
    def good_friday_closed(self) -> bool:
        return self._good_friday_closed

    @property
    def closures(self) -> tuple[tuple[date, date], ...]:
        """Closure ranges, inclusive, sorted."""
        return self._closures

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(zone={self.zone!r}, closures={len(self._closures)}, "
            f"weekdays={sorted(self._weekdays)}, whit_monday_closed={self._whit_monday_closed}, "
            f"good_friday_closed={self._good_friday_closed})"
        )

    def _holidays_of(self, year: int) -> dict[date, str]:
        # Cached per instance: a plan asks about the same few years hundreds of times.
        days = self._years.get(year)
        if days is None:
            days = _zone_holidays(self.zone, year, self._whit_monday_closed, self._good_friday_closed)
            self._years[year] = days
        return days

    def holiday_name(self, d: date) -> str | None:
        """French name of the public holiday the site observes on ``d`` (weekends included)."""
        return self._holidays_of(d.year).get(d)

    def closure_on(self, d: date) -> bool:
        """True when ``d`` falls in a site closure."""
        return any(first <= d <= last for first, last in self._closures)

    def non_working_reason(self, d: date) -> str | None:
        """Why ``d`` is not a working day, or None when it is one.

        Precedence: the holiday name, then ``"closure"``, then ``"weekend"`` (meaning: not one of
        the site's weekdays), so a message can say the most specific thing.
        """
        name = self.holiday_name(d)
        if name is not None:
            return name
        if self.closure_on(d):
            return "closure"
        if d.weekday() not in self._weekdays:
            return "weekend"
        return None

    def is_working_day(self, d: date) -> bool:
        return self.non_working_reason(d) is None

    def next_working_day(self, d: date, inclusive: bool = True) -> date:
        """First working day on or after ``d`` (strictly after it when ``inclusive`` is false).

        R-SCH-01: a start on a non-working day moves to the next working day. Terminates because
        weekdays are non-empty and holidays and closures are finite.
        """
        day = d if inclusive else d + timedelta(days=1)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def iter_working_days(self, start: date) -> Iterator[date]:
        """Working days from ``start`` inclusive, forever."""
        day = self.next_working_day(start)
        while True:
            yield day
            day = self.next_working_day(day, inclusive=False)

    def add_working_days(self, start: date, count: int) -> list[date]:
        """The first ``count`` working days from ``start`` inclusive.

        R-SCH-02: a holiday never consumes a session, so the list skips it and ends later.
        """
        if count < 0:
            raise ValueError("count must be zero or positive")
        days: list[date] = []
        if count == 0:
            return days
        for day in self.iter_working_days(start):
            days.append(day)
            if len(days) == count:
                break
        return days

    def holidays_between(self, start: date, end: date) -> list[tuple[date, str]]:
        """Holidays the site observes from ``start`` to ``end`` inclusive, weekends included, sorted."""
        if end < start:
            return []
        found: list[tuple[date, str]] = []
        for year in range(start.year, end.year + 1):
            found.extend((day, name) for day, name in self._holidays_of(year).items() if start <= day <= end)
        return sorted(found)
