"""`parcours backup FILE` / `parcours restore FILE`: consistent online backup, all-or-nothing restore.

One portable format for SQLite and PostgreSQL (so a backup of the embedded database can be restored
into PostgreSQL and back): gzip-compressed JSON lines.

* line 1, the header: format, version, schema revision, creation time, tables in insertion order;
* for each table, a ``{"table": ..., "columns": [...]}`` line then one JSON array per row;
* last line, the trailer: row count and digest of every table. A file without its trailer (or with a
  truncated gzip stream) is incomplete and is refused before the database is touched.

Consistency: every table is read in one transaction (a WAL snapshot on SQLite, REPEATABLE READ on
PostgreSQL) while the application keeps serving. The file is written under ``FILE.partial`` and
renamed only once complete and synced, so a killed backup never leaves a file under the final name.

The digest of a table is the sum modulo 2**256 of the SHA-256 of each row's canonical line: it does
not depend on row order, which differs between backends' collations, so a restore is verified by
recomputing it from the restored rows inside the restore transaction.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Connection, MetaData, Table, column, func, insert, select, table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import TableClause
from sqlalchemy.types import NullType, TypeDecorator, TypeEngine

from parcours_web.migrate import current_revision, ensure_database_exists, head_revision, revisions_up_to, upgrade
from parcours_web.models import metadata as application_metadata
from shared_core.db import Database

FORMAT = "parcours-backup"
FORMAT_VERSION = 1
INSERT_BATCH = 1000
DIGEST_MODULUS = 2**256


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in words an administrator acts on."""


class TableSummary(msgspec.Struct, frozen=True):
    rows: int
    digest: str


class BackupSummary(msgspec.Struct, frozen=True):
    revision: str
    tables: dict[str, TableSummary]

    @property
    def total_rows(self) -> int:
        return sum(summary.rows for summary in self.tables.values())


def _encode_value(value: object) -> object:
    if isinstance(value, dt.datetime):
        return (value.astimezone(dt.UTC) if value.tzinfo else value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot back up a value of type {type(value).__name__}")


def _canonical(values: Sequence[object]) -> str:
    return json.dumps(list(values), default=_encode_value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class _Digest:
    def __init__(self) -> None:
        self.rows = 0
        self._sum = 0

    def add(self, line: str) -> None:
        self.rows += 1
        self._sum = (self._sum + int.from_bytes(hashlib.sha256(line.encode("utf-8")).digest(), "big")) % DIGEST_MODULUS

    def summary(self) -> TableSummary:
        return TableSummary(self.rows, f"{self._sum:064x}")


def _tables(schema: MetaData) -> list[Table]:
    return list(schema.sorted_tables)  # parents before children: inserting in this order satisfies the keys


# --- backup ---------------------------------------------------------------------------------------

def _snapshot(connection: Connection, database: Database) -> None:
    if database.is_sqlite:
        connection.exec_driver_sql("SELECT 1 FROM sqlite_master LIMIT 1")  # the WAL snapshot starts at the first read
    else:
        connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def write_backup(database: Database, destination: Path, *, schema: MetaData = application_metadata,
                 now: dt.datetime | None = None) -> BackupSummary:
    """Write a consistent copy of every table to ``destination`` (replaced only once complete)."""
    partial = destination.with_name(destination.name + ".partial")
    revision = current_revision(database)
    if revision is None:
        raise BackupError("the database has no schema yet: nothing to back up (run `parcours db upgrade`)")
    tables = _tables(schema)
    summaries: dict[str, TableSummary] = {}
    created = (now or dt.datetime.now(dt.UTC)).isoformat()
    with database.engine.connect() as connection, connection.begin():
        _snapshot(connection, database)
        stored_revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        with gzip.open(partial, "wt", encoding="utf-8", newline="\n") as out:
            header = {"format": FORMAT, "version": FORMAT_VERSION, "revision": stored_revision,
                      "created_at": created, "tables": [t.name for t in tables]}
            out.write(json.dumps(header) + "\n")
            for current in tables:
                columns = [c.name for c in current.columns]
                out.write(json.dumps({"table": current.name, "columns": columns}) + "\n")
                digest = _Digest()
                result = connection.execution_options(stream_results=True, yield_per=INSERT_BATCH).execute(
                    select(*[current.c[name] for name in columns]))
                for row in result:
                    line = _canonical(row)
                    digest.add(line)
                    out.write(line + "\n")
                summaries[current.name] = digest.summary()
            out.write(json.dumps({"end": True, "tables": {name: msgspec.to_builtins(summary)
                                                          for name, summary in summaries.items()}}) + "\n")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, destination)
    _sync_directory(destination.parent)
    return BackupSummary(stored_revision, summaries)


def _sync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- reading a backup file -----------------------------------------------------------------------

class _Section(msgspec.Struct):
    name: str
    columns: list[str]


def _lines(path: Path) -> Iterator[str]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            yield from handle
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file") from None
    except (EOFError, gzip.BadGzipFile, OSError, UnicodeDecodeError) as error:
        raise BackupError(f"{path}: not a complete Parcours backup ({error})") from None


def _header(line: str, path: Path) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"{path}: not a Parcours backup file")
    if header.get("version") != FORMAT_VERSION:
        raise BackupError(f"{path}: backup format version {header.get('version')} is not supported")
    return header


