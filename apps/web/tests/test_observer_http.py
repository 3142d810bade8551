"""Observer dashboard and open-data exports over HTTP: roles, suppression of counts 1..10 in every
published cell (HTML, CSV, JSON), and no referral id or name in any observer response."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from parcours_web.settings import Settings
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.tables import Patient, Referral, ReferralEvent
from sport_referral.indicator_service import IndicatorQuery, ObserverIndicators, load_facts, observer_indicators
from sport_referral.model.structures import Structure
from sport_referral.referral_tables import SportAttendance, SportPrescription, SportReferralDetail
from sport_referral.service import save_structures

pytestmark = pytest.mark.db
Client = Callable[..., tuple[TestClient[Litestar], str]]
MARKER_NAME = "Zorglubovitch"
PERIOD = "period_from=2026-01&period_to=2026-03"
UTC = dt.UTC


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=UTC)


def seed_referrals(database: Database) -> list[str]:
    """Department 67 (region 44): 30 referrals in January, 20 accepted and 10 declined, 14 first sessions;
    department 68 (region 44): 7 referrals (a primary-suppressed count); department 31 (region 76): 14."""
    structure = msgspec.convert({
        "structure_id": "mss-obs", "kind": "mss", "name": "MSS observée", "postcode": "67000",
        "commune_insee": "67482", "department_code": "67", "region_code": "44", "accepting_referrals": True,
        "source": "manual", "source_licence": "own", "referral_email": "mss@example.fr",
        "mss_habilitated_from": "2024-01-01"}, Structure)
    save_structures(database, Actor(id="test", role="admin"), [structure], "test")
    ids: list[str] = []
    plan = [("67", "44", 30), ("68", "44", 7), ("31", "76", 14)]
    with database.write() as session:
        number = 0
        for department, region, count in plan:
            for index in range(count):
                number += 1
                patient_id = f"P-OBS{number:05d}"
                referral_id = f"R-SECRET{number:05d}"
                ids.append(referral_id)
                session.add(Patient(id=patient_id, organisation_id="org-centre-a", family_name=MARKER_NAME,
                                    given_names="Secret", birth_date=dt.date(1980, 1, 1), sex="F",
                                    search_key=MARKER_NAME.lower(), created_by="test"))
                session.add(SportPrescription(
                    id=f"SP-{number:05d}", patient_id=patient_id, organisation_id="org-centre-a", prescriber_id="u",
                    prescriber_name="Dr Test", prescribed_on=dt.date(2025, 12, 20), signed_at=_at(dt.date(2025, 12, 20)),
                    expires_on=dt.date(2026, 3, 20), limitation_level="moderate", intensity="moderate",
                    programme_months=3, sessions_per_week_min=2, sessions_per_week_max=3,
                    disability_families=["moteur"], data={}, eligibility={}, needs={}, lint_hits=[],
                    created_by="u"))
                sent = dt.date(2026, 1, 5 + index % 20)
                accepted = department == "67" and index < 20
                declined = department == "67" and index >= 20
                first = dt.date(2026, 2, 1 + index % 20) if accepted and index < 14 else None
                status = "in_progress" if first else "accepted" if accepted else "declined" if declined else "sent"
                session.add(Referral(id=referral_id, workflow="sport_referral", patient_id=patient_id,
                                     sender_organisation_id="org-centre-a", recipient_organisation_id="org-mss",
                                     status=status, created_by="u"))
                session.flush()
                session.add(ReferralEvent(referral_id=referral_id, source="draft", target="sent", actor_id="u",
                                          actor_role="psychiatrist", at=_at(sent)))
                session.add(SportReferralDetail(
                    referral_id=referral_id, prescription_id=f"SP-{number:05d}", structure_id="mss-obs",
                    patient_id=patient_id, prescriber_id="u", prescriber_organisation_id="org-centre-a",
                    recipient_organisation_id="org-mss", status=status, structure_kind="mss",
                    structure_department_code="67", structure_region_code="44",
                    patient_department_code=department, patient_region_code=region,
                    disability_families=["moteur"], limitation_level="moderate", sessions_per_week_min=2,
                    programme_months=3, sent_at=_at(sent),
                    decided_at=_at(sent + dt.timedelta(days=3)) if accepted or declined else None,
                    accepted_at=_at(sent + dt.timedelta(days=3)) if accepted else None,
                    declined_at=_at(sent + dt.timedelta(days=3)) if declined else None,
                    decline_reason="no_capacity" if declined else None,
                    first_session_at=_at(first) if first else None))
                if first:
                    session.add(SportAttendance(referral_id=referral_id, kind="session", session_on=first,
                                                attended=True, recorded_by="c"))
    return ids


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Indicators computed on every change here: these tests look at the data they have just written
    (the staleness allowed in production is tested on the service below)."""
    return Settings(database_url="unused", secret_key=secrets.token_urlsafe(32), cookie_secure=False,
                    var_dir=tmp_path / "var", indicators_max_age_minutes=0)


