"""Treatment history, resistance staging and medication review of one patient (domain-rtms §4, §5).

The team records the current episode, its treatment trials and the medication list; this module
stores them (versioned: a stale save is a :class:`Conflict`) and runs the existing pure rules on
them: ``assess_trial``/``stage`` (R-STG-01..06, HAS and EU-PEARL definitions, Maudsley, Thase–Rush,
pseudo-resistance checklist) and ``review_medications`` (R-MED-01..06, R-MED-03 dose-decrease
trigger). Every function loads through ``load_patient`` (the actor's centre only) and audits the
read or the write. Psychiatrists edit; operators read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal, get_args

import msgspec
from sqlalchemy import select
from sqlalchemy.orm import Session

from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from rtms_pathway.catalogue.loader_staging import load_staging_settings
from rtms_pathway.form_reader import FormReader
from rtms_pathway.history_tables import EpisodeRow, MedicationRow, TreatmentTrialRow
from rtms_pathway.model.medication import (
    ActionDefinition,
    DoseChange,
    MedicationEntry,
    MedicationReviewResult,
)
from rtms_pathway.model.screening import PrecautionDefinition
from rtms_pathway.model.staging import (
    Adherence,
    Diagnosis,
    EctLaterality,
    Modality,
    MsmSeverity,
    PharmClass,
    StagingInput,
    StagingResult,
    StagingSettings,
    StopReason,
    TreatmentTrial,
    TrialAssessment,
    TrialOutcome,
    TrialSource,
)
from rtms_pathway.rules.medication import review_medications
from rtms_pathway.rules.staging import assess_trial, stage
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from shared_core.ids import new_id
from shared_core.services import audit
from shared_core.services.patients import load_patient
from shared_core.tables import Patient

__all__ = [
    "ADHERENCES", "CHANGE_KINDS", "DIAGNOSES", "EDIT_ROLES", "LATERALITIES", "MODALITIES", "OUTCOMES",
    "PHARM_CLASSES", "READ_ROLES", "SEVERITIES", "SOURCES", "STOP_REASONS",
    "EpisodeView", "HistoryView", "MedicationView", "TrialCheck", "TrialView",
    "check_trial", "delete_medication", "delete_trial", "history", "medication_defaults", "parse_trial",
    "save_episode", "save_medication", "save_trial", "trial_defaults",
]

READ_ROLES = frozenset({"psychiatrist", "operator"})
EDIT_ROLES = frozenset({"psychiatrist"})
MODALITIES: tuple[str, ...] = get_args(Modality)
PHARM_CLASSES: tuple[str, ...] = get_args(PharmClass)
ADHERENCES: tuple[str, ...] = get_args(Adherence)
OUTCOMES: tuple[str, ...] = get_args(TrialOutcome)
STOP_REASONS: tuple[str, ...] = get_args(StopReason)
LATERALITIES: tuple[str, ...] = get_args(EctLaterality)
SOURCES: tuple[str, ...] = get_args(TrialSource)
DIAGNOSES: tuple[str, ...] = get_args(Diagnosis)
SEVERITIES: tuple[str, ...] = get_args(MsmSeverity)
# The last dose change of a listed drug; R-MED-03 reads decrease and stop as triggers.
CHANGE_KINDS = ("increase", "decrease", "stop")
_CHANGE_TO_RULE: dict[str, Any] = {"increase": "increased", "decrease": "decreased", "stop": "stopped"}
_DRUG_MODALITIES = ("antidepressant", "augmentation")
_TRIAL_FIELDS = (
    "modality", "agent", "atc", "pharm_class", "start_date", "end_date", "max_daily_dose", "unit",
    "weeks_at_adequate_dose", "adherence", "outcome", "improvement_pct", "improvement_scale", "stop_reason",
    "sessions", "ect_laterality", "source", "augments_agent", "dose_confirmed_adequate", "notes",
)
_MEDICATION_FIELDS = ("inn", "dose", "unit", "started_on", "last_change_kind", "last_change_on", "notes")


# --- views -----------------------------------------------------------------------------------------


class EpisodeView(msgspec.Struct, frozen=True):
    id: str
    diagnosis: str
    severity: str
    started_on: dt.date | None
    duration_months: int | None
    pseudo_resistance: dict[str, bool]
    dtd: bool | None
    version: int


class TrialView(msgspec.Struct, frozen=True):
    id: str
    modality: str
    agent: str
    pharm_class: str | None
    start_date: dt.date | None
    end_date: dt.date | None
    max_daily_dose: str | None
    unit: str | None
    weeks_at_adequate_dose: str | None
    # True when the weeks were not given and were computed from the start and end dates.
    weeks_from_dates: bool
    adherence: str
    outcome: str
    improvement_pct: str | None
    stop_reason: str | None
    sessions: int | None
    ect_laterality: str | None
    notes: str | None
    version: int
    assessment: TrialAssessment


class MedicationView(msgspec.Struct, frozen=True):
    id: str
    inn: str
    dose: str | None
    unit: str | None
    started_on: dt.date | None
    last_change_kind: str | None
    last_change_on: dt.date | None
    status: str
    notes: str | None
    version: int


class HistoryView(msgspec.Struct, frozen=True):
    patient_id: str
    patient_name: str
    staged_on: dt.date
    can_edit: bool
    episode: EpisodeView | None
    trials: list[TrialView]
    medications: list[MedicationView]
    staging: StagingResult | None
    staging_errors: list[FieldError]
    review: MedicationReviewResult
    actions: dict[str, ActionDefinition]
    precautions: dict[str, PrecautionDefinition]
    checklist_items: list[tuple[str, str, str]]  # code, label_fr, label_en
    ruleset_version: str


class TrialCheck(msgspec.Struct, frozen=True):
    """The live check of a trial form: every bad field, and the adequacy the rules would give it."""

    errors: list[FieldError]
    assessment: TrialAssessment | None
    weeks_from_dates: bool


# --- form reading ------------------------------------------------------------------------------------


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _weeks_between(start: dt.date | None, end: dt.date | None) -> Decimal | None:
    if start is None or end is None or end < start:
        return None
    return (Decimal((end - start).days) / 7).quantize(Decimal("0.1"))


def parse_trial(raw: Mapping[str, str | None], settings: StagingSettings, episode_id: str) -> TreatmentTrial:
    """The trial of a form, or ValidationFailed naming every bad field."""
    form = FormReader(raw, text_max_length=120)
    modality = form.choice("modality", MODALITIES, required=True)
    agent = form.text("agent", required=True)
    atc = form.text("atc", max_length=10)
    pharm_class = form.choice("pharm_class", PHARM_CLASSES)
    start = form.date("start_date")
    end = form.date("end_date")
    dose = form.decimal("max_daily_dose", low=Decimal(0), high=Decimal(100_000), low_inclusive=False)
    unit = form.text("unit", max_length=20)
    weeks = form.decimal("weeks_at_adequate_dose", low=Decimal(0), high=Decimal(520))
    adherence = form.choice("adherence", ADHERENCES, default="unknown")
    outcome = form.choice("outcome", OUTCOMES, default="unknown")
    improvement = form.decimal("improvement_pct", low=Decimal(-100), high=Decimal(100))
    scale = form.text("improvement_scale", max_length=40)
    stop_reason = form.choice("stop_reason", STOP_REASONS)
    sessions = form.integer("sessions", low=0, high=1000)
    laterality = form.choice("ect_laterality", LATERALITIES)
    source = form.choice("source", SOURCES)
    augments = form.text("augments_agent")
    confirmed = form.tristate("dose_confirmed_adequate")
    form.text("notes", max_length=2000)
    if start and end and end < start:
        form.errors.append(FieldError("end_date", "The end date must not be before the start date."))
    if dose is not None and unit is None:
        form.errors.append(FieldError("unit", "Give the unit of the dose."))
    if modality in _DRUG_MODALITIES and agent and pharm_class is None:
        known = settings.molecule(agent)
        if known is not None:
            pharm_class = known.pharm_class  # the molecule table knows the class (R-STG-01 table)
        elif modality == "antidepressant":
            form.errors.append(FieldError("pharm_class", "Choose the pharmacological class of the antidepressant."))
    if laterality is not None and modality != "ect":
        form.errors.append(FieldError("ect_laterality", "The laterality applies to an ECT course only."))
    if form.errors:
        raise ValidationFailed(form.errors)
    assert modality is not None and agent is not None and adherence is not None and outcome is not None
    return TreatmentTrial(
        episode_id=episode_id, modality=modality, agent=agent, atc=atc,  # type: ignore[arg-type]
        pharm_class=pharm_class, start_date=start, end_date=end,  # type: ignore[arg-type]
        max_daily_dose=dose, unit=unit, weeks_at_adequate_dose=weeks,
        adherence=adherence, outcome=outcome, improvement_pct=improvement,  # type: ignore[arg-type]
        improvement_scale=scale, stop_reason=stop_reason, sessions=sessions,  # type: ignore[arg-type]
        ect_laterality=laterality, source=source, augments_agent=augments,  # type: ignore[arg-type]
        dose_confirmed_adequate=confirmed,
    )


def _for_rules(trial: TreatmentTrial, trial_id: str | None = None) -> tuple[TreatmentTrial, bool]:
    """The trial the rules see: weeks from the dates when the weeks were not given."""
    if trial.weeks_at_adequate_dose is None and trial.modality in _DRUG_MODALITIES:
        weeks = _weeks_between(trial.start_date, trial.end_date)
        if weeks is not None:
            return msgspec.structs.replace(trial, weeks_at_adequate_dose=weeks, trial_id=trial_id), True
    return msgspec.structs.replace(trial, trial_id=trial_id), False


def _row_trial(row: TreatmentTrialRow) -> TreatmentTrial:
    return TreatmentTrial(
        episode_id=row.episode_id, modality=row.modality, agent=row.agent, trial_id=row.id,  # type: ignore[arg-type]
        atc=row.atc, pharm_class=row.pharm_class, start_date=row.start_date,  # type: ignore[arg-type]
        end_date=row.end_date, max_daily_dose=_decimal(row.max_daily_dose), unit=row.unit,
        weeks_at_adequate_dose=_decimal(row.weeks_at_adequate_dose),
        adherence=row.adherence, outcome=row.outcome,  # type: ignore[arg-type]
        improvement_pct=_decimal(row.improvement_pct), improvement_scale=row.improvement_scale,
        stop_reason=row.stop_reason, sessions=row.sessions,  # type: ignore[arg-type]
        ect_laterality=row.ect_laterality, source=row.source,  # type: ignore[arg-type]
        augments_agent=row.augments_agent, dose_confirmed_adequate=row.dose_confirmed_adequate,
    )


def _medication_entry(row: MedicationRow) -> MedicationEntry:
    changes: list[DoseChange] = []
    if row.started_on is not None:
        changes.append(DoseChange("started", row.started_on))
    if row.last_change_kind is not None and row.last_change_on is not None:
        changes.append(DoseChange(_CHANGE_TO_RULE[row.last_change_kind], row.last_change_on))
    dose_text = " ".join(part for part in (row.dose, row.unit) if part)
    status: Literal["current", "stopped"] = "stopped" if row.last_change_kind == "stop" else "current"
    return MedicationEntry(inn=row.inn, status=status, changes=tuple(changes), dose_text=dose_text)


# --- reading ---------------------------------------------------------------------------------------------


def _check_role(actor: Actor, roles: frozenset[str]) -> None:
    if actor.role not in roles:
        raise PermissionDenied("Only the centre's psychiatrists edit the treatment history." if roles == EDIT_ROLES
                               else "Only the centre's clinical team reads the treatment history.")


def _patient_name(patient: Patient) -> str:
    return f"{patient.family_name} {patient.given_names}"


def _current_episode(session: Session, patient_id: str) -> EpisodeRow | None:
    return session.scalars(
        select(EpisodeRow).where(EpisodeRow.patient_id == patient_id, EpisodeRow.closed_on.is_(None))
        .order_by(EpisodeRow.updated_at.desc(), EpisodeRow.id)
    ).first()


def _episode_view(row: EpisodeRow) -> EpisodeView:
    answers = {str(k): bool(v) for k, v in (row.pseudo_resistance or {}).items()}
    return EpisodeView(row.id, row.diagnosis, row.severity, row.started_on, row.duration_months, answers, row.dtd,
                       row.version)


def _trials(session: Session, patient_id: str) -> list[TreatmentTrialRow]:
    return list(session.scalars(
        select(TreatmentTrialRow).where(TreatmentTrialRow.patient_id == patient_id)
        .order_by(TreatmentTrialRow.start_date.is_(None), TreatmentTrialRow.start_date, TreatmentTrialRow.recorded_at,
                  TreatmentTrialRow.id)
    ))


def _medications(session: Session, patient_id: str) -> list[MedicationRow]:
    return list(session.scalars(
        select(MedicationRow).where(MedicationRow.patient_id == patient_id)
        .order_by(MedicationRow.inn, MedicationRow.id)
    ))


def history(database: Database, actor: Actor, patient_id: str, today: dt.date) -> HistoryView:
    """The patient's current episode, trials and medications with the staging and the medication review."""
    _check_role(actor, READ_ROLES)
    settings = load_staging_settings()
    clinical = load_clinical_catalogues()
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        episode = _current_episode(session, patient.id)
        trial_rows = _trials(session, patient.id)
        medication_rows = _medications(session, patient.id)
        audit.record(session, actor, "read", "rtms_treatment_history", patient.id, patient_id=patient.id)
        name = _patient_name(patient)
        episode_view = _episode_view(episode) if episode else None
    prepared = [_for_rules(_row_trial(row), row.id) for row in trial_rows]
    current_id = episode.id if episode else None
    staging: StagingResult | None = None
    staging_errors: list[FieldError] = []
    if episode is not None:
        data = StagingInput(
            current_episode_id=episode.id, diagnosis=episode.diagnosis,  # type: ignore[arg-type]
            severity=episode.severity, trials=tuple(t for t, _ in prepared),  # type: ignore[arg-type]
            episode_start=episode.started_on, episode_months=episode.duration_months,
            pseudo_resistance=episode_view.pseudo_resistance if episode_view else {}, dtd=episode.dtd,
        )
        try:
            staging = stage(data, today, settings)
        except ValidationFailed as failure:
            staging_errors = failure.errors
    assessments = (
        list(staging.trials) if staging is not None
        else [assess_trial(t, settings, current_episode_id=current_id, index=i) for i, (t, _) in enumerate(prepared)]
    )
    trials = [_trial_view(row, from_dates, assessment)
              for row, (_, from_dates), assessment in zip(trial_rows, prepared, assessments, strict=True)]
    review = review_medications([_medication_entry(row) for row in medication_rows], drugs=clinical.drugs,
                                settings=clinical.settings, as_of=today)
    medications = [_medication_view(row) for row in medication_rows]
    return HistoryView(
        patient_id=patient_id, patient_name=name, staged_on=today, can_edit=actor.role in EDIT_ROLES,
        episode=episode_view, trials=trials, medications=medications, staging=staging,
        staging_errors=staging_errors, review=review, actions=dict(clinical.drugs.actions),
        precautions=dict(clinical.settings.precautions),
        checklist_items=[(item.code, item.label_fr, item.label_en) for item in settings.pseudo_resistance],
        ruleset_version=settings.version,
    )


