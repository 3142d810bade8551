"""The page and write benchmark of quality.md, against a real server on loopback.

Usage::

    python -m bench.run --scale small|medium|national [--database-url URL] [--duration 10] [--smoke] [--only a,b]

Steps: generate the data set when the database is empty (bench/generate.py); start ``parcours serve``
(one worker) pinned to CPU 0; sign the bench accounts in; then, from CPU 1, measure with Debian ``wrk``
(a slower Python loop when wrk is absent) the closed-loop maximum throughput of the baseline H
(``/bench/h``: no database, no session) and of each page and write, then the open-loop latency of
each page at half its maximum (a Python driver that sends on a fixed schedule and measures from the
scheduled time, so a stall is not hidden); finally the server's RSS. Results go to
``bench/results/<date>-<commit>-<scale>-<backend>.md`` and ``.json`` with each figure and its ratio to H.
``--smoke`` (CI) runs everything for three seconds at small scale and only checks that it works.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlalchemy import text

from bench.generate import (
    CSRF_INPUT,
    bench_targets,
    generate,
    session_forms,
    sign_in,
    status_moves,
)
from bench.rawhttp import SEND_ERRORS, Connection, Endpoint, build_request
from shared_core.db import Database

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SERVER_CPU, LOAD_CPU = 0, 1
CONNECTIONS = 8
OPEN_LOOP_CONNECTIONS = 64  # enough for a stall of a few hundred ms at the rates measured
# Long enough for the slowest page to answer a few times on a loaded CI machine.
SMOKE_SECONDS = 3.0
STATUS_MOVES = 3000  # enough to hold one move per referral in progress at any scale
BARS = {"page_throughput_ratio": 0.30, "write_throughput_ratio": 0.10, "p50_ms": 10.0, "p99_ms": 50.0,
        "rss_mb": 200.0}


@dataclass(frozen=True)
class Target:
    name: str
    role: str
    method: str
    path: str
    form: dict[str, str] | None = None  # POST body (form-encoded); the CSRF token is added
    # Writes that change a record's state can be sent once per record: (path, form) pairs, one pass.
    rotation: tuple[tuple[str, dict[str, str]], ...] = ()

    @property
    def is_write(self) -> bool:
        return self.method != "GET"


@dataclass
class Measure:
    name: str
    kind: str  # baseline | page | write
    requests_per_second: float
    ratio_to_h: float | None = None
    errors: int = 0
    open_loop_rate: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    open_loop_errors: int | None = None
    driver_limited: bool = False
    p99_growth: float | None = None  # p99 here / p99 of the newest small-scale run on the same backend


@dataclass
class Report:
    scale: str
    backend: str
    commit: str
    date: str
    duration_s: float
    counts: dict[str, int]
    measures: list[Measure] = field(default_factory=list)
    rss_mb: float | None = None
    notes: list[str] = field(default_factory=list)


# --- the server -----------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _pinned(command: list[str], cpu: int) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if shutil.which("taskset") and os.cpu_count() and \
        os.cpu_count() > cpu else command  # type: ignore[operator]


@contextmanager
def server(database_url: str, workdir: Path) -> Iterator[tuple[str, int]]:
    port = _free_port()
    env = {**os.environ, "PARCOURS_DATABASE_URL": database_url, "PARCOURS_SECRET_KEY": secrets.token_urlsafe(32),
           "PARCOURS_COOKIE_SECURE": "false", "PARCOURS_BENCH_ENDPOINT": "true", "PARCOURS_VAR_DIR": str(workdir)}
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(_pinned([sys.executable, "-m", "parcours_web.cli", "serve", "--port", str(port)],
                                       SERVER_CPU), env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/bench/h", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + (workdir / "server.log").read_text())
            time.sleep(0.2)
        yield base, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Session:
    cookie: str
    csrf: str


def signed_in(base: str, role: str) -> Session:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as client:
        response = sign_in(client, role)
        if response.status_code != 303:
            raise RuntimeError(f"bench login failed for {role}: {response.status_code}")
        csrf = CSRF_INPUT.search(client.get("/").text)
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        return Session(cookie, csrf[1] if csrf else "")


# --- load generators ------------------------------------------------------------------------------

def _wrk_script(target: Target, session: Session, directory: Path) -> Path | None:
    if not target.is_write:
        return None
    script = directory / f"{target.name}.lua"
    body = urlencode({**(target.form or {}), "_csrf_token": session.csrf})
    script.write_text(
        f'wrk.method = "{target.method}"\n'
        f"wrk.body = {json.dumps(body)}\n"
        'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n')
    return script


async def _python_closed_loop(base: str, target: Target | None, session: Session | None, seconds: float
                              ) -> tuple[float, int]:
    """Rotations (each state change sent once) and machines without Debian's wrk: CONNECTIONS clients
    in a loop on the lean client of bench/rawhttp.py."""
    endpoint = Endpoint.of(base)
    headers = {"Cookie": session.cookie, "X-CSRF-Token": session.csrf} if session else {}
    csrf = {"_csrf_token": session.csrf} if session else {}
    if target is None:
        pairs: list[tuple[str, dict[str, str] | None]] = [("/bench/h", None)]
    elif target.rotation:
        pairs = [(path, form | csrf) for path, form in target.rotation]
    else:
        pairs = [(target.path, (target.form or {}) | csrf if target.is_write else None)]
    requests = [build_request(endpoint, "GET" if form is None else "POST", path, headers, form) for path, form in pairs]
    done = errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(share: list[bytes], repeat: bool) -> None:
        nonlocal done, errors
        connection = await Connection.open(endpoint)
        try:
            index = 0
            while time.perf_counter() < deadline and (repeat or index < len(share)):
                request = share[index % len(share)]
                index += 1
                done += 1
                try:
                    errors += await connection.send(request) >= 400
                    if connection.reusable:
                        continue
                except SEND_ERRORS:
                    errors += 1
                connection.close()
                connection = await Connection.open(endpoint)
        finally:
            connection.close()

    started = time.perf_counter()
    if target is not None and target.rotation:
        # Sent once over, each worker its own slice in order: a record's successive changes (see _moves)
        # stay on one connection, so each is sent after the one before has been answered.
        await asyncio.gather(*(worker(requests[k::CONNECTIONS], False) for k in range(CONNECTIONS)))
    else:
        await asyncio.gather(*(worker(requests, True) for _ in range(CONNECTIONS)))
    return done / (time.perf_counter() - started), errors


def closed_loop(base: str, target: Target | None, session: Session | None, seconds: float,
                directory: Path) -> tuple[float, int]:
    """Maximum throughput with wrk (requests/s, errors: non-2xx/3xx answers plus socket errors)."""
    url = base + (target.path if target else "/bench/h")
    if shutil.which("wrk") is None or (target is not None and target.rotation):
        # A rotation is sent once over (a state change cannot be repeated): wrk cannot stop after N requests.
        return asyncio.run(_python_closed_loop(base, target, session, seconds))
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    if session is not None:
        command += ["-H", f"Cookie: {session.cookie}", "-H", f"X-CSRF-Token: {session.csrf}"]
    script = _wrk_script(target, session, directory) if target and session else None
    if script is not None:
        command += ["-s", str(script)]
    output = subprocess.run(_pinned([*command, url], LOAD_CPU), capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return rate, errors


async def _open_loop(base: str, target: Target, session: Session, rate: float, seconds: float
                     ) -> tuple[list[float], int, float]:
    """Requests sent on a fixed schedule, whatever the answers do; each latency counts from its
    scheduled time, so a stall shows in the figures instead of slowing the sender (no coordinated omission)."""
    endpoint = Endpoint.of(base)
    request = build_request(endpoint, "GET", target.path, {"Cookie": session.cookie, "X-CSRF-Token": session.csrf})
    latencies: list[float] = []
    errors = 0
    total = max(1, int(rate * seconds))
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    opened = 0
    in_flight: set[asyncio.Task[None]] = set()

    async def one(connection: Connection, scheduled: float) -> None:
        nonlocal errors, opened
        try:
            errors += await connection.send(request) >= 400
        except SEND_ERRORS:
            errors += 1
            connection.reusable = False
        latencies.append((time.perf_counter() - scheduled) * 1000)
        if connection.reusable:
            idle.put_nowait(connection)
        else:  # its place in the pool goes to a new connection
            connection.close()
            opened -= 1

    start = time.perf_counter()
    for index in range(total):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if idle.empty() and opened < OPEN_LOOP_CONNECTIONS:
            opened += 1
            connection = await Connection.open(endpoint)
        else:
            connection = await idle.get()
        task = asyncio.create_task(one(connection, scheduled))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    await asyncio.gather(*in_flight)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    return latencies, errors, total / elapsed


def open_loop(base: str, target: Target, session: Session, rate: float, seconds: float) -> tuple[float, float, int,
                                                                                                    bool]:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > LOAD_CPU:
        os.sched_setaffinity(0, {LOAD_CPU})
    latencies, errors, achieved = asyncio.run(_open_loop(base, target, session, rate, seconds))
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered), p99, errors, achieved < rate * 0.95


# --- the run --------------------------------------------------------------------------------------

STRUCTURES = "/api/v1/sport/structures"


def targets(database: Database, today: dt.date, only: frozenset[str] = frozenset()) -> list[Target]:
    """quality.md's pages and writes, on ids read back from the generated data (bench/generate.py); with
    ``only``, just those (a partial run does not need the writes' records left)."""
    found = bench_targets(database)
    with database.read() as session:
        # The commune with the most structures: the same kind of search (the densest city) at every scale.
        commune = session.execute(text("SELECT commune_insee FROM sport_structure GROUP BY commune_insee "
                                       "ORDER BY COUNT(*) DESC, commune_insee LIMIT 1")).scalar_one()
        # Scale entries go to a patient of their own, so repeated runs never grow the timeline measured.
        entry_patient = session.execute(text("SELECT MAX(id) FROM patient WHERE organisation_id = :centre"),
                                        {"centre": found["centre"]}).scalar_one()
    items = {f"item_{index}": "1" for index in range(1, 9)} | {"item_9": "0"}
    search = {"commune": commune, "radius_km": 30, "family": "moteur"}

    def wanted(name: str) -> bool:
        return not only or name in only

    plan = [
        Target("patient_list", "psychiatrist", "GET", "/patients?q=mor&page=2"),
        Target("patient_timeline", "psychiatrist", "GET", found["patient_path"]),
        Target("coordinator_inbox", "coordinator", "GET", "/sport/inbox"),
        # A page as the prescription page lists it (its 30 nearest), then the contract's answer with no limit:
        # every structure within 30 km, thousands around a city at national scale.
        Target("structure_search_30km", "psychiatrist", "GET", f"{STRUCTURES}?{urlencode(search | {'limit': 30})}"),
        Target("structure_search_30km_all", "psychiatrist", "GET", f"{STRUCTURES}?{urlencode(search)}"),
        Target("indicators_page", "observer", "GET", "/observer/indicators"),
        Target("scale_entry", "operator", "POST", f"/patients/{entry_patient}/assessments", {"scale": "phq9", **items}),
    ]
    # Each open session can be recorded once, each referral in progress paused once: one pass over them.
    if wanted("session_record"):
        plan.append(Target("session_record", "operator", "POST", "/today", rotation=_rotation(
            "open sessions", tuple(session_forms(database, today)))))
    if wanted("referral_status"):
        plan.append(Target("referral_status", "coordinator", "POST", "/sport/inbox", rotation=_rotation(
            f"at least {CONNECTIONS} referrals in progress", _moves(database))))
    return [target for target in plan if wanted(target.name)]


def _rotation(what: str, requests: tuple[tuple[str, dict[str, str]], ...]) -> tuple[tuple[str, dict[str, str]], ...]:
    """A write that changes state needs records left in that state: earlier runs use them up."""
    if not requests:
        raise SystemExit(f"the data set has no {what} left: delete it (bench/out/<scale>.db) and run again")
    return requests


def _moves(database: Database) -> tuple[tuple[str, dict[str, str]], ...]:
    """Pause then resume each referral in progress, round after round. The closed loop gives each
    connection every CONNECTIONS-th request in order; with a multiple of CONNECTIONS referrals per
    round, all the moves of a referral fall to one connection, each sent once the one before is answered."""
    moves = status_moves(database, STATUS_MOVES)
    referrals = list(dict.fromkeys(path.split("/")[3] for path, _form in moves))
    kept = set(referrals[:len(referrals) - len(referrals) % CONNECTIONS])
    return tuple((path, form) for path, form in moves if path.split("/")[3] in kept)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run(scale: str, database_url: str, seconds: float, only: frozenset[str] = frozenset()) -> Report:
    database = Database(database_url)
    try:
        with database.engine.connect() as connection:
            has_data = connection.exec_driver_sql(
                "SELECT 1 FROM information_schema.tables WHERE table_name = 'patient'" if not database.is_sqlite else
                "SELECT 1 FROM sqlite_master WHERE name = 'patient'").first() is not None
        if has_data:
            with database.read() as session:
                has_data = bool(session.execute(text("SELECT COUNT(*) FROM patient")).scalar())
        if not has_data:
            generate(database, scale)
        with database.read() as session:
            counts = {name: session.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar_one()
                      for name in ("patient", "assessment", "rtms_course", "rtms_planned_session", "sport_structure",
                                   "referral", "rtms_session_record", "sport_referral_detail", "audit_event")}
        plan = targets(database, dt.date.today(), only)
    finally:
        database.dispose()
    report = Report(scale, "sqlite" if database_url.startswith("sqlite") else "postgresql", _commit(),
                    dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), seconds, counts)
    with tempfile.TemporaryDirectory(prefix="parcours-bench-") as tmp, server(database_url, Path(tmp)) as (base, pid):
        workdir = Path(tmp)
        sessions = {role: signed_in(base, role) for role in {t.role for t in plan}}
        h_rate, h_errors = closed_loop(base, None, None, seconds, workdir)
        report.measures.append(Measure("H (/bench/h)", "baseline", h_rate, 1.0, h_errors))
        for target in plan:
            if not target.is_write:
                # Steady state, not the first computation: the indicators table is cached until data moves,
                # and only from its second computation (the first records the suppression register).
                for _ in range(2):
                    _get_once(base, target, sessions[target.role])
            rate, errors = closed_loop(base, target, sessions[target.role], seconds, workdir)
            measure = Measure(target.name, "write" if target.is_write else "page", rate, rate / h_rate, errors)
            if not target.is_write:
                # The closed loop's last requests may still be queued on the server (a slow page's backlog):
                # one request more, answered after them, lets the open loop start on an idle server.
                _get_once(base, target, sessions[target.role])
                measure.open_loop_rate = max(1.0, rate / 2)
                p50, p99, open_errors, limited = open_loop(base, target, sessions[target.role], measure.open_loop_rate,
                                                           seconds)
                measure.p50_ms, measure.p99_ms, measure.open_loop_errors = p50, p99, open_errors
                measure.driver_limited = limited
            report.measures.append(measure)
        report.rss_mb = _rss_mb(pid)
    return report


