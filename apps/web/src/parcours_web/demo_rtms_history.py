"""Demo data of the treatment history: an episode, its trials and the medication list of P-DEMO00001..05.

- P-DEMO00001: two adequate failures (SSRI then SNRI): HAS treatment-resistant depression, Thase–Rush II.
- P-DEMO00002: a benzodiazepine and an anticonvulsant decreased five days ago: R-MED-03 asks to hold the
  next session and re-measure the motor threshold.
- P-DEMO00003: clozapine (strong seizure-threshold hazard, R-MED-01) after an SSRI and a tricyclic.
- P-DEMO00004: one failure, one early intolerance (not a failure, R-STG-02) and a course of CBT.
- P-DEMO00005: SSRI, SNRI, tricyclic, MAOI and bilateral ECT failures: Thase–Rush V.
Deterministic (fixed answers, dates relative to today) and idempotent (a patient that already has an
episode is left as it is).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from parcours_web.auth.tables import AppUser
from rtms_pathway import history_service as histories
from rtms_pathway.history_tables import EpisodeRow
from shared_core.actors import Actor
from shared_core.db import Database

CENTRE = "org-centre-demo"
PHYSICIAN_EMAIL = "psychiatre@demo.parcours.fr"
Form = dict[str, str | None]


def _ago(today: dt.date, days: int) -> str:
    return (today - dt.timedelta(days=days)).isoformat()


def _ad(agent: str, dose: str, weeks: str, outcome: str = "non_response_lt25", unit: str = "mg", **extra: str) -> Form:
    form: Form = {"modality": "antidepressant", "agent": agent, "max_daily_dose": dose, "unit": unit,
                  "weeks_at_adequate_dose": weeks, "adherence": "good", "outcome": outcome, "source": "records"}
    return form | extra


def _plan(today: dt.date) -> dict[str, tuple[Form, list[Form], list[Form]]]:
    """patient -> (episode, trials, medications)."""
    return {
        "P-DEMO00001": (
            {"diagnosis": "unipolar", "severity": "severe_without_psychosis", "started_on": _ago(today, 480)},
            [_ad("escitalopram", "20", "8", start_date=_ago(today, 420), end_date=_ago(today, 360)),
             _ad("venlafaxine", "225", "10", start_date=_ago(today, 330), end_date=_ago(today, 250),
                 notes="Arrêt après dix semaines sans amélioration (MADRS 34 → 31).")],
            [{"inn": "venlafaxine", "dose": "225", "unit": "mg", "started_on": _ago(today, 330)},
             {"inn": "zopiclone", "dose": "7.5", "unit": "mg", "started_on": _ago(today, 200)}],
        ),
        "P-DEMO00002": (
            {"diagnosis": "bipolar_ii", "severity": "moderate", "started_on": _ago(today, 300),
             "pr_wrong_diagnosis_masked_bipolarity": "no", "pr_addiction": "no"},
            [_ad("sertraline", "150", "8", outcome="partial_25_49", improvement_pct="35", improvement_scale="MADRS")],
            [{"inn": "lorazepam", "dose": "2", "unit": "mg", "started_on": _ago(today, 120)},
             {"inn": "valproate", "dose": "1000", "unit": "mg", "started_on": _ago(today, 400),
              "last_change_kind": "decrease", "last_change_on": _ago(today, 5),
              "notes": "Diminution de 1500 à 1000 mg/j par le médecin traitant."},
             {"inn": "sertraline", "dose": "150", "unit": "mg", "started_on": _ago(today, 90)}],
        ),
        "P-DEMO00003": (
            {"diagnosis": "unipolar", "severity": "severe_with_psychosis", "duration_months": "30"},
            [_ad("paroxetine", "40", "6"),
             _ad("clomipramine", "150", "8", pharm_class="tca"),
             {"modality": "augmentation", "agent": "aripiprazole", "max_daily_dose": "5", "unit": "mg",
              "weeks_at_adequate_dose": "6", "adherence": "partial", "outcome": "non_response_lt25",
              "augments_agent": "clomipramine"}],
            [{"inn": "clozapine", "dose": "300", "unit": "mg", "started_on": _ago(today, 150)},
             {"inn": "lithium", "dose": "800", "unit": "mg", "started_on": _ago(today, 150)}],
        ),
        "P-DEMO00004": (
            {"diagnosis": "unipolar", "severity": "moderate", "started_on": _ago(today, 200)},
            [_ad("fluoxetine", "20", "6"),
             _ad("mirtazapine", "15", "2", outcome="intolerance", stop_reason="intolerance",
                 notes="Sédation importante."),
             {"modality": "psychotherapy", "agent": "TCC", "sessions": "12", "outcome": "non_response_lt25"}],
            [{"inn": "agomelatine", "dose": "25", "unit": "mg", "started_on": _ago(today, 40),
              "last_change_kind": "increase", "last_change_on": _ago(today, 10)}],
        ),
        "P-DEMO00005": (
            {"diagnosis": "unipolar", "severity": "severe_without_psychosis", "started_on": _ago(today, 900),
             "dtd": "yes"},
            [_ad("citalopram", "40", "8"), _ad("duloxetine", "120", "8"), _ad("amitriptyline", "150", "6"),
             _ad("phenelzine", "60", "6"),
             {"modality": "ect", "agent": "ECT", "sessions": "12", "ect_laterality": "bilateral",
              "outcome": "non_response_lt25"}],
            [{"inn": "duloxetine", "dose": "60", "unit": "mg", "started_on": _ago(today, 60)}],
        ),
    }


def seed_rtms_history(database: Database, today: dt.date) -> None:
    with database.read() as session:
        physician_id = session.scalar(select(AppUser.id).where(AppUser.email == PHYSICIAN_EMAIL))
        done = set(session.scalars(select(EpisodeRow.patient_id)))
    physician = Actor(id=physician_id or "demo", role="psychiatrist", organisation_id=CENTRE)
    for patient_id, (episode, trials, medications) in _plan(today).items():
        if patient_id in done:
            continue
        histories.save_episode(database, physician, patient_id, episode, today)
        for trial in trials:
            histories.save_trial(database, physician, patient_id, trial)
        for medication in medications:
            histories.save_medication(database, physician, patient_id, medication)