def _trial_view(row: TreatmentTrialRow, from_dates: bool, assessment: TrialAssessment) -> TrialView:
    weeks = row.weeks_at_adequate_dose
    if from_dates:
        weeks = _decimal_text(_weeks_between(row.start_date, row.end_date))
    return TrialView(
        id=row.id, modality=row.modality, agent=row.agent, pharm_class=row.pharm_class, start_date=row.start_date,
        end_date=row.end_date, max_daily_dose=row.max_daily_dose, unit=row.unit, weeks_at_adequate_dose=weeks,
        weeks_from_dates=from_dates, adherence=row.adherence, outcome=row.outcome,
        improvement_pct=row.improvement_pct, stop_reason=row.stop_reason, sessions=row.sessions,
        ect_laterality=row.ect_laterality, notes=row.notes, version=row.version, assessment=assessment,
    )


def _medication_view(row: MedicationRow) -> MedicationView:
    return MedicationView(row.id, row.inn, row.dose, row.unit, row.started_on, row.last_change_kind,
                          row.last_change_on, "stopped" if row.last_change_kind == "stop" else "current",
                          row.notes, row.version)


# --- edit forms ----------------------------------------------------------------------------------------


def _trial_row(session: Session, patient_id: str, trial_id: str) -> TreatmentTrialRow:
    row = session.get(TreatmentTrialRow, trial_id)
    if row is None or row.patient_id != patient_id:
        raise NotFound("Treatment trial not found.")
    return row