def _records(path: Path) -> Iterator[tuple[_Section, list[Any]] | dict[str, Any]]:
    """Rows as (section, values), then the trailer; raises when the file is cut short or malformed."""
    section: _Section | None = None
    trailer: dict[str, Any] | None = None
    for number, line in enumerate(_lines(path), start=1):
        if number == 1:
            continue
        if trailer is not None:
            raise BackupError(f"{path}, line {number}: data after the end marker")
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise BackupError(f"{path}, line {number}: malformed line") from None
        if isinstance(item, list):
            if section is None or len(item) != len(section.columns):
                raise BackupError(f"{path}, line {number}: row outside a table or with the wrong number of values")
            yield section, item
        elif isinstance(item, dict) and "table" in item:
            section = _Section(str(item["table"]), [str(name) for name in item["columns"]])
        elif isinstance(item, dict) and item.get("end") is True:
            trailer = item
        else:
            raise BackupError(f"{path}, line {number}: unexpected line")
    if trailer is None:
        raise BackupError(f"{path}: incomplete backup (no end marker): it was interrupted and cannot be restored")
    yield trailer


def verify_backup(path: Path) -> tuple[dict[str, Any], BackupSummary]:
    """Read the whole file and check every table's count and digest against its trailer."""
    header = _header(next(iter(_lines(path)), ""), path)
    digests: dict[str, _Digest] = {name: _Digest() for name in header["tables"]}
    expected: dict[str, Any] = {}
    for record in _records(path):
        if isinstance(record, dict):
            expected = record["tables"]
            continue
        section, values = record
        if section.name not in digests:
            raise BackupError(f"{path}: table {section.name} is not listed in the header")
        digests[section.name].add(_canonical(values))
    found = {name: digest.summary() for name, digest in digests.items()}
    for name, summary in found.items():
        if msgspec.convert(expected.get(name), TableSummary | None) != summary:
            raise BackupError(f"{path}: table {name} does not match its checksum: the file is damaged")
    return header, BackupSummary(str(header["revision"]), found)


# --- restore --------------------------------------------------------------------------------------

def _column_type(schema: MetaData, table_name: str, column_name: str) -> TypeEngine[Any]:
    """The model's type when this version knows the column (JSON, UTC datetimes...), else an untyped one."""
    known = schema.tables.get(table_name)
    if known is None or column_name not in known.c:
        return NullType()
    return known.c[column_name].type


def _python_type(column_type: TypeEngine[Any]) -> type | None:
    base = column_type.impl_instance if isinstance(column_type, TypeDecorator) else column_type
    try:
        python_type: type = base.python_type
    except NotImplementedError:
        return None
    return python_type


def _target(schema: MetaData, section: _Section) -> TableClause:
    return table(section.name, *[column(name, _column_type(schema, section.name, name)) for name in section.columns])


