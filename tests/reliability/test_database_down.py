"""The database goes away under a running server, then comes back (PostgreSQL only).

quality.md, Reliability: "Database down then up (PostgreSQL stopped mid-run) — 503 while down,
recovery without restart". The shared PostgreSQL server cannot be stopped from a test, so the
server under test gets a database of its own, made unreachable with ``ALLOW_CONNECTIONS false``
plus ``pg_terminate_backend`` on its sessions (what a stopped server looks like to the
application: open connections die, new ones are refused), then reopened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from shared_core.testing import postgres_url

if TYPE_CHECKING:  # conftest belongs to pytest: never imported at run time
    from conftest import Kit, ServerPool

pytestmark = [
    pytest.mark.db,
    pytest.mark.timeout(300),  # a safety net, loops are bounded
    pytest.mark.skipif(postgres_url() is None, reason="PostgreSQL only: set PARCOURS_TEST_POSTGRES_URL"),
]

STATE_CHANGE_TIMEOUT_SECONDS = 30.0
PHQ9_ANSWERS = [1, 2, 3, 2, 1, 2, 3, 2, 0]
UNAVAILABLE_TEXTS = ("Service indisponible", "Service unavailable")


def _set_connections(kit: type[Kit], name: str, allowed: bool) -> None:
    """Open or close the server's database, from the test database (never from the one being closed)."""
    base = postgres_url()
    assert base is not None
    statements = [f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if allowed else "false"}']
    if not allowed:
        statements.append(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
    kit.pg_admin_execute(base, *statements)


def _wait_for_health(kit: type[Kit], base_url: str, status: int) -> None:
    deadline = time.monotonic() + STATE_CHANGE_TIMEOUT_SECONDS
    while (seen := kit.http_status(base_url + "/health")) != status:
        assert time.monotonic() < deadline, f"/health stayed at {seen}, expected {status}"
        time.sleep(0.2)


def test_503_while_the_database_is_down_and_recovery_without_restart(
        kit: type[Kit], pg_database_factory: Callable[[], tuple[str, str]], servers: ServerPool,
        tmp_path: Path) -> None:
    name, url = pg_database_factory()
    deployment = kit.provision(kit.Backend("postgresql", url), tmp_path / "work")
    server = servers.start(deployment)
    pid = server.process.pid
    api = httpx.Client(base_url=server.base_url, timeout=30,
                       headers={"authorization": f"Bearer {deployment.token}"})
    with kit.WebClient(server.base_url) as client, api:
        client.login()
        before = kit.patient_id_of(client.create_patient("AvantPanne"))
        assert before is not None
        assert api.post("/api/v1/scales/phq9/score", json={"items": PHQ9_ANSWERS}).status_code == 200

        _set_connections(kit, name, allowed=False)
        try:
            _wait_for_health(kit, server.base_url, 503)
            health = httpx.get(server.base_url + "/health", timeout=30)
            assert health.status_code == 503
            assert health.json()["database"] == "unavailable", health.text
            assert "retry-after" in health.headers

            page = client.http.get("/patients")
            assert page.status_code == 503, f"{page.status_code}: {page.text[:500]}"
            assert any(text in kit.page_text(page) for text in UNAVAILABLE_TEXTS), page.text[:1000]
            assert client.http.get(f"/patients/{before}").status_code == 503
            write = client.create_patient("PendantPanne")
            assert write.status_code == 503, f"{write.status_code}: {write.text[:500]}"
            scored = api.post("/api/v1/scales/phq9/score", json={"items": PHQ9_ANSWERS})
            assert scored.status_code == 503, f"{scored.status_code}: {scored.text[:500]}"
            assert scored.headers["content-type"].startswith("application/problem+json")
            assert scored.json()["status"] == 503
        finally:
            _set_connections(kit, name, allowed=True)

        _wait_for_health(kit, server.base_url, 200)
        assert httpx.get(server.base_url + "/health", timeout=30).json() == {"status": "ok", "database": "ok"}
        # Same process, same session: nothing was restarted, nobody was logged out.
        assert server.alive() and server.process.pid == pid
        assert client.http.get("/patients").status_code == 200
        assert client.http.get(f"/patients/{before}").status_code == 200
        after = kit.patient_id_of(client.create_patient("ApresPanne"))
        assert after is not None
        assert client.http.get(f"/patients/{after}").status_code == 200
        assert api.post("/api/v1/scales/phq9/score", json={"items": PHQ9_ANSWERS}).status_code == 200

    log = server.log()
    assert '" 500' not in log, server.log_tail()
    assert kit.stored_patient_ids(url) == {before, after}