def _published_counts_are_safe(rows: list[dict[str, object]]) -> None:
    """No published count, numerator or denominator between 1 and 10; suppressed rows carry nothing."""
    assert rows
    for row in rows:
        suppressed = row["suppressed"] in (True, "true")
        if suppressed:
            assert row["value"] in (None, "") and row["numerator"] in (None, "") and row["denominator"] in (None, "")
            assert row["suppression"] in ("primary", "secondary")
            continue
        for name in ("numerator", "denominator"):
            value = row[name]
            if value not in (None, ""):
                assert not 1 <= int(value) <= 10, (name, row)  # type: ignore[call-overload]
        if row["unit"] == "count" and row["value"] not in (None, ""):
            assert not 1 <= float(row["value"]) <= 10, row  # type: ignore[arg-type]


def _no_person(text: str, referral_ids: list[str]) -> None:
    assert MARKER_NAME not in text and "Secret" not in text and "P-OBS" not in text
    assert not any(referral_id in text for referral_id in referral_ids)
    assert "R-SECRET" not in text


@pytest.mark.parametrize("role", ["psychiatrist", "operator", "referrer", "coordinator"])
def test_only_observers_and_admins_see_indicators(client_for: Client, role: str) -> None:
    client, _ = client_for(role)
    for path in ("/observer/indicators", "/observer/indicators.csv", "/observer/indicators.json"):
        assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["observer", "admin"])