def _medication_row(session: Session, patient_id: str, medication_id: str) -> MedicationRow:
    row = session.get(MedicationRow, medication_id)
    if row is None or row.patient_id != patient_id:
        raise NotFound("Medication not found.")
    return row


def trial_defaults(database: Database, actor: Actor, patient_id: str,
                   trial_id: str | None) -> tuple[str, dict[str, str]]:
    """Patient name and the form values of a trial (empty for a new one); an audited read."""
    _check_role(actor, EDIT_ROLES)
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        values: dict[str, str] = {"adherence": "unknown", "outcome": "unknown"}
        if trial_id is not None:
            row = _trial_row(session, patient.id, trial_id)
            values = {name: _form_text(getattr(row, name)) for name in _TRIAL_FIELDS}
            values["version"] = str(row.version)
        audit.record(session, actor, "read", "rtms_treatment_trial", trial_id, patient_id=patient.id)
        return _patient_name(patient), values


def medication_defaults(database: Database, actor: Actor, patient_id: str,
                        medication_id: str | None) -> tuple[str, dict[str, str]]:
    _check_role(actor, EDIT_ROLES)
    with audit.audited_read(database) as session:
        patient = load_patient(session, actor, patient_id)
        values: dict[str, str] = {}
        if medication_id is not None:
            row = _medication_row(session, patient.id, medication_id)
            values = {name: _form_text(getattr(row, name)) for name in _MEDICATION_FIELDS}
            values["version"] = str(row.version)
        audit.record(session, actor, "read", "rtms_medication", medication_id, patient_id=patient.id)
        return _patient_name(patient), values


