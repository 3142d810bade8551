"""Load: 50 concurrent clients, mixed reads and writes, against one server.

quality.md, Reliability: "50 concurrent clients, mixed reads and writes, 60 s, SQLite and
PostgreSQL: 0 errors; every acknowledged write counted back". The suite runs LOAD_SECONDS (10 s by
default, ``PARCOURS_RELIABILITY_LOAD_SECONDS=60`` for the full drill). A fifth of the clients create
patients; the others search the list, open patient records and the home page, as a clinic does.
"""

from __future__ import annotations

import os
import random
import threading
import time
from typing import TYPE_CHECKING

import httpx
import pytest

if TYPE_CHECKING:  # conftest belongs to pytest: never imported at run time
    from conftest import Backend, Deployment, Kit, ServerPool, WebClient, WriteLog

pytestmark = [pytest.mark.db, pytest.mark.timeout(900)]  # timeout: a safety net, loops are bounded

CLIENTS = 50
WRITERS = 10
LOAD_SECONDS = float(os.environ.get("PARCOURS_RELIABILITY_LOAD_SECONDS", "10"))
MAX_REQUESTS_PER_CLIENT = 100_000  # bound on the loops; the clock stops clients long before
PREFIX = "Charge"


def _reader(client: WebClient, log: WriteLog, stop: threading.Event, rng: random.Random,
            answered: list[int]) -> None:
    for _ in range(MAX_REQUESTS_PER_CLIENT):
        if stop.is_set():
            return
        known = log.acknowledged[-50:]
        choice = rng.random()
        if known and choice < 0.5:
            path = f"/patients/{rng.choice(known)}"
        elif choice < 0.85:
            path = f"/patients?q={PREFIX}-{rng.randrange(WRITERS)}"
        else:
            path = "/"
        try:
            response = client.http.get(path)
        except httpx.HTTPError as error:
            log.broken(error)
            continue
        if response.status_code != 200:
            log.bad(response)
        else:
            with log.lock:
                answered[0] += 1


def test_fifty_clients_mixed_reads_and_writes_without_error(
        kit: type[Kit], backend: Backend, deployment: Deployment, servers: ServerPool) -> None:
    server = servers.start(deployment)
    clients = kit.logged_in_clients(server.base_url, CLIENTS)
    log = kit.WriteLog()
    stop = threading.Event()
    reads = [0]
    try:
        threads = kit.run_writers(clients[:WRITERS], PREFIX, log, stop, MAX_REQUESTS_PER_CLIENT,
                                  stop_on_transport_error=False)
        for index, client in enumerate(clients[WRITERS:]):
            thread = threading.Thread(target=_reader, args=(client, log, stop, random.Random(index), reads),
                                      name=f"reader-{index}", daemon=True)
            thread.start()
            threads.append(thread)
        time.sleep(LOAD_SECONDS)
        stop.set()
        kit.join_all(threads, timeout=120)
    finally:
        stop.set()
        for client in clients:
            client.close()

    assert server.alive(), server.log_tail()
    assert log.transport_errors == [], log.transport_errors[:5]
    assert log.unexpected == [], log.unexpected[:5]
    assert "Traceback" not in server.log(), server.log_tail()
    assert log.acknowledged and reads[0], "the load did not run"
    stored = kit.stored_patient_ids(backend.url)
    assert stored == set(log.acknowledged), (
        f"{len(set(log.acknowledged) - stored)} acknowledged but absent, {len(stored - set(log.acknowledged))} "
        "stored but never acknowledged")
    assert kit.patients_without_create_audit(backend.url) == []
    print(f"{CLIENTS} clients for {LOAD_SECONDS:.0f} s: {len(log.acknowledged)} writes, {reads[0]} reads")