def test_the_dashboard_shows_suppressed_cells_as_suppressed(client_for: Client, database: Database,
                                                            role: str) -> None:
    referral_ids = seed_referrals(database)
    client, _ = client_for(role)
    page = client.get(f"/observer/indicators?{PERIOD}")
    assert page.status_code == 200, page.text
    _no_person(page.text, referral_ids)
    html = page.text
    assert "<svg" in html and "table-months" in html
    # Every I01 (referrals sent) cell of every indicator table: a count >= 11, 0, or suppressed.
    for table in re.findall(r'<table class="indicators".*?</table>', html, flags=re.S):
        for row in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table, flags=re.S):
            first = re.search(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
            assert first
            text = first.group(1).strip()
            if text.isdigit():
                assert not 1 <= int(text) <= 10, row
    # The chart data tables never show a count 1..10 either.
    for value in re.findall(r"<tr><th scope=\"row\">[^<]*</th><td>(\d+)</td></tr>", html):
        assert not 1 <= int(value) <= 10
    assert "masqué" in html or "suppressed" in html  # department 68's 7 referrals
    assert ">30<" in html  # department 67's 30 referrals are published


def test_the_csv_export_never_publishes_a_small_count(client_for: Client, database: Database) -> None:
    referral_ids = seed_referrals(database)
    client, _ = client_for("observer")
    response = client.get(f"/observer/indicators.csv?{PERIOD}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    _no_person(response.text, referral_ids)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == ["indicator_code", "indicator_label", "period_start", "period_end", "geo_level", "geo_code",
                             "geo_name", "geo_basis", "dimension", "dimension_value", "value", "numerator",
                             "denominator", "unit", "suppressed", "suppression", "cog_year", "generated_at",
                             "software_version"]
    _published_counts_are_safe(rows)  # type: ignore[arg-type]
    sent_68 = [r for r in rows if r["indicator_code"] == "I01_referrals_sent" and r["geo_code"] == "68"
               and r["dimension"] == "all" and r["period_start"] == "2026-01-01" and r["period_end"] == "2026-03-31"]
    assert sent_68 and sent_68[0]["suppressed"] == "true" and sent_68[0]["value"] == ""
    sent_67 = [r for r in rows if r["indicator_code"] == "I01_referrals_sent" and r["geo_code"] == "67"
               and r["dimension"] == "all" and r["period_start"] == "2026-01-01" and r["period_end"] == "2026-03-31"]
    # 67 is the only other department of region 44: publishing it would give 68 away (secondary).
    assert sent_67 and sent_67[0]["suppressed"] == "true"


def test_the_json_export_never_publishes_a_small_count(client_for: Client, database: Database) -> None:
    referral_ids = seed_referrals(database)
    client, _ = client_for("observer")
    response = client.get(f"/observer/indicators.json?{PERIOD}")
    assert response.status_code == 200
    _no_person(response.text, referral_ids)
    document = json.loads(response.text)
    assert document["metadata"]["suppression_rule"] == "k=11 + secondary"
    assert document["metadata"]["licence"]
    _published_counts_are_safe(document["records"])
    assert all(set(record) >= {"indicator_code", "value", "suppressed"} for record in document["records"])
    national = [r for r in document["records"] if r["indicator_code"] == "I01_referrals_sent"
                and r["geo_level"] == "national" and r["dimension"] == "all" and r["period_end"] == "2026-03-31"
                and r["period_start"] == "2026-01-01"]
    assert national and national[0]["value"] == 51 and not national[0]["suppressed"]


def test_a_department_scope_is_suppressed_on_its_own_table(client_for: Client, database: Database) -> None:
    referral_ids = seed_referrals(database)
    client, _ = client_for("observer")
    response = client.get(f"/observer/indicators.csv?{PERIOD}&area=D:67")
    assert response.status_code == 200
    _no_person(response.text, referral_ids)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and {r["geo_code"] for r in rows} == {"67"}
    _published_counts_are_safe(rows)  # type: ignore[arg-type]
    sent = [r for r in rows if r["indicator_code"] == "I01_referrals_sent" and r["dimension"] == "all"
            and r["period_start"] == "2026-01-01" and r["period_end"] == "2026-03-31"]
    assert sent[0]["value"] == "30"
    page = client.get(f"/observer/indicators?{PERIOD}&area=D:67")
    assert page.status_code == 200 and "Zorglub" not in page.text


def test_bad_filters_answer_422(client_for: Client) -> None:
    client, _ = client_for("observer")
    assert client.get("/observer/indicators?period_from=2026-13").status_code == 422
    assert client.get("/observer/indicators?period_from=2020-01&period_to=2026-01").status_code == 422
    assert client.get("/observer/indicators?area=X:99").status_code == 422
    assert client.get("/observer/indicators.csv?period_from=2026-03&period_to=2026-01").status_code == 422


def test_an_empty_dashboard_renders(client_for: Client) -> None:
    client, _ = client_for("observer")
    page = client.get("/observer/indicators")
    assert page.status_code == 200 and "<svg" in page.text


def test_facts_are_read_from_the_referral_tables(database: Database) -> None:

    seed_referrals(database)
    first = dt.date(2026, 2, 1)
    with database.write() as session:
        # R-SECRET00001 (department 67, first session 2026-02-01): 20 sessions attended within 90 days,
        # one after day 90; on hold at day 95 (after the window).
        for week in range(20):
            session.add(SportAttendance(referral_id="R-SECRET00001", kind="session",
                                        session_on=first + dt.timedelta(days=1 + 4 * week), attended=True,
                                        recorded_by="c"))
        session.add(SportAttendance(referral_id="R-SECRET00001", kind="session",
                                    session_on=first + dt.timedelta(days=120), attended=True, recorded_by="c"))
        session.add(ReferralEvent(referral_id="R-SECRET00001", source="accepted", target="in_progress", actor_id="c",
                                  actor_role="coordinator", at=_at(first)))
        session.add(ReferralEvent(referral_id="R-SECRET00001", source="in_progress", target="on_hold", actor_id="c",
                                  actor_role="coordinator", at=_at(first + dt.timedelta(days=95))))
        # R-SECRET00002: accepted then cancelled; R-SECRET00031 (a 'sent' one of department 68) -> cancelled draft.
        second = session.get(SportReferralDetail, "R-SECRET00002")
        assert second is not None
        second.status, second.closed_at = "cancelled", _at(dt.date(2026, 3, 1))
        draft = session.get(SportReferralDetail, "R-SECRET00031")
        assert draft is not None
        draft.status, draft.sent_at, draft.closed_at = "cancelled", None, _at(dt.date(2026, 1, 20))
    query = IndicatorQuery(period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31))
    facts = {fact.referral_id: fact for fact in load_facts(database, query, as_of=dt.date(2026, 11, 1))}
    one = facts["R-SECRET00001"]
    assert one.department_code == "67" and one.region_code == "44" and one.decision == "accepted"
    assert one.planned_sessions_day_90 == 25 and one.attended_sessions_day_90 == 21  # 20 + the first session row
    assert one.status_at_day_90 == "in_progress"
    assert facts["R-SECRET00002"].terminal_status == "cancelled_after_acceptance"
    assert facts["R-SECRET00031"].is_cancelled_draft
    scoped = load_facts(database, IndicatorQuery(period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31),
                                                 scope_level="department", scope_code="31"), as_of=dt.date(2026, 11, 1))
    assert len(scoped) == 14 and {fact.department_code for fact in scoped} == {"31"}
    by_structure = load_facts(database, IndicatorQuery(period_start=dt.date(2026, 1, 1),
                                                       period_end=dt.date(2026, 3, 31),
                                                       geo_basis="structure_location"), as_of=dt.date(2026, 11, 1))
    assert {fact.department_code for fact in by_structure} == {"67"}