def _form_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _check_version(raw: Mapping[str, str | None], stored: int, what: str) -> None:
    version = raw.get("version")
    if version is None or not version.strip().isdigit() or int(version) != stored:
        raise Conflict(f"This {what} was changed by someone else since you opened it: reload the page before "
                       "saving again.")


# --- writes -----------------------------------------------------------------------------------------------


def check_trial(database: Database, actor: Actor, patient_id: str, raw: Mapping[str, str | None]) -> TrialCheck:
    """Live check of the trial form (htmx): the errors and the adequacy, without saving."""
    _check_role(actor, EDIT_ROLES)
    with database.read() as session:
        patient = load_patient(session, actor, patient_id)
        episode = _current_episode(session, patient.id)
    settings = load_staging_settings()
    episode_id = episode.id if episode else "current"
    try:
        trial = parse_trial(raw, settings, episode_id)
    except ValidationFailed as failure:
        return TrialCheck(failure.errors, None, False)
    prepared, from_dates = _for_rules(trial)
    return TrialCheck([], assess_trial(prepared, settings), from_dates)


def save_trial(database: Database, actor: Actor, patient_id: str, raw: Mapping[str, str | None],
               trial_id: str | None = None) -> str:
    """Add a trial to the current episode, or edit one (version-checked). Returns its id."""
    _check_role(actor, EDIT_ROLES)
    settings = load_staging_settings()
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        if trial_id is None:
            episode = _current_episode(session, patient.id)
            if episode is None:
                raise ValidationFailed([FieldError("episode", "Record the current episode before its trials.")])
            trial = parse_trial(raw, settings, episode.id)
            row = TreatmentTrialRow(id=new_id("TT"), patient_id=patient.id, episode_id=episode.id,
                                    recorded_by=actor.id, recorded_at=utcnow())
            session.add(row)
        else:
            row = _trial_row(session, patient.id, trial_id)
            _check_version(raw, row.version, "trial")
            trial = parse_trial(raw, settings, row.episode_id)
        row.modality, row.agent, row.atc, row.pharm_class = trial.modality, trial.agent, trial.atc, trial.pharm_class
        row.start_date, row.end_date, row.unit = trial.start_date, trial.end_date, trial.unit
        row.max_daily_dose = _decimal_text(trial.max_daily_dose)
        row.weeks_at_adequate_dose = _decimal_text(trial.weeks_at_adequate_dose)
        row.adherence, row.outcome = trial.adherence, trial.outcome
        row.improvement_pct, row.improvement_scale = _decimal_text(trial.improvement_pct), trial.improvement_scale
        row.stop_reason, row.sessions, row.ect_laterality = trial.stop_reason, trial.sessions, trial.ect_laterality
        row.source, row.augments_agent = trial.source, trial.augments_agent
        row.dose_confirmed_adequate = trial.dose_confirmed_adequate
        row.notes = (raw.get("notes") or "").strip() or None
        row.updated_at = utcnow()
        session.flush()
        audit.record(session, actor, "trial_recorded" if trial_id is None else "trial_updated",
                     "rtms_treatment_trial", row.id, patient_id=patient.id, detail=f"{trial.modality} {trial.agent}")
        return row.id