def _get_once(base: str, target: Target, session: Session) -> None:
    """One page request, waited for (warm-up, or the end of a slow page's backlog)."""
    httpx.get(base + target.path, headers={"Cookie": session.cookie}, timeout=900)


def add_growth(report: Report) -> None:
    """quality.md's growth bar: p99 at this scale over p99 at 1 %, from the newest small run on this backend
    (newest by the date each report records: a checkout gives every file the same modification time)."""
    small_runs = {path: json.loads(path.read_text()) for path in RESULTS.glob(f"*-small-{report.backend}.json")}
    if report.scale == "small" or not small_runs:
        return
    newest = max(small_runs, key=lambda path: small_runs[path]["date"])
    small = {m["name"]: m for m in small_runs[newest]["measures"]}
    for measure in report.measures:
        before = small.get(measure.name, {}).get("p99_ms")
        if measure.p99_ms is not None and before:
            measure.p99_growth = measure.p99_ms / before
    report.notes.append(f"p99 growth relative to {newest.name}")


def write_report(report: Report) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"{report.date[:10]}-{report.commit}-{report.scale}-{report.backend}"
    (RESULTS / f"{stem}.json").write_text(json.dumps(asdict(report) | {"bars": BARS}, indent=2) + "\n")
    path = RESULTS / f"{stem}.md"
    path.write_text(report_markdown(report))
    return path


