"""``PostgresListener``: ``LISTEN`` on one channel from the asyncio event loop.

The listener keeps its own psycopg2 connection in autocommit mode, outside the
SQLAlchemy pool. ``loop.add_reader`` watches its socket, and ``poll()`` then reads
the notifications without blocking. A failed connection is closed and
opened again with exponential backoff, and every successful connect calls
``on_connected``, so the owner can resend what it may have missed meanwhile.
"""

import asyncio
from collections.abc import Callable

import psycopg2
import psycopg2.extensions
import structlog
from sqlalchemy.engine import make_url

from cloud.config_push.settings import ConfigPushSettings
from cloud.db.engine import display_url

log = structlog.get_logger(__name__)

APPLICATION_NAME = "dale-cloud-config-listener"


class PostgresListener:
    def __init__(
        self,
        database_url: str,
        channel: str,
        on_payload: Callable[[str], None],
        on_connected: Callable[[], None],
        settings: ConfigPushSettings,
    ) -> None:
        self._url = make_url(database_url)
        self._channel = channel
        self._on_payload = on_payload
        self._on_connected = on_connected
        self._settings = settings
        self._connection: psycopg2.extensions.connection | None = None
        self._fd: int | None = None
        self._lost: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._log = log.bind(channel=channel, database=display_url(database_url))
        self.connects = 0

    @property
    def backend_pid(self) -> int | None:
        """Process id of the listening server backend, while connected."""
        connection = self._connection
        return connection.get_backend_pid() if connection is not None else None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        self._log.info("config_listener_stopped")

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        try:
            while True:
                try:
                    await asyncio.to_thread(self._connect)
                except psycopg2.Error as error:
                    attempt += 1
                    delay = self._retry_delay(attempt)
                    self._log.error(
                        "config_listener_connect_failed",
                        attempt=attempt,
                        retry_in_seconds=delay,
                        error=str(error).strip(),
                    )
                    await asyncio.sleep(delay)
                    continue
                attempt = 0
                await self._listen(loop)
        finally:
            self._close(loop)

    async def _listen(self, loop: asyncio.AbstractEventLoop) -> None:
        connection = self._connection
        assert connection is not None
        self._lost = asyncio.Event()
        self._fd = connection.fileno()
        loop.add_reader(self._fd, self._read)
        self.connects += 1
        self._log.info(
            "config_listener_connected",
            backend_pid=connection.get_backend_pid(),
            connects=self.connects,
        )
        # Notifications sent while the listener was down are gone; the owner
        # resends what matters.
        self._on_connected()
        await self._lost.wait()
        self._close(loop)
        delay = self._retry_delay(1)
        self._log.warning("config_listener_reconnecting", retry_in_seconds=delay)
        await asyncio.sleep(delay)

    def _connect(self) -> None:
        settings = self._settings
        dsn = self._url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        connection = psycopg2.connect(
            dsn,
            application_name=APPLICATION_NAME,
            connect_timeout=settings.listener_connect_timeout_seconds,
            keepalives=1,
            keepalives_idle=settings.listener_keepalive_idle_seconds,
            keepalives_interval=settings.listener_keepalive_interval_seconds,
            keepalives_count=settings.listener_keepalive_count,
        )
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(f'LISTEN "{self._channel}"')
        except psycopg2.Error:
            connection.close()
            raise
        self._connection = connection

    def _read(self) -> None:
        connection = self._connection
        if connection is None or self._lost is None:
            return
        try:
            connection.poll()
        except psycopg2.Error as error:
            self._log.error("config_listener_lost", error=str(error).strip())
            self._lost.set()
            return
        while connection.notifies:
            notification = connection.notifies.pop(0)
            if notification.channel == self._channel:
                self._on_payload(notification.payload)

    def _close(self, loop: asyncio.AbstractEventLoop) -> None:
        connection, self._connection = self._connection, None
        fd, self._fd = self._fd, None
        if fd is not None:
            loop.remove_reader(fd)
        if connection is not None:
            connection.close()

    def _retry_delay(self, attempt: int) -> float:
        settings = self._settings
        delay = settings.listener_retry_initial_seconds * 2 ** (attempt - 1)
        return min(settings.listener_retry_max_seconds, delay)
