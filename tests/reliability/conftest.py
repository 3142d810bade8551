"""Fault-injection harness: real ``parcours serve`` processes on 127.0.0.1, killed and restarted on purpose.

Backends: a fresh SQLite file under ``tmp_path`` by default; the PostgreSQL database named by
PARCOURS_TEST_POSTGRES_URL (reset with ``reset_postgres`` first) when that variable is set. Tests that
need to make a database disappear, or to own a database outright, get a dedicated throw-away
database ``parcours_reliability_<random>`` on the same PostgreSQL server, dropped at the end.

Every server process is started in its own session and killed (SIGKILL to its process group) at
teardown, whatever the outcome of the test.
"""

from __future__ import annotations

import html
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from shared_core.db import Database, normalise_url
from shared_core.tables import Organisation
from shared_core.testing import postgres_url, reset_postgres

ORGANISATION_ID = "org-reliability"
EMAIL = "psychiatre@reliability.parcours.fr"
PASSWORD = "une phrase de passe pour les pannes"
STARTUP_TIMEOUT_SECONDS = 60.0
HTTP_TIMEOUT_SECONDS = 30.0
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
VERSION_INPUT = re.compile(r'name="version" value="(\d+)"')
RESULT_COUNT = re.compile(r'class="result-count">\s*(\d+)')
PATIENT_LOCATION = re.compile(r"^/patients/([A-Za-z0-9_-]+)$")


# --------------------------------------------------------------------------- backends


@dataclass
class Backend:
    """Where the server under test keeps its data."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    sqlite_path: Path | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "sqlite"


def _admin_engine(url: str) -> Any:
    return create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")


def pg_admin_execute(url: str, *statements: str) -> list[Any]:
    """Run statements in autocommit on ``url`` (a database other than the one being manipulated)."""
    engine = _admin_engine(url)
    results: list[Any] = []
    try:
        with engine.connect() as connection:
            for statement in statements:
                result = connection.execute(text(statement))
                results.append(result.fetchall() if result.returns_rows else None)
    finally:
        engine.dispose()
    return results


def dedicated_pg_url(base_url: str, name: str) -> str:
    url: URL = normalise_url(base_url).set(database=name)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    url = postgres_url()
    if url is not None:
        reset_postgres(url)
        return Backend("postgresql", url)
    path = tmp_path / "parcours.db"
    return Backend("sqlite", f"sqlite:///{path.as_posix()}", path)


@pytest.fixture
def pg_database_factory() -> Iterator[Callable[[], tuple[str, str]]]:
    """Create throw-away PostgreSQL databases (name, url) on the test server; all dropped at teardown."""
    base = postgres_url()
    created: list[str] = []

    def _create() -> tuple[str, str]:
        assert base is not None, "only for PostgreSQL runs"
        name = f"parcours_reliability_{secrets.token_hex(6)}"
        pg_admin_execute(base, f'CREATE DATABASE "{name}"')
        created.append(name)
        return name, dedicated_pg_url(base, name)

    yield _create
    if base is not None:
        for name in created:
            try:
                pg_admin_execute(base, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true',
                                 f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception as error:  # pragma: no cover - reported, never hides the test outcome
                print(f"could not drop {name}: {error}", file=sys.stderr)


# --------------------------------------------------------------------------- the command line


def base_env(database_url: str, var_dir: Path, secret_key: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PARCOURS_")}
    env.update({
        "PARCOURS_DATABASE_URL": database_url,
        "PARCOURS_VAR_DIR": str(var_dir),
        "PARCOURS_SECRET_KEY": secret_key,
        "PARCOURS_COOKIE_SECURE": "false",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "parcours_web.cli", *args]


@dataclass
class Deployment:
    """A migrated database with one organisation, one psychiatrist and their API token."""

    backend: Backend
    env: dict[str, str]
    workdir: Path
    token: str
    email: str = EMAIL
    password: str = PASSWORD

    def database(self) -> Database:
        return Database(self.env["PARCOURS_DATABASE_URL"])


def provision(backend: Backend, workdir: Path) -> Deployment:
    """Migrate, then add the organisation, the user and the token.

    Done in-process with the very functions ``parcours db upgrade``, ``parcours users add`` and
    ``parcours tokens issue`` call: each CLI start costs ~3 s of imports on this machine, and the
    subprocess path of the CLI is exercised where it matters (``serve``, and ``db upgrade`` in the
    migration-kill test).
    """
    from parcours_web.auth.service import issue_token
    from parcours_web.auth.users import create_user, parse_user_input
    from parcours_web.migrate import upgrade
    from shared_core.actors import Actor

    workdir.mkdir(parents=True, exist_ok=True)
    env = base_env(backend.url, workdir / "var", secrets.token_urlsafe(48))
    database = Database(backend.url)
    try:
        upgrade(database)
        with database.write() as session:
            session.add(Organisation(id=ORGANISATION_ID, kind="centre", name="Centre des pannes"))
        create_user(database, Actor(id="cli", role="admin"), parse_user_input(
            {"email": EMAIL, "display_name": EMAIL, "role": "psychiatrist", "organisation_id": ORGANISATION_ID,
             "password": PASSWORD}, creating=True))
        token = issue_token(database, EMAIL, None)
    finally:
        database.dispose()
    return Deployment(backend, env, workdir, token)


@pytest.fixture
def deployment(backend: Backend, tmp_path: Path) -> Deployment:
    return provision(backend, tmp_path / "work")


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=2.0).status_code
    except httpx.HTTPError:
        return None


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> None:
        """SIGKILL, as `kill -9`: no shutdown hook, no flush, no goodbye."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill9()


