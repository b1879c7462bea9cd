"""Group commit: the writes of many requests in one transaction, the audit chain appended once.

Every registered read ends with a write (its register row, its audit entry, sometimes a stored
answer) and the audit chain admits one appender at a time: committed one request at a time, the
chain's lock is held through every request's commit in turn. A :class:`GroupCommit` (one per
process) takes *jobs* from any number of threads or event-loop tasks, and its own thread writes
whatever is waiting as one transaction: each job's rows, then all their audit entries appended
in job order under one lock of the chain's head, then one commit. A job's caller gets its result
only once that commit is done, so an answered request is as durable as before, and the chain is
the same chain (``AuditLog.verify`` checks it as ever).

A job that fails fails alone: when a batch's transaction fails, its jobs are written again one
per transaction, and each caller gets its own job's result or exception (e.g. the
``IntegrityError`` of an idempotency key taken meanwhile).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Engine

from scoring.audit import AuditLog, PendingEntry

__all__ = ["GroupCommit", "Job", "Written"]

T = TypeVar("T")


@dataclass(frozen=True)
class Written(Generic[T]):
    """What a job wrote: its result for the caller and the audit entries to append."""

    result: T
    entries: Sequence[PendingEntry] = ()


# A job writes its rows on the batch's connection (in the batch's transaction, not committing).
Job = Callable[[Connection], Written[T]]


@dataclass
class _Pending:
    job: Job[Any]
    done: Callable[[Any, BaseException | None], None]
    outcome: list[Any] = field(default_factory=list)


_STOP = object()


class GroupCommit:
    """One writer thread per process committing queued jobs in batches of up to ``max_batch``."""

    def __init__(self, engine: Engine, audit: AuditLog, *, max_batch: int = 128) -> None:
        self.engine = engine
        self.audit = audit
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # transactions committed (for tests and diagnostics)

    # --- callers ---------------------------------------------------------------------------------

    def run(self, job: Job[T]) -> T:
        """Queue ``job`` and wait for its batch's commit: its result, or its exception."""
        event = threading.Event()
        box: list[Any] = []

        def done(result: Any, exc: BaseException | None) -> None:
            box.append((result, exc))
            event.set()

        self._put(_Pending(job, done))
        event.wait()
        result, exc = box[0]
        if exc is not None:
            raise exc
        return result

    async def run_async(self, job: Job[T]) -> T:
        """``run`` for an event loop: the loop keeps serving while the batch commits."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def settle(result: Any, exc: BaseException | None) -> None:
            if future.done():  # the caller went away (cancelled)
                return
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(result)

        def done(result: Any, exc: BaseException | None) -> None:
            loop.call_soon_threadsafe(settle, result, exc)

        self._put(_Pending(job, done))
        return await future

    def close(self) -> None:
        """Write what is queued, then stop the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join()

    # --- the writer ------------------------------------------------------------------------------

    def _put(self, pending: _Pending) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, name="group-commit", daemon=True)
                    self._thread.start()
        self._queue.put(pending)

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                batch.append(more)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Pending]) -> None:
        try:
            results = self._commit(batch)
        except BaseException as exc:
            if len(batch) == 1:
                batch[0].done(None, exc)
                return
            for pending in batch:  # each job alone: one failure must not fail the others
                self._write([pending])
            return
        for pending, result in zip(batch, results, strict=True):
            pending.done(result, None)

    def _commit(self, batch: list[_Pending]) -> list[Any]:
        results: list[Any] = []
        entries: list[PendingEntry] = []
        with self.engine.begin() as conn:
            for pending in batch:
                written = pending.job(conn)
                results.append(written.result)
                entries.extend(written.entries)
            self.audit.append_many(conn, entries)
        self.batches += 1
        return results