def test_a_cell_hidden_once_stays_hidden_in_later_exports_of_the_period(client_for: Client,
                                                                        database: Database) -> None:
    seed_referrals(database)
    client, _ = client_for("observer")

    def sent_68() -> dict[str, str]:
        rows = list(csv.DictReader(io.StringIO(client.get(f"/observer/indicators.csv?{PERIOD}").text)))
        return next(r for r in rows if r["indicator_code"] == "I01_referrals_sent" and r["geo_code"] == "68"
                    and r["dimension"] == "all" and r["period_start"] == "2026-01-01"
                    and r["period_end"] == "2026-03-31")

    assert sent_68()["suppression"] == "primary"
    with database.write() as session:  # ten more referrals of department 68: 17, above the threshold
        for number in range(10):
            referral_id = f"R-LATE{number:03d}"
            source = session.get(SportReferralDetail, "R-SECRET00031")
            assert source is not None
            session.add(Referral(id=referral_id, workflow="sport_referral", patient_id=source.patient_id,
                                 sender_organisation_id="org-centre-a", recipient_organisation_id="org-mss",
                                 status="sent", created_by="u"))
            session.flush()
            session.add(ReferralEvent(referral_id=referral_id, source="draft", target="sent", actor_id="u",
                                      actor_role="psychiatrist", at=_at(dt.date(2026, 1, 28))))
            session.add(SportReferralDetail(
                referral_id=referral_id, prescription_id=source.prescription_id, structure_id="mss-obs",
                patient_id=source.patient_id, prescriber_id="u", prescriber_organisation_id="org-centre-a",
                recipient_organisation_id="org-mss", status="sent", structure_kind="mss",
                patient_department_code="68", patient_region_code="44", disability_families=["moteur"],
                limitation_level="moderate", sessions_per_week_min=2, programme_months=3,
                sent_at=_at(dt.date(2026, 1, 28))))
    later = sent_68()
    assert later["suppressed"] == "true" and later["suppression"] == "secondary" and later["value"] == ""


def test_cached_results_follow_the_data_and_the_language(client_for: Client, database: Database) -> None:
    """The rendered tables are reused between requests; a referral that moves, and a change of
    language, must still show at once."""
    seed_referrals(database)
    observer, csrf = client_for("observer")
    path = f"/observer/indicators?{PERIOD}&area=D:67"
    first = observer.get(path).text
    assert ">30<" in first and "Indicateurs par mois" in first
    assert observer.get(path).text == first
    _relocate_one_referral_to_67(database)
    assert ">31<" in observer.get(path).text
    observer.post("/language", data={"locale": "en", "next": "/", "_csrf_token": csrf})
    english = observer.get(path).text
    assert ">31<" in english and "Indicators by month" in english and "Indicateurs par mois" not in english


