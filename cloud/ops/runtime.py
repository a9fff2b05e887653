"""``OpsRuntime``: what the operator services of one process share.

It owns the database helper, the authenticator, the alert hub for WatchAlerts,
the webhook worker and the background loops (rule sweeper, low_conversion
evaluation), and the alert hook that ingest calls after each commit.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from cloud.db.base import utc_now
from cloud.ops import accounts, passwords
from cloud.ops.alert_watch import AlertHub
from cloud.ops.auth import Authenticator
from cloud.ops.conversion_rules import evaluate_conversion_rules
from cloud.ops.database import Database
from cloud.ops.login_throttle import LoginThrottle
from cloud.ops.rule_evaluation import (
    EvaluationReport,
    evaluate_alerts,
    unevaluated_alert_ids,
)
from cloud.ops.settings import OpsSettings
from cloud.ops.webhook_worker import WebhookWorker

log = structlog.get_logger(__name__)

# Maximum number of alerts one sweep evaluates; the rest wait for the next one.
SWEEP_BATCH_SIZE = 1_000
# Alert ids named in one log line at most.
MAX_LOGGED_ALERT_IDS = 20


class OpsRuntime:
    def __init__(
        self,
        engine: Engine,
        settings: OpsSettings | None = None,
        clock: Callable[[], datetime] = utc_now,
        http_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or OpsSettings()
        self.clock = clock
        self.database = Database(engine)
        self.auth = Authenticator(self.database, clock)
        self.hub = AlertHub(self.database, self.settings, clock)
        self.webhooks = WebhookWorker(
            self.database, self.settings, clock, http_transport
        )
        self.password_cost = passwords.ScryptCost(n=self.settings.password_hash_cost_n)
        self.login_throttle = LoginThrottle(
            self.settings.login_max_failures,
            timedelta(seconds=self.settings.login_failure_window_seconds),
        )
        self._password_slots = asyncio.Semaphore(
            self.settings.password_hash_concurrency
        )
        # Rule evaluation of this process runs one batch at a time, so cooldown
        # checks see the alerts the previous batch let through.
        self._rules_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []

    # Lifecycle

    async def start(self) -> None:
        """Start the webhook worker, the watch poller and the rule loops."""
        loops: dict[str, Callable[[], Awaitable[None]]] = {
            "webhook_worker": self.webhooks.run,
            "alert_poller": self.hub.run_poller,
            "rule_sweeper": self._run_rule_sweeper,
            "conversion_rules": self._run_conversion_rules,
            "session_purge": self._run_session_purge,
        }
        for name, loop in loops.items():
            self._tasks.append(asyncio.create_task(loop(), name=f"ops-{name}"))
        log.info("ops_runtime_started", tasks=sorted(loops))

    async def stop(self) -> None:
        """Stop the background tasks; a delivery in flight is allowed to finish."""
        self.webhooks.stop()
        for task in self._tasks:
            if task.get_name() != "ops-webhook_worker":
                task.cancel()
        done, pending = await asyncio.wait(
            self._tasks, timeout=self.settings.webhook_timeout_seconds + 1
        )
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        log.info("ops_runtime_stopped", unfinished=len(pending))

    # Alerts

    async def on_alerts_inserted(self, alert_ids: list[int]) -> None:
        """Alert hook for ingest: apply the rules, then tell watchers and the
        webhook worker. A database error leaves the alerts to the sweeper."""
        try:
            async with self._rules_lock:
                report = await self.database.run(
                    evaluate_alerts, alert_ids, self.clock()
                )
        except SQLAlchemyError as error:
            log.error(
                "alert_evaluation_failed",
                alert_ids=alert_ids[:MAX_LOGGED_ALERT_IDS],
                error=str(error),
            )
            return
        self.announce(report)

    def announce(self, report: EvaluationReport) -> None:
        """Publish evaluated alerts and wake the webhook worker when needed."""
        for organization_id, ids in report.alert_ids_by_org.items():
            self.hub.publish(organization_id, ids)
        if report.notifications_queued:
            self.webhooks.wake()

    async def _run_rule_sweeper(self) -> None:
        lookback = timedelta(hours=self.settings.rule_sweep_lookback_hours)
        while True:
            await asyncio.sleep(self.settings.rule_sweep_interval_seconds)
            try:
                ids = await self.database.run(
                    unevaluated_alert_ids, self.clock() - lookback, SWEEP_BATCH_SIZE
                )
            except SQLAlchemyError as error:
                log.error("rule_sweep_failed", error=str(error))
                continue
            if ids:
                log.info("rule_sweep_found_alerts", count=len(ids))
                await self.on_alerts_inserted(ids)

    async def _run_conversion_rules(self) -> None:
        while True:
            await asyncio.sleep(self.settings.conversion_evaluation_interval_seconds)
            await self.evaluate_conversion_rules()

    async def evaluate_conversion_rules(self) -> None:
        """Evaluate every low_conversion rule once now."""
        try:
            async with self._rules_lock:
                report = await self.database.run(
                    evaluate_conversion_rules, self.clock()
                )
        except SQLAlchemyError as error:
            log.error("conversion_rules_failed", error=str(error))
            return
        self.announce(report)

    # Sessions

    async def _run_session_purge(self) -> None:
        while True:
            await asyncio.sleep(self.settings.session_purge_interval_seconds)
            await self.purge_expired_sessions()

    async def purge_expired_sessions(self) -> int:
        """Delete sessions expired longer than the retention; return how many."""
        retention = timedelta(hours=self.settings.session_retention_hours)
        try:
            purged = await self.database.run(
                accounts.purge_expired_sessions, self.clock() - retention
            )
        except SQLAlchemyError as error:
            log.error("session_purge_failed", error=str(error))
            return 0
        if purged:
            log.info("sessions_purged", count=purged)
        return purged

    # Passwords

    async def hash_password(self, password: str) -> str:
        """Hash in a worker thread; at most ``password_hash_concurrency`` at once."""
        async with self._password_slots:
            return await asyncio.to_thread(
                passwords.hash_password, password, self.password_cost
            )

    async def verify_password(self, password: str, encoded: str | None) -> bool:
        """Check a password; None (unknown account) costs as much and fails."""
        async with self._password_slots:
            return await asyncio.to_thread(
                passwords.verify_password_or_dummy,
                password,
                encoded,
                self.password_cost,
            )
