"""Group commit: records from every stream are written in few transactions.

``submit`` queues a validated record and returns a future that completes after
the record's transaction has committed: with None when the record is stored
(or was stored before), or with the ``RecordProblem`` that rejected it. Batches
are written in dedicated threads, so the event loop does not wait for database
writes. While a batch is written, the next one fills up.

A database error that is not one record's fault (the server restarted, the
connection dropped, SQLite is locked) rolls the batch back, and the same batch
is tried again with exponential backoff until it commits. No future completes
before its commit.

With ``writer_threads`` above 1, that many batches are written at once on
separate connections, so one batch's round trips and commit overlap the next
one's work. Batches then commit in any order; each record is still acked only
after its own commit.
"""

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from cloud.ingest.records import IngestRecord, RecordProblem
from cloud.ingest.writer import BatchResult, IngestWriter
from cloud.settings import IngestSettings

log = structlog.get_logger(__name__)

# Errors of the database or the path to it, not of the records: retried.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
)

CommitCallback = Callable[[Sequence[IngestRecord], BatchResult], None]


@dataclass
class _Pending:
    record: IngestRecord
    future: asyncio.Future[RecordProblem | None]


class BatcherClosedError(Exception):
    """The batcher takes no more records because the server is stopping."""


class IngestBatcher:
    def __init__(
        self,
        writer: IngestWriter,
        settings: IngestSettings,
        on_commit: CommitCallback | None = None,
    ) -> None:
        self._writer = writer
        self._settings = settings
        self._on_commit = on_commit
        self._pending: deque[_Pending] = deque()
        # Batches being written, each until its futures are completed.
        self._writing: dict[int, list[_Pending]] = {}
        self._commits: set[asyncio.Task] = set()
        self._writer_slots = asyncio.Semaphore(settings.writer_threads)
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closing = False
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(
            max_workers=settings.writer_threads, thread_name_prefix="ingest-writer"
        )

    @property
    def queued(self) -> int:
        """Records waiting for a batch, the one being written excluded."""
        return len(self._pending)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ingest-batcher")
        self._task.add_done_callback(self._on_stopped)

    def _on_stopped(self, task: asyncio.Task) -> None:
        # The loop and commit tasks end early only when ``close`` cancels them.
        # Anything else is a fault that would leave every waiting stream
        # without an ack or an error.
        if task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        self._closing = True
        for pending in self._unfinished():
            if not pending.future.done():
                pending.future.set_exception(error)
        self._pending.clear()
        self._writing.clear()
        self._idle.set()
        log.error("batcher_stopped_by_error", error=repr(error))

    def _unfinished(self) -> list[_Pending]:
        writing = [pending for batch in self._writing.values() for pending in batch]
        return [*writing, *self._pending]

    def submit(self, record: IngestRecord) -> asyncio.Future[RecordProblem | None]:
        """Queue a record; the future completes after its transaction commits."""
        if self._closing:
            raise BatcherClosedError("the server is stopping: records are not taken")
        future = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(record, future))
        self._idle.clear()
        self._wakeup.set()
        return future

    async def close(self, timeout_seconds: float) -> bool:
        """Take no more records, write those queued, then stop.

        Returns False when the queued records could not be committed within the
        timeout, for example while the database is down. Their futures are then
        cancelled and the records stay unacked, so the agents send them again.
        """
        self._closing = True
        self._wakeup.set()
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_seconds)
            flushed = True
        except TimeoutError:
            flushed = False
            log.error(
                "batcher_close_timed_out",
                timeout_seconds=timeout_seconds,
                unwritten_records=len(self._pending),
            )
        unfinished = self._unfinished()
        tasks = [*self._commits, *([self._task] if self._task else [])]
        for task in tasks:
            task.cancel()
        # A task that died of an error has reported it in ``_on_stopped``.
        await asyncio.gather(*tasks, return_exceptions=True)
        for pending in unfinished:
            pending.future.cancel()
        self._pending.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)
        return flushed

    async def _run(self) -> None:
        delay_seconds = self._settings.batch_max_delay_ms / 1000
        max_records = self._settings.batch_max_records
        while True:
            if not self._pending:
                if not self._commits:
                    self._idle.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            await self._writer_slots.acquire()
            # Give other streams a moment to add to a small batch.
            if len(self._pending) < max_records and not self._closing:
                await asyncio.sleep(delay_seconds)
            batch = [
                self._pending.popleft()
                for _ in range(min(max_records, len(self._pending)))
            ]
            task = asyncio.create_task(self._commit(batch))
            self._commits.add(task)
            task.add_done_callback(self._commit_finished)

    def _commit_finished(self, task: asyncio.Task) -> None:
        self._commits.discard(task)
        self._writer_slots.release()
        self._wakeup.set()
        self._on_stopped(task)

    async def _commit(self, batch: list[_Pending]) -> None:
        records = [pending.record for pending in batch]
        # Kept until every future is completed, so ``close`` and ``_on_stopped``
        # can cancel or fail a batch that is still being written.
        self._writing[id(batch)] = batch
        try:
            result = await self._write_until_committed(records)
        except Exception as error:
            # Not a database error: a fault in the writer. The records stay
            # unacked and each waiting stream decides what to do.
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(error)
            self._writing.pop(id(batch), None)
            log.exception("batch_write_crashed", records=len(records))
            return
        for index, pending in enumerate(batch):
            if not pending.future.done():
                pending.future.set_result(result.problems.get(index))
        self._writing.pop(id(batch), None)
        if self._on_commit is not None:
            try:
                self._on_commit(records, result)
            except Exception:
                log.exception("commit_callback_failed", records=len(records))

    async def _write_until_committed(self, records: list[IngestRecord]) -> BatchResult:
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            log.debug("batch_write_started", records=len(records), attempt=attempt)
            try:
                result = await loop.run_in_executor(
                    self._executor, self._writer.write, records
                )
            except (*TRANSIENT_ERRORS, DBAPIError) as error:
                if not _is_transient(error):
                    raise
                retry_seconds = min(
                    self._settings.db_retry_max_seconds,
                    self._settings.db_retry_initial_seconds * 2 ** (attempt - 1),
                )
                log.error(
                    "batch_write_failed",
                    records=len(records),
                    attempt=attempt,
                    retry_in_seconds=retry_seconds,
                    error_type=type(error).__name__,
                    error=_describe(error),
                )
                await asyncio.sleep(retry_seconds)
                continue
            log.debug(
                "batch_committed",
                records=len(records),
                rejected=len(result.problems),
                attempt=attempt,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            if attempt > 1:
                log.info("batch_committed_after_retry", attempt=attempt)
            return result


def _is_transient(error: Exception) -> bool:
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


def _describe(error: Exception) -> str:
    original = error.orig if isinstance(error, DBAPIError) else error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(error).__name__