def _sent_in_67(result: ObserverIndicators) -> float | None:
    return next(cell.value for cell in result.table.cells if cell.indicator_code == "I01_referrals_sent"
                and cell.geo_level == "department" and cell.geo_code == "67" and cell.dimension == "all"
                and (cell.period_start, cell.period_end) == (dt.date(2026, 1, 1), dt.date(2026, 3, 31)))


def test_moves_show_within_max_age_and_nobody_waits_for_the_refresh(database: Database) -> None:
    seed_referrals(database)
    observer = Actor(id="U-OBS", role="observer")
    query = IndicatorQuery(period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31),
                           scope_level="department", scope_code="67")
    quarter = dt.timedelta(minutes=15)
    first = observer_indicators(database, observer, query, max_age=quarter)
    assert _sent_in_67(first) == 30
    _relocate_one_referral_to_67(database)
    # Younger than max_age: the same table, which says when it was computed.
    again = observer_indicators(database, observer, query, max_age=quarter)
    assert again.table is first.table and again.computed_at == first.computed_at
    # Older than max_age: served once more while a background thread computes the new one.
    stale = observer_indicators(database, observer, query, max_age=dt.timedelta(microseconds=1))
    assert stale.table is first.table
    deadline = time.monotonic() + 60
    while (fresh := observer_indicators(database, observer, query, max_age=quarter)).table is first.table:
        assert time.monotonic() < deadline, "the background refresh never replaced the table"
        time.sleep(0.05)
    assert _sent_in_67(fresh) == 31 and fresh.computed_at > first.computed_at


def _relocate_one_referral_to_67(database: Database) -> None:
    """One of department 68's referrals is re-located to 67 and moves (every move writes an event)."""
    with database.write() as session:
        detail = session.get(SportReferralDetail, "R-SECRET00031")
        assert detail is not None and detail.patient_department_code == "68"
        detail.patient_department_code = "67"
        session.add(ReferralEvent(referral_id="R-SECRET00031", source="sent", target="received", actor_id="c",
                                  actor_role="coordinator", at=_at(dt.date(2026, 1, 20))))


def test_a_large_table_is_computed_in_a_child_process_with_the_same_result(database: Database,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from sport_referral import indicator_service

    submitted: list[str] = []

    class RecordingPool(ProcessPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            submitted.append(fn.__name__)
            return super().submit(fn, *args, **kwargs)

    seed_referrals(database)
    observer = Actor(id="U-OBS", role="observer")
    query = IndicatorQuery(period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31))
    here = observer_indicators(database, observer, query, as_of=dt.date(2026, 11, 1))
    assert submitted == []
    monkeypatch.setattr(indicator_service, "CHILD_PROCESS_FACTS", 0)
    monkeypatch.setattr(indicator_service, "ProcessPoolExecutor", RecordingPool)
    in_child = observer_indicators(database, observer, query, as_of=dt.date(2026, 10, 31))
    assert submitted == ["_compute_in_child"]
    assert in_child.table is not here.table  # computed again (another day), not taken from the cache
    assert in_child.table.cells == here.table.cells and in_child.table.register == here.table.register


def test_observers_arriving_together_share_one_computation(database: Database,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """After a restart, eight observers at once had started eight national computations."""
    from sport_referral import indicator_service

    computations: list[dt.date] = []
    compute = indicator_service._computed_entry

    def slow_compute(*args, **kwargs):  # type: ignore[no-untyped-def]
        computations.append(args[2])
        time.sleep(0.3)  # long enough for every other request to arrive meanwhile
        return compute(*args, **kwargs)

    seed_referrals(database)
    monkeypatch.setattr(indicator_service, "_computed_entry", slow_compute)
    query = IndicatorQuery(period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 3, 31))
    start = threading.Barrier(8)

    def view(index: int) -> ObserverIndicators:
        start.wait()
        return observer_indicators(database, Actor(id=f"U-OBS-{index}", role="observer"), query,
                                   as_of=dt.date(2026, 10, 30))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(view, range(8)))
    assert computations == [dt.date(2026, 10, 30)]
    assert all(result.table is results[0].table for result in results)
