"""Deterministic data generator for the benchmark: quality.md's national volumes, or 1 % / 10 % of them.

Usage::

    python -m bench.generate --scale small|medium|national [--database-url URL] [--seed N] [--today YYYY-MM-DD]
    python -m bench.generate --check [--database-url URL]   # open the bench pages in-process, expect 200

The database is migrated first, then filled by bulk inserts on the driver's own connection
(``executemany`` in one transaction on SQLite, ``COPY`` on PostgreSQL): the ORM would take hours at
national scale. Rows that the services would compute (scores and bands, MT alerts, the R-SES checks of a
session, triage proposals, course outcomes, APA prescriptions) come from the real rules, run once per
distinct case and reused. The data set depends only on the seed and on ``--today`` (default ``TODAY``),
the day the data "stops": what lies before it happened, what lies after it is planned.

What the clinic looks like:

- patients live in real communes (weighted by population) and belong to a centre (about 700 each);
- each patient came through an rTMS referral (received, triage scheduled, accepted with a signed triage),
  then had one or two courses (a relapse 6 to 15 months later) of 20 to 36 sessions on working days;
  delivered sessions carry the prescription snapshot, the motor threshold (measured at the start and then
  weekly), the %MSO, a few interruptions; a few courses have a mild adverse event or stop early; closed
  courses have their outcome, letter and follow-ups (the referral is then completed); a few recent
  relapse referrals wait in the intake queue;
- MADRS and PHQ-9 follow the course (baseline before session 1, PHQ-9 every fifth session, MADRS after
  sessions 10 and 20 and at the end, PHQ-9 at the follow-ups): about half of the patients respond;
- 30 % of the patients have a treatment history (episode, antidepressant trials, medication list);
- structures cluster around commune centroids; one structure in fifty belongs to a coordinator
  organisation and receives the sport referrals of its region; each referral follows the workflow from
  its draft (prescription signed, consents recorded, sent, received, decided, first session, attendance
  one to three times a week, reports, completion or loss to follow-up), cut at ``today``.

Every bench account's password is ``BENCH_PASSWORD``; :func:`bench_targets` finds the ids the page and
write benchmarks use.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import itertools
import operator
import random
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import JSON, Date, DateTime, Table, text

from parcours_web.auth.passwords import hash_password
from parcours_web.migrate import upgrade
from parcours_web.models import metadata
from rtms_pathway.catalogue.loader_clinical import load_clinical_catalogues
from rtms_pathway.catalogue.loader_planning import load_planning_settings, load_protocol_catalogue
from rtms_pathway.catalogue.loader_staging import load_mbc_settings, load_session_settings, load_staging_settings
from rtms_pathway.history_service import parse_trial
from rtms_pathway.model.mbc import Assessment as MbcAssessment
from rtms_pathway.model.sessions import AdverseEvent, Interruption, MtReference, SessionDelivery
from rtms_pathway.rules.course_outcome import CourseFacts, follow_up_dates, summarise_course
from rtms_pathway.rules.motor_threshold import check_device_max, check_mt_change, visual_twitch_advice
from rtms_pathway.rules.sessions import (
    check_delivery,
    expected_intensity_pct_mso,
    sae_decision,
    seizure_syncope_form_required,
)
from rtms_pathway.rules.triage_api import run_contract_triage
from rtms_pathway.session_service import prescription_of
from shared_core.calendar import WorkingCalendar
from shared_core.db import Database, UTCDateTime
from shared_core.rules.workflow import RTMS_REFERRAL_WORKFLOW, SPORT_REFERRAL_WORKFLOW, Workflow
from shared_core.scales import ScaleDefinition, load_catalogue, score
from shared_core.text import fold
from sport_referral.catalogue.loader_sport import load_consent_settings, load_prescription_settings
from sport_referral.geo.gazetteer import get_gazetteer
from sport_referral.model.matching import PatientNeeds
from sport_referral.model.prescription import ApaPrescription, PrescriptionDraft
from sport_referral.rules.prescription import check_prescription, expiry_date

if TYPE_CHECKING:
    import httpx

BENCH_PASSWORD = "parcours-bench-2026"
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
NATIONAL = {
    "patients": 100_000, "courses": 150_000, "sessions": 4_000_000, "assessments": 1_500_000,
    "structures": 60_000, "sport_referrals": 500_000, "audit": 50_000_000,
}
SCALES = {"small": 0.01, "medium": 0.1, "national": 1.0}
PATIENTS_PER_CENTRE = 700
STRUCTURES_PER_COORDINATOR = 50
BATCH = 10_000
TODAY = dt.date(2026, 11, 20)  # a Friday: the last day of the data set unless --today says otherwise
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC
FAMILY_NAMES = ("Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
                "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
                "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefevre", "Faure",
                "Andre", "Mercier", "Blanc", "Guerin", "Boyer", "Garnier", "Chevalier", "Francois", "Legrand")
GIVEN_NAMES = ("Camille", "Louise", "Léa", "Manon", "Chloé", "Inès", "Jade", "Emma", "Lucas", "Hugo", "Louis",
               "Gabriel", "Arthur", "Jules", "Nathan", "Paul", "Nicolas", "Julien", "Sophie", "Claire", "Anne")
STRUCTURE_KINDS = (("venue", 0.60), ("club", 0.25), ("esms", 0.08), ("apa_practice", 0.05), ("mss", 0.02))
# Kinds of the structures that belong to a coordinator organisation, by index modulo 10.
COORDINATED_KINDS = ("mss", "mss", "mss", "mss", "mss", "mss", "esms", "esms", "apa_practice", "club")
ORGANISATION_LABELS = {"mss": "Maison Sport-Santé", "esms": "Établissement médico-social",
                       "apa_practice": "Cabinet d'activité physique adaptée", "club": "Club sport-santé"}
PROTOCOLS = (("hf_left_10hz", 0.50), ("itbs_left", 0.25), ("hf_left_10hz_short_iti", 0.15), ("lf_right_1hz", 0.10))
DEVICES = (("MagVenture R30 n° 1", "Cool-B65 n° 1"), ("MagVenture R30 n° 2", "Cool-B65 n° 2"),
           ("Magstim Horizon n° 1", "E-z Cool n° 1"))
# (type, onset, action, relatedness, minutes, outcome): mild, not serious, no seizure form (R-SES-04 silent).
ADVERSE_EVENTS = (
    ("headache", "lt_1h", "treatment_given", "probable", 120, "Résolutive sous paracétamol"),
    ("headache", "same_day", "none", "possible", 240, "Résolutive spontanément dans la soirée"),
    ("scalp_pain", "during_session", "none", "certain", 20, "Gêne locale pendant les trains, sans suite"),
    ("neck_pain", "same_day", "none", "possible", 180, "Cervicalgie positionnelle, appui-tête ajusté"),
    ("fatigue", "same_day", "none", "possible", 300, "Fatigue le soir de la séance"),
    ("facial_twitching", "during_session", "none", "certain", 10, "Contractions faciales pendant les trains"),
)
URGENCIES = (("routine", 0.70), ("soon", 0.25), ("urgent", 0.05))
REFERRAL_REASONS = (
    "Épisode dépressif caractérisé résistant à deux antidépresseurs bien conduits.",
    "Dépression récurrente, rechute sous traitement, demande d'avis pour rTMS.",
    "Épisode dépressif sévère, mauvaise tolérance des antidépresseurs, demande de rTMS.",
)
REFERRAL_QUESTIONS = ("Indication de rTMS ?", "Une cure de rTMS est-elle possible ?",
                      "Avis sur une stimulation magnétique transcrânienne.")
# Triage answers (domain-rtms §2) by orientation; the proposal is computed once by the real rules.
TRIAGE_BASE: dict[str, Any] = {
    "diagnosis": "unipolar", "psychotic_features": False, "catatonia": False, "suicide_risk": "none",
    "failed_adequate_trials": 2, "episode_months": 14, "anxiety_comorbidity": False, "substance_use": [],
    "mood_stabilizer": False, "safety_findings": [], "medications": [], "patient_preference": "rtms",
}
TRIAGE_VARIANTS: tuple[dict[str, Any], ...] = (
    {}, {"failed_adequate_trials": 3, "anxiety_comorbidity": True}, {"suicide_risk": "low"},
    {"medications": ["sertraline"]}, {"diagnosis": "bipolar_ii", "mood_stabilizer": True, "medications": ["lithium"]},
)
TRIAGE_ECT: dict[str, Any] = {"psychotic_features": True, "failed_adequate_trials": 3}
# (agent, modality, daily dose, unit, pharmacological class)
TRIAL_AGENTS = (
    ("escitalopram", "antidepressant", "20", "mg", "ssri"), ("sertraline", "antidepressant", "150", "mg", "ssri"),
    ("paroxetine", "antidepressant", "40", "mg", "ssri"), ("fluoxetine", "antidepressant", "40", "mg", "ssri"),
    ("citalopram", "antidepressant", "40", "mg", "ssri"), ("venlafaxine", "antidepressant", "225", "mg", "snri"),
    ("duloxetine", "antidepressant", "120", "mg", "snri"), ("clomipramine", "antidepressant", "150", "mg", "tca"),
    ("amitriptyline", "antidepressant", "150", "mg", "tca"),
    ("mirtazapine", "antidepressant", "45", "mg", "mirtazapine_like"),
    ("vortioxetine", "antidepressant", "20", "mg", "other_ad"),
    ("agomelatine", "antidepressant", "50", "mg", "other_ad"),
)
AUGMENTATIONS = (("aripiprazole", "5", "mg", "antipsychotic_aug"), ("quetiapine", "300", "mg", "antipsychotic_aug"))
TRIAL_OUTCOMES = (("non_response_lt25", 0.55), ("partial_25_49", 0.22), ("intolerance", 0.13),
                  ("response_ge50", 0.07), ("unknown", 0.03))
COMEDICATIONS = (("zopiclone", "7.5", "mg"), ("lorazepam", "1", "mg"), ("alprazolam", "0.5", "mg"),
                 ("lithium", "800", "mg"), ("hydroxyzine", "25", "mg"))
SPORT_LEVELS = (("none", 0.20), ("minimal", 0.35), ("moderate", 0.30), ("severe", 0.15))
SEVERE_ITEMS = ("loco_walking", "loco_endurance", "sens_proprioception")
SPORT_GOALS = ("Marcher 30 minutes sans pause", "Reprendre les escaliers sans essoufflement",
               "Retrouver une activité régulière en groupe", "Améliorer l'équilibre pour les courses",
               "Reprendre le vélo en sécurité")
SPORT_DECLINES = (("no_capacity", 0.45), ("out_of_catchment_area", 0.20), ("activity_not_offered", 0.15),
                  ("patient_unreachable", 0.10), ("patient_declined", 0.10))
PROGRAMMES = ("2 séances par semaine : marche nordique et renforcement",
              "Renforcement musculaire et équilibre en petit groupe",
              "Aquagym adaptée et marche encadrée")


@dataclass
class Volumes:
    patients: int
    courses: int
    sessions: int
    assessments: int
    structures: int
    sport_referrals: int
    audit: int

    @classmethod
    def at(cls, scale: str) -> Volumes:
        factor = SCALES[scale]
        return cls(**{name: max(1, round(count * factor)) for name, count in NATIONAL.items()})


@dataclass
class Generated:
    """What was written, for the benchmark report and the pages the driver requests."""

    scale: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    centre_ids: list[str] = field(default_factory=list)
    patient_ids: list[str] = field(default_factory=list)
    coordinator_organisations: list[str] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=dict)  # role -> email
    today: dt.date = TODAY


# --- bulk writing ---------------------------------------------------------------------------------

def _sqlite_datetime(value: dt.datetime) -> str:
    """The text SQLAlchemy's SQLite dialect writes for a UTC datetime (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


def _json(value: object) -> str:
    """JSON text of a value (already JSON text when it is a string: templates are encoded once)."""
    return value if isinstance(value, str) else msgspec.json.encode(value, order="deterministic").decode()


def _converter(column: Any, sqlite: bool) -> Callable[[Any], object] | None:
    """How the driver wants a column's values: JSON as text; on SQLite, dates and datetimes as text too."""
    kind = column.type
    if isinstance(kind, JSON):
        return _json
    if sqlite and isinstance(kind, UTCDateTime | DateTime):
        return _sqlite_datetime
    if sqlite and isinstance(kind, Date):
        return dt.date.isoformat
    return None


