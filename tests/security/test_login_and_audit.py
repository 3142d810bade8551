"""Login throttling and user enumeration, and the audit trail as the application writes it.

quality.md, Security: "login throttling per account and per address with growing delay, no user
enumeration" and "append-only rows for every read of a patient record [...] a test proves rows cannot
be updated or deleted through the application".

Already proven elsewhere, not repeated here: ``apps/web/tests/test_auth.py`` (5 failures lock an
account, known or not, with 429 and Retry-After; 20 failures from one address lock every account from
it; the account delay doubles; an unknown account and a wrong password give the same page) and
``apps/web/tests/test_security_http.py`` (the database refuses UPDATE and DELETE of audit rows, raw SQL
and ORM). This module adds what those leave open:

- the address delay grows too; spelling variants of an e-mail share one account counter; a forged
  X-Forwarded-For does not buy a fresh address;
- an unknown account costs the same argon2 verification as a known one (counted, not timed), with a
  dummy hash of the same parameters, and an inactive account answers like an unknown one;
- no code path of the application rewrites audit rows: the source has no UPDATE/DELETE of the table,
  and walking every route, as every role, over a database whose guard triggers are dropped leaves
  every earlier row untouched;
- each page that reads one patient's record leaves exactly one audit row, naming the reader and the
  patient.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from demo_databases import seeded_database
from litestar import Litestar
from litestar.testing import TestClient
from route_index import Endpoint, endpoints, paths
from sqlalchemy import delete, func, select, text, update

from parcours_web.app import create_app
from parcours_web.auth import passwords
from parcours_web.auth.service import ADDRESS_FREE_FAILURES
from parcours_web.auth.tables import AppUser, LoginThrottle
from parcours_web.demo import DEMO_PASSWORD
from parcours_web.settings import Settings
from shared_core.db import Database
from shared_core.tables import AuditEvent

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
TOKEN_VALUE = re.compile(r'value="[A-Za-z0-9_\-]{20,}"')
KNOWN = "infirmier@demo.parcours.fr"
UNKNOWN = "personne@demo.parcours.fr"
INACTIVE = "observateur.dep@demo.parcours.fr"
ARGON2_PARAMETERS = re.compile(r"^\$argon2id\$v=\d+\$(m=\d+,t=\d+,p=\d+)\$")
ROLES = ("psychiatrist", "operator", "referrer", "coordinator", "observer", "admin")
ACCOUNTS = {
    "psychiatrist": "psychiatre@demo.parcours.fr",
    "operator": "infirmier@demo.parcours.fr",
    "referrer": "adresseur@demo.parcours.fr",
    "coordinator": "coordinateur@demo.parcours.fr",
    "observer": "observateur@demo.parcours.fr",
    "admin": "admin@demo.parcours.fr",
}
# Path parameters that name one patient's object -> the patient it belongs to.
PATIENT_OF: dict[str, str] = {
    "patient_id": "SELECT :value",
    "referral_id": "SELECT patient_id FROM referral WHERE id = :value",
    "prescription_id": "SELECT patient_id FROM sport_prescription WHERE id = :value",
}
WRITES_ON_OPENING = frozenset({"transition"})
MAX_TRIES = 300  # identifiers tried per route and role before concluding the role cannot open any


# --------------------------------------------------------------------------- helpers


def _csrf(client: TestClient[Litestar], path: str = "/login") -> str:
    match = CSRF_INPUT.search(client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _attempt(client: TestClient[Litestar], email: str, password: str, **headers: str) -> Any:
    return client.post("/login", data={"email": email, "password": password, "_csrf_token": _csrf(client)},
                       headers=headers, follow_redirects=False)


def _log_in(app: Litestar, email: str) -> TestClient[Litestar]:
    client = TestClient(app)
    client.__enter__()
    response = _attempt(client, email, DEMO_PASSWORD)
    assert response.status_code == 303, response.text[:300]
    return client


def _throttle(database: Database, key: str) -> LoginThrottle:
    with database.read() as session:
        row = session.get(LoginThrottle, key)
        assert row is not None, f"no throttle row {key}"
        session.expunge(row)
        return row


def _expire_blocks(database: Database) -> None:
    """As if the wait had passed (the failures are still remembered)."""
    with database.write() as session:
        session.execute(update(LoginThrottle).values(blocked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))


@pytest.fixture
def no_throttles(demo_database: Database) -> Iterator[Database]:
    """Each login test starts and ends with no failure remembered: the test client has one address."""
    with demo_database.write() as session:
        session.execute(delete(LoginThrottle))
    yield demo_database
    with demo_database.write() as session:
        session.execute(delete(LoginThrottle))


# --------------------------------------------------------------------------- throttling


def test_the_address_delay_grows_with_repeated_failures(demo_app: Litestar, no_throttles: Database) -> None:
    with TestClient(demo_app) as client:
        for index in range(ADDRESS_FREE_FAILURES):
            assert _attempt(client, f"spray{index}@example.org", "mauvais mot de passe").status_code == 401
        refused = _attempt(client, KNOWN, DEMO_PASSWORD)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
        address_key = next(key for key in _keys(no_throttles) if key.startswith("addr:"))
        first = _throttle(no_throttles, address_key)
        assert first.blocked_until is not None
        _expire_blocks(no_throttles)
        assert _attempt(client, "spray-again@example.org", "mauvais mot de passe").status_code == 401
        second = _throttle(no_throttles, address_key)
        assert second.blocked_until is not None
        assert second.blocked_until - second.last_failure_at > first.blocked_until - first.last_failure_at
        assert _attempt(client, KNOWN, DEMO_PASSWORD).status_code == 429


def _keys(database: Database) -> list[str]:
    with database.read() as session:
        return list(session.scalars(select(LoginThrottle.key)).all())


def test_spelling_variants_of_an_e_mail_count_against_one_account(demo_app: Litestar,
                                                                   no_throttles: Database) -> None:
    """Case and surrounding spaces reach the same account, so they must not get fresh counters."""
    variants = [KNOWN.upper(), f"  {KNOWN}", KNOWN.title(), f"{KNOWN}  ", KNOWN.capitalize()]
    with TestClient(demo_app) as client:
        for variant in variants:
            assert _attempt(client, variant, "mauvais mot de passe").status_code == 401
        assert _attempt(client, KNOWN, DEMO_PASSWORD).status_code == 429
    assert [key for key in _keys(no_throttles) if key.startswith("acct:")] == [f"acct:{KNOWN}"]


def test_a_forged_forwarded_for_header_does_not_give_a_fresh_address(demo_app: Litestar,
                                                                      no_throttles: Database) -> None:
    with TestClient(demo_app) as client:
        for index in range(ADDRESS_FREE_FAILURES):
            response = _attempt(client, f"spray{index}@example.org", "mauvais mot de passe",
                                **{"X-Forwarded-For": f"198.51.100.{index}", "X-Real-IP": f"203.0.113.{index}"})
            assert response.status_code == 401
        assert _attempt(client, KNOWN, DEMO_PASSWORD, **{"X-Forwarded-For": "192.0.2.99"}).status_code == 429
    assert len([key for key in _keys(no_throttles) if key.startswith("addr:")]) == 1


# --------------------------------------------------------------------------- no user enumeration


class CountingHasher:
    """The real argon2 hasher, recording which hash each verification ran against."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.verified: list[str] = []

    def verify(self, hashed: str, password: str) -> Any:
        self.verified.append(hashed)
        return self.real.verify(hashed, password)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher(passwords._HASHER)
    monkeypatch.setattr(passwords, "_HASHER", counting)
    return counting