class ServerPool:
    """Starts servers; at teardown, kills every one still alive (its whole process group)."""

    def __init__(self) -> None:
        self.servers: list[Server] = []

    def start(self, deployment: Deployment, env: dict[str, str] | None = None) -> Server:
        """Start ``parcours serve`` on a free port and wait for /health 200 (one retry if the port was taken)."""
        for attempt in range(3):
            server = self._spawn(deployment, env)
            deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
            while http_status(server.base_url + "/health") != 200:
                if not server.alive() and "address already in use" in server.log().lower() and attempt < 2:
                    break  # someone took the port between free_port() and the bind: try another
                if not server.alive() or time.monotonic() > deadline:
                    raise AssertionError(f"the server did not become healthy on {server.base_url} "
                                         f"(exit code {server.process.poll()}):\n{server.log_tail()}")
                time.sleep(0.1)
            else:
                return server
        raise AssertionError("no free port found")  # pragma: no cover

    def _spawn(self, deployment: Deployment, env: dict[str, str] | None) -> Server:
        port = free_port()
        log_path = deployment.workdir / f"server-{len(self.servers)}-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                cli_command("serve", "--host", "127.0.0.1", "--port", str(port)),
                env=env or deployment.env, cwd=deployment.workdir, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        server = Server(process, f"http://127.0.0.1:{port}", log_path)
        self.servers.append(server)
        return server

    def kill_all(self) -> None:
        for server in self.servers:
            if server.alive():
                try:
                    os.killpg(server.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:  # pragma: no cover
                print(f"server {server.process.pid} did not die", file=sys.stderr)


@pytest.fixture
def servers() -> Iterator[ServerPool]:
    pool = ServerPool()
    try:
        yield pool
    finally:
        pool.kill_all()


# --------------------------------------------------------------------------- HTTP clients


def page_text(response: httpx.Response) -> str:
    return html.unescape(response.text)


class WebClient:
    """One browser-like session: cookies, the session's CSRF token, and the HTML forms."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=HTTP_TIMEOUT_SECONDS)
        self.csrf = ""

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> WebClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def csrf_of(response: httpx.Response) -> str:
        match = CSRF_INPUT.search(response.text)
        assert match, f"no CSRF token in {response.request.url} ({response.status_code}):\n{response.text[:500]}"
        return match.group(1)

    def login(self, email: str = EMAIL, password: str = PASSWORD) -> WebClient:
        anonymous = self.csrf_of(self.http.get("/login"))
        response = self.http.post("/login", data={"email": email, "password": password, "_csrf_token": anonymous})
        assert response.status_code == 303, f"login failed ({response.status_code}): {response.text[:500]}"
        self.csrf = self.csrf_of(self.http.get("/patients/new"))
        return self

    def create_patient(self, family_name: str, given_names: str = "Alix", birth_date: str = "1970-01-01",
                       sex: str = "F") -> httpx.Response:
        return self.http.post("/patients", data={
            "family_name": family_name, "given_names": given_names, "birth_date": birth_date, "sex": sex,
            "_csrf_token": self.csrf,
        })

    def edit_form(self, patient_id: str) -> dict[str, str]:
        """The edit form as a browser holds it: current values and the version it was loaded at."""
        response = self.http.get(f"/patients/{patient_id}/edit")
        assert response.status_code == 200, response.text[:500]
        version = VERSION_INPUT.search(response.text)
        assert version, "no version field in the edit form"
        values = {}
        for name in ("family_name", "given_names", "birth_date"):
            match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', response.text) or \
                re.search(rf'value="([^"]*)"[^>]*name="{name}"', response.text)
            assert match, f"no {name} field in the edit form"
            values[name] = html.unescape(match.group(1))
        sex = re.search(r'name="sex" value="([FMU])" checked', response.text)
        values["sex"] = sex.group(1) if sex else "U"
        values["version"] = version.group(1)
        values["_csrf_token"] = self.csrf_of(response)
        return values

    def submit_edit(self, patient_id: str, form: dict[str, str]) -> httpx.Response:
        return self.http.post(f"/patients/{patient_id}/edit", data=form)

    def count_patients(self, query: str) -> int:
        response = self.http.get("/patients", params={"q": query})
        assert response.status_code == 200, response.text[:500]
        match = RESULT_COUNT.search(response.text)
        assert match, "no result count on the patient list"
        return int(match.group(1))


def patient_id_of(response: httpx.Response) -> str | None:
    """The id of the created patient when the write was acknowledged (303 to /patients/{id})."""
    if response.status_code != 303:
        return None
    match = PATIENT_LOCATION.match(response.headers.get("location", ""))
    return match.group(1) if match else None


@dataclass
class WriteLog:
    """What the writers saw: acknowledged ids, and every answer that was not an acknowledgement."""

    acknowledged: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # "status: body excerpt"
    transport_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, patient_id: str) -> None:
        with self.lock:
            self.acknowledged.append(patient_id)

    def bad(self, response: httpx.Response) -> None:
        with self.lock:
            self.unexpected.append(f"{response.status_code}: {page_text(response)[:300]!r}")

    def broken(self, error: Exception) -> None:
        with self.lock:
            self.transport_errors.append(f"{type(error).__name__}: {error}")

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def run_writers(clients: list[WebClient], prefix: str, log: WriteLog, stop: threading.Event,
                max_writes_per_client: int, stop_on_transport_error: bool) -> list[threading.Thread]:
    """Start one thread per client creating patients named ``{prefix}-{client}-{n}`` until ``stop``."""

    def work(index: int, client: WebClient) -> None:
        for n in range(max_writes_per_client):
            if stop.is_set():
                return
            try:
                response = client.create_patient(f"{prefix}-{index}-{n}")
            except httpx.HTTPError as error:
                log.broken(error)
                if stop_on_transport_error:
                    return
                continue
            patient_id = patient_id_of(response)
            if patient_id is None:
                log.bad(response)
            else:
                log.ack(patient_id)

    threads = [threading.Thread(target=work, args=(i, c), name=f"writer-{i}", daemon=True)
               for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    return threads


def join_all(threads: list[threading.Thread], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.1, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"writer threads did not finish: {stuck}"


def logged_in_clients(base_url: str, count: int) -> list[WebClient]:
    return [WebClient(base_url).login() for _ in range(count)]


def check_all_readable(base_url: str, patient_ids: list[str], readers: int = 4) -> list[str]:
    """GET /patients/{id} for every id with fresh sessions; returns the ids that did not answer 200."""
    missing: list[str] = []
    lock = threading.Lock()
    chunks = [patient_ids[i::readers] for i in range(readers)]

    def read(chunk: list[str]) -> None:
        with WebClient(base_url) as client:
            client.login()
            for patient_id in chunk:
                status = client.http.get(f"/patients/{patient_id}").status_code
                if status != 200:
                    with lock:
                        missing.append(f"{patient_id} ({status})")

    threads = [threading.Thread(target=read, args=(chunk,), daemon=True) for chunk in chunks if chunk]
    for thread in threads:
        thread.start()
    join_all(threads, timeout=120)
    return missing


# --------------------------------------------------------------------------- database checks


def stored_patient_ids(database_url: str) -> set[str]:
    database = Database(database_url)
    try:
        with database.read() as session:
            return set(session.scalars(text("SELECT id FROM patient")).all())
    finally:
        database.dispose()


def patients_without_create_audit(database_url: str) -> list[str]:
    """Atomicity: a patient row never commits without its 'create' audit row (same transaction)."""
    database = Database(database_url)
    try:
        with database.read() as session:
            return list(session.scalars(text(
                "SELECT p.id FROM patient p WHERE NOT EXISTS (SELECT 1 FROM audit_event a "
                "WHERE a.object_type = 'patient' AND a.action = 'create' AND a.object_id = p.id)"
            )).all())
    finally:
        database.dispose()


def sqlite_integrity(path: Path) -> tuple[list[str], list[Any]]:
    """``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check`` on a fresh connection."""
    connection = sqlite3.connect(path, timeout=30)
    try:
        integrity = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        foreign_keys = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    return integrity, foreign_keys


# --------------------------------------------------------------------------- the kit handed to tests


class Kit:
    """The helpers above, handed to test modules as a fixture (test modules never import conftest)."""

    ORGANISATION_ID = ORGANISATION_ID
    EMAIL = EMAIL
    PASSWORD = PASSWORD
    Backend = Backend
    Deployment = Deployment
    WebClient = WebClient
    WriteLog = WriteLog
    base_env = staticmethod(base_env)
    check_all_readable = staticmethod(check_all_readable)
    cli_command = staticmethod(cli_command)
    free_port = staticmethod(free_port)
    http_status = staticmethod(http_status)
    join_all = staticmethod(join_all)
    logged_in_clients = staticmethod(logged_in_clients)
    page_text = staticmethod(page_text)
    patient_id_of = staticmethod(patient_id_of)
    patients_without_create_audit = staticmethod(patients_without_create_audit)
    pg_admin_execute = staticmethod(pg_admin_execute)
    provision = staticmethod(provision)
    run_writers = staticmethod(run_writers)
    sqlite_integrity = staticmethod(sqlite_integrity)
    stored_patient_ids = staticmethod(stored_patient_ids)


@pytest.fixture(scope="session")
def kit() -> type[Kit]:
    return Kit
