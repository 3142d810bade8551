"""Group commit: every caller's rows are written exactly once, in shared batches, errors reach their callers."""

from __future__ import annotations

import threading
import time

import pytest

from shared_core.group_commit import GroupCommit

WRITERS = 16


def test_concurrent_callers_share_batches_and_every_row_is_written_once() -> None:
    written: list[int] = []
    batches: list[int] = []
    inside = threading.Lock()

    def write_batch(rows: list[int]) -> None:
        # Two batches never overlap: the lock would not be free otherwise.
        assert inside.acquire(blocking=False)
        try:
            time.sleep(0.01)  # wide enough for the other callers to queue behind this batch
            written.extend(rows)
            batches.append(len(rows))
        finally:
            inside.release()

    commit: GroupCommit[int] = GroupCommit(write_batch)
    returned: list[int] = []
    start = threading.Barrier(WRITERS)

    def caller(number: int) -> None:
        start.wait()
        commit.submit([number * 10, number * 10 + 1])
        # Acknowledged only once its own rows are in.
        assert number * 10 in written and number * 10 + 1 in written
        returned.append(number)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(returned) == list(range(WRITERS))
    assert sorted(written) == sorted(n * 10 + k for n in range(WRITERS) for k in (0, 1))
    assert len(batches) < WRITERS, f"no batch was shared: {batches}"


def test_a_failed_batch_raises_in_each_of_its_callers_and_the_next_batch_still_runs() -> None:
    calls: list[list[str]] = []

    def write_batch(rows: list[str]) -> None:
        calls.append(list(rows))
        if "bad" in rows:
            raise OSError("disk full")

    commit: GroupCommit[str] = GroupCommit(write_batch)
    with pytest.raises(OSError, match="disk full"):
        commit.submit(["bad"])
    commit.submit(["good"])
    assert calls == [["bad"], ["good"]]