@pytest.fixture
def inactive_account(demo_database: Database) -> Iterator[str]:
    with demo_database.write() as session:
        session.execute(update(AppUser).where(AppUser.email == INACTIVE).values(active=False))
    yield INACTIVE
    with demo_database.write() as session:
        session.execute(update(AppUser).where(AppUser.email == INACTIVE).values(active=True))


def _stored_hash(database: Database, email: str) -> str:
    with database.read() as session:
        hashed = session.scalar(select(AppUser.password_hash).where(AppUser.email == email))
    assert hashed
    return hashed


def _page(response: Any, email: str) -> str:
    """The page without what legitimately differs: the CSRF token and the address typed back."""
    return TOKEN_VALUE.sub("", response.text.replace(email, "<email>"))


def test_unknown_inactive_and_known_accounts_cost_one_argon2_verification_each(
        demo_app: Litestar, no_throttles: Database, hasher: CountingHasher, inactive_account: str) -> None:
    known_hash = _stored_hash(no_throttles, KNOWN)
    with TestClient(demo_app) as client:
        answers = {}
        for email in (KNOWN, UNKNOWN, inactive_account):
            before = len(hasher.verified)
            answers[email] = _attempt(client, email, "mauvais mot de passe")
            assert len(hasher.verified) == before + 1, f"{email}: {len(hasher.verified) - before} verifications"
        wrong, unknown, inactive = (hasher.verified[-3], hasher.verified[-2], hasher.verified[-1])
        # The unknown account is checked against the dummy hash, made with the same cost as real ones.
        assert wrong == known_hash
        assert unknown == passwords._DUMMY_HASH != known_hash
        assert inactive == _stored_hash(no_throttles, inactive_account)
        parameters = {h: ARGON2_PARAMETERS.match(h) for h in (known_hash, unknown)}
        assert all(parameters.values()), "not argon2id hashes"
        assert len({m.group(1) for m in parameters.values() if m}) == 1, "the dummy hash is cheaper than a real one"
        # And the three answers are the same page, status and headers.
        statuses = {email: r.status_code for email, r in answers.items()}
        assert set(statuses.values()) == {401}, statuses
        pages = {_page(r, email) for email, r in answers.items()}
        assert len(pages) == 1, "the login page differs between unknown, inactive and known accounts"
        names = {tuple(sorted(k for k in r.headers if k.lower() not in ("date", "content-length")))
                 for r in answers.values()}
        assert len(names) == 1, names