def _decoder(schema: MetaData, section: _Section) -> list[Any]:
    decoders: list[Any] = []
    for name in section.columns:
        python_type = _python_type(_column_type(schema, section.name, name))
        if python_type is dt.datetime:
            decoders.append(lambda v: None if v is None else dt.datetime.fromisoformat(v))
        elif python_type is dt.date:
            decoders.append(lambda v: None if v is None else dt.date.fromisoformat(v))
        elif python_type is Decimal:
            decoders.append(lambda v: None if v is None else Decimal(v))
        else:
            decoders.append(None)
    return decoders


def _table_digest(connection: Connection, schema: MetaData, name: str, columns: list[str]) -> TableSummary:
    known = schema.tables[name]
    digest = _Digest()
    result = connection.execution_options(yield_per=INSERT_BATCH).execute(select(*[known.c[c] for c in columns]))
    for row in result:
        digest.add(_canonical(row))
    return digest.summary()


def database_summary(database: Database, *, schema: MetaData = application_metadata) -> dict[str, TableSummary]:
    """Row count and digest of every table of a live database, as a backup of it would record them."""
    with database.engine.connect() as connection, connection.begin():
        _snapshot(connection, database)
        return {t.name: _table_digest(connection, schema, t.name, [c.name for c in t.columns]) for t in _tables(schema)}


def _reset_sequences(connection: Connection, schema: MetaData, names: Sequence[str]) -> None:
    """PostgreSQL: serial counters continue after the restored ids, so the next insert does not collide."""
    for name in names:
        known = schema.tables.get(name)
        if known is None:
            continue
        for key in known.primary_key.columns:
            if _python_type(key.type) is not int:
                continue
            sequence = connection.execute(select(func.pg_get_serial_sequence(name, key.name))).scalar()
            if sequence:
                next_value = select(func.coalesce(func.max(key), 0) + 1).scalar_subquery()
                connection.execute(select(func.setval(sequence, next_value, False)))


def restore_backup(database: Database, source: Path, *, schema: MetaData = application_metadata) -> BackupSummary:
    """Restore ``source`` into an empty database, in one transaction: everything or nothing.

    The file is verified completely first; the schema is brought to the backup's revision, rows are
    inserted, the digests recomputed from the database must match, then the transaction commits and
    later migrations (if the backup is older than this version of Parcours) are applied.
    """
    header, summary = verify_backup(source)
    revision = str(header["revision"])
    ensure_database_exists(database.url)
    current = current_revision(database)
    if current is not None and current not in revisions_up_to(revision):
        raise BackupError(f"the target database is at schema revision {current}, later than the backup's "
                          f"({revision}): restore into a new, empty database")
    upgrade(database, revision)
    names = list(header["tables"])
    with database.engine.connect().execution_options(parcours_write=True) as connection, connection.begin():
        not_empty = [name for name in names
                     if connection.execute(select(func.count()).select_from(table(name))).scalar_one()]
        if not_empty:
            raise BackupError("the target database is not empty (" + ", ".join(not_empty[:5]) + "): "
                              "restore into a new, empty database")
        batch: list[dict[str, Any]] = []
        section: _Section | None = None
        decoders: list[Any] = []
        target: Any = None
        sections: dict[str, list[str]] = {}
        for record in _records(source):
            if isinstance(record, dict):
                break
            current_section, values = record
            if current_section is not section:
                if batch:
                    connection.execute(insert(target), batch)
                    batch = []
                section = current_section
                sections[section.name] = section.columns
                decoders = _decoder(schema, section)
                target = _target(schema, section)
            batch.append({name: (decode(value) if decode and value is not None else value)
                          for name, decode, value in zip(section.columns, decoders, values, strict=True)})
            if len(batch) >= INSERT_BATCH:
                connection.execute(insert(target), batch)
                batch = []
        if batch:
            connection.execute(insert(target), batch)
        if not database.is_sqlite:
            _reset_sequences(connection, schema, names)
        for name, columns in sections.items():
            if name in schema.tables and _table_digest(connection, schema, name, columns) != summary.tables[name]:
                raise BackupError(f"table {name} does not read back as backed up: restore cancelled, nothing written")
    if revision != head_revision():
        upgrade(database)
    return summary


def restore_error_message(error: Exception) -> str:
    if isinstance(error, DBAPIError):
        return f"restore cancelled, nothing written: {error.orig}"
    return str(error)