def delete_trial(database: Database, actor: Actor, patient_id: str, trial_id: str,
                 raw: Mapping[str, str | None]) -> None:
    _check_role(actor, EDIT_ROLES)
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        row = _trial_row(session, patient.id, trial_id)
        _check_version(raw, row.version, "trial")
        detail = f"{row.modality} {row.agent}"
        session.delete(row)
        session.flush()
        audit.record(session, actor, "trial_removed", "rtms_treatment_trial", trial_id, patient_id=patient.id,
                     detail=detail)


def _parse_medication(raw: Mapping[str, str | None]) -> dict[str, Any]:
    form = FormReader(raw, text_max_length=120)
    values: dict[str, Any] = {
        "inn": form.text("inn", required=True),
        "dose": _decimal_text(form.decimal("dose", low=Decimal(0), high=Decimal(100_000), low_inclusive=False)),
        "unit": form.text("unit", max_length=20),
        "started_on": form.date("started_on"),
        "last_change_kind": form.choice("last_change_kind", CHANGE_KINDS),
        "last_change_on": form.date("last_change_on"),
        "notes": form.text("notes", max_length=2000),
    }
    if values["dose"] is not None and values["unit"] is None:
        form.errors.append(FieldError("unit", "Give the unit of the dose."))
    if values["last_change_kind"] is not None and values["last_change_on"] is None and not any(
            e.field == "last_change_on" for e in form.errors):
        form.errors.append(FieldError("last_change_on", "Give the date of the last dose change."))
    if values["last_change_on"] is not None and values["last_change_kind"] is None and not any(
            e.field == "last_change_kind" for e in form.errors):
        form.errors.append(FieldError("last_change_kind", "Say whether the dose was increased, decreased or stopped."))
    started, changed = values["started_on"], values["last_change_on"]
    if started and changed and changed < started:
        form.errors.append(FieldError("last_change_on", "The change cannot be before the start of the drug."))
    if form.errors:
        raise ValidationFailed(form.errors)
    values["inn"] = values["inn"].lower()
    return values


