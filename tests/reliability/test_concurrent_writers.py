"""Eight logged-in clients creating patients at once against one server, for a few seconds.

quality.md asks "8 concurrent writers for 60 s: 0 busy errors, 0 5xx" (and, under load, "every
acknowledged write counted back"); the suite writes for WRITE_SECONDS (10 s) to fit its time budget.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # conftest belongs to pytest: never imported at run time
    from conftest import Backend, Deployment, Kit, ServerPool

pytestmark = [pytest.mark.db, pytest.mark.timeout(300)]  # timeout: a safety net, loops are bounded

WRITERS = 8
WRITE_SECONDS = 10.0
MAX_WRITES_PER_WRITER = 5_000  # bound on the loop; the clock stops writers long before
BUSY_MARKERS = ("database is locked", "database table is locked", "SQLITE_BUSY", "deadlock detected")
PREFIX = "Concurrent"


def test_eight_concurrent_writers_get_no_error_and_every_write_is_counted_back(
        kit: type[Kit], backend: Backend, deployment: Deployment, servers: ServerPool) -> None:
    server = servers.start(deployment)
    clients = kit.logged_in_clients(server.base_url, WRITERS)
    log = kit.WriteLog()
    stop = threading.Event()
    try:
        threads = kit.run_writers(clients, PREFIX, log, stop, MAX_WRITES_PER_WRITER, stop_on_transport_error=False)
        deadline = time.monotonic() + WRITE_SECONDS
        while time.monotonic() < deadline and any(thread.is_alive() for thread in threads):
            time.sleep(0.1)
        stop.set()
        kit.join_all(threads)
    finally:
        stop.set()
        for client in clients:
            client.close()

    server_log = server.log()
    assert server.alive(), server.log_tail()
    assert log.transport_errors == [], log.transport_errors[:5]
    five_hundreds = [answer for answer in log.unexpected if answer.startswith("5")]
    assert five_hundreds == [], five_hundreds[:5]
    assert log.unexpected == [], log.unexpected[:5]
    busy = [marker for marker in BUSY_MARKERS if marker.lower() in server_log.lower()]
    assert busy == [], f"busy errors in the server log: {busy}\n{server.log_tail()}"
    assert "Traceback" not in server_log, server.log_tail()
    assert log.acknowledged, "no write went through"
    assert len(set(log.acknowledged)) == len(log.acknowledged), "an id was acknowledged twice"

    # Counted back: by the database, and by the application itself (patient list search).
    stored = kit.stored_patient_ids(backend.url)
    assert stored == set(log.acknowledged), (
        f"{len(set(log.acknowledged) - stored)} acknowledged but absent, {len(stored - set(log.acknowledged))} "
        "stored but never acknowledged")
    assert kit.patients_without_create_audit(backend.url) == []
    with kit.WebClient(server.base_url) as reader:
        reader.login()
        assert reader.count_patients(PREFIX) == len(log.acknowledged)
        for patient_id in log.acknowledged[:: max(1, len(log.acknowledged) // 25)]:
            assert reader.http.get(f"/patients/{patient_id}").status_code == 200, patient_id
    print(f"{len(log.acknowledged)} writes acknowledged in {WRITE_SECONDS:.0f} s by {WRITERS} writers")
