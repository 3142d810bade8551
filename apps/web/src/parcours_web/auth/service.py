"""Login, throttling, sessions and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import msgspec
from sqlalchemy import bindparam, delete, select

from parcours_web.auth.passwords import verify_password
from parcours_web.auth.principal import Principal
from parcours_web.auth.tables import ApiToken, AppUser, LoginThrottle, WebSession
from shared_core.actors import Actor
from shared_core.db import Database, utcnow
from shared_core.errors import NotFound
from shared_core.ids import new_id
from shared_core.services import audit
from shared_core.text import fold

ACCOUNT_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
BASE_DELAY_SECONDS = 15
MAX_DELAY_SECONDS = 15 * 60
FAILURE_MEMORY = dt.timedelta(hours=1)
LAST_SEEN_RESOLUTION = dt.timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LoginOutcome(msgspec.Struct, frozen=True):
    session_token: str | None = None
    principal: Principal | None = None
    retry_after_seconds: int = 0


def _principal(user: AppUser, auth: str, csrf_token: str | None = None, session_hash: str | None = None) -> Principal:
    return Principal(user.id, user.email, user.display_name, user.role, user.organisation_id, auth,
                     csrf_token, session_hash, user.locale)


def _throttle_keys(email: str, address: str | None) -> list[tuple[str, int]]:
    keys = [("acct:" + fold(email), ACCOUNT_FREE_FAILURES)]
    if address:
        keys.append(("addr:" + address, ADDRESS_FREE_FAILURES))
    return keys


def _retry_after(rows: list[LoginThrottle], now: dt.datetime) -> int:
    waits = [(row.blocked_until - now).total_seconds() for row in rows if row.blocked_until and row.blocked_until > now]
    return int(max(waits)) + 1 if waits else 0


def login(database: Database, email: str, password: str, address: str | None, absolute_hours: int) -> LoginOutcome:
    """Check the password; on success open a fresh session (a new id: rotation at login).

    The answer never says whether the account exists: unknown accounts are hashed against a dummy
    hash and throttled exactly like real ones.
    """
    now = utcnow()
    keys = _throttle_keys(email, address)
    with database.write() as session:
        throttles = [session.get(LoginThrottle, key) for key, _ in keys]
        wait = _retry_after([t for t in throttles if t is not None], now)
        if wait:
            audit.record(session, Actor(id="anonymous", role="anonymous", address=address), "login_throttled",
                         "session", None, detail=f"account key {keys[0][0][:80]}")
            return LoginOutcome(retry_after_seconds=wait)
        user = session.scalar(select(AppUser).where(AppUser.email == email.strip().lower()))
        valid = verify_password(user.password_hash if user else None, password)
        if not valid or user is None or not user.active:
            for (key, free), existing in zip(keys, throttles, strict=True):
                row = existing or LoginThrottle(key=key, failures=0, last_failure_at=now)
                if existing is None:
                    session.add(row)
                if now - row.last_failure_at > FAILURE_MEMORY:
                    row.failures = 0
                row.failures += 1
                row.last_failure_at = now
                if row.failures >= free:
                    delay = min(BASE_DELAY_SECONDS * 2 ** (row.failures - free), MAX_DELAY_SECONDS)
                    row.blocked_until = now + dt.timedelta(seconds=delay)
            audit.record(session, Actor(id=user.id if user else "anonymous", role=user.role if user else "anonymous",
                                        address=address), "login_failed", "session", None)
            return LoginOutcome()
        account_throttle = throttles[0]
        if account_throttle is not None:
            session.delete(account_throttle)
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        web_session = WebSession(id_hash=token_hash(token), user_id=user.id, csrf_token=csrf, created_at=now,
                                 last_seen_at=now, expires_at=now + dt.timedelta(hours=absolute_hours),
                                 address=address)
        session.add(web_session)
        # Expired sessions are purged here: logins are frequent enough and this keeps the table small.
        session.execute(delete(WebSession).where(WebSession.expires_at < now - dt.timedelta(days=1)))
        audit.record(session, Actor(id=user.id, role=user.role, organisation_id=user.organisation_id,
                                    address=address), "login", "session", None)
        return LoginOutcome(session_token=token, principal=_principal(user, "session", csrf, web_session.id_hash))


# Core, not entities: the ORM costs about five times the query itself here, and this runs before every request.
_SESSION_LOOKUP = (
    select(WebSession.revoked_at, WebSession.expires_at, WebSession.last_seen_at, WebSession.csrf_token,
           AppUser.id, AppUser.email, AppUser.display_name, AppUser.role, AppUser.organisation_id, AppUser.locale,
           AppUser.active)
    .join(AppUser, AppUser.id == WebSession.user_id)
    .where(WebSession.id_hash == bindparam("hashed"))
)


def read_session(database: Database, token: str, idle_minutes: int) -> tuple[Principal | None, bool]:
    """The session's principal (None when unknown, revoked or timed out) and whether last_seen is stale."""
    now = utcnow()
    hashed = token_hash(token)
    with database.read_rows() as connection:
        found = connection.execute(_SESSION_LOOKUP, {"hashed": hashed}).first()
    if found is None:
        return None, False
    (revoked_at, expires_at, last_seen_at, csrf_token,
     user_id, email, display_name, role, organisation_id, locale, active) = found
    if revoked_at is not None or expires_at <= now or not active:
        return None, False
    if now - last_seen_at > dt.timedelta(minutes=idle_minutes):
        return None, False
    principal = Principal(user_id, email, display_name, role, organisation_id, "session", csrf_token, hashed, locale)
    return principal, now - last_seen_at > LAST_SEEN_RESOLUTION


def touch_session(database: Database, token: str) -> None:
    """Move the idle clock on: its own short write, never held open across the request (SQLite lock trap)."""
    with database.write() as session:
        fresh = session.get(WebSession, token_hash(token))
        if fresh is not None:
            fresh.last_seen_at = utcnow()


def logout(database: Database, principal: Principal, address: str | None) -> None:
    with database.write() as session:
        row = session.get(WebSession, principal.session_hash) if principal.session_hash else None
        if row is not None and row.revoked_at is None:
            row.revoked_at = utcnow()
        audit.record(session, principal.actor(address), "logout", "session", None)


def issue_token(database: Database, email: str, ttl_days: int | None) -> str:
    now = utcnow()
    token = "prc_" + secrets.token_urlsafe(32)
    with database.write() as session:
        user = session.scalar(select(AppUser).where(AppUser.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"No user with e-mail {email}.")
        session.add(ApiToken(id=new_id("T"), user_id=user.id, token_hash=token_hash(token), created_at=now,
                             expires_at=now + dt.timedelta(days=ttl_days) if ttl_days else None))
        audit.record(session, Actor(id="cli", role="admin"), "create", "api_token", None,
                     detail=f"for user {user.id}")
    return token


def resolve_token(database: Database, token: str) -> Principal | None:
    now = utcnow()
    with database.read() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        if row is None or row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
            return None
        user = session.get(AppUser, row.user_id)
        if user is None or not user.active:
            return None
        stale = row.last_used_at is None or now - row.last_used_at > LAST_SEEN_RESOLUTION
        principal = _principal(user, "token")
        token_id = row.id
    if stale:
        with database.write() as session:
            fresh = session.get(ApiToken, token_id)
            if fresh is not None:
                fresh.last_used_at = now
    return principal