def save_medication(database: Database, actor: Actor, patient_id: str, raw: Mapping[str, str | None],
                    medication_id: str | None = None) -> str:
    """Add a drug to the list, or edit one (version-checked): a decrease or stop is a R-MED-03 trigger."""
    _check_role(actor, EDIT_ROLES)
    values = _parse_medication(raw)
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        if medication_id is None:
            row = MedicationRow(id=new_id("MD"), patient_id=patient.id, recorded_by=actor.id, recorded_at=utcnow())
            session.add(row)
        else:
            row = _medication_row(session, patient.id, medication_id)
            _check_version(raw, row.version, "medication")
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
        session.flush()
        change = f" {row.last_change_kind} {row.last_change_on.isoformat()}" if row.last_change_on else ""
        audit.record(session, actor, "medication_recorded" if medication_id is None else "medication_updated",
                     "rtms_medication", row.id, patient_id=patient.id, detail=f"{row.inn}{change}")
        return row.id


def delete_medication(database: Database, actor: Actor, patient_id: str, medication_id: str,
                      raw: Mapping[str, str | None]) -> None:
    _check_role(actor, EDIT_ROLES)
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        row = _medication_row(session, patient.id, medication_id)
        _check_version(raw, row.version, "medication")
        inn = row.inn
        session.delete(row)
        session.flush()
        audit.record(session, actor, "medication_removed", "rtms_medication", medication_id, patient_id=patient.id,
                     detail=inn)


