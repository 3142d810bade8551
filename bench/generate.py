"""Deterministic data generator for the benchmark: quality.md's national volumes, or 1 % / 10 % of them.

Usage::

    python -m bench.generate --scale small|medium|national [--database-url URL] [--seed N]

The database is migrated first, then filled by bulk inserts on the driver's own connection
(``executemany`` in one transaction on SQLite, ``COPY`` on PostgreSQL): the ORM would take hours at
national scale. Distributions follow the clinic: patients live in real communes (weighted by
population), courses last 20 to 36 sessions on working days, scale trajectories improve for about half
of the patients, structures cluster around commune centroids, referral statuses follow the workflow.
Every bench account's password is ``BENCH_PASSWORD``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table

from parcours_web.auth.passwords import hash_password
from parcours_web.migrate import upgrade
from parcours_web.models import metadata
from shared_core.db import Database
from shared_core.scales import ScaleDefinition, load_catalogue
from shared_core.text import fold
from sport_referral.geo.gazetteer import get_gazetteer

BENCH_PASSWORD = "parcours-bench-2026"
NATIONAL = {
    "patients": 100_000, "courses": 150_000, "sessions": 4_000_000, "assessments": 1_500_000,
    "structures": 60_000, "sport_referrals": 500_000, "audit": 50_000_000,
}
SCALES = {"small": 0.01, "medium": 0.1, "national": 1.0}
PATIENTS_PER_CENTRE = 700
BATCH = 10_000
TODAY = dt.date(2026, 11, 20)
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
FAMILY_NAMES = ("Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
                "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
                "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefevre", "Faure",
                "Andre", "Mercier", "Blanc", "Guerin", "Boyer", "Garnier", "Chevalier", "Francois", "Legrand")
GIVEN_NAMES = ("Camille", "Louise", "Léa", "Manon", "Chloé", "Inès", "Jade", "Emma", "Lucas", "Hugo", "Louis",
               "Gabriel", "Arthur", "Jules", "Nathan", "Paul", "Nicolas", "Julien", "Sophie", "Claire", "Anne")
STRUCTURE_KINDS = (("venue", 0.60), ("club", 0.25), ("esms", 0.08), ("apa_practice", 0.05), ("mss", 0.02))
SPORT_STATUSES = (("completed", 0.30), ("in_progress", 0.25), ("declined", 0.10), ("first_session_booked", 0.08),
                  ("accepted", 0.07), ("received", 0.06), ("sent", 0.06), ("stopped", 0.05), ("cancelled", 0.03))


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


# --- bulk writing ---------------------------------------------------------------------------------

def _plain(value: object, sqlite: bool) -> object:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if sqlite and isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if sqlite and isinstance(value, dt.date):
        return value.isoformat()
    return value


class BulkWriter:
    """Rows straight to the driver: ``executemany`` on SQLite, ``COPY`` on PostgreSQL, one transaction."""

    def __init__(self, database: Database) -> None:
        self.sqlite = database.is_sqlite
        self.raw = database.engine.raw_connection()
        self.counts: dict[str, int] = {}
        if self.sqlite:
            self.raw.execute("PRAGMA synchronous = OFF")
            self.raw.execute("PRAGMA foreign_keys = OFF")  # the generator writes parents first anyway
            self.raw.execute("BEGIN")

    def write(self, table: Table, rows: Iterable[dict[str, Any]]) -> int:
        """Insert the rows; the columns are the first row's keys (an autoincrement id may be left out)."""
        iterator = iter(rows)
        first = next(iterator, None)
        if first is None:
            return 0
        rows = itertools.chain([first], iterator)
        columns = [column.name for column in table.columns if column.name in first]
        count = 0
        cursor = self.raw.cursor()
        if self.sqlite:
            statement = (f'INSERT INTO "{table.name}" ({", ".join(columns)}) '
                         f'VALUES ({", ".join("?" for _ in columns)})')
            batch: list[tuple[object, ...]] = []
            for row in rows:
                batch.append(tuple(_plain(row.get(name), True) for name in columns))
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
                    copy.write_row(tuple(_plain(row.get(name), False) for name in columns))
                    count += 1
        cursor.close()
        self.counts[table.name] = self.counts.get(table.name, 0) + count
        return count

    def commit(self) -> None:
        if self.sqlite:
            self.raw.execute("COMMIT")
            self.raw.execute("PRAGMA foreign_keys = ON")
        else:
            self.raw.commit()
        self.raw.close()