class BulkWriter:
    """Rows straight to the driver: ``executemany`` on SQLite, ``COPY`` on PostgreSQL, one transaction.

    On SQLite the load runs with an in-memory rollback journal and no fsync (the app's connections put
    WAL back): a generation killed half-way leaves a file to delete, never a bench to trust."""

    def __init__(self, database: Database) -> None:
        self.sqlite = database.is_sqlite
        self.raw = database.engine.raw_connection()
        self.counts: dict[str, int] = {}
        self.seconds = 0.0  # spent in write(), to tell the driver's share of a step from Python's
        self.table_seconds: dict[str, float] = {}
        if self.sqlite:
            self.raw.execute("PRAGMA synchronous = OFF")
            self.raw.execute("PRAGMA journal_mode = MEMORY")
            # A large page cache keeps the indexes being filled in memory (the default is 2 MB).
            self.raw.execute("PRAGMA cache_size = -1048576")
            self.raw.execute("PRAGMA temp_store = MEMORY")
            self.raw.execute("PRAGMA foreign_keys = OFF")  # the generator writes parents first anyway
            self.raw.execute("BEGIN")

    def write(self, table: Table, rows: Iterable[dict[str, Any]]) -> int:
        """Insert the rows; the columns are the first row's keys (an autoincrement id may be left out), and
        every row has them all."""
        iterator = iter(rows)
        first = next(iterator, None)
        if first is None:
            return 0
        columns = tuple(column.name for column in table.columns if column.name in first)
        getter = operator.itemgetter(*columns)
        if len(columns) == 1:
            return self.write_values(table, columns, ((row[columns[0]],) for row in itertools.chain([first], iterator)))
        return self.write_values(table, columns, map(getter, itertools.chain([first], iterator)))

    def write_values(self, table: Table, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> int:
        """Insert rows given as tuples in the order of ``columns`` (the fast path of the big tables)."""
        started = time.perf_counter()
        by_name = {column.name: column for column in table.columns}
        # Only the columns whose type needs it are converted: the writer handles tens of millions of values.
        conversions = [(index, convert) for index, name in enumerate(columns)
                       if (convert := _converter(by_name[name], self.sqlite)) is not None]

        def values(row: tuple[Any, ...]) -> tuple[Any, ...] | list[Any]:
            if not conversions:
                return row
            out = list(row)
            for index, convert in conversions:
                value = out[index]
                if value is not None:
                    out[index] = convert(value)
            return out

        count = 0
        cursor = self.raw.cursor()
        if self.sqlite:
            statement = (f'INSERT INTO "{table.name}" ({", ".join(columns)}) '
                         f'VALUES ({", ".join("?" for _ in columns)})')
            batch: list[Any] = []
            for row in rows:
                batch.append(values(row))
                if len(batch) >= BATCH:
                    cursor.executemany(statement, batch)
                    count += len(batch)
                    batch = []
            if batch:
                cursor.executemany(statement, batch)
                count += len(batch)
        else:
            with cursor.copy(f'COPY "{table.name}" ({", ".join(columns)}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(values(row))
                    count += 1
        cursor.close()
        self.counts[table.name] = self.counts.get(table.name, 0) + count
        elapsed = time.perf_counter() - started
        self.seconds += elapsed
        self.table_seconds[table.name] = self.table_seconds.get(table.name, 0.0) + elapsed
        return count

    def commit(self) -> None:
        if self.sqlite:
            self.raw.execute("COMMIT")
            self.raw.execute("PRAGMA foreign_keys = ON")
        else:
            self.raw.commit()
        self.raw.close()


class Sink:
    """Rows of several tables from one pass over the patients, written in batches, parents first:
    PostgreSQL checks each foreign key when the rows arrive, so a child batch never goes before its parents.
    A table takes dicts or, declared with its columns, tuples."""

    def __init__(self, writer: BulkWriter, tables: Iterable[Table],
                 columns: dict[str, tuple[str, ...]] | None = None) -> None:
        self.writer = writer
        self.tables = list(tables)
        self.columns = columns or {}
        self.rows: dict[str, list[Any]] = {table.name: [] for table in self.tables}
        self.pending = 0

    def add(self, table: str, row: dict[str, Any] | tuple[Any, ...]) -> None:
        self.rows[table].append(row)
        self.pending += 1
        if self.pending >= 5 * BATCH:
            self.flush()

    def flush(self) -> None:
        for table in self.tables:
            rows = self.rows[table.name]
            if rows:
                if table.name in self.columns:
                    self.writer.write_values(table, self.columns[table.name], rows)
                else:
                    self.writer.write(table, rows)
                self.rows[table.name] = []
        self.pending = 0


# --- small helpers --------------------------------------------------------------------------------

def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


_OFFSETS: dict[dt.date, dt.timedelta] = {}


def _local(day: dt.date, minutes: int) -> dt.datetime:
    """``minutes`` after midnight of ``day`` in Paris, as a UTC datetime (daytime only: no DST gap)."""
    offset = _OFFSETS.get(day)
    if offset is None:
        offset = dt.datetime.combine(day, dt.time(12), PARIS).utcoffset() or dt.timedelta()
        _OFFSETS[day] = offset
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC) + dt.timedelta(minutes=minutes) - offset


def _at(day: dt.date, rng: random.Random, first_hour: int = 8, last_hour: int = 18) -> dt.datetime:
    return _local(day, rng.randrange(first_hour * 60, last_hour * 60))


def _check_move(workflow: Workflow, source: str | None, target: str, actor: str) -> None:
    """The generator writes only moves the workflow allows (R-12), so every page can read them back."""
    if source is None:
        assert target == workflow.initial, (workflow.name, target)
        return
    transition = workflow.transition(source, target)
    assert transition is not None and actor in transition.actors, (workflow.name, source, target, actor)


@dataclass(slots=True)
class PatientInfo:
    id: str
    centre: int
    family: str
    given: str
    birth: dt.date
    sex: str
    commune: str
    region: str | None
    department: str
    starts: list[dt.date]  # course start days (working days)
    referral_days: list[dt.date]  # day each course's rTMS referral was received
    created_at: dt.datetime


@dataclass(frozen=True)
class ProtocolInfo:
    ref: str
    id: str
    low: int
    high: int
    prescription: Any  # SessionPrescription
    view: Any  # PrescriptionView


@dataclass(slots=True)
class MtState:
    id: str
    value: int
    day: dt.date
    method: str


@dataclass(slots=True)
class CoursePlan:
    id: str
    number: int
    protocol: ProtocolInfo
    planned: int
    days: list[dt.date]
    done: int  # sessions delivered before today
    status: str
    decided: dt.datetime | None  # when the course was closed (outcome, letter), if it was


Event = tuple[str | None, str, str, str, str | None, str | None, dt.datetime]  # source, target, actor, role, ...


class Generator:
    def __init__(self, volumes: Volumes, seed: int, today: dt.date) -> None:
        self.volumes = volumes
        self.rng = random.Random(seed)
        self.today = today
        # "Now" for the data set: everything dated before happened, everything after is planned.
        self.now = _local(today, 7 * 60)
        gazetteer = get_gazetteer()
        self.gazetteer = gazetteer
        populated = [entry for entry in gazetteer.current_entries() if entry.lat is not None and entry.population]
        self.communes = populated
        self.commune_weights = list(itertools.accumulate(entry.population or 1 for entry in populated))
        self.scales = load_catalogue()
        self.tables = metadata.tables
        self.people: list[PatientInfo] = []
        self.centre_ids: list[str] = []
        self.organisations: list[str] = []  # coordinator organisations, index k owns structure k
        self.org_structures: list[dict[str, Any]] = []
        self._working_days()

    # --- calendar and people --------------------------------------------------------------------

    def _working_days(self) -> None:
        calendar = WorkingCalendar(zone="metropole")
        first = self.today - dt.timedelta(days=1500)
        days = [first + dt.timedelta(days=n) for n in range(1800)]
        self.days = [day for day in days if calendar.is_working_day(day)]
        self.day_ordinals = [day.toordinal() for day in self.days]

    def working_index(self, day: dt.date) -> int:
        """Index of the first working day on or after ``day``."""
        return bisect.bisect_left(self.day_ordinals, day.toordinal())

    def commune(self) -> Any:
        return self.rng.choices(self.communes, cum_weights=self.commune_weights)[0]

    @staticmethod
    def psychiatrist(centre: int) -> str:
        return "U-BENCH-PSYCHIATRIST" if centre == 0 else f"U-BENCH-PSY-{centre:04d}"

    @staticmethod
    def operator(centre: int) -> str:
        return "U-BENCH-OPERATOR" if centre == 0 else f"U-BENCH-OPE-{centre:04d}"

    def coordinator(self, organisation: int) -> str:
        return f"U-BENCH-COO-{organisation:05d}"

    def run(self, writer: BulkWriter, result: Generated) -> None:
        steps: list[tuple[str, Callable[[BulkWriter, Generated], None]]] = [
            ("organisations", self.organisations_step),
            ("patients", self.patients),
            ("structures", self.structures),
            ("rTMS: referrals, courses, sessions, assessments, history", self.rtms),
            ("sport referrals", self.sport_referrals),
            ("accounts", self.accounts),
            ("audit trail", self.audit),
        ]
        for label, step in steps:
            started, writing = time.perf_counter(), writer.seconds
            step(writer, result)
            print(f"  {label}: {time.perf_counter() - started:.1f} s (writing {writer.seconds - writing:.1f} s)",
                  file=sys.stderr)

    def organisations_step(self, writer: BulkWriter, result: Generated) -> None:
        centres = max(2, self.volumes.patients // PATIENTS_PER_CENTRE)
        self.centre_ids = result.centre_ids = [f"org-bench-centre-{index:04d}" for index in range(centres)]
        count = max(2, self.volumes.structures // STRUCTURES_PER_COORDINATOR)
        self.organisations = result.coordinator_organisations = [f"org-bench-mss-{index:05d}"
                                                                 for index in range(count)]
        rows = [{"id": centre, "kind": "centre", "name": f"Centre de neuromodulation {index} (banc d'essai)",
                 "holiday_zone": "metropole", "version": 1, "created_at": EPOCH}
                for index, centre in enumerate(self.centre_ids)]
        for index, org in enumerate(self.organisations):
            kind = COORDINATED_KINDS[index % len(COORDINATED_KINDS)]
            rows.append({"id": org, "kind": kind, "name": f"{ORGANISATION_LABELS[kind]} {index} (banc d'essai)",
                         "holiday_zone": None, "version": 1, "created_at": EPOCH})
        rows.append({"id": "org-bench-cabinet", "kind": "referrer_practice", "name": "Cabinet (banc d'essai)",
                     "holiday_zone": None, "version": 1, "created_at": EPOCH})
        writer.write(self.tables["organisation"], rows)

    def _course_starts(self, count: int) -> list[dt.date]:
        """Start days of a patient's courses, oldest first: the last one from 11 months ago to 12 days ahead
        (more than one course: a relapse 6 to 15 months after the previous start)."""
        rng = self.rng
        if count == 0:
            return []
        last = self.today - dt.timedelta(days=rng.randint(-12, 330 if count > 1 else 690))
        starts = [last]
        for _ in range(count - 1):
            starts.append(starts[-1] - dt.timedelta(days=rng.randint(190, 450)))
        return [self.days[self.working_index(day)] for day in reversed(starts)]

    def patients(self, writer: BulkWriter, result: Generated) -> None:
        rng = self.rng
        per_patient, extra = divmod(self.volumes.courses, self.volumes.patients)
        centres = len(self.centre_ids)
        region_cache: dict[str, str | None] = {}

        def rows() -> Iterator[dict[str, Any]]:
            for index in range(self.volumes.patients):
                family = rng.choice(FAMILY_NAMES)
                given = rng.choice(GIVEN_NAMES)
                patient_id = f"P-B{index:07d}"
                result.patient_ids.append(patient_id)
                commune = self.commune().insee_code
                if commune not in region_cache:
                    region_cache[commune] = self.gazetteer.region_code(commune)
                starts = self._course_starts(per_patient + (1 if index < extra else 0))
                referral_days = [start - dt.timedelta(days=rng.randint(20, 60)) for start in starts]
                first_day = referral_days[0] if referral_days else self.today - dt.timedelta(days=rng.randrange(700))
                created = _at(first_day, rng)
                birth = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(23_000))
                sex = rng.choice("FM")
                info = PatientInfo(patient_id, index % centres, family, given, birth, sex, commune,
                                   region_cache[commune], self.gazetteer.department_code(commune), starts,
                                   referral_days, created)
                self.people.append(info)
                yield {"id": patient_id, "organisation_id": self.centre_ids[info.centre], "family_name": family,
                       "given_names": given, "birth_date": birth, "sex": sex, "commune_insee": commune,
                       "phone": f"06{rng.randrange(10**8):08d}" if rng.random() < 0.8 else None,
                       "search_key": fold(f"{family} {given} {patient_id}"),
                       "created_by": self.psychiatrist(info.centre), "created_at": created, "updated_at": created,
                       "version": 1}
        writer.write(self.tables["patient"], rows())

    def structures(self, writer: BulkWriter, result: Generated) -> None:
        rng = self.rng
        coordinated = len(self.organisations)

        def rows() -> Iterator[dict[str, Any]]:
            for index in range(self.volumes.structures):
                commune = self.commune()
                owned = index < coordinated
                kind = COORDINATED_KINDS[index % len(COORDINATED_KINDS)] if owned else _weighted(rng, STRUCTURE_KINDS)
                structure_id = f"bench-{kind}-{index:06d}"
                latitude = round(commune.lat + rng.uniform(-0.04, 0.04), 5)
                longitude = round(commune.lon + rng.uniform(-0.04, 0.04), 5)
                accepting = kind != "venue"
                postcode = commune.postcodes[0] if commune.postcodes else f"{commune.department_code:0<5}"[:5]
                data: dict[str, Any] = {
                    "structure_id": structure_id, "kind": kind, "name": f"{kind.upper()} {commune.name} {index}",
                    "commune_insee": commune.insee_code, "commune_name": commune.name, "postcode": postcode,
                    "department_code": commune.department_code, "region_code": commune.region_code,
                    "latitude": latitude, "longitude": longitude, "accepting_referrals": accepting,
                    "source": "manual", "source_ref": structure_id, "source_licence": "bench",
                    "disability_families": rng.sample(["moteur", "visuel", "auditif", "mental", "psychique"],
                                                      rng.randint(1, 5)),
                    "professions": ["apa_teacher"] if kind != "apa_practice" else ["physiotherapist"],
                    "activity_types": ["endurance", "balance"],
                    "accessibility": {"motor_reception": rng.random() < 0.7}}
                if owned:
                    data |= {"referral_email": f"orientation.{index}@bench-sport.fr", "phone": f"03{index:08d}",
                             "referent_display_name": f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"}
                row = {"id": structure_id, "kind": kind, "name": data["name"], "commune_insee": commune.insee_code,
                       "department_code": commune.department_code, "region_code": commune.region_code,
                       "latitude": latitude, "longitude": longitude, "accepting_referrals": accepting,
                       "source": "manual", "source_ref": structure_id, "data": data,
                       "organisation_id": self.organisations[index] if owned else None,
                       "imported_at": EPOCH, "updated_at": EPOCH, "version": 1}
                if owned:
                    self.org_structures.append(row)
                yield row
        writer.write(self.tables["sport_structure"], rows())

    # --- rTMS -------------------------------------------------------------------------------------

    def rtms(self, writer: BulkWriter, result: Generated) -> None:
        RtmsPass(self, writer).run()

    # --- sport ------------------------------------------------------------------------------------

    def sport_referrals(self, writer: BulkWriter, result: Generated) -> None:
        self.sport = SportPass(self, writer)
        self.sport.run()

    def accounts(self, writer: BulkWriter, result: Generated) -> None:
        """The bench accounts; the coordinator is the one of the organisation that received most referrals
        (the inbox target), the referrer is the one who sent the first of the referrers' share of rTMS referrals."""
        busiest = max(range(len(self.organisations)), key=lambda k: (self.sport.received[k], -k))
        password = hash_password(BENCH_PASSWORD)
        accounts = {"psychiatrist": self.centre_ids[0], "operator": self.centre_ids[0],
                    "coordinator": self.organisations[busiest], "observer": None,
                    "admin": self.centre_ids[0], "referrer": "org-bench-cabinet"}
        users = []
        for role, organisation in accounts.items():
            email = bench_email(role)
            result.accounts[role] = email
            users.append({"id": f"U-BENCH-{role.upper()}", "email": email, "display_name": f"Bench {role}",
                          "role": role, "organisation_id": organisation, "active": True, "password_hash": password,
                          "created_at": EPOCH, "password_changed_at": EPOCH, "version": 1})
        writer.write(self.tables["app_user"], users)

    def audit(self, writer: BulkWriter, result: Generated) -> None:
        """Generated by the database itself (a recursive CTE / generate_series): 50 million rows from Python
        would take most of the run. One row every 1.2 s from EPOCH, cycling over the patients."""
        count, patients = self.volumes.audit, len(result.patient_ids)
        # The secondary indexes are built after the load: one sorted build instead of 50 million insertions
        # at random places of the (patient, at) index.
        cursor = writer.raw.cursor()
        if writer.sqlite:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_event' "
                           "AND sql IS NOT NULL")
        else:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_event' AND indexname "
                           "NOT IN (SELECT conname FROM pg_constraint)")
        indexes = [(str(name), str(sql)) for name, sql in cursor.fetchall()]
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.close()
        modulo = "%" if writer.sqlite else "%%"  # psycopg's placeholders use %
        actions = (f"CASE i {modulo} 7 WHEN 4 THEN 'update' WHEN 5 THEN 'create' WHEN 6 THEN 'export_icalendar' "
                   "ELSE 'read' END")
        if writer.sqlite:
            statement = (
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
                "INSERT INTO audit_event (id, at, actor_id, actor_role, action, object_type, object_id, patient_id, "
                "address) SELECT i + 1, strftime('%Y-%m-%d %H:%M:%f', ? + i * 1.2, 'unixepoch'), 'U-BENCH-OPERATOR', "
                f"'operator', {actions}, 'patient', printf('P-B%07d', i % ?), printf('P-B%07d', i % ?), '127.0.0.1' "
                "FROM n")
            self.raw_execute(writer, statement, (count, EPOCH.timestamp(), patients, patients))
        else:
            statement = (
                "INSERT INTO audit_event (id, at, actor_id, actor_role, action, object_type, object_id, patient_id, "
                "address) SELECT i + 1, to_timestamp(%s + i * 1.2), 'U-BENCH-OPERATOR', 'operator', "
                f"{actions}, 'patient', 'P-B' || lpad((i %% %s)::text, 7, '0'), "
                "'P-B' || lpad((i %% %s)::text, 7, '0'), '127.0.0.1' FROM generate_series(0, %s - 1) AS i")
            self.raw_execute(writer, statement, (EPOCH.timestamp(), patients, patients, count))
        for _, sql in indexes:
            self.raw_execute(writer, sql, ())
        writer.counts["audit_event"] = count

    @staticmethod
    def raw_execute(writer: BulkWriter, statement: str, parameters: tuple[object, ...]) -> None:
        cursor = writer.raw.cursor()
        cursor.execute(statement, parameters)
        cursor.close()


# --- rTMS pass ------------------------------------------------------------------------------------

EVENT_COLUMNS = ("referral_id", "source", "target", "actor_id", "actor_role", "reason_code", "reason_text", "at")
PLANNED_COLUMNS = ("id", "course_id", "number", "date", "slot", "phase", "status")
ASSESSMENT_COLUMNS = ("id", "patient_id", "scale_code", "scale_version", "administered_at", "source", "entered_by",
                      "items", "total", "band", "subscores", "alerts", "prorated", "created_at")
# A session record is what changes per session followed by what a course keeps constant.
SESSION_COLUMNS = (
    "id", "planned_session_id", "session_number", "status", "counts_towards_course", "performed_on",
    "performed_start", "performed_end", "intensity_pct_mso", "pulses_delivered", "trains_delivered",
    "mt_measurement_id", "mt_value_pct_mso", "pain_vas", "interruptions", "explanations", "recorded_at",
    "course_id", "patient_id", "phase", "protocol_ref", "prescribed_frequency_hz", "prescribed_intensity_pct_mt",
    "prescribed_pulses", "prescribed_trains", "prescribed_duration_s", "frequency_hz", "intensity_pct_mt",
    "duration_s", "device_id", "coil_id", "targeting_method", "device_max_acknowledged", "operator_id",
    "supervising_physician", "checkin_sleep_deprivation", "checkin_alcohol", "checkin_medication_change",
    "checkin_new_device", "checkin_possible_pregnancy", "checkin_seizure_or_syncope", "checkin_metal_removed",
    "released_by", "deviation_reason", "deviation_physician", "mso_override_reason", "notes", "recorded_by",
    "version")
RTMS_TABLES = ("rtms_triage", "referral", "referral_event", "rtms_referral_detail", "rtms_course",
               "rtms_planned_session", "rtms_motor_threshold", "rtms_session_record", "rtms_adverse_event",
               "assessment", "rtms_course_outcome", "rtms_follow_up", "rtms_episode", "rtms_treatment_trial",
               "rtms_medication")
SENTINEL_DAY = dt.date(1901, 2, 3)


class RtmsPass:
    """One pass over the patients: their rTMS referrals, courses, sessions, scores, outcomes and history."""

    def __init__(self, generator: Generator, writer: BulkWriter) -> None:
        self.g = generator
        self.rng = generator.rng
        self.today = generator.today
        self.now = generator.now
        self.sink = Sink(writer, [generator.tables[name] for name in RTMS_TABLES],
                         {"referral_event": EVENT_COLUMNS, "rtms_planned_session": PLANNED_COLUMNS,
                          "assessment": ASSESSMENT_COLUMNS, "rtms_session_record": SESSION_COLUMNS})
        catalogue = load_protocol_catalogue()
        self.protocols: list[ProtocolInfo] = []
        for code, _ in PROTOCOLS:
            definition = catalogue.get(code)
            prescription, view = prescription_of(definition)
            low, high = definition.acute_sessions_range or (20, 30)
            self.protocols.append(ProtocolInfo(definition.ref, definition.id, low, high, prescription, view))
        self.protocol_weights = [weight for _, weight in PROTOCOLS]
        self.planning = load_planning_settings()
        self.session_settings = load_session_settings()
        self.mbc = load_mbc_settings()
        self.madrs, self.phq9 = self.g.scales.get("madrs"), self.g.scales.get("phq9")
        self.score_cache: dict[tuple[str, int], list[tuple[list[int], str | None, dict[str, int]]]] = {}
        self.delivery_cache: dict[tuple[str, int, int, str], tuple[str, bool | None, str, int]] = {}
        self.mt_cache: dict[tuple[int | None, int, str, int], tuple[str | None, bool, list[Any]]] = {}
        clinical = load_clinical_catalogues()
        self.ruleset = clinical.settings.version
        self.triage_templates = [self._triage(clinical, variant) for variant in TRIAGE_VARIANTS]
        self.triage_ect = self._triage(clinical, TRIAGE_ECT)
        self.ae_templates = [self._adverse_event(template) for template in ADVERSE_EVENTS]
        staging = load_staging_settings()
        for agent, modality, dose, unit, pharm_class in TRIAL_AGENTS:  # the rules accept every template
            parse_trial({"modality": modality, "agent": agent, "max_daily_dose": dose, "unit": unit,
                         "pharm_class": pharm_class, "weeks_at_adequate_dose": "8"}, staging, "check")
        self.rtms_referrals = 0
        self.referrers = max(1, generator.volumes.courses // 40)

    @staticmethod
    def _triage(clinical: Any, variant: dict[str, Any]) -> tuple[str, str, str]:
        inputs = TRIAGE_BASE | variant
        answer = run_contract_triage(inputs, clinical)
        return answer.orientation, _json(inputs), msgspec.json.encode(answer, order="deterministic").decode()

    def _adverse_event(self, template: tuple[str, str, str, str, int, str]) -> tuple[Any, ...]:
        kind, onset, action, relatedness, minutes, outcome = template
        event = AdverseEvent(course_id="check", type=kind, onset=onset, severity="mild",  # type: ignore[arg-type]
                             serious=False, action=action, relatedness=relatedness,  # type: ignore[arg-type]
                             session_id="check", loss_of_consciousness=None)
        decision = sae_decision([event], self.session_settings)
        assert not decision.suspend_course, template  # a mild event never suspends a course here
        return (kind, onset, action, relatedness, minutes, outcome, decision.sae_required,
                seizure_syncope_form_required(event))

    def run(self) -> None:
        for person in self.g.people:
            self.patient(person)
        self.sink.flush()

    # --- scores ----------------------------------------------------------------------------------

    def _items(self, definition: ScaleDefinition, total: int) -> tuple[list[int], str | None, dict[str, int]]:
        """Item answers summing to ``total`` (a few cached variants per total), scored by the real rules;
        variants that would raise a safety alert are not used (no SafetyAlert rows are generated)."""
        key = (definition.code, total)
        variants = self.score_cache.get(key)
        if variants is None:
            variants = []
            maxima = [item.max for item in definition.items]
            minima = [item.min for item in definition.items]
            rng = random.Random(f"{definition.code}:{total}")
            for _ in range(12):
                items = list(minima)
                remaining = total - sum(items)
                order = list(range(len(items) - 1))  # the last item (suicidal thoughts) stays at its minimum
                while remaining > 0:
                    open_items = [index for index in order if items[index] < maxima[index]]
                    if not open_items:
                        break
                    index = rng.choice(open_items)
                    items[index] += 1
                    remaining -= 1
                result = score(definition, items)
                if not result.alerts and result.total is not None:
                    variants.append((items, result.band, dict(result.subscores)))
                if len(variants) >= 4:
                    break
            self.score_cache[key] = variants
        return self.rng.choice(variants) if variants else (self._items(definition, total - 1))

    def assessment(self, person: PatientInfo, number: int, definition: ScaleDefinition, total: int,
                   at: dt.datetime, mbc: list[MbcAssessment]) -> str:
        top = sum(item.max for item in definition.items[:-1]) + definition.items[-1].min
        total = max(0, min(top, total))
        items, band, subscores = self._items(definition, total)
        assessment_id = f"A-{person.id[2:]}-{number:03d}"
        self.sink.add("assessment", (
            assessment_id, person.id, definition.code, definition.version, at, "clinician",
            self.g.operator(person.centre), items, sum(items), band, subscores, "[]", False, at))
        mbc.append(MbcAssessment(definition.code, sum(items), at.astimezone(PARIS).date(), assessment_id))
        return assessment_id

    # --- one patient -----------------------------------------------------------------------------

    def patient(self, person: PatientInfo) -> None:
        rng = self.rng
        mbc: list[MbcAssessment] = []
        counter = itertools.count(1)
        mt_base = rng.randint(42, 74)
        method = "emg_mep" if rng.random() < 0.9 else "visual_twitch"
        responder = rng.random() < 0.5
        previous_mt: list[int | None] = [None]
        last_end: dt.date | None = None
        for number, (start, referral_day) in enumerate(zip(person.starts, person.referral_days, strict=True), 1):
            plan = self.plan_course(person, number, start)
            # The referral (and its completion) goes first: the course outcome points at it.
            referral_id = self.rtms_referral(person, referral_day, start, plan.decided)
            end = self.course(person, plan, referral_id, mt_base, method, responder, mbc, counter, previous_mt)
            last_end = end or last_end
            responder = rng.random() < 0.4  # a relapse responds a little less often
        if last_end is not None and (self.today - last_end).days > 120 and rng.random() < 0.08:
            self.relapse_referral(person)
        if rng.random() < 0.3 and person.starts:
            self.history(person)

    # --- intake -------------------------------------------------------------------------------------

    def _referral_header(self) -> tuple[str, str | None, str, str]:
        """(referral id, referrer account, referrer name, creating role) of a new rTMS referral: 60 % sent by
        a referrer (one account per 40 referrals: the bench referrer has about 40), the rest entered by the centre."""
        self.rtms_referrals += 1
        referral_id = f"R-BR{self.rtms_referrals:08d}"
        referrer_name = f"Dr {self.rng.choice(FAMILY_NAMES)}"
        if self.rng.random() >= 0.6:
            return referral_id, None, referrer_name, "psychiatrist"
        slot = self.rtms_referrals % self.referrers
        return referral_id, "U-BENCH-REFERRER" if slot == 0 else f"U-BENCH-REF-{slot:05d}", referrer_name, "referrer"

    def _write_referral(self, person: PatientInfo, referral_id: str, referrer: str | None, referrer_name: str,
                        events: list[Event], triage_id: str | None, episode_start: dt.date | None) -> None:
        rng = self.rng
        created = events[0][6]
        self.sink.add("referral", {
            "id": referral_id, "workflow": RTMS_REFERRAL_WORKFLOW.name, "patient_id": person.id,
            "sender_organisation_id": "org-bench-cabinet" if referrer else None,
            "recipient_organisation_id": self.g.centre_ids[person.centre], "status": events[-1][1],
            "created_by": referrer or self.g.psychiatrist(person.centre), "created_at": created,
            "updated_at": events[-1][6], "version": len(events)})
        for event in events:
            _check_move(RTMS_REFERRAL_WORKFLOW, event[0], event[1], "referrer" if event[3] == "referrer" else "centre")
            self.sink.add("referral_event", (referral_id, *event))
        self.sink.add("rtms_referral_detail", {
            "referral_id": referral_id, "referrer_user_id": referrer, "referrer_name": referrer_name,
            "family_name": person.family, "given_names": person.given, "birth_date": person.birth, "sex": person.sex,
            "ins": None, "episode_start": episode_start, "reason": rng.choice(REFERRAL_REASONS),
            "clinical_summary": "Patient suivi en ambulatoire ; épisode actuel depuis plusieurs mois, retentissement "
                                "fonctionnel important.",
            "current_treatment": rng.choice(("Venlafaxine 225 mg/j", "Sertraline 150 mg/j", "Escitalopram 20 mg/j",
                                             "Duloxétine 120 mg/j, zopiclone 7,5 mg")),
            "past_trials": "Deux antidépresseurs à dose efficace pendant plus de six semaines." if rng.random() < 0.7
            else None,
            "question": rng.choice(REFERRAL_QUESTIONS), "urgency": _weighted(rng, URGENCIES), "triage_id": triage_id,
            "created_at": created})

    def _triage_row(self, person: PatientInfo, at: dt.datetime, template: tuple[str, str, str]) -> str:
        triage_id = f"TR-{person.id[2:]}-{self.rtms_referrals:08d}"
        orientation, inputs, proposal = template
        self.sink.add("rtms_triage", {
            "id": triage_id, "patient_id": person.id, "inputs": inputs, "proposal": proposal,
            "proposed_orientation": orientation, "final_orientation": orientation, "decision": "accepted",
            "override_reason": None, "ruleset_version": self.ruleset, "decided_by": self.g.psychiatrist(person.centre),
            "decided_at": at})
        return triage_id

    def rtms_referral(self, person: PatientInfo, day: dt.date, start: dt.date, completed: dt.datetime | None) -> str:
        """The referral a course answers: received, triage consultation scheduled, accepted (signed triage)
        before session 1, completed when the end-of-course letter goes out (``completed``)."""
        rng = self.rng
        created = person.created_at if day == person.referral_days[0] else _at(day, rng)
        referral_id, referrer, name, role = self._referral_header()
        physician = self.g.psychiatrist(person.centre)
        scheduled = created + dt.timedelta(days=rng.randint(1, 5), hours=rng.randint(1, 6))
        accepted_day = min(start - dt.timedelta(days=rng.randint(1, 7)), self.today - dt.timedelta(days=1))
        accepted = max(_at(accepted_day, rng, 9, 17), scheduled + dt.timedelta(hours=20))
        triage_id = self._triage_row(person, accepted, rng.choice(self.triage_templates))
        events: list[Event] = [
            (None, "received", referrer or physician, role, None, None, created),
            ("received", "triage_scheduled", physician, "psychiatrist", None, None, scheduled),
            ("triage_scheduled", "accepted", physician, "psychiatrist", None, f"triage {triage_id}", accepted)]
        if completed is not None:
            events.append(("accepted", "completed", physician, "psychiatrist", None, "end-of-course letter issued",
                           completed))
        self._write_referral(person, referral_id, referrer, name, events, triage_id,
                             day - dt.timedelta(days=rng.randint(90, 400)))
        return referral_id

    def relapse_referral(self, person: PatientInfo) -> None:
        """A new referral of a known patient, recent: waiting in the intake queue, or answered without a course."""
        rng = self.rng
        created = _at(self.today - dt.timedelta(days=rng.randint(1, 90)), rng)
        referral_id, referrer, name, role = self._referral_header()
        physician = self.g.psychiatrist(person.centre)
        events: list[Event] = [(None, "received", referrer or physician, role, None, None, created)]
        outcome = _weighted(rng, (("received", 0.35), ("triage_scheduled", 0.25), ("more_information_requested", 0.1),
                                  ("on_hold", 0.05), ("declined", 0.1), ("redirected", 0.08), ("cancelled", 0.07)))
        step = created
        triage_id: str | None = None

        def later() -> dt.datetime:
            nonlocal step
            step = min(step + dt.timedelta(hours=rng.randint(4, 120)), self.now - dt.timedelta(minutes=5))
            return step

        if outcome in ("triage_scheduled", "on_hold", "redirected"):
            events.append(("received", "triage_scheduled", physician, "psychiatrist", None, None, later()))
        source = events[-1][1]
        if outcome == "more_information_requested":
            events.append((source, outcome, physician, "psychiatrist", None,
                           "Merci de préciser les traitements antérieurs (molécules, doses, durées).", later()))
        elif outcome == "on_hold":
            events.append((source, outcome, physician, "psychiatrist", "precondition_pending",
                           "Bilan cardiologique demandé avant la consultation.", later()))
        elif outcome == "declined":
            events.append((source, outcome, physician, "psychiatrist",
                           rng.choice(("no_capacity", "out_of_catchment_area", "patient_declined")), None, later()))
        elif outcome == "redirected":
            at = later()
            triage_id = self._triage_row(person, at, self.triage_ect)
            events.append((source, outcome, physician, "psychiatrist", "ect_first", f"triage {triage_id}", at))
        elif outcome == "cancelled":
            actor, actor_role = (referrer, "referrer") if referrer else (physician, "psychiatrist")
            events.append((source, outcome, actor, actor_role, "patient_withdrew", None, later()))
        self._write_referral(person, referral_id, referrer, name, events, triage_id, None)

    # --- one course ---------------------------------------------------------------------------------

    def _mt(self, person: PatientInfo, course_id: str, number: int, day: dt.date, minutes: int, value: int,
            method: str, trigger: str, protocol: ProtocolInfo, previous: int | None,
            device: tuple[str, str]) -> MtState:
        """One MT measurement with the alerts ``record_motor_threshold`` computes (R-MT-05..07)."""
        key = (previous, value, method, protocol.prescription.intensity_pct_mt)
        cached = self.mt_cache.get(key)
        if cached is None:
            alerts: list[Any] = []
            relative: str | None = None
            confirm = False
            if previous is not None:
                change = check_mt_change(previous, value, self.planning)
                relative, confirm = change.relative_change, change.confirm_required
                if change.alert:
                    alerts.append(change.alert)
            advice = visual_twitch_advice(cast(Any, method), protocol.prescription.intensity_pct_mt, self.planning)
            if advice:
                alerts.append(advice)
            device_check = check_device_max(value, protocol.prescription.intensity_pct_mt, self.planning)
            if device_check.alert:
                alerts.append(device_check.alert)
            views = [{"code": a.code, "rule_id": a.rule_id, "message_fr": a.message_fr, "message_en": a.message_en,
                      "source": a.source} for a in alerts]
            cached = self.mt_cache[key] = (relative, confirm, views)
        relative, confirm, views = cached
        mt_id = f"MT-{course_id[3:]}-{number:02d}"
        measured = _local(day, minutes - 15)
        self.sink.add("rtms_motor_threshold", {
            "id": mt_id, "patient_id": person.id, "course_id": course_id, "measured_at": measured,
            "value_pct_mso": value, "method": method, "mep_criterion": "≥ 50 µV, ≥ 5/10" if method == "emg_mep" else "",
            "muscle": "APB", "hemisphere": "left", "device_id": device[0], "coil_id": device[1], "trigger": trigger,
            "measured_by": self.g.operator(person.centre), "relative_change": relative, "confirm_required": confirm,
            "alerts": views, "notes": None, "recorded_at": measured + dt.timedelta(minutes=3)})
        return MtState(mt_id, value, day, method)

    def _delivery(self, protocol: ProtocolInfo, mt: MtState, variant: int) -> tuple[str, bool | None, str, int, int,
                                                                                        int, list[Any] | str]:
        """Status, counts-towards-course, explanations (JSON), %MSO, pulses, trains and interruptions of a
        session by the real R-SES-01..03 rules; ``variant`` 0 is a full session, 1-3 an interruption."""
        prescription = protocol.prescription
        pulses, trains = prescription.pulses, prescription.trains
        interruptions: tuple[Interruption, ...] = ()
        if variant:
            share = (0, 0.45, 0.6, 0.75)[variant]
            pulses = int(prescription.pulses * share)
            trains = max(1, int(prescription.trains * share))
            reason = ("pain", "patient_request", "device_fault")[variant - 1]
            interruptions = (Interruption(pulses_so_far=pulses, reason=cast(Any, reason), resumed=False),)
        key = (protocol.ref, mt.value, variant, mt.method)
        cached = self.delivery_cache.get(key)
        if cached is None:
            reference = MtReference(value_pct_mso=mt.value, measured_on=SENTINEL_DAY, method=cast(Any, mt.method),
                                    measurement_id="check")
            required = expected_intensity_pct_mso(reference, prescription.intensity_pct_mt)
            delivery = SessionDelivery(
                trains_delivered=trains, pulses_delivered=pulses, intensity_pct_mt=prescription.intensity_pct_mt,
                intensity_pct_mso=required, frequency_hz=prescription.frequency_hz, duration_s=None,
                interruptions=interruptions, deviation_reason=None, deviation_physician=None, mso_override_reason=None)
            # The explanations quote the MT date: computed once on a sentinel day, the real day put in per row.
            check = check_delivery(prescription, delivery, reference, self.session_settings)
            assert not check.problems, check.problems
            explained = _json([msgspec.to_builtins(e) for e in check.explanations])
            cached = self.delivery_cache[key] = (check.status, check.counts_towards_course, explained, required)
        status, counts, explanations, required = cached
        views = [msgspec.to_builtins(i) for i in interruptions] if interruptions else "[]"
        return (status, counts, explanations.replace(SENTINEL_DAY.isoformat(), mt.day.isoformat()), required, pulses,
                trains, views)

    def plan_course(self, person: PatientInfo, number: int, start: dt.date) -> CoursePlan:
        """Protocol, days and how far the course got by ``today``: stopped early (4 %) or run to the end, and
        closed (outcome, letter) a few days after its last session."""
        rng, today, g = self.rng, self.today, self.g
        protocol = rng.choices(self.protocols, weights=self.protocol_weights)[0]
        planned = rng.randint(protocol.low, protocol.high)
        first = g.working_index(start)
        days = g.days[first:first + planned]
        stop_after = rng.randint(5, planned - 3) if rng.random() < 0.04 and planned > 8 else planned
        done = sum(1 for day in days[:stop_after] if day < today)
        close_day = days[stop_after - 1] + dt.timedelta(days=rng.randint(0, 4))
        closed = done == stop_after and close_day < today
        if not closed and stop_after < planned:  # the stop has not happened yet: the course runs on
            stop_after = planned
            done = sum(1 for day in days if day < today)
            close_day = days[-1] + dt.timedelta(days=rng.randint(0, 4))
            closed = done == planned and close_day < today
        status = ("stopped_early" if stop_after < planned else "completed") if closed else \
            ("active" if done else "planned")
        return CoursePlan(f"CO-{person.id[2:]}-{number}", number, protocol, planned, days, done, status,
                          _at(close_day, rng, 12, 19) if closed else None)

    def course(self, person: PatientInfo, plan: CoursePlan, referral_id: str, mt_base: int, method: str,
               responder: bool, mbc: list[MbcAssessment], counter: Iterator[int],
               previous_mt: list[int | None]) -> dt.date | None:
        """Write one course; returns its last delivered day when it is closed."""
        rng, today, g = self.rng, self.today, self.g
        course_id, protocol, planned, days, done = plan.id, plan.protocol, plan.planned, plan.days, plan.done
        operator, physician = g.operator(person.centre), g.psychiatrist(person.centre)
        start = days[0]
        self.sink.add("rtms_course", {
            "id": course_id, "patient_id": person.id, "course_number": plan.number, "protocol_ref": protocol.ref,
            "status": plan.status, "start_date": start, "induction_sessions": planned, "created_by": physician,
            "created_at": _at(min(start, today) - dt.timedelta(days=rng.randint(1, 6)), rng),
            "version": 1 + done + (1 if plan.decided else 0)})
        suffix = course_id[3:]
        for index, day in enumerate(days):
            self.sink.add("rtms_planned_session", (f"PS-{suffix}-{index + 1:03d}", course_id, index + 1, day, 1,
                                                          "induction", "delivered" if index < done else "planned"))
        # Scores: baseline in the week before session 1, PHQ-9 every fifth session, MADRS after 10 and 20 and
        # at the end; the trajectory improves by 50-85 % for a responder, 0-35 % otherwise.
        baseline = rng.randint(24, 40)
        gain = rng.uniform(0.5, 0.85) if responder else rng.uniform(0.0, 0.35)
        phq_ratio = rng.uniform(0.45, 0.6)

        def madrs_at(progress: float) -> int:
            return round(baseline * (1 - gain * progress)) + rng.randint(-2, 2)

        baseline_day = start - dt.timedelta(days=rng.randint(1, 6))
        if baseline_day < today:
            at = _at(baseline_day, rng, 9, 17)
            self.assessment(person, next(counter), self.madrs, madrs_at(0), at, mbc)
            self.assessment(person, next(counter), self.phq9, round(madrs_at(0) * phq_ratio), at, mbc)
        minutes = 8 * 60 + 40 * rng.randrange(13)
        device = DEVICES[person.centre % len(DEVICES)]
        prescription, view = protocol.prescription, protocol.view
        duration = view.duration_s
        constant = (course_id, person.id, "induction", protocol.ref, view.frequency_hz, prescription.intensity_pct_mt,
                    prescription.pulses, prescription.trains, duration, view.frequency_hz,
                    prescription.intensity_pct_mt, None, device[0], device[1], view.targeting_method, False, operator,
                    None, False, False, False, False, False, False, True, None, None, None, None, None, operator, 1)
        random = rng.random
        mt: MtState | None = None
        mt_count = 0
        records: list[tuple[str, dt.datetime]] = []
        for index in range(done):
            day, session_number = days[index], index + 1
            start_minutes = minutes - 10 + int(random() * 26)
            if mt is None or (day - mt.day).days >= 7:
                mt_count += 1
                value = max(30, min(80, mt_base + rng.randint(-2, 2)))
                mt = self._mt(person, course_id, mt_count, day, start_minutes, value, method,
                              "course_start" if mt is None else "weekly", protocol, previous_mt[0], device)
                previous_mt[0] = value
            variant = rng.randint(1, 3) if random() < 0.01 else 0
            state, counts, explanations, mso, pulses, trains, interruptions = self._delivery(protocol, mt, variant)
            begin = _local(day, start_minutes)
            end = begin + dt.timedelta(seconds=duration * pulses // prescription.pulses + 60 + int(random() * 240))
            record_id = f"SE-{suffix}-{session_number:03d}"
            records.append((record_id, end))
            self.sink.add("rtms_session_record", (
                record_id, f"PS-{suffix}-{session_number:03d}", session_number, state, counts, day, begin, end, mso,
                pulses, trains, mt.id, mt.value, int(random() * 5) if random() < 0.5 else None, interruptions,
                explanations, end + dt.timedelta(minutes=1 + int(random() * 20)), *constant))
            progress = session_number / planned
            if session_number % 5 == 0:
                self.assessment(person, next(counter), self.phq9, round(madrs_at(progress) * phq_ratio),
                                end + dt.timedelta(minutes=5), mbc)
            if session_number in (10, 20):
                self.assessment(person, next(counter), self.madrs, madrs_at(progress),
                                end + dt.timedelta(minutes=10), mbc)
        if records and rng.random() < 0.08:
            self.adverse_event(person, course_id, records)
        if plan.decided is None:
            return None
        last = days[done - 1]
        if done >= 15 and done not in (10, 20):
            self.assessment(person, next(counter), self.madrs, madrs_at(done / planned),
                            records[-1][1] + dt.timedelta(minutes=10), mbc)
        self.outcome(person, course_id, protocol, start, last, done, planned, referral_id, plan.decided,
                     plan.status == "stopped_early", mbc)
        self.follow_ups(person, course_id, last, madrs_at(1) * phq_ratio, counter, mbc)
        return last

    def adverse_event(self, person: PatientInfo, course_id: str, records: list[tuple[str, dt.datetime]]) -> None:
        kind, onset, action, relatedness, minutes, outcome, sae, form = self.rng.choice(self.ae_templates)
        record_id, end = self.rng.choice(records)
        self.sink.add("rtms_adverse_event", {
            "id": f"AE-{course_id[3:]}-1", "patient_id": person.id, "course_id": course_id,
            "session_record_id": record_id, "type": kind, "onset": onset, "onset_at": None, "severity": "mild",
            "serious": False, "serious_criteria": None, "action": action, "relatedness": relatedness,
            "duration_minutes": minutes, "outcome": outcome, "loss_of_consciousness": None, "sae_required": sae,
            "form_required": form, "seizure_form": None, "form_initial_complete": False, "form_complete": False,
            "reported_by": self.g.operator(person.centre),
            "reported_at": end + dt.timedelta(minutes=self.rng.randint(5, 240)), "version": 1})

    def outcome(self, person: PatientInfo, course_id: str, protocol: ProtocolInfo, first: dt.date, last: dt.date,
                delivered: int, planned: int, referral_id: str, decided: dt.datetime, stopped: bool,
                mbc: list[MbcAssessment]) -> None:
        facts = CourseFacts(protocol.id, first, last, delivered, planned)
        summary = summarise_course(mbc, facts, self.g.scales, self.mbc)
        self.sink.add("rtms_course_outcome", {
            "course_id": course_id, "patient_id": person.id, "referral_id": referral_id,
            "course_status": "stopped_early" if stopped else "completed",
            "stop_reason": "Céphalées persistantes malgré l'antalgie : arrêt à la demande du patient."
            if stopped else None,
            "outcome_status": summary.status, "summary": msgspec.to_builtins(summary, order="deterministic"),
            "maintenance_plan": "follow_up" if self.rng.random() < 0.75 else "none", "maintenance_template": None,
            "clinician_comment": None, "ended_on": last, "decided_by": self.g.psychiatrist(person.centre),
            "decided_at": decided, "letter_issued_at": decided, "version": 1})

    def follow_ups(self, person: PatientInfo, course_id: str, last: dt.date, phq9: float, counter: Iterator[int],
                   mbc: list[MbcAssessment]) -> None:
        for months, due in follow_up_dates(last, self.mbc):
            row: dict[str, Any] = {"id": f"FU-{course_id[3:]}-{months:02d}", "course_id": course_id,
                                   "patient_id": person.id, "months_after_end": months, "due_on": due,
                                   "status": "planned", "assessment_id": None, "note": None, "recorded_by": None,
                                   "recorded_at": None, "version": 1}
            if due + dt.timedelta(days=7) < self.today:
                at = _at(due + dt.timedelta(days=self.rng.randint(-3, 3)), self.rng, 9, 17)
                if self.rng.random() < 0.75:
                    total = round(phq9 * self.rng.uniform(0.8, 1.4))
                    row |= {"status": "done", "assessment_id": self.assessment(person, next(counter), self.phq9,
                                                                               total, at, mbc)}
                else:
                    row |= {"status": "missed", "note": "Patient injoignable."}
                row |= {"recorded_by": self.g.psychiatrist(person.centre), "recorded_at": at, "version": 2}
            self.sink.add("rtms_follow_up", row)

    # --- treatment history --------------------------------------------------------------------------

    def history(self, person: PatientInfo) -> None:
        rng = self.rng
        physician = self.g.psychiatrist(person.centre)
        first_start = person.starts[0]
        episode_start = first_start - dt.timedelta(days=rng.randint(200, 900))
        recorded = person.created_at + dt.timedelta(days=rng.randint(1, 10))
        episode_id = f"EP-{person.id[2:]}"
        self.sink.add("rtms_episode", {
            "id": episode_id, "patient_id": person.id,
            "diagnosis": _weighted(rng, (("unipolar", 0.85), ("bipolar_ii", 0.1), ("bipolar_i", 0.05))),
            "severity": _weighted(rng, (("moderate", 0.5), ("severe_without_psychosis", 0.45),
                                        ("severe_with_psychosis", 0.05))),
            "started_on": episode_start, "duration_months": None,
            "pseudo_resistance": {"wrong_diagnosis_masked_bipolarity": False, "addiction": False}
            if rng.random() < 0.5 else {},
            "dtd": None, "closed_on": None, "updated_by": physician, "updated_at": recorded, "version": 1})
        trials = rng.randint(1, 4)
        span = max(60, (first_start - episode_start).days - 30)
        day = episode_start + dt.timedelta(days=rng.randint(0, 30))
        agents = rng.sample(TRIAL_AGENTS, trials)
        for index, (agent, modality, dose, unit, pharm_class) in enumerate(agents):
            weeks = rng.randint(6, 14)
            end = day + dt.timedelta(weeks=weeks)
            outcome = _weighted(rng, TRIAL_OUTCOMES)
            self._trial(person, episode_id, index, modality, agent, dose, unit, pharm_class, day, end,
                        str(weeks - 2) if outcome != "intolerance" else "1", outcome, recorded)
            day = end + dt.timedelta(days=rng.randint(7, max(8, span // (trials + 1))))
        if rng.random() < 0.25:
            agent, dose, unit, pharm_class = rng.choice(AUGMENTATIONS)
            self._trial(person, episode_id, trials, "augmentation", agent, dose, unit, pharm_class, day,
                        day + dt.timedelta(weeks=6), "6", "non_response_lt25", recorded, agents[-1][0])
        current = agents[-1]
        medications = [(current[0], current[2], current[3], day - dt.timedelta(weeks=rng.randint(4, 12)))]
        for inn, dose, unit in rng.sample(COMEDICATIONS, rng.randint(0, 2)):
            medications.append((inn, dose, unit, day - dt.timedelta(days=rng.randint(30, 400))))
        for index, (inn, dose, unit, started) in enumerate(medications):
            change = rng.random() < 0.1
            self.sink.add("rtms_medication", {
                "id": f"MD-{person.id[2:]}-{index}", "patient_id": person.id, "inn": inn, "dose": dose, "unit": unit,
                "started_on": started, "last_change_kind": "decrease" if change else None,
                "last_change_on": started + dt.timedelta(days=20) if change else None, "notes": None,
                "recorded_by": physician, "recorded_at": recorded, "updated_at": recorded, "version": 1})

    def _trial(self, person: PatientInfo, episode_id: str, index: int, modality: str, agent: str, dose: str, unit: str,
               pharm_class: str, start: dt.date, end: dt.date, weeks: str, outcome: str, recorded: dt.datetime,
               augments: str | None = None) -> None:
        stop = {"intolerance": "intolerance", "non_response_lt25": "inefficacy", "partial_25_49": "inefficacy"}
        self.sink.add("rtms_treatment_trial", {
            "id": f"TT-{person.id[2:]}-{index}", "patient_id": person.id, "episode_id": episode_id,
            "modality": modality, "agent": agent, "atc": None, "pharm_class": pharm_class, "start_date": start,
            "end_date": end, "max_daily_dose": dose, "unit": unit, "weeks_at_adequate_dose": weeks,
            "adherence": _weighted(self.rng, (("good", 0.7), ("partial", 0.2), ("unknown", 0.1))),
            "outcome": outcome, "improvement_pct": None, "improvement_scale": None, "stop_reason": stop.get(outcome),
            "sessions": None, "ect_laterality": None, "source": self.rng.choice(("records", "referrer", "patient")),
            "augments_agent": augments, "dose_confirmed_adequate": None, "notes": None,
            "recorded_by": self.g.psychiatrist(person.centre), "recorded_at": recorded, "updated_at": recorded,
            "version": 1})


# --- sport pass -----------------------------------------------------------------------------------

ATTENDANCE_COLUMNS = ("referral_id", "kind", "session_on", "attended", "recorded_by", "recorded_at")
SPORT_TABLES = ("sport_prescription", "referral", "referral_event", "consent", "consent_withdrawal",
                "sport_referral_detail", "sport_attendance", "sport_report")
@dataclass(frozen=True)
class SportPrescriptionInfo:
    id: str
    data: ApaPrescription
    expires: dt.date
    families: list[str]


@dataclass(slots=True)
class Lifecycle:
    events: list[Event]
    booked: dt.date | None = None
    first_session: dt.datetime | None = None
    attendance: list[tuple[str, dt.date, bool | None]] = field(default_factory=list)
    reports: list[tuple[str, dt.date, float]] = field(default_factory=list)
    withdrawn_at: dt.datetime | None = None


class SportPass:
    """One pass over the patients: APA prescriptions and sport referrals along the workflow (domain-sport §1)."""

    def __init__(self, generator: Generator, writer: BulkWriter) -> None:
        self.g = generator
        self.rng = generator.rng
        self.now = generator.now
        self.sink = Sink(writer, [generator.tables[name] for name in SPORT_TABLES],
                         {"referral_event": EVENT_COLUMNS, "sport_attendance": ATTENDANCE_COLUMNS})
        self.templates = self._prescription_templates()
        self.by_region: dict[str | None, list[int]] = {}
        for index, structure in enumerate(generator.org_structures):
            self.by_region.setdefault(structure["region_code"], []).append(index)
        self.received = [0] * len(generator.organisations)
        self.referrals = 0
        self.prescriptions = 0
        self.consents = 0
        self.reports = 0
        ricci = generator.scales.get("ricci_gagnon")
        self.ricci_bands = {total: next((str(b.code) for b in ricci.bands if b.min <= total <= b.max), None)
                            for total in range(0, 60)}

    def _prescription_templates(self) -> dict[tuple[str, int], ApaPrescription]:
        """One prescription per (level, weekly minimum) checked by the P-rules, then copied per patient."""
        settings, consent = load_prescription_settings(), load_consent_settings()
        stamp = dt.datetime(2026, 1, 5, 10, tzinfo=UTC)
        templates: dict[tuple[str, int], ApaPrescription] = {}
        for level, _ in SPORT_LEVELS:
            for per_week in (1, 2, 3):
                draft = PrescriptionDraft(
                    prescription_id="RX-TEMPLATE", patient_id="P-TEMPLATE", prescriber_id="U-TEMPLATE",
                    prescribed_on=stamp.date(), eligibility_basis=("chronic_disease", "risk_factor"),
                    limitation_level=cast(Any, level), severe_criteria=(SEVERE_ITEMS[0],) if level == "severe" else (),
                    activity_types=frozenset({"endurance", "strength", "balance"} if level != "none"
                                             else {"endurance"}),
                    intensity="light" if level in ("moderate", "severe") else "moderate",
                    sessions_per_week_min=per_week, sessions_per_week_max=per_week + 1, session_minutes_min=45,
                    session_minutes_max=60, programme_months=3 if level != "severe" else 6, renewable=True,
                    goals=SPORT_GOALS[0], precautions="Reprise progressive, hydratation" if level != "none" else None,
                    recommended_structure_kinds=frozenset({"mss", "apa_practice"}) if level == "severe"
                    else frozenset(), signed_at=stamp, signed_by="U-TEMPLATE")
                check = check_prescription(draft, today=stamp.date(), settings=settings, consent=consent)
                assert check.prescription is not None, check.errors
                templates[(level, per_week)] = check.prescription
        return templates

    def run(self) -> None:
        volume = self.g.volumes.sport_referrals
        people = self.g.people
        per_patient, extra = divmod(volume, len(people))
        for index, person in enumerate(people):
            self.patient(person, per_patient + (1 if index < extra else 0))
        self.sink.flush()

    def structure_for(self, person: PatientInfo) -> tuple[int, dict[str, Any]]:
        """A coordinated structure of the patient's region (80 %), else anywhere."""
        candidates = self.by_region.get(person.region)
        if not candidates or self.rng.random() < 0.2:
            index = self.rng.randrange(len(self.g.org_structures))
        else:
            index = self.rng.choice(candidates)
        return index, self.g.org_structures[index]

    def patient(self, person: PatientInfo, count: int) -> None:
        """The patient's referrals, spread over the last 640 days: a new prescription for each, except a
        re-referral after a decline (same prescription while valid, ``previous_referral_id``, R-10); a
        prescription that follows a completed programme renews the previous one."""
        if count == 0:
            return
        rng, now = self.rng, self.now
        window, width = 640.0, 640.0 / count
        offset = rng.uniform(0, width)
        level = _weighted(rng, SPORT_LEVELS)
        per_week = rng.choice((2, 2, 2, 3, 1))
        families = (sorted({"psychique"} | ({"moteur"} if rng.random() < 0.2 else set()))
                    if rng.random() < 0.75 else [])
        wants_reports = rng.random() < 0.7  # share_reports_with_prescriber, given with the first referral sent
        reports_granted = False
        prescription: SportPrescriptionInfo | None = None
        previous: tuple[str, str, str, dt.datetime] | None = None  # referral id, status, structure id, last move
        for slot in range(count):
            sent = now - dt.timedelta(days=window - offset - slot * width)
            retry_of: str | None = None
            if previous is not None and previous[1] == "declined":
                retry_of = previous[0]
                sent = max(sent, previous[3] + dt.timedelta(days=rng.uniform(2, 10)))
                if sent >= now:
                    sent = previous[3] + (now - previous[3]) / 2
            if prescription is None or retry_of is None or sent.astimezone(PARIS).date() > prescription.expires:
                renews = prescription.id if prescription is not None and previous is not None \
                    and previous[1] == "completed" else None
                prescription = self.prescription(person, sent, level, per_week, families, renews)
                retry_of = None
            org, structure = self.structure_for(person)
            if previous is not None and structure["id"] == previous[2]:
                org = (org + 1) % len(self.g.org_structures)
                structure = self.g.org_structures[org]
            draft = slot == count - 1 and (now - sent).days < 3 and rng.random() < 0.3
            share_reports = wants_reports and not reports_granted and not draft
            reports_granted = reports_granted or share_reports
            previous = self.referral(person, prescription, org, structure, sent, draft, retry_of, share_reports,
                                     wants_reports)

    def prescription(self, person: PatientInfo, sent: dt.datetime, level: str, per_week: int, families: list[str],
                     renews: str | None) -> SportPrescriptionInfo:
        rng = self.rng
        template = self.templates[(level, per_week)]
        signed = sent - dt.timedelta(days=rng.randint(0, 6), minutes=rng.randint(30, 600))
        prescribed = signed.astimezone(PARIS).date()
        self.prescriptions += 1
        prescription_id = f"RX-B{self.prescriptions:09d}"
        prescriber = self.g.psychiatrist(person.centre)
        data = msgspec.structs.replace(template, prescription_id=prescription_id, patient_id=person.id,
                                       prescriber_id=prescriber, prescribed_on=prescribed, signed_at=signed,
                                       signed_by=prescriber, goals=rng.choice(SPORT_GOALS),
                                       renews_prescription_id=renews)
        expires = expiry_date(data)
        self.sink.add("sport_prescription", {
            "id": prescription_id, "patient_id": person.id, "organisation_id": self.g.centre_ids[person.centre],
            "prescriber_id": prescriber, "prescriber_name": f"Dr Prescripteur {person.centre} (banc d'essai)",
            "prescriber_rpps": None, "prescribed_on": prescribed, "signed_at": signed, "expires_on": expires,
            "limitation_level": data.limitation_level, "intensity": data.intensity,
            "programme_months": data.programme_months, "sessions_per_week_min": data.sessions_per_week_min,
            "sessions_per_week_max": data.sessions_per_week_max, "sessions_planned": data.sessions_planned,
            "renews_prescription_id": renews, "status": "active", "disability_families": families,
            "data": msgspec.json.encode(data, order="deterministic").decode(),
            "eligibility": {"input": None, "outcome": "eligible", "basis": list(data.eligibility_basis)},
            "needs": msgspec.to_builtins(PatientNeeds(disability_families=frozenset(cast(Any, families))),
                                       order="deterministic"),  # sets in a stable order
            "lint_hits": [], "medical_notes": None, "created_by": prescriber, "created_at": signed,
            "updated_at": signed, "version": 1})
        return SportPrescriptionInfo(prescription_id, data, expires, families)

    def lifecycle(self, sent: dt.datetime, prescriber: str, coordinator: str, per_week: int, months: int,
                  draft: bool, created: dt.datetime) -> Lifecycle:
        """The referral's whole story from its draft; the caller cuts it at ``now``."""
        rng = self.rng
        life = Lifecycle([(None, "draft", prescriber, "psychiatrist", None, None, created)])
        events = life.events
        if draft:
            return life
        events.append(("draft", "sent", prescriber, "psychiatrist", None, None, sent))
        if rng.random() < 0.02:  # never opened: the prescriber cancels after the R-11 reminders
            events.append(("sent", "cancelled", prescriber, "psychiatrist", "prescriber_cancelled", None,
                           sent + dt.timedelta(days=rng.randint(21, 35))))
            return life
        received = sent + dt.timedelta(hours=rng.randint(2, 96))
        events.append(("sent", "received", coordinator, "coordinator", None, None, received))
        decided = received + dt.timedelta(hours=rng.randint(12, 240))
        draw = rng.random()
        if draw < 0.13:
            events.append(("received", "declined", coordinator, "coordinator", _weighted(rng, SPORT_DECLINES), None,
                           decided))
            return life
        if draw < 0.15:
            events.append(("received", "cancelled", prescriber, "psychiatrist", "patient_withdrew", None, decided))
            return life
        events.append(("received", "accepted", coordinator, "coordinator", None, None, decided))
        life.booked = (decided + dt.timedelta(days=rng.randint(4, 15))).date()
        draw = rng.random()
        if draw < 0.07:  # never came: two contact attempts, then lost to follow-up (R-7)
            life.booked = None
            for days in (10, 24):
                life.attendance.append(("contact_attempt", (decided + dt.timedelta(days=days)).date(), None))
            events.append(("accepted", "lost_to_follow_up", coordinator, "coordinator", "unreachable", None,
                           decided + dt.timedelta(days=rng.randint(43, 60))))
            return life
        if draw < 0.09:
            events.append(("accepted", "cancelled", prescriber, "psychiatrist", "medical_contraindication", None,
                           decided + dt.timedelta(days=rng.randint(2, 10))))
            return life
        first = dt.datetime.combine(life.booked, dt.time(10), tzinfo=UTC)
        life.first_session = first
        events.append(("accepted", "in_progress", coordinator, "coordinator", None, None,
                       first + dt.timedelta(hours=8)))
        weeks = round(months * 4.35)
        ending = _weighted(rng, (("completed", 0.70), ("lost", 0.17), ("paused", 0.08), ("cancelled", 0.035),
                                 ("withdrawn", 0.015)))
        stop_week = weeks if ending in ("completed", "paused") else rng.randint(2, max(3, weeks - 2))
        pause_week = rng.randint(3, max(4, weeks - 3)) if ending == "paused" else None
        gaps = {1: (7,), 2: (3, 4), 3: (2, 2, 3)}[per_week]
        day = first.date()
        attended_days: list[dt.date] = []
        session = 0
        while (day - first.date()).days < stop_week * 7:
            if pause_week is not None and (day - first.date()).days >= pause_week * 7:
                paused = dt.datetime.combine(day, dt.time(18), tzinfo=UTC)
                resumed = paused + dt.timedelta(days=rng.randint(14, 35))
                events.append(("in_progress", "on_hold", coordinator, "coordinator", "medical_event", None, paused))
                events.append(("on_hold", "in_progress", coordinator, "coordinator", None, None, resumed))
                day, pause_week = resumed.date() + dt.timedelta(days=1), None
                continue
            attended = session == 0 or rng.random() > (0.15 if ending != "lost" else 0.35)
            life.attendance.append(("session", day, attended))
            if attended:
                attended_days.append(day)
            if session == 0:
                life.reports.append(("initial_assessment", day, 1.0))
            elif session == 12:
                life.reports.append(("periodic_report", day, 1.06))
            session += 1
            day += dt.timedelta(days=gaps[session % len(gaps)])
        last = attended_days[-1]
        last_at = dt.datetime.combine(last, dt.time(18), tzinfo=UTC)
        if ending in ("completed", "paused"):
            life.reports.append(("final_assessment", last, 1.1 + rng.random() * 0.2))
            events.append(("in_progress", "completed", coordinator, "coordinator", None, None,
                           last_at + dt.timedelta(days=rng.randint(1, 7))))
        elif ending == "lost":
            for days in (15, 30):
                life.attendance.append(("contact_attempt", last + dt.timedelta(days=days), None))
            events.append(("in_progress", "lost_to_follow_up", coordinator, "coordinator", "repeated_no_show", None,
                           last_at + dt.timedelta(days=rng.randint(43, 55))))
        elif ending == "cancelled":
            events.append(("in_progress", "cancelled", coordinator, "coordinator", "patient_moved", None,
                           last_at + dt.timedelta(days=rng.randint(1, 10))))
        else:  # C-7: the patient withdraws the share_referral consent; the system cancels the referral
            life.withdrawn_at = last_at + dt.timedelta(days=rng.randint(1, 10))
            events.append(("in_progress", "cancelled", "system:consent", "system", "consent_withdrawn", None,
                           life.withdrawn_at))
        return life

    def referral(self, person: PatientInfo, prescription: SportPrescriptionInfo, org: int, structure: dict[str, Any],
                 sent: dt.datetime, draft: bool, previous_id: str | None, share_reports: bool,
                 reports_shared: bool) -> tuple[str, str, str, dt.datetime]:
        """Write one referral cut at ``now``; returns (id, status, structure id, time of its last move)."""
        rng, now, g = self.rng, self.now, self.g
        template = prescription.data
        self.referrals += 1
        referral_id = f"R-B{self.referrals:08d}"
        prescriber = g.psychiatrist(person.centre)
        coordinator = g.coordinator(org)
        created = sent - dt.timedelta(minutes=rng.randint(5, 25))
        life = self.lifecycle(sent, prescriber, coordinator, template.sessions_per_week_min, template.programme_months,
                              draft, created)
        events = [event for event in life.events if event[6] < now]
        status = events[-1][1]
        for source, target, _, role, _, _, _ in events:
            _check_move(SPORT_REFERRAL_WORKFLOW, source, target, "prescriber" if role == "psychiatrist" else role)
        recipient = structure["organisation_id"]
        self.sink.add("referral", {
            "id": referral_id, "workflow": SPORT_REFERRAL_WORKFLOW.name, "patient_id": person.id,
            "sender_organisation_id": g.centre_ids[person.centre], "recipient_organisation_id": recipient,
            "status": status, "created_by": prescriber, "created_at": created, "updated_at": events[-1][6],
            "version": len(events)})
        for event in events:
            self.sink.add("referral_event", (referral_id, *event))
        consent_id: str | None = None
        if not draft:
            granted = sent - dt.timedelta(minutes=rng.randint(10, 50))
            scopes: list[tuple[str, str | None]] = [("share_referral", structure["id"]),
                                                    ("share_contact_phone", structure["id"])]
            if share_reports:
                scopes.append(("share_reports_with_prescriber", None))
            for scope, bound_to in scopes:
                self.consents += 1
                identifier = f"C-B{self.consents:09d}"
                if scope == "share_referral":
                    consent_id = identifier
                self.sink.add("consent", {
                    "id": identifier, "patient_id": person.id, "scope": scope, "recipient": bound_to,
                    "granted_at": granted, "granted_by": "patient", "collection_mode": "oral_recorded",
                    "notice_version": "sport-2026.1", "recorded_by": prescriber, "recorded_at": granted})
            if life.withdrawn_at is not None and life.withdrawn_at < now:
                self.sink.add("consent_withdrawal", {"consent_id": consent_id, "withdrawn_at": life.withdrawn_at,
                                                     "recorded_by": prescriber, "recorded_at": life.withdrawn_at})
            self.received[org] += 1
        moments = {target: at for _, target, _, _, _, _, at in events}
        terminal = status in SPORT_REFERRAL_WORKFLOW.terminal_codes()
        last_move = events[-1][6]
        accepted = moments.get("accepted")
        started = "in_progress" in moments
        self.sink.add("sport_referral_detail", {
            "referral_id": referral_id, "prescription_id": prescription.id, "structure_id": structure["id"],
            "patient_id": person.id, "prescriber_id": prescriber,
            "prescriber_organisation_id": g.centre_ids[person.centre], "recipient_organisation_id": recipient,
            "status": status, "structure_kind": structure["kind"],
            "structure_department_code": structure["department_code"],
            "structure_region_code": structure["region_code"], "patient_department_code": person.department,
            "patient_region_code": person.region, "disability_families": prescription.families,
            "limitation_level": template.limitation_level, "sessions_per_week_min": template.sessions_per_week_min,
            "programme_months": template.programme_months, "sessions_planned": template.sessions_planned,
            "created_at": created, "sent_at": moments.get("sent"), "received_at": moments.get("received"),
            "decided_at": accepted or moments.get("declined"), "accepted_at": accepted,
            "declined_at": moments.get("declined"),
            "decline_reason": next((e[4] for e in events if e[1] == "declined"), None),
            # Booked the day after the acceptance (book_first_session), kept once the programme starts.
            "first_session_planned_on": life.booked if life.booked and accepted
            and accepted + dt.timedelta(days=1) < now else None,
            "first_session_at": life.first_session if started else None,
            "closed_at": last_move if terminal else None, "close_reason": events[-1][4] if terminal else None,
            "previous_referral_id": previous_id, "consent_id": consent_id, "updated_at": last_move})
        open_until = last_move if terminal else now
        for kind, day, attended in life.attendance:
            recorded = dt.datetime.combine(day, dt.time(18), tzinfo=UTC)
            if recorded < open_until:
                self.sink.add("sport_attendance", (referral_id, kind, day, attended, coordinator, recorded))
        if life.reports and started:
            baseline = {"walk": rng.randint(280, 450), "chair": rng.randint(7, 13), "stance": rng.randint(4, 20),
                        "grip": rng.randint(18, 35), "ricci": rng.randint(12, 20), "minutes": rng.randint(30, 90)}
            for report_type, day, gain in life.reports:
                if dt.datetime.combine(day, dt.time(17), tzinfo=UTC) < open_until:
                    self.report(referral_id, report_type, day, baseline, gain, reports_shared, coordinator)
        return referral_id, status, structure["id"], last_move

    def report(self, referral_id: str, report_type: str, day: dt.date, baseline: dict[str, int], gain: float,
               shared: bool, recorded_by: str) -> None:
        self.reports += 1
        ricci = min(45, round(baseline["ricci"] * gain))
        self.sink.add("sport_report", {
            "id": f"RP-B{self.reports:09d}", "referral_id": referral_id, "report_type": report_type,
            "performed_on": day, "performer_profession": "apa_teacher",
            "six_minute_walk_m": round(baseline["walk"] * gain), "chair_stand_30s": round(baseline["chair"] * gain),
            "one_leg_stance_s": round(baseline["stance"] * gain, 1),
            "handgrip_kg": round(baseline["grip"] * min(gain, 1.1), 1), "ricci_gagnon_score": ricci,
            "ricci_gagnon_band": self.ricci_bands.get(ricci), "motivation_stage": "maintenance" if gain > 1
            else "preparation", "weekly_activity_minutes": round(baseline["minutes"] * gain * gain),
            "flags_risk": False, "shared_with_prescriber": shared,
            "data": {"programme": self.rng.choice(PROGRAMMES),
                     "proposals": "Poursuivre en club avec un créneau sport-santé" if gain > 1 else None,
                     "notes": None},
            "recorded_by": recorded_by, "recorded_at": dt.datetime.combine(day, dt.time(17), tzinfo=UTC)})


# --- entry points ---------------------------------------------------------------------------------

def generate(database: Database, scale: str, seed: int = 20261122, today: dt.date = TODAY) -> Generated:
    upgrade(database)
    database.engine.dispose()  # no pooled connection may hold the WAL while the load changes the journal mode
    result = Generated(scale, today=today)
    started = time.perf_counter()
    writer = BulkWriter(database)
    try:
        Generator(Volumes.at(scale), seed, today).run(writer, result)
        writer.commit()
    except BaseException:
        writer.raw.rollback()
        raise
    with database.engine.begin() as connection:
        if not database.is_sqlite:
            connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), "
                                       "(SELECT MAX(id) FROM audit_event))")
        connection.exec_driver_sql("ANALYZE")
    if not database.is_sqlite:
        # Freshly loaded rows have no visibility map and no hint bits: the first reads of each page write
        # it back. Measured straight after the load, the national pages' p99 was 157 ms, not 25 ms.
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")
    result.counts = dict(writer.counts)
    result.seconds = time.perf_counter() - started
    slowest = sorted(writer.table_seconds.items(), key=lambda item: -item[1])[:6]
    print("  slowest writes: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in slowest), file=sys.stderr)
    return result


# Pools for the write benchmarks (each row can be written once: a planned session is recorded once, a
# received referral is accepted once). :centre / :organisation come from the bench accounts.
OPEN_SESSIONS_SQL = (
    "SELECT c.patient_id, c.id, ps.id FROM rtms_planned_session ps JOIN rtms_course c ON c.id = ps.course_id "
    "JOIN patient p ON p.id = c.patient_id WHERE p.organisation_id = :centre AND c.status = 'active' "
    "AND ps.status = 'planned' ORDER BY ps.date, ps.id")
RECEIVED_REFERRALS_SQL = (
    "SELECT r.id, r.version FROM referral r JOIN sport_referral_detail d ON d.referral_id = r.id "
    "JOIN sport_structure s ON s.id = d.structure_id WHERE s.organisation_id = :organisation "
    "AND r.workflow = 'sport_referral' AND r.status IN ('received', 'sent') ORDER BY d.sent_at, r.id")
IN_PROGRESS_REFERRALS_SQL = (
    "SELECT r.id, r.version FROM referral r JOIN sport_referral_detail d ON d.referral_id = r.id "
    "JOIN sport_structure s ON s.id = d.structure_id WHERE s.organisation_id = :organisation "
    "AND r.workflow = 'sport_referral' AND r.status = 'in_progress' ORDER BY d.sent_at, r.id")


def session_forms(database: Database, on: dt.date) -> list[tuple[str, dict[str, str]]]:
    """Ready-to-post session forms (path, fields without the CSRF token) for the operator's write benchmark:
    the open sessions of the bench centre's active courses, each recordable once, dated ``on`` (the real
    day of the run: a session cannot be recorded before it happens). The %MSO is the one R-SES-03 expects
    from the course's last motor threshold, so every form is accepted."""
    catalogue = load_protocol_catalogue()
    with database.read() as session:
        centre = session.execute(text("SELECT organisation_id FROM app_user WHERE email = "
                                      "'operator@bench.parcours.fr'")).scalar_one()
        rows = session.execute(text(
            "SELECT c.patient_id, c.id, ps.id, c.protocol_ref, (SELECT m.value_pct_mso FROM rtms_motor_threshold m "
            "WHERE m.course_id = c.id ORDER BY m.measured_at DESC LIMIT 1), (SELECT r.device_id || '|' || r.coil_id "
            "FROM rtms_session_record r WHERE r.course_id = c.id ORDER BY r.performed_start DESC LIMIT 1) "
            "FROM rtms_planned_session ps JOIN rtms_course c ON c.id = ps.course_id JOIN patient p ON "
            "p.id = c.patient_id WHERE p.organisation_id = :centre AND c.status = 'active' AND ps.status = 'planned' "
            "ORDER BY ps.date, ps.id LIMIT 1000"), {"centre": centre}).all()
    forms: list[tuple[str, dict[str, str]]] = []
    for patient, course, planned, protocol_ref, mt_value, device in rows:
        prescription, view = prescription_of(catalogue.by_ref(protocol_ref))
        reference = MtReference(value_pct_mso=mt_value, measured_on=on, method="emg_mep", measurement_id="")
        device_id, _, coil_id = (device or "MagVenture R30 n° 1|Cool-B65 n° 1").partition("|")
        fields = {"performed_on": on.isoformat(), "start_time": "00:05",
                  "intensity_pct_mt": str(prescription.intensity_pct_mt),
                  "intensity_pct_mso": str(expected_intensity_pct_mso(reference, prescription.intensity_pct_mt)),
                  "pulses_delivered": str(prescription.pulses), "trains_delivered": str(prescription.trains),
                  "frequency_hz": view.frequency_hz or "", "device_id": device_id, "coil_id": coil_id,
                  "targeting_method": view.targeting_method, "checkin_metal_removed": "on"}
        forms.append((f"/patients/{patient}/courses/{course}/sessions/{planned}", fields))
    return forms


def status_moves(database: Database, count: int) -> list[tuple[str, dict[str, str]]]:
    """``count`` coordinator status changes (path, fields without the CSRF token), valid when sent in order:
    the bench coordinator's referrals in progress are paused (on hold, medical event) then resumed, round after
    round, each form carrying the version the previous move left (every move adds one). Versions are read when
    the moves are built, so a later run starts where this one stopped (referrals it left on hold drop out)."""
    with database.read() as session:
        organisation = session.execute(text("SELECT organisation_id FROM app_user WHERE email = "
                                            "'coordinator@bench.parcours.fr'")).scalar_one()
        referrals = [(str(r), int(v)) for r, v in session.execute(text(IN_PROGRESS_REFERRALS_SQL),
                                                                  {"organisation": organisation}).all()]
    moves: list[tuple[str, dict[str, str]]] = []
    step = 0
    while referrals and len(moves) < count:
        for referral_id, version in referrals:
            if len(moves) == count:
                break
            if step % 2 == 0:
                moves.append((f"/sport/inbox/{referral_id}/stop", {"version": str(version + step), "target": "on_hold",
                                                                   "reason_code": "medical_event"}))
            else:
                moves.append((f"/sport/inbox/{referral_id}/resume", {"version": str(version + step)}))
        step += 1
    return moves


def bench_targets(database: Database) -> dict[str, str]:
    """Ids and paths the page and write benchmarks use, read back from a generated database (any scale,
    any seed): the bench accounts' organisations, an open session, referrals a coordinator can move."""
    def one(session: Any, sql: str, **parameters: object) -> Any:
        row = session.execute(text(sql + " LIMIT 1"), parameters).first()
        return row if row is not None else (None, None, None)

    with database.read() as session:
        centre, = session.execute(text("SELECT organisation_id FROM app_user WHERE email = "
                                       "'psychiatrist@bench.parcours.fr'")).one()
        organisation, = session.execute(text("SELECT organisation_id FROM app_user WHERE email = "
                                             "'coordinator@bench.parcours.fr'")).one()
        patient, course, planned = one(session, OPEN_SESSIONS_SQL, centre=centre)
        received = one(session, RECEIVED_REFERRALS_SQL, organisation=organisation)[0]
        in_progress = one(session, IN_PROGRESS_REFERRALS_SQL, organisation=organisation)[0]
        # The data set's "today": the first day still planned on an active course.
        day = session.execute(text("SELECT MIN(ps.date) FROM rtms_planned_session ps JOIN rtms_course c "
                                   "ON c.id = ps.course_id WHERE c.status = 'active' AND ps.status = 'planned'")
                              ).scalar()
        completed = one(session, "SELECT c.patient_id FROM rtms_course c JOIN patient p ON p.id = c.patient_id "
                                 "WHERE p.organisation_id = :centre AND c.status = 'completed' ORDER BY c.patient_id",
                        centre=centre)[0]
        intake = one(session, "SELECT r.id FROM referral r WHERE r.workflow = 'rtms_referral' AND "
                              "r.recipient_organisation_id = :centre AND r.status = 'received' ORDER BY r.id",
                     centre=centre)[0]
        sport = one(session, "SELECT d.referral_id FROM sport_referral_detail d JOIN patient p ON "
                             "p.id = d.patient_id WHERE p.organisation_id = :centre AND d.status = 'in_progress' "
                             "ORDER BY d.referral_id", centre=centre)[0]
        own = one(session, "SELECT referral_id FROM rtms_referral_detail WHERE referrer_user_id = "
                           "'U-BENCH-REFERRER' ORDER BY referral_id")[0]
        prescription = one(session, "SELECT prescription_id FROM sport_referral_detail WHERE referral_id = :r",
                           r=sport)[0]
        counts: dict[str, int] = dict(session.execute(text(
            "SELECT r.status, COUNT(*) FROM referral r JOIN sport_referral_detail d ON d.referral_id = r.id "
            "JOIN sport_structure s ON s.id = d.structure_id WHERE s.organisation_id = :organisation "
            "GROUP BY r.status"), {"organisation": organisation}).all())
    return {
        "centre": centre, "coordinator_organisation": organisation,
        "coordinator_referrals": ", ".join(f"{status} {count}" for status, count in sorted(counts.items())),
        "today": str(day), "today_path": f"/today?day={day}",
        "open_session_patient": patient, "open_session_course": course, "open_session": planned,
        "session_path": f"/patients/{patient}/courses/{course}/sessions/{planned}",
        "courses_path": f"/patients/{completed}/courses", "patient_path": f"/patients/{completed}",
        "pathway_path": f"/patients/{completed}/pathway", "history_path": f"/patients/{patient}/history",
        "received_referral": received, "in_progress_referral": in_progress,
        "inbox_referral_path": f"/sport/inbox/{in_progress}", "intake_path": f"/intake/{intake}",
        "prescriber_referral_path": f"/sport/referrals/{sport}", "patient_sport_path": f"/patients/{completed}/sport",
        "prescription_path": f"/sport/prescriptions/{prescription}", "referrer_referral_path": f"/referrals/{own}",
    }


def check_pages(targets: dict[str, str]) -> dict[str, list[str]]:
    """The pages each bench account opens in ``--check`` (read-only: no page here changes a status)."""
    return {
        "coordinator": ["/sport/inbox", "/sport/inbox?status=all", targets["inbox_referral_path"]],
        "observer": ["/observer/indicators"],
        "operator": [targets["today_path"], "/today", targets["session_path"], targets["courses_path"],
                     targets["patient_path"]],
        "psychiatrist": ["/", "/patients?q=martin&page=2", targets["patient_path"], targets["courses_path"],
                         targets["pathway_path"], targets["history_path"], "/intake", targets["intake_path"],
                         targets["patient_sport_path"], targets["prescriber_referral_path"],
                         targets["prescription_path"]],
        "referrer": ["/referrals", targets["referrer_referral_path"]],
    }


def bench_email(role: str) -> str:
    return f"{role}@bench.parcours.fr"


def sign_in(client: httpx.Client, role: str) -> httpx.Response:
    """Sign a bench account in as a browser does, with the login form's CSRF token (303 when signed in).
    ``client`` may be a Litestar TestClient (in-process) or an httpx client of a served application."""
    match = CSRF_INPUT.search(client.get("/login").text)
    return client.post("/login", data={"email": bench_email(role), "password": BENCH_PASSWORD,
                                       "_csrf_token": match[1] if match else ""}, follow_redirects=False)


def check(database_url: str) -> list[str]:
    """Sign in as each bench account in-process and open its pages; returns the failures (not 200)."""
    import secrets

    from litestar.testing import TestClient

    from parcours_web.app import create_app
    from parcours_web.settings import Settings

    database = Database(database_url)
    targets = bench_targets(database)
    for name, value in targets.items():
        print(f"{name:<28} {value}")
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="parcours-bench-check-") as directory:
        settings = Settings(database_url=database_url, secret_key=secrets.token_urlsafe(32), cookie_secure=False,
                            var_dir=Path(directory))
        with TestClient(create_app(settings, database)) as client:
            for role, paths in check_pages(targets).items():
                client.cookies.clear()
                response = sign_in(client, role)
                if response.status_code != 303:
                    failures.append(f"{role}: login answered {response.status_code}")
                    continue
                for path in paths:
                    started = time.perf_counter()
                    response = client.get(path)
                    elapsed = (time.perf_counter() - started) * 1000
                    print(f"{response.status_code} {elapsed:7.0f} ms  {role:<12} {path}")
                    if response.status_code != 200:
                        failures.append(f"{role} {path}: {response.status_code}")
    return failures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--database-url", default="sqlite:///bench/out/bench.db")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=TODAY,
                        help=f"the last day of the data set (default {TODAY})")
    parser.add_argument("--check", action="store_true",
                        help="do not generate: open the bench pages of an existing database in-process")
    arguments = parser.parse_args(argv)
    if arguments.check:
        failures = check(arguments.database_url)
        if failures:
            raise SystemExit("bench check failed:\n" + "\n".join(failures))
        print("bench check: every page answered 200")
        return
    database = Database(arguments.database_url)
    try:
        result = generate(database, arguments.scale, arguments.seed, arguments.today)
    finally:
        database.dispose()
    for name, count in sorted(result.counts.items()):
        print(f"{name:<28} {count:>12,}")
    print(f"generated at scale {result.scale} (today {result.today}) in {result.seconds:.0f} s")


if __name__ == "__main__":
    main()