def report_markdown(report: Report) -> str:
    lines = [f"# Benchmark {report.scale} ({report.backend}), commit {report.commit}, {report.date}", "",
             "Data: " + ", ".join(f"{name} {count:,}" for name, count in report.counts.items()), "",
             f"Each figure: {report.duration_s:.0f} s; server pinned to CPU {SERVER_CPU}, load to CPU {LOAD_CPU}.", "",
             "| measure | kind | req/s | × H | errors | open-loop rate | p50 ms | p99 ms | open-loop errors "
             "| p99 growth |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for m in report.measures:
        def cell(value: float | None, digits: int = 1) -> str:
            return "" if value is None else f"{value:.{digits}f}"
        limited = " (driver-limited)" if m.driver_limited else ""
        lines.append(f"| {m.name} | {m.kind} | {m.requests_per_second:.0f} | {cell(m.ratio_to_h, 2)} | {m.errors} | "
                     f"{cell(m.open_loop_rate, 0)}{limited} | {cell(m.p50_ms)} | {cell(m.p99_ms)} | "
                     f"{'' if m.open_loop_errors is None else m.open_loop_errors} | {cell(m.p99_growth, 2)} |")
    lines += [f"\n{note}" for note in report.notes]
    lines += ["", f"Server RSS after the run: {report.rss_mb or 0:.0f} MB (bar {BARS['rss_mb']:.0f} MB).",
              f"Bars: pages ≥ {BARS['page_throughput_ratio']} × H, writes ≥ {BARS['write_throughput_ratio']} × H, "
              f"open loop p50 ≤ {BARS['p50_ms']:.0f} ms and p99 ≤ {BARS['p99_ms']:.0f} ms."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["small", "medium", "national"], default="small")
    parser.add_argument("--database-url", default=None, help="default: an SQLite file bench/out/<scale>.db")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--smoke", action="store_true", help="CI: small scale, 3 s each, only checks that it works")
    parser.add_argument("--only", default="", help="comma-separated measures (patient_list,...): printed, not recorded")
    arguments = parser.parse_args(argv)
    if arguments.smoke:
        with tempfile.TemporaryDirectory(prefix="parcours-bench-smoke-") as tmp:
            report = run("small", f"sqlite:///{Path(tmp) / 'smoke.db'}", SMOKE_SECONDS)
        failed = [m.name for m in report.measures if m.requests_per_second <= 0 or m.errors or m.open_loop_errors]
        print("\n".join(f"{m.name}: {m.requests_per_second:.0f} req/s, {m.errors} errors" for m in report.measures))
        if failed:
            raise SystemExit(f"bench smoke: errors or no answers on {', '.join(failed)}")
        return
    url = arguments.database_url or f"sqlite:///{ROOT / 'bench' / 'out' / f'{arguments.scale}.db'}"
    only = frozenset(name for name in arguments.only.split(",") if name)
    report = run(arguments.scale, url, arguments.duration, only)
    add_growth(report)
    print(report_markdown(report) if only else write_report(report).read_text())


if __name__ == "__main__":
    main()