def save_episode(database: Database, actor: Actor, patient_id: str, raw: Mapping[str, str | None],
                 today: dt.date, checklist_codes: tuple[str, ...] | None = None) -> str:
    """Record or edit (version-checked) the facts of the current episode the staging needs.

    With ``new_episode`` ticked, the current episode is closed today (its trials stay, as trials of an
    earlier episode that no longer count for the TRD definitions) and a new one starts.
    """
    _check_role(actor, EDIT_ROLES)
    form = FormReader(raw, text_max_length=120)
    diagnosis = form.choice("diagnosis", DIAGNOSES, required=True)
    severity = form.choice("severity", SEVERITIES, required=True)
    started = form.date("started_on")
    months = form.integer("duration_months", low=0, high=1200)
    if started is None and months is None and not any(e.field in ("started_on", "duration_months")
                                                      for e in form.errors):
        form.errors.append(FieldError("started_on", "Give the start of the episode or its duration in months."))
    if started is not None and started > today:
        form.errors.append(FieldError("started_on", "The episode cannot start in the future."))
    codes = checklist_codes or tuple(item.code for item in load_staging_settings().pseudo_resistance)
    answers: dict[str, bool] = {}
    for code in codes:
        value = form.tristate(f"pr_{code}")
        if value is not None:
            answers[code] = value
    dtd = form.tristate("dtd")
    new_episode = form.flag("new_episode")
    if form.errors:
        raise ValidationFailed(form.errors)
    with database.write() as session:
        patient = load_patient(session, actor, patient_id)
        row = _current_episode(session, patient.id)
        if row is not None:
            _check_version(raw, row.version, "episode")
            if new_episode:
                row.closed_on, row.updated_by, row.updated_at = today, actor.id, utcnow()
                session.flush()
                audit.record(session, actor, "episode_closed", "rtms_episode", row.id, patient_id=patient.id)
                row = None
        created = row is None
        if row is None:
            row = EpisodeRow(id=new_id("EP"), patient_id=patient.id)
            session.add(row)
        row.diagnosis, row.severity = diagnosis or "", severity or ""
        row.started_on, row.duration_months = started, (None if started is not None else months)
        row.pseudo_resistance, row.dtd = answers, dtd
        row.updated_by, row.updated_at = actor.id, utcnow()
        session.flush()
        audit.record(session, actor, "episode_recorded" if created else "episode_updated", "rtms_episode", row.id,
                     patient_id=patient.id, detail=f"{diagnosis} {severity}")
        return row.id
