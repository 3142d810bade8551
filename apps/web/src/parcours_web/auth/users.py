"""User administration: accounts, roles, activation, passwords."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

import msgspec
from sqlalchemy import select, update

from parcours_web.auth.passwords import hash_password, password_problem
from parcours_web.auth.roles import COORDINATOR, ROLES
from parcours_web.auth.tables import ApiToken, AppUser, WebSession
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import Conflict, FieldError, NotFound, ValidationFailed
from shared_core.ids import new_id
from shared_core.services import audit
from shared_core.tables import Organisation

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserView(msgspec.Struct, frozen=True):
    id: str
    email: str
    display_name: str
    role: str
    organisation_id: str | None
    organisation_name: str | None
    active: bool
    version: int
    created_at: dt.datetime


class OrganisationChoice(msgspec.Struct, frozen=True):
    id: str
    name: str
    kind: str


class UserInput(msgspec.Struct, frozen=True):
    email: str
    display_name: str
    role: str
    organisation_id: str | None
    active: bool
    password: str | None


def parse_user_input(raw: Mapping[str, str | None], *, creating: bool) -> UserInput:
    errors: list[FieldError] = []
    email = (raw.get("email") or "").strip().lower()
    if not email or len(email) > 254 or not _EMAIL.match(email):
        errors.append(FieldError("email", "A valid e-mail address is required."))
    display_name = (raw.get("display_name") or "").strip()
    if not display_name or len(display_name) > 200:
        errors.append(FieldError("display_name", "A name of 1 to 200 characters is required."))
    role = (raw.get("role") or "").strip()
    if role not in ROLES:
        errors.append(FieldError("role", "Choose one of the roles."))
    organisation_id = (raw.get("organisation_id") or "").strip() or None
    if role == COORDINATOR and organisation_id is None:
        errors.append(FieldError("organisation_id", "A coordinator must be attached to their structure."))
    password = raw.get("password") or None
    if creating and password is None:
        errors.append(FieldError("password", "A password is required."))
    if password is not None and (problem := password_problem(password)):
        errors.append(FieldError("password", problem))
    active = (raw.get("active") or "") in ("on", "true", "1") if not creating else True
    if errors:
        raise ValidationFailed(errors)
    return UserInput(email, display_name, role, organisation_id, active, password)


def _view(user: AppUser, organisation: Organisation | None) -> UserView:
    return UserView(user.id, user.email, user.display_name, user.role, user.organisation_id,
                    organisation.name if organisation else None, user.active, user.version, user.created_at)


def create_user(database: Database, actor: Actor, data: UserInput) -> UserView:
    with database.write() as session:
        if session.scalar(select(AppUser.id).where(AppUser.email == data.email)):
            raise ValidationFailed([FieldError("email", "A user with this e-mail already exists.")])
        organisation = session.get(Organisation, data.organisation_id) if data.organisation_id else None
        if data.organisation_id and organisation is None:
            raise ValidationFailed([FieldError("organisation_id", "Unknown organisation.")])
        assert data.password is not None
        user = AppUser(id=new_id("U"), email=data.email, display_name=data.display_name, role=data.role,
                       organisation_id=data.organisation_id, password_hash=hash_password(data.password),
                       active=True, created_at=utcnow(), password_changed_at=utcnow())
        session.add(user)
        session.flush()
        audit.record(session, actor, "create", "user", user.id, detail=f"role {data.role}")
        return _view(user, organisation)


def update_user(database: Database, actor: Actor, user_id: str, expected_version: int, data: UserInput) -> UserView:
    with database.write() as session:
        user = session.get(AppUser, user_id)
        if user is None:
            raise NotFound("User not found.")
        if user.version != expected_version:
            raise Conflict("This account was changed by someone else while you were editing. Reload and try again.")
        if user.id == actor.id and (data.role != user.role or not data.active):
            raise ValidationFailed([FieldError("role", "You cannot change your own role or deactivate yourself.")])
        clash = session.scalar(select(AppUser.id).where(AppUser.email == data.email, AppUser.id != user_id))
        if clash:
            raise ValidationFailed([FieldError("email", "A user with this e-mail already exists.")])
        organisation = session.get(Organisation, data.organisation_id) if data.organisation_id else None
        if data.organisation_id and organisation is None:
            raise ValidationFailed([FieldError("organisation_id", "Unknown organisation.")])
        access_changed = data.role != user.role or data.organisation_id != user.organisation_id or not data.active
        user.email, user.display_name, user.role = data.email, data.display_name, data.role
        user.organisation_id, user.active = data.organisation_id, data.active
        if data.password:
            user.password_hash = hash_password(data.password)
            user.password_changed_at = utcnow()
        if access_changed or data.password:
            # A changed role, structure or password must not survive in sessions opened before.
            now = utcnow()
            session.execute(update(WebSession).where(WebSession.user_id == user.id, WebSession.revoked_at.is_(None))
                            .values(revoked_at=now))
            if not data.active:
                session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                                .values(revoked_at=now))
        session.flush()
        audit.record(session, actor, "update", "user", user.id,
                     detail=f"role {user.role}, active {user.active}" + (", password reset" if data.password else ""))
        return _view(user, organisation)


def list_users(database: Database) -> list[UserView]:
    with database.read() as session:
        rows = session.execute(
            select(AppUser, Organisation).outerjoin(Organisation, Organisation.id == AppUser.organisation_id)
            .order_by(AppUser.role, AppUser.display_name)
        ).all()
        return [_view(user, organisation) for user, organisation in rows]


def get_user(database: Database, user_id: str) -> UserView:
    with database.read() as session:
        user = session.get(AppUser, user_id)
        if user is None:
            raise NotFound("User not found.")
        organisation = session.get(Organisation, user.organisation_id) if user.organisation_id else None
        return _view(user, organisation)


def organisation_choices(database: Database) -> list[OrganisationChoice]:
    with database.read() as session:
        rows = session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)).all()
        return [OrganisationChoice(o.id, o.name, o.kind) for o in rows]


def set_locale(database: Database, user_id: str, locale: str) -> None:
    with database.write() as session:
        user = session.get(AppUser, user_id)
        if user is not None:
            user.locale = locale
