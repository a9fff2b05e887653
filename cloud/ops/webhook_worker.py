"""The asyncio task that posts queued notifications to organizations' webhooks.

Delivery is at least once. A notification is marked sent only after a 2xx
response, so a crash or timeout after the receiver accepted it leads to a second
post with the same ``event_id``, which receivers use to drop the repeat.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy.exc import SQLAlchemyError

from cloud.db.base import utc_now
from cloud.ops import notifications
from cloud.ops.database import Database
from cloud.ops.envelope import (
    ATTEMPT_HEADER,
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    is_retryable_status,
    retry_delay_seconds,
    sign_body,
)
from cloud.ops.settings import OpsSettings

log = structlog.get_logger(__name__)

USER_AGENT = "dalevision-cloud-webhook/1"
# Maximum length of an error text kept in the log of a notification.
MAX_ERROR_CHARACTERS = 500


class WebhookWorker:
    """Claims due notifications, posts them, and records each attempt."""

    def __init__(
        self,
        database: Database,
        settings: OpsSettings,
        clock: Callable[[], datetime] = utc_now,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._database = database
        self._settings = settings
        self._clock = clock
        self._transport = transport
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        """Look for due notifications now instead of at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Deliver notifications until ``stop`` is called."""
        timeout = httpx.Timeout(self._settings.webhook_timeout_seconds)
        log.info("webhook_worker_started")
        async with httpx.AsyncClient(
            timeout=timeout,
            transport=self._transport,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        ) as client:
            while not self._stopping:
                delivered = await self._deliver_due(client)
                if delivered == 0 and not self._stopping:
                    await self._sleep_until_woken()
        log.info("webhook_worker_stopped")

    async def _sleep_until_woken(self) -> None:
        try:
            await asyncio.wait_for(
                self._wake.wait(), self._settings.notification_poll_interval_seconds
            )
        except TimeoutError:
            pass
        self._wake.clear()

    async def _deliver_due(self, client: httpx.AsyncClient) -> int:
        """Claim and post one batch; return how many notifications it held."""
        lease = timedelta(seconds=2 * self._settings.webhook_timeout_seconds + 30)
        try:
            deliveries = await self._database.run(
                notifications.claim_due,
                self._clock(),
                lease,
                self._settings.webhook_concurrency,
                self._database.is_postgres,
            )
        except SQLAlchemyError as error:
            log.error("webhook_claim_failed", error=str(error))
            return 0
        if deliveries:
            await asyncio.gather(
                *(self._deliver(client, delivery) for delivery in deliveries)
            )
        return len(deliveries)

    async def _deliver(
        self, client: httpx.AsyncClient, delivery: notifications.Delivery
    ) -> None:
        http_status, error, retryable = await self._post(client, delivery)
        retry_at = None
        if error is not None and retryable:
            if delivery.attempt < self._settings.webhook_max_attempts:
                delay = retry_delay_seconds(
                    delivery.attempt,
                    self._settings.webhook_backoff_base_seconds,
                    self._settings.webhook_backoff_max_seconds,
                )
                retry_at = self._clock() + timedelta(seconds=delay)
        try:
            status = await self._database.run(
                notifications.record_attempt,
                delivery.notification_id,
                delivery.attempt,
                http_status,
                error,
                retry_at,
                self._clock(),
            )
        except SQLAlchemyError as error_recording:
            # The lease runs out and the notification is posted again. Receivers
            # drop the repeat by its event_id.
            log.error(
                "webhook_attempt_not_recorded",
                notification_id=delivery.notification_id,
                error=str(error_recording),
            )
            return
        log_method = log.info if error is None else log.warning
        log_method(
            "webhook_attempt",
            notification_id=delivery.notification_id,
            organization_id=delivery.organization_id,
            event_id=delivery.event_id,
            attempt=delivery.attempt,
            http_status=http_status,
            error=error,
            status=status,
            retry_at=retry_at.isoformat() if retry_at else None,
        )

    async def _post(
        self, client: httpx.AsyncClient, delivery: notifications.Delivery
    ) -> tuple[int | None, str | None, bool]:
        """Post once; return (HTTP status, error or None, whether to retry)."""
        if delivery.url is None:
            return None, notifications.NO_WEBHOOK_ERROR, False
        body = delivery.payload.encode()
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: delivery.event_id,
            ATTEMPT_HEADER: str(delivery.attempt),
        }
        if delivery.secret:
            headers[SIGNATURE_HEADER] = sign_body(body, delivery.secret)
        try:
            response = await client.post(delivery.url, content=body, headers=headers)
        except httpx.TimeoutException as error:
            timeout = self._settings.webhook_timeout_seconds
            return None, f"timed out after {timeout} s ({type(error).__name__})", True
        except httpx.HTTPError as error:
            message = f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARACTERS]
            return None, message, True
        if 200 <= response.status_code < 300:
            return response.status_code, None, False
        reason = response.reason_phrase or "no reason"
        error = f"webhook answered HTTP {response.status_code} {reason}"
        if 300 <= response.status_code < 400:
            error += ": redirects are not followed, set the final URL"
        return response.status_code, error, is_retryable_status(response.status_code)
