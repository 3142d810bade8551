"""Treatment history services on a real database: the episode, trials and medications are stored
(versioned), the staging and the medication review are computed from them with their reasons, and
only the actor's centre and the right roles get in (domain-rtms §4, §5)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

import rtms_pathway.history_tables
from rtms_pathway.history_service import (
    check_trial,
    delete_medication,
    delete_trial,
    history,
    save_episode,
    save_medication,
    save_trial,
    trial_defaults,
)
from rtms_pathway.history_tables import TreatmentTrialRow
from shared_core.actors import Actor
from shared_core.db import Database
from shared_core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from shared_core.tables import AuditEvent

pytestmark = pytest.mark.db
assert rtms_pathway.history_tables  # the tables are on the metadata

STAGED_ON = dt.date(2026, 4, 20)  # domain-rtms §5.6: episode started 2024-10, staged 18 months later
DOCTOR = Actor(id="U-DOC", role="psychiatrist", organisation_id="org-a", address="127.0.0.1")
NURSE = Actor(id="U-NURSE", role="operator", organisation_id="org-a", address="127.0.0.1")
OTHER = Actor(id="U-OTHER", role="psychiatrist", organisation_id="org-b", address="127.0.0.1")
REFERRER = Actor(id="U-REF", role="referrer", organisation_id="org-a", address="127.0.0.1")


def _episode(database: Database) -> str:
    return save_episode(database, DOCTOR, "P1", {"diagnosis": "unipolar", "severity": "severe_without_psychosis",
                                                 "started_on": "2024-10-15"}, STAGED_ON)


def _trial(**changes: str) -> dict[str, str | None]:
    return {"modality": "antidepressant", "agent": "escitalopram", "max_daily_dose": "20", "unit": "mg",
            "weeks_at_adequate_dose": "8", "adherence": "good", "outcome": "non_response_lt25"} | changes


def test_worked_example_of_the_specification(database: Database) -> None:
    """domain-rtms §5.6: MSM 2 + 4 + 1 + 1 + 0 = 8, HAS and EU-PEARL TRD, Thase–Rush II, one intolerance."""
    _episode(database)
    save_trial(database, DOCTOR, "P1", _trial())
    save_trial(database, DOCTOR, "P1", _trial(agent="venlafaxine", max_daily_dose="225", weeks_at_adequate_dose="10"))
    save_trial(database, DOCTOR, "P1", _trial(agent="mirtazapine", max_daily_dose="15", weeks_at_adequate_dose="2",
                                              outcome="intolerance", stop_reason="intolerance"))
    save_trial(database, DOCTOR, "P1", _trial(modality="augmentation", agent="lithium", max_daily_dose="0.8",
                                              unit="mmol/L", weeks_at_adequate_dose="6", augments_agent="venlafaxine"))
    save_trial(database, DOCTOR, "P1", {"modality": "psychotherapy", "agent": "CBT (TCC)", "sessions": "12",
                                        "outcome": "non_response_lt25"})
    view = history(database, DOCTOR, "P1", STAGED_ON)
    staging = view.staging
    assert staging is not None
    assert staging.msm.total == 8 and staging.msm.band == "moderate"
    assert [d.points for d in staging.msm.dimensions] == [2, 4, 1, 1, 0]
    assert staging.flag("trd_has").value is True and staging.flag("trd_eu_pearl").value is True
    assert staging.thase_rush.label == "II"
    assert staging.intolerance_count == 1
    assert staging.trd is True
    assert staging.flag("mtr_mdd").value is True
    # pharm_class filled from the molecule table; adequacy per trial with its reasons.
    by_agent = {t.agent: t for t in view.trials}
    assert by_agent["escitalopram"].pharm_class == "ssri"
    assert by_agent["escitalopram"].assessment.adequate is True
    assert by_agent["mirtazapine"].assessment.adequate is False
    assert any(e.rule_id == "R-STG-02" for e in by_agent["mirtazapine"].assessment.explanations)
    assert all(e.text_fr and e.text_en for t in view.trials for e in t.assessment.explanations)
    assert view.checklist_items and not staging.checklist.complete


def test_weeks_come_from_the_dates_when_not_given(database: Database) -> None:
    _episode(database)
    save_trial(database, DOCTOR, "P1", _trial(weeks_at_adequate_dose="", start_date="2025-01-06",
                                              end_date="2025-03-03"))
    (trial,) = history(database, DOCTOR, "P1", STAGED_ON).trials
    assert trial.weeks_from_dates and trial.weeks_at_adequate_dose == "8"
    assert trial.assessment.adequate is True


def test_trial_without_episode_and_bad_fields_are_refused(database: Database) -> None:
    with pytest.raises(ValidationFailed) as no_episode:
        save_trial(database, DOCTOR, "P1", _trial())
    assert [e.field for e in no_episode.value.errors] == ["episode"]
    _episode(database)
    with pytest.raises(ValidationFailed) as failure:
        save_trial(database, DOCTOR, "P1", _trial(modality="pill", agent=" ", max_daily_dose="-3",
                                                  weeks_at_adequate_dose="x", start_date="2025-05-01",
                                                  end_date="2025-04-01", improvement_pct="101", sessions="-1"))
    fields = {e.field for e in failure.value.errors}
    assert fields == {"modality", "agent", "max_daily_dose", "weeks_at_adequate_dose", "end_date", "improvement_pct",
                      "sessions"}
    with pytest.raises(ValidationFailed) as unknown_class:
        save_trial(database, DOCTOR, "P1", _trial(agent="unobtainium"))
    assert [e.field for e in unknown_class.value.errors] == ["pharm_class"]
    check = check_trial(database, DOCTOR, "P1", _trial(agent=""))
    assert [e.field for e in check.errors] == ["agent"]
    ok = check_trial(database, DOCTOR, "P1", _trial())
    assert ok.errors == [] and ok.assessment is not None and ok.assessment.failure_has


def test_versions_are_checked(database: Database) -> None:
    _episode(database)
    trial_id = save_trial(database, DOCTOR, "P1", _trial())
    _, values = trial_defaults(database, DOCTOR, "P1", trial_id)
    assert values["agent"] == "escitalopram" and values["version"] == "1"
    save_trial(database, DOCTOR, "P1", _trial(agent="sertraline", max_daily_dose="100", version="1"), trial_id)
    with pytest.raises(Conflict):
        save_trial(database, DOCTOR, "P1", _trial(version="1"), trial_id)
    with pytest.raises(Conflict):
        delete_trial(database, DOCTOR, "P1", trial_id, {"version": "1"})
    delete_trial(database, DOCTOR, "P1", trial_id, {"version": "2"})
    with database.read() as session:
        assert session.scalars(select(TreatmentTrialRow)).all() == []
    with pytest.raises(Conflict):
        save_episode(database, DOCTOR, "P1", {"diagnosis": "unipolar", "severity": "mild", "duration_months": "3",
                                              "version": "7"}, STAGED_ON)


def test_medication_review_with_recent_decrease(database: Database) -> None:
    """§4.4 example: clozapine, lorazepam reduced a week ago, lithium."""
    save_medication(database, DOCTOR, "P1", {"inn": "clozapine", "dose": "300", "unit": "mg"})
    lorazepam = save_medication(database, DOCTOR, "P1", {
        "inn": "lorazepam", "dose": "3", "unit": "mg", "started_on": "2025-06-01", "last_change_kind": "decrease",
        "last_change_on": (STAGED_ON - dt.timedelta(days=7)).isoformat()})
    save_medication(database, DOCTOR, "P1", {"inn": "lithium", "dose": "800", "unit": "mg"})
    review = history(database, DOCTOR, "P1", STAGED_ON).review
    codes = {p.code for p in review.precautions}
    assert {"seizure_threshold_medication", "seizure_threshold_medication_relative", "benzodiazepine_reduces_efficacy",
            "mt_raising_medication", "neuroleptic_efficacy"} <= codes
    assert review.hold_next_session and review.mt_recheck
    assert any(r.rule_id == "R-MED-03" and "lorazepam" in r.subjects for r in review.reasons)
    # A decrease outside the window no longer holds the session.
    save_medication(database, DOCTOR, "P1", {"inn": "lorazepam", "dose": "3", "unit": "mg", "last_change_kind":
                                             "decrease", "last_change_on": "2025-01-01", "version": "1"}, lorazepam)
    assert not history(database, DOCTOR, "P1", STAGED_ON).review.hold_next_session
    with pytest.raises(ValidationFailed) as failure:
        save_medication(database, DOCTOR, "P1", {"inn": "", "dose": "abc", "last_change_on": "2025-01-01",
                                                 "started_on": "2025-02-01"})
    assert {e.field for e in failure.value.errors} == {"inn", "dose", "last_change_kind", "last_change_on"}
    delete_medication(database, DOCTOR, "P1", lorazepam, {"version": "2"})
    assert len(history(database, DOCTOR, "P1", STAGED_ON).medications) == 2


def test_access_is_limited_to_the_centre_and_roles(database: Database) -> None:
    _episode(database)
    trial_id = save_trial(database, DOCTOR, "P1", _trial())
    assert history(database, NURSE, "P1", STAGED_ON).can_edit is False
    with pytest.raises(PermissionDenied):
        save_trial(database, NURSE, "P1", _trial())
    with pytest.raises(PermissionDenied):
        history(database, REFERRER, "P1", STAGED_ON)
    with pytest.raises(NotFound):
        history(database, OTHER, "P1", STAGED_ON)
    with pytest.raises(NotFound):
        save_trial(database, OTHER, "P1", _trial(version="1"), trial_id)
    with database.read() as session:
        reads = session.scalars(select(AuditEvent).where(AuditEvent.object_type == "rtms_treatment_history")).all()
        writes = session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "rtms_treatment_trial")).all()
    assert [r.actor_id for r in reads] == ["U-NURSE"]
    assert writes == ["trial_recorded"]


def test_episode_validation_and_staging_errors(database: Database) -> None:
    with pytest.raises(ValidationFailed) as failure:
        save_episode(database, DOCTOR, "P1", {"diagnosis": "sad", "started_on": "2030-01-01"}, STAGED_ON)
    assert {e.field for e in failure.value.errors} == {"diagnosis", "severity", "started_on"}
    save_episode(database, DOCTOR, "P1", {"diagnosis": "bipolar_ii", "severity": "moderate", "duration_months": "30",
                                          "pr_addiction": "yes", "pr_adhd": "no", "dtd": "yes"}, STAGED_ON)
    view = history(database, DOCTOR, "P1", STAGED_ON)
    assert view.episode is not None and view.episode.pseudo_resistance == {"addiction": True, "adhd": False}
    assert view.staging is not None and view.staging.msm.total is None  # no failure: MSM not applicable
    assert view.staging.checklist.any_present
    assert view.staging.flag("dtd").value is True


def test_a_new_episode_closes_the_current_one(database: Database) -> None:
    _episode(database)
    save_trial(database, DOCTOR, "P1", _trial())
    save_trial(database, DOCTOR, "P1", _trial(agent="venlafaxine", max_daily_dose="225"))
    assert history(database, DOCTOR, "P1", STAGED_ON).staging.trd  # type: ignore[union-attr]
    save_episode(database, DOCTOR, "P1", {"diagnosis": "unipolar", "severity": "moderate", "started_on": "2026-03-01",
                                          "new_episode": "on", "version": "1"}, STAGED_ON)
    view = history(database, DOCTOR, "P1", STAGED_ON)
    assert view.episode is not None and view.episode.severity == "moderate"
    assert [t.assessment.in_current_episode for t in view.trials] == [False, False]
    assert view.staging is not None and view.staging.trd is False and view.staging.msm.total is None
    save_trial(database, DOCTOR, "P1", _trial(agent="sertraline", max_daily_dose="100"))
    assert history(database, DOCTOR, "P1", STAGED_ON).staging.antidepressant_failures_has == 1  # type: ignore[union-attr]
