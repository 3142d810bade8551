"""Profile form parsing and indicator query parsing (pure parts of directory_admin and indicator_service)."""

from __future__ import annotations

import datetime as dt

import pytest

from shared_core.errors import ValidationFailed
from sport_referral.directory_admin import parse_profile_input
from sport_referral.indicator_service import parse_indicator_query, planned_sessions_to_day_90


def test_a_valid_profile_form_is_read_with_three_valued_accessibility() -> None:
    profile = parse_profile_input({
        "disciplines": ["Natation\nMarche nordique; natation\n"], "disability_families": ["moteur", "psychique"],
        "professions": ["apa_teacher"], "qualifications": ["cqh"], "activity_types": ["endurance"],
        "access_motor_reception": ["true"], "access_motor_toilets": ["false"], "access_sensory_signage": ["unknown"],
        "accepting_referrals": ["on"], "capacity_open_slots": ["0"], "waiting_weeks": [""],
        "referral_email": ["accueil@mss.fr"], "phone": ["03 88 00 00 00"], "website": ["https://mss.fr"],
        "confirm": ["on"],
    })
    assert profile.disciplines == ("Natation", "Marche nordique")  # trimmed, de-duplicated
    assert profile.accessibility == {"motor_reception": True, "motor_toilets": False}  # unknown stays absent
    assert profile.capacity_open_slots == 0 and profile.waiting_weeks is None
    assert profile.phone == "0388000000" and profile.accepting_referrals and profile.confirm


def test_every_bad_profile_field_is_named() -> None:
    with pytest.raises(ValidationFailed) as failure:
        parse_profile_input({"capacity_open_slots": ["-1"], "waiting_weeks": ["deux"], "phone": ["12"],
                             "website": ["www.x.fr"], "referral_email": ["nobody"], "professions": ["wizard"],
                             "access_motor_reception": ["maybe"], "disciplines": ["\n".join(str(n) for n in range(31))]})
    assert {error.field for error in failure.value.errors} == {
        "capacity_open_slots", "waiting_weeks", "phone", "website", "referral_email", "professions",
        "access_motor_reception", "disciplines"}


def test_indicator_query_defaults_and_errors() -> None:
    query = parse_indicator_query({}, dt.date(2026, 11, 22))
    assert (query.period_start, query.period_end) == (dt.date(2025, 12, 1), dt.date(2026, 11, 30))
    assert query.scope_level == "national" and query.geo_basis == "patient_residence"
    region = parse_indicator_query({"period_from": "2026-01", "period_to": "2026-01", "area": "r:44"},
                                   dt.date(2026, 11, 22))
    assert (region.scope_level, region.scope_code, region.period_end) == ("region", "44", dt.date(2026, 1, 31))
    corsica = parse_indicator_query({"area": "D:2A", "basis": "structure_location"}, dt.date(2026, 11, 22))
    assert (corsica.scope_level, corsica.scope_code, corsica.geo_basis) == ("department", "2A", "structure_location")
    with pytest.raises(ValidationFailed) as failure:
        parse_indicator_query({"period_from": "2026-13", "period_to": "x", "area": "Z:1", "basis": "moon"},
                              dt.date(2026, 11, 22))
    assert {e.field for e in failure.value.errors} == {"period_from", "period_to", "area", "basis"}
    with pytest.raises(ValidationFailed):
        parse_indicator_query({"period_from": "2020-01", "period_to": "2026-01"}, dt.date(2026, 11, 22))


def test_planned_sessions_to_day_90() -> None:
    assert planned_sessions_to_day_90(2, None) == 25  # 2 a week over 90 days
    assert planned_sessions_to_day_90(3, 24) == 24  # capped by the programme's planned sessions
