"""Camera look-ups for ingest, cached so that most records need no query."""

import asyncio
import time
from collections.abc import Callable, Iterable

import structlog
from sqlalchemy import Engine, select

from cloud.db.models import Camera
from cloud.ingest.validation import CameraInfo

log = structlog.get_logger(__name__)


class CameraDirectory:
    """Maps camera ids to their store, reading the database on a cache miss.

    Found cameras are cached for ``cache_seconds``, so a camera moved or deleted
    by another process is seen within that time, and ``forget`` drops an entry
    at once. Unknown ids are not cached, so a camera created after a rejected
    record is found by the next one.
    """

    def __init__(
        self,
        engine: Engine,
        cache_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._entries: dict[str, tuple[CameraInfo, float]] = {}

    def cached(self, camera_ids: Iterable[str]) -> dict[str, CameraInfo] | None:
        """Return the cameras when every id is cached and fresh, else None."""
        now = self._clock()
        found = {}
        for camera_id in camera_ids:
            entry = self._entries.get(camera_id)
            if entry is None or entry[1] < now:
                return None
            found[camera_id] = entry[0]
        return found

    async def lookup(self, camera_ids: set[str]) -> dict[str, CameraInfo]:
        """Return the cameras among ``camera_ids`` that exist, deleted ones too."""
        found = self.cached(camera_ids)
        if found is not None:
            return found
        loaded = await asyncio.to_thread(self._load, camera_ids)
        expires = self._clock() + self._cache_seconds
        for camera_id, info in loaded.items():
            self._entries[camera_id] = (info, expires)
        return loaded

    def forget(self, camera_id: str) -> None:
        """Drop a cached camera, e.g. after it was moved or deleted."""
        self._entries.pop(camera_id, None)

    def _load(self, camera_ids: set[str]) -> dict[str, CameraInfo]:
        query = select(Camera.id, Camera.store_id, Camera.deleted_at).where(
            Camera.id.in_(camera_ids)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        return {
            camera_id: CameraInfo(
                camera_id=camera_id, store_id=store_id, deleted=deleted_at is not None
            )
            for camera_id, store_id, deleted_at in rows
        }
