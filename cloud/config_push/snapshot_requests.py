"""Snapshot requests: one ``camera_snapshots`` row per request, completed by ingest.

A request row starts with ``completed`` False. Ingest completes it when the
agent's ``Snapshot`` record with the same command id arrives, with a JPEG or with
the agent's error, and keeps the first record.
"""

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud.config_push.events import SnapshotRequested
from cloud.db.models import Camera, CameraSnapshot, Store
from cloud.errors import InvalidValueError, NotFoundError
from cloud.ops import scope

DEFAULT_MAX_BYTES = 1024 * 1024
MIN_MAX_BYTES = 16 * 1024
# Room for the other fields of the Snapshot record next to the JPEG.
RECORD_OVERHEAD_BYTES = 1024


class SnapshotState(enum.Enum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class SnapshotView:
    row: CameraSnapshot

    @property
    def state(self) -> SnapshotState:
        if not self.row.completed:
            return SnapshotState.PENDING
        if self.row.jpeg:
            return SnapshotState.COMPLETED
        return SnapshotState.FAILED


@dataclass(frozen=True)
class NewRequest:
    view: SnapshotView
    event: SnapshotRequested

    @property
    def events(self) -> tuple[SnapshotRequested]:
        return (self.event,)


def validate_max_bytes(value: int, max_snapshot_record_bytes: int) -> int:
    """Return the JPEG size limit of a request; 0 gives ``DEFAULT_MAX_BYTES``."""
    upper = max_snapshot_record_bytes - RECORD_OVERHEAD_BYTES
    if value == 0:
        return min(DEFAULT_MAX_BYTES, upper)
    if not MIN_MAX_BYTES <= value <= upper:
        raise InvalidValueError(
            "max_bytes",
            value,
            f"max_bytes {value} is out of range: use {MIN_MAX_BYTES} to {upper}, or "
            "0 for the default",
        )
    return value


def create_request(
    session: Session,
    organization_id: str,
    camera_id: str,
    max_bytes: int,
    user_id: str,
    now: datetime,
) -> NewRequest:
    """Store a pending request with the event that sends it to the agents."""
    camera = scope.get_camera(session, organization_id, camera_id)
    row = CameraSnapshot(
        camera_id=camera_id,
        command_id=uuid.uuid4().hex,
        requested_by=user_id,
        requested_at=now,
        completed=False,
        max_bytes=max_bytes,
    )
    session.add(row)
    session.flush()
    event = SnapshotRequested(
        command_id=row.command_id,
        camera_id=camera_id,
        store_id=camera.store_id,
        max_bytes=max_bytes,
    )
    return NewRequest(SnapshotView(row), event)


def get_request(
    session: Session, organization_id: str, request_id: str
) -> SnapshotView:
    row = session.execute(
        select(CameraSnapshot, Store.organization_id)
        .join(Camera, Camera.id == CameraSnapshot.camera_id)
        .join(Store, Store.id == Camera.store_id)
        .where(CameraSnapshot.command_id == request_id)
    ).one_or_none()
    if row is None or row.organization_id != organization_id:
        raise NotFoundError(
            "request_id",
            request_id,
            f"snapshot request {request_id!r} not found: use the request_id that "
            "RequestSnapshot returned",
        )
    return SnapshotView(row.CameraSnapshot)


def get_latest(
    session: Session, organization_id: str, camera_id: str, require_jpeg: bool
) -> SnapshotView:
    """Return the camera's newest completed request; raises ``NotFoundError``."""
    scope.get_camera(session, organization_id, camera_id, include_deleted=True)
    query = (
        select(CameraSnapshot)
        .where(
            CameraSnapshot.camera_id == camera_id, CameraSnapshot.completed.is_(True)
        )
        .order_by(CameraSnapshot.id.desc())
        .limit(1)
    )
    if require_jpeg:
        query = query.where(CameraSnapshot.jpeg.is_not(None))
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFoundError(
            "camera_id",
            camera_id,
            f"camera {camera_id!r} has no snapshot yet: request one with "
            "ConfigService.RequestSnapshot",
        )
    return SnapshotView(row)


def pending_requests(
    session: Session, store_id: str, since: datetime
) -> list[SnapshotRequested]:
    """Return the store's requests made since ``since`` that no agent completed."""
    rows = session.execute(
        select(
            CameraSnapshot.command_id,
            CameraSnapshot.camera_id,
            CameraSnapshot.max_bytes,
        )
        .join(Camera, Camera.id == CameraSnapshot.camera_id)
        .where(
            Camera.store_id == store_id,
            CameraSnapshot.completed.is_(False),
            CameraSnapshot.requested_at >= since,
        )
        .order_by(CameraSnapshot.id)
    )
    return [
        SnapshotRequested(
            command_id=command_id,
            camera_id=camera_id,
            store_id=store_id,
            max_bytes=max_bytes or DEFAULT_MAX_BYTES,
        )
        for command_id, camera_id, max_bytes in rows
    ]


def is_completed(session: Session, request_id: str) -> bool:
    return bool(
        session.execute(
            select(CameraSnapshot.completed).where(
                CameraSnapshot.command_id == request_id
            )
        ).scalar_one_or_none()
    )
