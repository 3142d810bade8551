"""kill -9 of the server while several logged-in clients are creating patients.

quality.md, Reliability: "Crash: kill -9 of the server during concurrent writes, 25 rounds — every
acknowledged write present after restart; integrity check clean". The bar asks 25 rounds; the suite
runs CRASH_ROUNDS (5 by default, the CI drill of the reliability issue); set
PARCOURS_RELIABILITY_CRASH_ROUNDS=25 for the full bar.
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # conftest belongs to pytest: never imported at run time
    from conftest import Backend, Deployment, Kit, ServerPool

CRASH_ROUNDS = int(os.environ.get("PARCOURS_RELIABILITY_CRASH_ROUNDS", "5"))
WRITERS = 6
ACKNOWLEDGED_BEFORE_KILL = 20  # writes under way for real before the kill
KILL_DELAY_SECONDS = (0.3, 1.5)  # then a random extra moment, so the kill lands anywhere in a request
MAX_WRITES_PER_WRITER = 2_000  # bound on the loop; the kill stops writers long before
WARM_UP_TIMEOUT_SECONDS = 60.0

# timeout: a safety net (every loop is bounded), ~10 s a round here
pytestmark = [pytest.mark.db, pytest.mark.timeout(120 + 60 * CRASH_ROUNDS)]


def test_every_acknowledged_write_survives_kill_9(kit: type[Kit], backend: Backend, deployment: Deployment,
                                                   servers: ServerPool) -> None:
    rng = random.Random()
    seed = rng.randrange(1_000_000)
    rng.seed(seed)
    acknowledged: list[str] = []
    server = servers.start(deployment)
    for round_number in range(CRASH_ROUNDS):
        context = f"round {round_number} (seed {seed})"
        clients = kit.logged_in_clients(server.base_url, WRITERS)
        log = kit.WriteLog()
        stop = threading.Event()
        try:
            threads = kit.run_writers(clients, f"Crash{round_number}", log, stop, MAX_WRITES_PER_WRITER,
                                      stop_on_transport_error=True)
            deadline = time.monotonic() + WARM_UP_TIMEOUT_SECONDS
            while log.count() < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline and server.alive():
                time.sleep(0.02)
            assert log.count() >= ACKNOWLEDGED_BEFORE_KILL, f"{context}: writes did not get going\n" \
                f"{log.unexpected[:5]} {log.transport_errors[:5]}\n{server.log_tail()}"
            time.sleep(rng.uniform(*KILL_DELAY_SECONDS))
            assert log.transport_errors == [], f"{context}: connection errors before the kill: " \
                f"{log.transport_errors[:5]}\n{server.log_tail()}"
            server.kill9()
            stop.set()
            kit.join_all(threads)
        finally:
            stop.set()
            for client in clients:
                client.close()
        # Before the kill every answer was an acknowledgement; after it, only connection errors.
        assert log.unexpected == [], f"{context}: non-303 answers during the writes: {log.unexpected[:5]}"
        assert len(log.transport_errors) <= WRITERS, log.transport_errors
        round_acknowledged = list(log.acknowledged)
        assert len(set(round_acknowledged)) == len(round_acknowledged), f"{context}: an id was acknowledged twice"
        acknowledged.extend(round_acknowledged)

        server = servers.start(deployment)  # the restart; it takes the next round's writes
        missing = kit.check_all_readable(server.base_url, round_acknowledged)
        assert missing == [], f"{context}: acknowledged patients not readable after restart: {missing[:10]}"
        stored = kit.stored_patient_ids(backend.url)
        lost = sorted(set(acknowledged) - stored)
        assert lost == [], f"{context}: {len(lost)} acknowledged writes lost: {lost[:10]}"
        # Atomicity across the crash: no patient row committed without its audit row.
        assert kit.patients_without_create_audit(backend.url) == [], context
        if backend.is_sqlite:
            assert backend.sqlite_path is not None
            integrity, foreign_keys = kit.sqlite_integrity(backend.sqlite_path)
            assert integrity == ["ok"], f"{context}: {integrity[:10]}"
            assert foreign_keys == [], f"{context}: {foreign_keys[:10]}"
        print(f"{context}: {len(round_acknowledged)} acknowledged, {len(stored)} stored in all")

    # The restarted server takes writes again.
    with kit.WebClient(server.base_url) as client:
        client.login()
        assert kit.patient_id_of(client.create_patient("ApresCrash")) is not None