# --- the data -------------------------------------------------------------------------------------

def _weighted(rng: random.Random, choices: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


def _moment(rng: random.Random, days_back: int = 700) -> dt.datetime:
    return EPOCH + dt.timedelta(days=rng.randrange(days_back), seconds=rng.randrange(8 * 3600, 19 * 3600))


def _items_for_total(definition: ScaleDefinition, total: int, rng: random.Random) -> list[int]:
    items = [item.min for item in definition.items]
    remaining = total - sum(items)
    order = list(range(len(items)))
    while remaining > 0:
        rng.shuffle(order)
        moved = False
        for index in order:
            if remaining and items[index] < definition.items[index].max:
                items[index] += 1
                remaining -= 1
                moved = True
        if not moved:
            break
    return items


class Generator:
    def __init__(self, volumes: Volumes, seed: int) -> None:
        self.volumes = volumes
        self.rng = random.Random(seed)
        gazetteer = get_gazetteer()
        populated = [entry for entry in gazetteer.current_entries() if entry.lat is not None and entry.population]
        self.communes = populated
        self.commune_weights = list(itertools.accumulate(entry.population or 1 for entry in populated))
        self.scales = load_catalogue()
        self.tables = metadata.tables

    def commune(self) -> Any:
        return self.rng.choices(self.communes, cum_weights=self.commune_weights)[0]

    def run(self, writer: BulkWriter, result: Generated) -> None:
        steps: list[tuple[str, Callable[[BulkWriter, Generated], None]]] = [
            ("organisations and accounts", self.organisations),
            ("patients", self.patients),
            ("assessments", self.assessments),
            ("courses and sessions", self.courses),
            ("structures", self.structures),
            ("sport referrals", self.sport_referrals),
            ("audit trail", self.audit),
        ]
        for label, step in steps:
            started = time.perf_counter()
            step(writer, result)
            print(f"  {label}: {time.perf_counter() - started:.1f} s", file=sys.stderr)

    def organisations(self, writer: BulkWriter, result: Generated) -> None:
        centres = max(2, self.volumes.patients // PATIENTS_PER_CENTRE)
        result.centre_ids = [f"org-bench-centre-{index:04d}" for index in range(centres)]
        mss = max(2, self.volumes.structures // 50)
        result.coordinator_organisations = [f"org-bench-mss-{index:05d}" for index in range(mss)]
        rows = [{"id": centre, "kind": "centre", "name": f"Centre de neuromodulation {index} (banc d'essai)",
                 "holiday_zone": "metropole", "version": 1, "created_at": EPOCH}
                for index, centre in enumerate(result.centre_ids)]
        rows += [{"id": org, "kind": "mss", "name": f"Maison Sport-Santé {index} (banc d'essai)", "version": 1,
                  "created_at": EPOCH} for index, org in enumerate(result.coordinator_organisations)]
        rows.append({"id": "org-bench-cabinet", "kind": "referrer_practice", "name": "Cabinet (banc d'essai)",
                     "version": 1, "created_at": EPOCH})
        writer.write(self.tables["organisation"], rows)
        password = hash_password(BENCH_PASSWORD)
        accounts = {"psychiatrist": result.centre_ids[0], "operator": result.centre_ids[0],
                    "coordinator": result.coordinator_organisations[0], "observer": None,
                    "admin": result.centre_ids[0], "referrer": "org-bench-cabinet"}
        users = []
        for role, organisation in accounts.items():
            email = f"{role}@bench.parcours.fr"
            result.accounts[role] = email
            users.append({"id": f"U-BENCH-{role.upper()}", "email": email, "display_name": f"Bench {role}",
                          "role": role, "organisation_id": organisation, "active": True, "password_hash": password,
                          "created_at": EPOCH, "password_changed_at": EPOCH, "version": 1})
        writer.write(self.tables["app_user"], users)

    def patients(self, writer: BulkWriter, result: Generated) -> None:
        def rows() -> Iterator[dict[str, Any]]:
            for index in range(self.volumes.patients):
                family = self.rng.choice(FAMILY_NAMES)
                given = self.rng.choice(GIVEN_NAMES)
                patient_id = f"P-B{index:07d}"
                result.patient_ids.append(patient_id)
                created = _moment(self.rng)
                yield {"id": patient_id, "organisation_id": result.centre_ids[index % len(result.centre_ids)],
                       "family_name": family, "given_names": given,
                       "birth_date": dt.date(1940, 1, 1) + dt.timedelta(days=self.rng.randrange(23_000)),
                       "sex": self.rng.choice("FM"), "commune_insee": self.commune().insee_code,
                       "search_key": fold(f"{family} {given} {patient_id}"), "created_by": "U-BENCH-PSYCHIATRIST",
                       "created_at": created, "updated_at": created, "version": 1}
        writer.write(self.tables["patient"], rows())

    def assessments(self, writer: BulkWriter, result: Generated) -> None:
        madrs, phq9 = self.scales.get("madrs"), self.scales.get("phq9")
        per_patient = max(1, self.volumes.assessments // max(1, len(result.patient_ids)))

        def rows() -> Iterator[dict[str, Any]]:
            number = 0
            for patient_id in result.patient_ids:
                responder = self.rng.random() < 0.5
                start = _moment(self.rng, 500)
                baseline = self.rng.randint(24, 42)
                for visit in range(per_patient):
                    definition = madrs if visit % 2 == 0 else phq9
                    share = 1 - (0.6 if responder else 0.15) * min(1.0, visit / max(1, per_patient - 1))
                    top = definition.items[0].max * len(definition.items)
                    total = max(0, min(top, round(baseline * share * top / 60) + self.rng.randint(-2, 2)))
                    number += 1
                    yield {"id": f"A-B{number:09d}", "patient_id": patient_id, "scale_code": definition.code,
                           "scale_version": definition.version,
                           "administered_at": start + dt.timedelta(days=7 * visit), "source": "clinician",
                           "entered_by": "U-BENCH-OPERATOR", "items": _items_for_total(definition, total, self.rng),
                           "total": total, "band": None, "subscores": {}, "alerts": [], "prorated": False,
                           "created_at": start + dt.timedelta(days=7 * visit)}
        writer.write(self.tables["assessment"], rows())

    def courses(self, writer: BulkWriter, result: Generated) -> None:
        sessions_per_course = max(1, self.volumes.sessions // max(1, self.volumes.courses))
        courses: list[dict[str, Any]] = []

        def course_rows() -> Iterator[dict[str, Any]]:
            for index in range(self.volumes.courses):
                patient_id = result.patient_ids[index % len(result.patient_ids)]
                number = index // len(result.patient_ids) + 1
                start = TODAY - dt.timedelta(days=self.rng.randrange(700))
                status = "completed" if start < TODAY - dt.timedelta(days=60) else "active"
                course_id = f"CO-B{index:08d}"
                courses.append({"id": course_id, "start": start})
                yield {"id": course_id, "patient_id": patient_id, "course_number": number,
                       "protocol_ref": "hf_left_10hz@1", "status": status, "start_date": start,
                       "induction_sessions": sessions_per_course, "created_by": "U-BENCH-PSYCHIATRIST",
                       "created_at": dt.datetime.combine(start, dt.time(9), dt.UTC), "version": 1}
        writer.write(self.tables["rtms_course"], course_rows())

        def session_rows() -> Iterator[dict[str, Any]]:
            for course in courses:
                day = course["start"]
                for number in range(1, sessions_per_course + 1):
                    while day.weekday() >= 5:
                        day += dt.timedelta(days=1)
                    yield {"id": f"PS-{course['id'][3:]}-{number:03d}", "course_id": course["id"], "number": number,
                           "date": day, "slot": 1, "phase": "induction",
                           "status": "delivered" if day < TODAY else "planned"}
                    day += dt.timedelta(days=1)
        writer.write(self.tables["rtms_planned_session"], session_rows())

    def structures(self, writer: BulkWriter, result: Generated) -> None:
        def rows() -> Iterator[dict[str, Any]]:
            for index in range(self.volumes.structures):
                commune = self.commune()
                kind = "mss" if index < len(result.coordinator_organisations) else _weighted(self.rng, STRUCTURE_KINDS)
                structure_id = f"bench-{kind}-{index:06d}"
                latitude = round(commune.lat + self.rng.uniform(-0.04, 0.04), 5)
                longitude = round(commune.lon + self.rng.uniform(-0.04, 0.04), 5)
                accepting = kind != "venue"
                data = {"structure_id": structure_id, "kind": kind, "name": f"{kind.upper()} {commune.name} {index}",
                        "commune_insee": commune.insee_code, "commune_name": commune.name,
                        "postcode": commune.postcodes[0] if commune.postcodes else None,
                        "department_code": commune.department_code, "region_code": commune.region_code,
                        "latitude": latitude, "longitude": longitude, "accepting_referrals": accepting,
                        "source": "manual", "source_ref": structure_id, "source_licence": "bench",
                        "disability_families": self.rng.sample(["moteur", "visuel", "auditif", "mental", "psychique"],
                                                               self.rng.randint(1, 5)),
                        "professions": ["apa_teacher"] if kind != "apa_practice" else ["physiotherapist"],
                        "activity_types": ["endurance", "balance"],
                        "accessibility": {"motor_reception": self.rng.random() < 0.7}}
                yield {"id": structure_id, "kind": kind, "name": data["name"], "commune_insee": commune.insee_code,
                       "department_code": commune.department_code, "region_code": commune.region_code,
                       "latitude": latitude, "longitude": longitude, "accepting_referrals": accepting,
                       "source": "manual", "source_ref": structure_id, "data": data,
                       "organisation_id": (result.coordinator_organisations[index]
                                           if index < len(result.coordinator_organisations) else None),
                       "imported_at": EPOCH, "updated_at": EPOCH, "version": 1}
        writer.write(self.tables["sport_structure"], rows())

    def sport_referrals(self, writer: BulkWriter, result: Generated) -> None:
        events: list[dict[str, Any]] = []

        def rows() -> Iterator[dict[str, Any]]:
            for index in range(self.volumes.sport_referrals):
                referral_id = f"R-B{index:08d}"
                status = _weighted(self.rng, SPORT_STATUSES)
                sent = _moment(self.rng, 640)
                recipient = result.coordinator_organisations[index % len(result.coordinator_organisations)]
                events.append({"referral_id": referral_id, "source": None, "target": "sent",
                               "actor_id": "U-BENCH-PSYCHIATRIST", "actor_role": "psychiatrist", "at": sent})
                if status != "sent":
                    events.append({"referral_id": referral_id, "source": "sent", "target": status,
                                   "actor_id": "U-BENCH-COORDINATOR", "actor_role": "coordinator",
                                   "at": sent + dt.timedelta(days=self.rng.randint(1, 20))})
                yield {"id": referral_id, "workflow": "sport_referral",
                       "patient_id": result.patient_ids[index % len(result.patient_ids)],
                       "sender_organisation_id": result.centre_ids[index % len(result.centre_ids)],
                       "recipient_organisation_id": recipient, "status": status,
                       "created_by": "U-BENCH-PSYCHIATRIST", "created_at": sent, "updated_at": sent, "version": 1}
        writer.write(self.tables["referral"], rows())
        writer.write(self.tables["referral_event"], iter(events))

    def audit(self, writer: BulkWriter, result: Generated) -> None:
        """Generated by the database itself (a recursive CTE / generate_series): 50 million rows from Python
        would take most of the run. One row every 1.2 s from EPOCH, cycling over the patients."""
        count, patients = self.volumes.audit, len(result.patient_ids)
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
        writer.counts["audit_event"] = count

    @staticmethod
    def raw_execute(writer: BulkWriter, statement: str, parameters: tuple[object, ...]) -> None:
        cursor = writer.raw.cursor()
        cursor.execute(statement, parameters)
        cursor.close()


def generate(database: Database, scale: str, seed: int = 20261122) -> Generated:
    upgrade(database)
    result = Generated(scale)
    started = time.perf_counter()
    writer = BulkWriter(database)
    try:
        Generator(Volumes.at(scale), seed).run(writer, result)
        writer.commit()
    except BaseException:
        writer.raw.rollback()
        raise
    if not database.is_sqlite:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), "
                                       "(SELECT MAX(id) FROM audit_event))")
            connection.exec_driver_sql("ANALYZE")
    else:
        with database.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    result.counts = dict(writer.counts)
    result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--database-url", default="sqlite:///bench/out/bench.db")
    parser.add_argument("--seed", type=int, default=20261122)
    arguments = parser.parse_args(argv)
    database = Database(arguments.database_url)
    try:
        result = generate(database, arguments.scale, arguments.seed)
    finally:
        database.dispose()
    for name, count in sorted(result.counts.items()):
        print(f"{name:<24} {count:>12,}")
    print(f"generated at scale {result.scale} in {result.seconds:.0f} s")


if __name__ == "__main__":
    main()
