"""Working-day calendar (domain-rtms §7.2 tables and §7.7 scheduling examples)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from holidays.countries.france import France as HolidaysFrance

from shared_core.calendar import HOLIDAY_ZONES, UnknownZone, WorkingCalendar, easter_sunday

D = date


def package_days(subdiv: str | None, year: int) -> dict[date, str]:
    # The package's France.__init__ is unannotated.
    days = HolidaysFrance(subdiv=subdiv, years=year, language="fr")  # type: ignore[no-untyped-call]
    return dict(days.items())


def year_days(cal: WorkingCalendar, year: int) -> dict[date, str]:
    return dict(cal.holidays_between(D(year, 1, 1), D(year, 12, 31)))


# --- §7.2 computed holiday tables ------------------------------------------------------------

NATIONAL_2026 = {
    D(2026, 1, 1): "Jour de l'An",
    D(2026, 4, 6): "Lundi de Pâques",
    D(2026, 5, 1): "Fête du Travail",
    D(2026, 5, 14): "Ascension",
    D(2026, 5, 8): "Victoire 1945",
    D(2026, 5, 25): "Lundi de Pentecôte",
    D(2026, 7, 14): "Fête nationale",
    D(2026, 8, 15): "Assomption",
    D(2026, 11, 1): "Toussaint",
    D(2026, 11, 11): "Armistice",
    D(2026, 12, 25): "Noël",
}
NATIONAL_2027 = {
    D(2027, 1, 1): "Jour de l'An",
    D(2027, 3, 29): "Lundi de Pâques",
    D(2027, 5, 1): "Fête du Travail",
    D(2027, 5, 6): "Ascension",
    D(2027, 5, 8): "Victoire 1945",
    D(2027, 5, 17): "Lundi de Pentecôte",
    D(2027, 7, 14): "Fête nationale",
    D(2027, 8, 15): "Assomption",
    D(2027, 11, 1): "Toussaint",
    D(2027, 11, 11): "Armistice",
    D(2027, 12, 25): "Noël",
}
ALSACE_EXTRA_2026 = {D(2026, 4, 3): "Vendredi saint", D(2026, 12, 26): "Saint-Étienne"}
ALSACE_EXTRA_2027 = {D(2027, 3, 26): "Vendredi saint", D(2027, 12, 26): "Saint-Étienne"}


def test_doc_table_2026_metropole() -> None:
    assert year_days(WorkingCalendar(), 2026) == NATIONAL_2026
    assert len(NATIONAL_2026) == 11


def test_doc_table_2027_metropole() -> None:
    assert year_days(WorkingCalendar("metropole"), 2027) == NATIONAL_2027


def test_doc_table_alsace_moselle() -> None:
    cal = WorkingCalendar("alsace_moselle")
    assert year_days(cal, 2026) == NATIONAL_2026 | ALSACE_EXTRA_2026
    assert year_days(cal, 2027) == NATIONAL_2027 | ALSACE_EXTRA_2027


@pytest.mark.parametrize(
    ("day", "weekday"),
    [
        # Weekdays printed in the §7.2 table.
        (D(2026, 1, 1), "Thu"), (D(2026, 4, 3), "Fri"), (D(2026, 4, 6), "Mon"), (D(2026, 5, 1), "Fri"),
        (D(2026, 5, 14), "Thu"), (D(2026, 5, 8), "Fri"), (D(2026, 5, 25), "Mon"), (D(2026, 7, 14), "Tue"),
        (D(2026, 8, 15), "Sat"), (D(2026, 11, 1), "Sun"), (D(2026, 11, 11), "Wed"), (D(2026, 12, 25), "Fri"),
        (D(2026, 12, 26), "Sat"), (D(2027, 1, 1), "Fri"), (D(2027, 3, 26), "Fri"), (D(2027, 3, 29), "Mon"),
        (D(2027, 5, 1), "Sat"), (D(2027, 5, 6), "Thu"), (D(2027, 5, 8), "Sat"), (D(2027, 5, 17), "Mon"),
        (D(2027, 7, 14), "Wed"), (D(2027, 8, 15), "Sun"), (D(2027, 11, 1), "Mon"), (D(2027, 11, 11), "Thu"),
        (D(2027, 12, 25), "Sat"), (D(2027, 12, 26), "Sun"),
    ],
)  # fmt: skip
def test_doc_table_weekdays(day: date, weekday: str) -> None:
    assert day.strftime("%a") == weekday


def test_holiday_on_a_weekend_is_reported_as_the_holiday() -> None:
    cal = WorkingCalendar()
    # Sat 15 Aug 2026 is a holiday and a weekend day: it is reported as the holiday.
    assert cal.holiday_name(D(2026, 8, 15)) == "Assomption"
    assert cal.non_working_reason(D(2026, 8, 15)) == "Assomption"
    assert cal.non_working_reason(D(2026, 8, 16)) == "weekend"
    assert cal.non_working_reason(D(2026, 8, 17)) is None


# --- Easter ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "expected"),
    [(2026, D(2026, 4, 5)), (2027, D(2027, 3, 28)), (2019, D(2019, 4, 21)), (2024, D(2024, 3, 31)),
     (2025, D(2025, 4, 20)), (2038, D(2038, 4, 25)), (2285, D(2285, 3, 22)), (1818, D(1818, 3, 22))],
)  # fmt: skip
def test_easter_known_dates(year: int, expected: date) -> None:
    # 2026/2027 from §7.2; 2038 and 2285 are the latest/earliest-date extremes.
    assert easter_sunday(year) == expected


def test_easter_matches_the_holidays_package_1990_2100() -> None:
    for year in range(1990, 2101):
        package = package_days(None, year)
        easter_monday = next(day for day, name in package.items() if name == "Lundi de Pâques")
        assert easter_sunday(year) == easter_monday - timedelta(days=1), year


def test_easter_before_gregorian_reform_is_refused() -> None:
    with pytest.raises(ValueError):
        easter_sunday(1500)


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027, 2028, 2038, 2041])
def test_easter_dependent_days(year: int) -> None:
    easter = easter_sunday(year)
    cal = WorkingCalendar("alsace_moselle")
    assert cal.holiday_name(easter + timedelta(days=1)) == "Lundi de Pâques"
    assert cal.holiday_name(easter + timedelta(days=39)) == "Ascension"
    assert cal.holiday_name(easter + timedelta(days=50)) == "Lundi de Pentecôte"
    assert cal.holiday_name(easter - timedelta(days=2)) == "Vendredi saint"
    assert WorkingCalendar().holiday_name(easter - timedelta(days=2)) is None
    assert (easter + timedelta(days=39)).weekday() == 3  # Thursday
    assert (easter + timedelta(days=50)).weekday() == 0  # Monday


# --- every zone, every year: the doc's rule set exactly ---------------------------------------

OVERSEAS_DAY = {
    "971": (5, 27),
    "972": (5, 22),
    "973": (6, 10),
    "974": (12, 20),
    "976": (4, 27),  # §7.2 [conflict]: default 27 April, not 10 May
    "978": (5, 28),  # since 2018
}


def doc_days(zone: str, year: int) -> set[date]:
    """§7.2 rules written out independently of the module."""
    easter = easter_sunday(year)
    days = {D(year, m, d) for m, d in [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]}
    days |= {easter + timedelta(days=n) for n in (1, 39, 50)}
    if zone == "alsace_moselle":
        days |= {easter - timedelta(days=2), D(year, 12, 26)}
    if zone in OVERSEAS_DAY and not (zone == "978" and year < 2018):
        days.add(D(year, *OVERSEAS_DAY[zone]))
    return days


@pytest.mark.parametrize("zone", list(HOLIDAY_ZONES))
def test_each_zone_matches_the_doc_rules_1990_2100(zone: str) -> None:
    cal = WorkingCalendar(zone)
    for year in range(1990, 2101):
        assert set(year_days(cal, year)) == doc_days(zone, year), (zone, year)


def test_package_differences_are_exactly_the_documented_ones() -> None:
    """If a package upgrade changes what it adds, this test says so (§7.2 decides, not the package)."""

    def raw(subdiv: str | None, year: int) -> set[tuple[date, str]]:
        return set(package_days(subdiv, year).items())

    # 971 adds Good Friday, Mi-Carême and 21 July (not in §7.2; Good Friday is a site flag).
    extra_971 = raw("971", 2026) - raw(None, 2026) - {(D(2026, 5, 27), "Abolition de l'esclavage")}
    assert extra_971 == {
        (D(2026, 4, 3), "Vendredi saint"),
        (D(2026, 3, 12), "Mi-Carême"),
        (D(2026, 7, 21), "Fête de Victor Schoelcher"),
    }
    assert raw("972", 2026) - raw(None, 2026) == {
        (D(2026, 5, 22), "Abolition de l'esclavage"),
        (D(2026, 7, 21), "Fête de Victor Schoelcher"),
    }
    assert raw("BL", 2026) - raw(None, 2026) == {(D(2026, 10, 9), "Abolition de l'esclavage")}
    assert (D(2015, 5, 28), "Abolition de l'esclavage") in raw("MF", 2015)  # §7.2: only since 2018
    assert not any(d == D(2006, 6, 5) for d, _ in raw(None, 2006))  # Whit Monday dropped 2005-2007


@pytest.mark.parametrize(
    ("zone", "day"),
    [("976", D(2026, 4, 27)), ("972", D(2026, 5, 22)), ("971", D(2026, 5, 27)), ("978", D(2026, 5, 28)),
     ("973", D(2026, 6, 10)), ("974", D(2026, 12, 20))],
)  # fmt: skip
def test_overseas_abolition_days(zone: str, day: date) -> None:
    cal = WorkingCalendar(zone)
    assert cal.holiday_name(day) == "Abolition de l'esclavage"
    assert WorkingCalendar().holiday_name(day) is None


def test_mayotte_is_27_april_not_10_may() -> None:
    cal = WorkingCalendar("976")
    assert cal.holiday_name(D(2027, 4, 27)) == "Abolition de l'esclavage"
    assert cal.holiday_name(D(2027, 5, 10)) is None


def test_days_the_doc_does_not_list_are_not_holidays() -> None:
    # 21 July (Guadeloupe, Martinique, Saint-Martin), Mi-Carême and Good Friday (Guadeloupe),
    # 9 October (Saint-Barthélemy): [to verify] in §7.2, so working days unless declared closures.
    assert WorkingCalendar("971").is_working_day(D(2026, 7, 21))
    assert WorkingCalendar("972").is_working_day(D(2026, 7, 21))
    assert WorkingCalendar("978").is_working_day(D(2026, 7, 21))
    assert WorkingCalendar("971").is_working_day(D(2026, 3, 12))
    assert WorkingCalendar("971").is_working_day(D(2026, 4, 3))
    assert WorkingCalendar("977").is_working_day(D(2026, 10, 9))
    assert WorkingCalendar("978").holiday_name(D(2017, 5, 28)) is None


def test_overseas_site_may_observe_good_friday() -> None:
    cal = WorkingCalendar("971", good_friday_closed=True)
    assert cal.holiday_name(D(2026, 4, 3)) == "Vendredi saint"


def test_coinciding_holidays_keep_both_names() -> None:
    assert WorkingCalendar().holiday_name(D(2008, 5, 1)) == "Ascension; Fête du Travail"
    assert (
        WorkingCalendar("973").holiday_name(D(2030, 6, 10)) == "Abolition de l'esclavage; Lundi de Pentecôte"
    )
    # Without Whit Monday, the Guyane day remains.
    assert WorkingCalendar("973", whit_monday_closed=False).holiday_name(D(2030, 6, 10)) == (
        "Abolition de l'esclavage"
    )


# --- settings ---------------------------------------------------------------------------------


def test_whit_monday_closed_by_default_and_open_when_set() -> None:
    assert not WorkingCalendar().is_working_day(D(2026, 5, 25))
    open_cal = WorkingCalendar(whit_monday_closed=False)
    assert open_cal.is_working_day(D(2026, 5, 25))
    assert open_cal.holiday_name(D(2026, 5, 25)) is None
    assert len(year_days(open_cal, 2026)) == 10


def test_whit_monday_setting_also_governs_2005_2007() -> None:
    assert WorkingCalendar().holiday_name(D(2006, 6, 5)) == "Lundi de Pentecôte"


def test_good_friday_defaults() -> None:
    assert WorkingCalendar("alsace_moselle").good_friday_closed
    assert not WorkingCalendar("metropole").good_friday_closed
    # Communes without a Protestant church (§7.2): a site may open on Good Friday.
    cal = WorkingCalendar("alsace_moselle", good_friday_closed=False)
    assert cal.is_working_day(D(2026, 4, 3))
    assert cal.holiday_name(D(2026, 12, 26)) == "Saint-Étienne"


def test_zone_codes_and_unknown_zone() -> None:
    assert set(HOLIDAY_ZONES) == {
        "metropole",
        "alsace_moselle",
        "971",
        "972",
        "973",
        "974",
        "976",
        "977",
        "978",
    }
    assert WorkingCalendar(" Alsace_Moselle ").zone == "alsace_moselle"
    with pytest.raises(UnknownZone) as excinfo:
        WorkingCalendar("975")
    assert isinstance(excinfo.value, ValueError)
    assert "metropole" in str(excinfo.value) and "976" in str(excinfo.value)


def test_weekdays_validation_and_saturday_option() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(weekdays=frozenset())
    with pytest.raises(ValueError):
        WorkingCalendar(weekdays=frozenset({7}))
    six_days = WorkingCalendar(weekdays=frozenset({0, 1, 2, 3, 4, 5}))
    assert six_days.is_working_day(D(2026, 5, 2))  # Saturday
    assert not six_days.is_working_day(D(2027, 5, 1))  # Saturday, Fête du Travail
    assert six_days.non_working_reason(D(2026, 5, 3)) == "weekend"


# --- closures ---------------------------------------------------------------------------------


def test_single_day_and_range_closures() -> None:
    cal = WorkingCalendar(closures=[D(2026, 6, 3), (D(2026, 8, 3), D(2026, 8, 14))])
    assert cal.closure_on(D(2026, 6, 3))
    assert cal.non_working_reason(D(2026, 6, 3)) == "closure"
    assert not cal.closure_on(D(2026, 6, 4))
    assert cal.closure_on(D(2026, 8, 3)) and cal.closure_on(D(2026, 8, 14))
    assert not cal.closure_on(D(2026, 8, 2)) and not cal.closure_on(D(2026, 8, 15))
    assert cal.next_working_day(D(2026, 8, 3)) == D(2026, 8, 17)
    assert cal.closures == ((D(2026, 6, 3), D(2026, 6, 3)), (D(2026, 8, 3), D(2026, 8, 14)))


def test_holiday_inside_a_closure_is_reported_as_the_holiday() -> None:
    cal = WorkingCalendar(closures=[(D(2026, 7, 13), D(2026, 7, 17))])
    assert cal.non_working_reason(D(2026, 7, 14)) == "Fête nationale"
    assert cal.non_working_reason(D(2026, 7, 15)) == "closure"


def test_reversed_closure_range_is_refused() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(closures=[(D(2026, 8, 14), D(2026, 8, 3))])


def test_closures_push_sessions_later() -> None:
    cal = WorkingCalendar(closures=[D(2026, 4, 29)])
    days = cal.add_working_days(D(2026, 4, 27), 4)
    assert days == [D(2026, 4, 27), D(2026, 4, 28), D(2026, 4, 30), D(2026, 5, 4)]


# --- next_working_day, add_working_days, holidays_between ---------------------------------------


def test_next_working_day() -> None:
    cal = WorkingCalendar()
    assert cal.next_working_day(D(2026, 4, 27)) == D(2026, 4, 27)
    assert cal.next_working_day(D(2026, 4, 27), inclusive=False) == D(2026, 4, 28)
    assert cal.next_working_day(D(2026, 5, 1)) == D(2026, 5, 4)  # Fri holiday -> Mon
    assert cal.next_working_day(D(2026, 4, 4)) == D(2026, 4, 7)  # Sat, Sun, Easter Monday


def test_christmas_and_new_year_span() -> None:
    cal = WorkingCalendar()
    days = cal.add_working_days(D(2026, 12, 24), 4)
    assert days == [D(2026, 12, 24), D(2026, 12, 28), D(2026, 12, 29), D(2026, 12, 30)]
    assert cal.add_working_days(D(2026, 12, 31), 2) == [D(2026, 12, 31), D(2027, 1, 4)]
    assert cal.holidays_between(D(2026, 12, 20), D(2027, 1, 5)) == [
        (D(2026, 12, 25), "Noël"),
        (D(2027, 1, 1), "Jour de l'An"),
    ]
    alsace = WorkingCalendar("alsace_moselle")
    assert alsace.holidays_between(D(2026, 12, 20), D(2027, 1, 5)) == [
        (D(2026, 12, 25), "Noël"),
        (D(2026, 12, 26), "Saint-Étienne"),
        (D(2027, 1, 1), "Jour de l'An"),
    ]
    # 2025: 26 Dec is a Friday, closed in Alsace-Moselle only.
    assert WorkingCalendar().is_working_day(D(2025, 12, 26))
    assert not alsace.is_working_day(D(2025, 12, 26))


def test_holidays_between_edges() -> None:
    cal = WorkingCalendar()
    assert cal.holidays_between(D(2026, 5, 1), D(2026, 5, 1)) == [(D(2026, 5, 1), "Fête du Travail")]
    assert cal.holidays_between(D(2026, 5, 2), D(2026, 5, 1)) == []


def test_add_working_days_edges() -> None:
    cal = WorkingCalendar()
    assert cal.add_working_days(D(2026, 4, 27), 0) == []
    assert cal.add_working_days(D(2026, 5, 2), 1) == [D(2026, 5, 4)]  # start on Saturday moves on
    with pytest.raises(ValueError):
        cal.add_working_days(D(2026, 4, 27), -1)


# --- §7.7 scheduling examples -----------------------------------------------------------------


def test_example_a_thirty_sessions_from_27_april_2026() -> None:
    cal = WorkingCalendar()
    days = cal.add_working_days(D(2026, 4, 27), 30)
    expected = (
        [D(2026, 4, d) for d in (27, 28, 29, 30)]
        + [D(2026, 5, d) for d in (4, 5, 6, 7, 11, 12, 13, 15, 18, 19, 20, 21, 22, 26, 27, 28, 29)]
        + [D(2026, 6, d) for d in (1, 2, 3, 4, 5, 8, 9, 10, 11)]
    )
    assert days == expected
    assert days[-1] == D(2026, 6, 11)
    assert cal.holidays_between(days[0], days[-1]) == [
        (D(2026, 5, 1), "Fête du Travail"),
        (D(2026, 5, 8), "Victoire 1945"),
        (D(2026, 5, 14), "Ascension"),
        (D(2026, 5, 25), "Lundi de Pentecôte"),
    ]


def test_example_a_maintenance_14_july_moves_to_wednesday() -> None:
    assert WorkingCalendar().next_working_day(D(2026, 7, 14)) == D(2026, 7, 15)


def test_example_b_itbs_national_vs_alsace_moselle() -> None:
    national = WorkingCalendar().add_working_days(D(2026, 3, 23), 20)
    alsace = WorkingCalendar("alsace_moselle").add_working_days(D(2026, 3, 23), 20)
    assert national[9] == D(2026, 4, 3)
    assert national[19] == D(2026, 4, 20)
    assert alsace[9] == D(2026, 4, 7)
    assert alsace[19] == D(2026, 4, 21)
    assert national[:9] == alsace[:9]
    assert national[:9] == [D(2026, 3, d) for d in (23, 24, 25, 26, 27, 30, 31)] + [
        D(2026, 4, 1),
        D(2026, 4, 2),
    ]


def test_example_c_ascension_splits_the_plain_series() -> None:
    cal = WorkingCalendar()
    assert cal.add_working_days(D(2026, 5, 11), 5) == [D(2026, 5, d) for d in (11, 12, 13, 15, 18)]
    assert cal.add_working_days(D(2026, 5, 18), 5) == [D(2026, 5, d) for d in (18, 19, 20, 21, 22)]


def test_example_d_2027_courses() -> None:
    national = WorkingCalendar()
    alsace = WorkingCalendar("alsace_moselle")
    assert national.add_working_days(D(2027, 3, 15), 30)[-1] == D(2027, 4, 26)
    assert alsace.add_working_days(D(2027, 3, 15), 30)[-1] == D(2027, 4, 27)
    course2 = national.add_working_days(D(2027, 10, 18), 20)
    assert course2[9] == D(2027, 10, 29)
    assert course2[10] == D(2027, 11, 2)
    assert course2[19] == D(2027, 11, 16)
    assert D(2027, 11, 1) not in course2 and D(2027, 11, 11) not in course2
    # Cluster anchor: 1 Nov 2027 is a holiday -> Tue 02-Wed 03 Nov.
    assert national.next_working_day(D(2027, 11, 1)) == D(2027, 11, 2)


def test_repr_and_properties() -> None:
    cal = WorkingCalendar("974", whit_monday_closed=False)
    assert cal.zone == "974"
    assert cal.weekdays == frozenset({0, 1, 2, 3, 4})
    assert not cal.whit_monday_closed
    assert "974" in repr(cal)
