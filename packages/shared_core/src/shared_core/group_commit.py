"""Group commit: rows handed in by concurrent threads share one transaction and one fsync.

The first thread to arrive while no batch is being written becomes the leader: it takes every row
queued so far and writes them; the others wait. Rows that arrive during that write form the next
batch, written by one of their own threads as soon as the leader is done. Every caller returns only
after its own rows are committed (or raises the error that stopped them), so nothing is
acknowledged before it is durable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

RowT = TypeVar("RowT")


class _Batch(Generic[RowT]):
    __slots__ = ("done", "error", "rows")

    def __init__(self) -> None:
        self.rows: list[RowT] = []
        self.done = False
        self.error: BaseException | None = None


class GroupCommit(Generic[RowT]):
    """Hands batches of rows to ``write_batch``, one batch at a time, from the callers' own threads."""

    def __init__(self, write_batch: Callable[[list[RowT]], None]) -> None:
        self._write_batch = write_batch
        self._changed = threading.Condition()
        self._open: _Batch[RowT] = _Batch()
        self._writing = False

    def submit(self, rows: Sequence[RowT]) -> None:
        """Return once ``rows`` are written; raise what the write raised if their batch failed."""
        with self._changed:
            batch = self._open
            batch.rows.extend(rows)
            while not batch.done and self._writing:
                self._changed.wait()
            if not batch.done:
                # Nobody is writing and our batch is still open: lead it.
                self._writing = True
                self._open = _Batch()
        if batch.done:
            if batch.error is not None:
                raise batch.error
            return
        try:
            self._write_batch(batch.rows)
        except BaseException as error:
            batch.error = error
            raise
        finally:
            with self._changed:
                batch.done = True
                self._writing = False
                self._changed.notify_all()
