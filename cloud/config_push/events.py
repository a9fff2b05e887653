"""Events that cloud processes exchange about config and snapshots.

Each event travels as a short JSON text: the payload of a Postgres ``NOTIFY`` on
``CHANNEL`` (at most 8000 bytes, far above what these need). ``origin`` names the
process that made the event, so a process skips its own notifications, which it
has already delivered in-process.
"""

import json
from dataclasses import asdict, dataclass

CHANNEL = "dale_config_push"


@dataclass(frozen=True)
class ConfigChanged:
    """A new config version was committed for an agent."""

    agent_id: str
    version: int


@dataclass(frozen=True)
class SnapshotRequested:
    """An operator asked the agents of a store for a camera's latest frame."""

    command_id: str
    camera_id: str
    store_id: str
    max_bytes: int


@dataclass(frozen=True)
class SnapshotCompleted:
    """The agent's Snapshot record for a request was committed."""

    command_id: str


Event = ConfigChanged | SnapshotRequested | SnapshotCompleted

_KINDS: dict[str, type[Event]] = {
    "config_changed": ConfigChanged,
    "snapshot_requested": SnapshotRequested,
    "snapshot_completed": SnapshotCompleted,
}
_NAMES = {kind: name for name, kind in _KINDS.items()}


class EventDecodeError(ValueError):
    """A notification payload that is not an event of this module."""


def encode_event(event: Event, origin: str) -> str:
    """Return the NOTIFY payload of an event made by process ``origin``."""
    body = {"kind": _NAMES[type(event)], "origin": origin, **asdict(event)}
    return json.dumps(body, separators=(",", ":"))


def decode_event(payload: str) -> tuple[Event, str]:
    """Return the event and its origin; raises ``EventDecodeError``."""
    try:
        body = json.loads(payload)
        kind = _KINDS[body.pop("kind")]
        origin = body.pop("origin")
        return kind(**body), origin
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise EventDecodeError(
            f"invalid config push notification {payload[:200]!r}: {error}"
        ) from error
