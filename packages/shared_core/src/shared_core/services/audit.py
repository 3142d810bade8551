"""Writing and reading the audit trail."""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec
from sqlalchemy import event, func, insert, select
from sqlalchemy.orm import Session

from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.group_commit import GroupCommit
from shared_core.tables import AuditEvent

# Where audited_read() collects the rows of its session (Session.info key).
_READ_TRAIL = "parcours_audit_read_trail"
_INSERT_EVENT = insert(AuditEvent)


def record(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | None = None,
    *,
    patient_id: str | None = None,
    detail: str | None = None,
) -> None:
    """Add one audit row inside the caller's transaction, so the trail and the change commit together.

    In an :func:`audited_read` session the row is committed by group commit when the read ends,
    before the caller gets its result.
    """
    values: dict[str, Any] = {
        "at": utcnow(), "actor_id": actor.id, "actor_role": actor.role, "action": action,
        "object_type": object_type, "object_id": object_id, "patient_id": patient_id,
        "address": actor.address, "detail": detail[:500] if detail else None,
    }
    trail: list[dict[str, Any]] | None = session.info.get(_READ_TRAIL)
    if trail is not None:
        trail.append(values)
    else:
        # Straight onto the transaction's connection: a unit-of-work object per row cost a write about a
        # fifth of its time, and nothing reads an audit row back in the transaction that writes it.
        session.connection().execute(_INSERT_EVENT, values)


@contextmanager
def audited_read(database: Database) -> Iterator[Session]:
    """A read transaction whose audit rows are committed when it ends, before the caller goes on.

    Why not a write transaction: on SQLite that would queue every page view behind the one writer
    and pay one fsync per view. Here reads run side by side and the rows of concurrent readers
    share one commit (:class:`GroupCommit`). A failed audit write raises, so nothing read is
    shown without its trail. The session refuses to write anything else.
    """
    trail: list[dict[str, Any]] = []
    with database.read() as session:
        session.info[_READ_TRAIL] = trail
        event.listen(session, "before_flush", _refuse_writes)
        yield session
    if trail:
        _read_trail_writer(database).submit(trail)


def _refuse_writes(session: Session, _context: object, _instances: object) -> None:
    raise RuntimeError("an audited read must not write: use database.write() for this service")


_writers: weakref.WeakKeyDictionary[Database, GroupCommit[dict[str, Any]]] = weakref.WeakKeyDictionary()
_writers_lock = threading.Lock()


def _read_trail_writer(database: Database) -> GroupCommit[dict[str, Any]]:
    with _writers_lock:
        writer = _writers.get(database)
        if writer is None:
            database_ref = weakref.ref(database)

            def write_batch(rows: list[dict[str, Any]]) -> None:
                owner = database_ref()
                if owner is None:
                    raise RuntimeError("the database was disposed before its audit rows were written")
                with owner.write_rows() as connection:
                    connection.execute(insert(AuditEvent), rows)

            writer = _writers[database] = GroupCommit(write_batch)
        return writer


def record_now(database: Database, actor: Actor, action: str, object_type: str, object_id: str | None = None,
               *, patient_id: str | None = None, detail: str | None = None) -> None:
    """Audit an event that has no transaction of its own (a login, a refused access)."""
    with database.write() as session:
        record(session, actor, action, object_type, object_id, patient_id=patient_id, detail=detail)


class AuditFilter(msgspec.Struct, frozen=True):
    patient_id: str | None = None
    actor_id: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None


class AuditRow(msgspec.Struct, frozen=True):
    id: int
    at: dt.datetime
    actor_id: str
    actor_role: str
    action: str
    object_type: str
    object_id: str | None
    patient_id: str | None
    address: str | None
    detail: str | None


class AuditPage(msgspec.Struct, frozen=True):
    rows: list[AuditRow]
    total: int
    page: int
    page_size: int


def search_audit(database: Database, actor: Actor, filters: AuditFilter, page: int, page_size: int = 50) -> AuditPage:
    """Newest first. Reading the trail is itself audited: who looked at whose history matters too."""
    conditions = []
    if filters.patient_id:
        conditions.append(AuditEvent.patient_id == filters.patient_id)
    if filters.actor_id:
        conditions.append(AuditEvent.actor_id == filters.actor_id)
    if filters.date_from:
        conditions.append(AuditEvent.at >= dt.datetime.combine(filters.date_from, dt.time(), dt.UTC))
    if filters.date_to:
        end = dt.datetime.combine(filters.date_to + dt.timedelta(days=1), dt.time(), dt.UTC)
        conditions.append(AuditEvent.at < end)
    page = max(page, 1)
    with database.write() as session:
        total = session.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
        events = session.scalars(
            select(AuditEvent).where(*conditions).order_by(AuditEvent.id.desc())
            .limit(page_size).offset((page - 1) * page_size)
        ).all()
        rows = [
            AuditRow(e.id, e.at, e.actor_id, e.actor_role, e.action, e.object_type, e.object_id,
                     e.patient_id, e.address, e.detail)
            for e in events
        ]
        record(session, actor, "read", "audit_trail", None, patient_id=filters.patient_id,
               detail=f"filters: patient={filters.patient_id or '-'} user={filters.actor_id or '-'}")
    return AuditPage(rows=rows, total=total, page=page, page_size=page_size)