def test_a_correct_password_of_an_inactive_account_answers_like_a_wrong_one(
        demo_app: Litestar, no_throttles: Database, inactive_account: str) -> None:
    with TestClient(demo_app) as client:
        right = _attempt(client, inactive_account, DEMO_PASSWORD)
        unknown = _attempt(client, UNKNOWN, DEMO_PASSWORD)
    assert right.status_code == unknown.status_code == 401
    assert _page(right, inactive_account) == _page(unknown, UNKNOWN)


# --------------------------------------------------------------------------- audit rows are never rewritten


AUDIT_WRITES = [
    re.compile(r"\b(update|delete)\(\s*AuditEvent\b"),
    re.compile(r"(?i)\b(update\s+audit_event|delete\s+from\s+audit_event|truncate\b[^\n]*audit_event)\b"),
    re.compile(r"\bquery\(\s*AuditEvent\b[^\n]*\.(update|delete)\("),
]


def test_no_application_code_updates_or_deletes_audit_rows() -> None:
    sources = [path for base in ("apps", "packages") for path in (ROOT / base).glob("*/src/**/*.py")
               if "migrations" not in path.parts]
    assert len(sources) > 50, "source discovery is broken"
    found = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in sources
             for pattern in AUDIT_WRITES for match in pattern.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


