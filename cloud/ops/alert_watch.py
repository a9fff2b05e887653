"""Fan-out of raised and changed alerts to WatchAlerts streams.

Within one process, writers call ``AlertHub.publish`` after their commit: the
ingest hook, rule evaluation, resolve and ignore. For alerts written by other
processes, a poller reads ``alert_events.updated_at`` every
``watch_poll_interval_seconds`` while anyone watches, so they arrive within about
that interval.

NOTE: the poller compares ``updated_at`` values set by the writers' clocks, so
watchers can miss changes from a process whose clock lags the poller's by more
than ``POLL_OVERLAP``. Postgres LISTEN/NOTIFY would remove the delay and the
clock dependence.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import SQLAlchemyError

from cloud.db.base import utc_now
from cloud.ops import alerts
from cloud.ops.database import Database
from cloud.ops.settings import OpsSettings

log = structlog.get_logger(__name__)

# Alert ids a subscriber may have waiting before it is dropped as too slow.
MAX_PENDING_ALERT_IDS = 10_000
# The poller re-reads this far back to cover commits that landed late.
POLL_OVERLAP = timedelta(seconds=10)
# Maximum number of alert ids one poll reads.
POLL_LIMIT = 5_000


class SubscriberOverflowError(Exception):
    """A subscriber fell more than MAX_PENDING_ALERT_IDS alerts behind."""


class Subscription:
    """The alert ids published to one watcher, in arrival order."""

    def __init__(self, organization_id: str) -> None:
        self.organization_id = organization_id
        self._pending: list[int] = []
        self._ready = asyncio.Event()
        self.overflowed = False

    def push(self, alert_ids: Iterable[int]) -> None:
        self._pending.extend(alert_ids)
        if len(self._pending) > MAX_PENDING_ALERT_IDS:
            self.overflowed = True
        self._ready.set()

    async def next_batch(self, timeout_seconds: float) -> list[int]:
        """Return the waiting ids, or [] when none arrive within the timeout.

        Raises SubscriberOverflowError once the subscriber has fallen too far
        behind.
        """
        if not self._pending:
            try:
                await asyncio.wait_for(self._ready.wait(), timeout_seconds)
            except TimeoutError:
                return []
        if self.overflowed:
            raise SubscriberOverflowError(self.organization_id)
        batch, self._pending = self._pending, []
        self._ready.clear()
        return batch


class SentVersions:
    """The last ``updated_at`` sent per alert id, to skip repeats.

    Replay and live updates overlap, and the poller re-reads a window, so one
    version of an alert can arrive more than once.
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self._versions: OrderedDict[int, datetime] = OrderedDict()
        self._capacity = capacity

    def was_sent(self, alert_id: int) -> bool:
        return alert_id in self._versions

    def is_new(self, alert_id: int, updated_at: datetime) -> bool:
        return self._versions.get(alert_id) != updated_at

    def remember(self, alert_id: int, updated_at: datetime) -> None:
        self._versions[alert_id] = updated_at
        self._versions.move_to_end(alert_id)
        while len(self._versions) > self._capacity:
            self._versions.popitem(last=False)


class AlertHub:
    """Subscriptions per organization and the poller for other processes' writes."""

    def __init__(
        self,
        database: Database,
        settings: OpsSettings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._settings = settings
        self._clock = clock
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, organization_id: str) -> Subscription:
        subscription = Subscription(organization_id)
        self._subscriptions.setdefault(organization_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        subscribers = self._subscriptions.get(subscription.organization_id, set())
        subscribers.discard(subscription)
        if not subscribers:
            self._subscriptions.pop(subscription.organization_id, None)

    @property
    def subscriber_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._subscriptions.values())

    def publish(self, organization_id: str, alert_ids: Iterable[int]) -> None:
        """Hand alert ids to every watcher of the organization."""
        ids = list(alert_ids)
        if not ids:
            return
        for subscription in self._subscriptions.get(organization_id, ()):
            subscription.push(ids)

    async def run_poller(self) -> None:
        """Publish alerts changed by any process, while anyone watches."""
        watermark = self._clock()
        truncated = False
        seen: dict[int, datetime] = {}
        interval = self._settings.watch_poll_interval_seconds
        log.info("alert_poller_started", interval_seconds=interval)
        while True:
            await asyncio.sleep(interval)
            if not self._subscriptions:
                watermark = self._clock()
                continue
            poll_started = self._clock()
            # After a full page, continue exactly where it ended; otherwise look
            # back by the overlap.
            since = watermark if truncated else watermark - POLL_OVERLAP
            try:
                changed = await self._database.run(
                    alerts.alert_ids_changed_since,
                    list(self._subscriptions),
                    since,
                    POLL_LIMIT,
                )
            except SQLAlchemyError as error:
                log.error("alert_poll_failed", error=str(error))
                continue
            # Versions published by earlier polls inside the look-back are skipped.
            seen = {
                alert_id: updated_at
                for alert_id, updated_at in seen.items()
                if updated_at >= since
            }
            by_org: dict[str, list[int]] = {}
            for organization_id, alert_id, updated_at in changed:
                if seen.get(alert_id) == updated_at:
                    continue
                seen[alert_id] = updated_at
                by_org.setdefault(organization_id, []).append(alert_id)
            for organization_id, alert_ids in by_org.items():
                self.publish(organization_id, alert_ids)
            truncated = len(changed) == POLL_LIMIT
            if truncated:
                log.warning("alert_poll_truncated", limit=POLL_LIMIT)
                watermark = changed[-1][2]
            else:
                watermark = poll_started