@pytest.fixture(scope="module")
def unguarded_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The demo data set with the append-only triggers dropped: a rewrite by the application would succeed
    here, so the walk below sees it instead of a refused statement."""
    with seeded_database(tmp_path_factory.mktemp("unguarded"), "unguarded") as database:
        with database.write() as session:
            if database.is_sqlite:
                session.execute(text("DROP TRIGGER audit_event_no_update"))
                session.execute(text("DROP TRIGGER audit_event_no_delete"))
            else:
                session.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
        yield database


def _audit_snapshot(database: Database) -> dict[int, tuple[Any, ...]]:
    with database.read() as session:
        return {row[0]: tuple(row) for row in session.execute(select(AuditEvent.__table__)).all()}


def test_walking_every_route_as_every_role_never_rewrites_an_audit_row(
        unguarded_database: Database, tmp_path: Path) -> None:
    settings = Settings(database_url="unused", secret_key=secrets.token_urlsafe(32), cookie_secure=False,
                        var_dir=tmp_path / "var")
    app = create_app(settings, unguarded_database)
    before = _audit_snapshot(unguarded_database)
    assert len(before) > 100, "the demo data set has no audit trail to protect"
    clients = {role: _log_in(app, email) for role, email in ACCOUNTS.items()}
    tokens = {role: _csrf(client, "/") for role, client in clients.items()}
    requests = 0
    try:
        for endpoint in endpoints(app):
            if endpoint.path in ("/logout", "/login"):  # would end the walker's own session
                continue
            for role in ROLES:
                if role not in endpoint.roles and "public" not in endpoint.roles:
                    continue
                for path in paths(endpoint, unguarded_database, limit=1):
                    client = clients[role]
                    if endpoint.method == "GET":
                        client.get(path)
                    else:
                        client.request(endpoint.method, path, data={"_csrf_token": tokens[role]},
                                       headers={"x-csrf-token": tokens[role]})
                    requests += 1
    finally:
        for client in reversed(list(clients.values())):
            client.__exit__(None, None, None)
    assert requests > 200, "route discovery is broken"
    after = _audit_snapshot(unguarded_database)
    changed = [row_id for row_id, row in before.items() if after.get(row_id) != row]
    assert changed == [], f"{len(changed)} audit rows changed or vanished, e.g. {before[changed[0]]}"
    assert len(after) > len(before), "the walk left no audit row at all"


# --------------------------------------------------------------------------- one audit row per patient read


def _patient_of(database: Database, endpoint: Endpoint, path: str) -> str | None:
    values = dict(zip(endpoint.parameters, _fill_values(endpoint, path), strict=True))
    for name, query in PATIENT_OF.items():
        if name in values:
            with database.read() as session:
                patient: str | None = session.scalar(text(query), {"value": values[name]})
            return patient
    return None


def _fill_values(endpoint: Endpoint, path: str) -> list[str]:
    pattern = re.sub(r"\\\{[a-z_]+:[a-z]+\\\}", "([^/]+)", re.escape(endpoint.path))
    match = re.fullmatch(pattern, path)
    assert match, (endpoint.path, path)
    return list(match.groups())


def _patient_pages(app: Litestar) -> list[tuple[Endpoint, str]]:
    pages = [(endpoint, role) for endpoint in endpoints(app) if endpoint.method == "GET"
             and set(endpoint.parameters) & set(PATIENT_OF) for role in ROLES if role in endpoint.roles]
    return pages


def test_every_page_reading_a_patient_leaves_exactly_one_audit_row(
        demo_app: Litestar, demo_database: Database,
        logged_in: Callable[[str], tuple[TestClient[Litestar], str]]) -> None:
    pages = _patient_pages(demo_app)
    assert len(pages) > 25, "route discovery is broken"
    problems: list[str] = []
    for endpoint, role in pages:
        client, _ = logged_in(role)
        with demo_database.read() as session:
            user_id = session.scalar(select(AppUser.id).where(AppUser.email == ACCOUNTS[role]))
        for tries, path in enumerate(paths(endpoint, demo_database)):
            if tries >= MAX_TRIES:
                break
            with demo_database.read() as session:
                last = session.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
            response = client.get(path)
            with demo_database.read() as session:
                rows = session.execute(select(AuditEvent.actor_id, AuditEvent.actor_role, AuditEvent.patient_id,
                                              AuditEvent.action).where(AuditEvent.id > last)).all()
            if response.status_code != 200:
                assert response.status_code in (403, 404), f"{role} {path}: {response.status_code}"
                continue  # not this role's object: try the next identifier
            patient = _patient_of(demo_database, endpoint, path)
            # A coordinator's first opening of a sent referral also records its receipt (a write, with its
            # own row): that one is not a read.
            reads = [(r.actor_id, r.actor_role, r.patient_id) for r in rows if r.action not in WRITES_ON_OPENING]
            if reads != [(user_id, role, patient)]:
                problems.append(f"{role} GET {path}: {[tuple(r) for r in rows]}")
            break
        else:
            problems.append(f"{role} GET {endpoint.path}: no identifier of the demo data opens it")
    assert problems == [], "\n".join(problems)
