"""Config versions of agents: ROI and threshold changes, and the configs they make.

Functions take an open ``Session`` and leave committing to the caller. A change
writes its row (``camera_rois`` or ``agent_rules``) first, then locks the agent
rows it concerns in id order and raises their ``desired_config_version`` by one
with ``UPDATE ... RETURNING``. The lock lasts until commit: on Postgres as row
locks, on SQLite as the database write lock. Two changes for one agent, from any
processes, therefore get consecutive versions, and the later one builds its config
after the earlier one has committed, so the newest version contains both changes.
``UNIQUE (agent_id, version)`` backs this up; the caller retries on a conflict.
"""

from dataclasses import dataclass
from datetime import datetime

from dalevision.edge.v1 import config_pb2
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cloud.config_push.events import ConfigChanged
from cloud.config_push.validation import (
    check_config_size,
    validate_camera_roi,
    validate_rule_thresholds,
)
from cloud.db.models import (
    Agent,
    AgentRules,
    Camera,
    CameraRoi,
    CameraSnapshot,
    ConfigVersion,
)
from cloud.errors import NotFoundError
from cloud.ops import scope
from edge.analytics import RuleThresholds
from edge.roi_codec import thresholds_to_proto

# Author of the versions the cloud makes by itself, e.g. an agent's first config.
SYSTEM_USER_ID = "system"
INITIAL_CHANGE = "initial config"


@dataclass(frozen=True)
class VersionRef:
    agent_id: str
    version: int


@dataclass(frozen=True)
class ConfigChange:
    """The versions one change made, and the events that announce them."""

    versions: tuple[VersionRef, ...]

    @property
    def events(self) -> tuple[ConfigChanged, ...]:
        return tuple(ConfigChanged(ref.agent_id, ref.version) for ref in self.versions)


@dataclass(frozen=True)
class RoiView:
    """A camera's stored ROI; ``updated_by`` is None when none was set."""

    roi: config_pb2.CameraRoi
    updated_by: str | None
    updated_at: datetime | None
    versions: tuple[VersionRef, ...]


@dataclass(frozen=True)
class RoiChange:
    roi: config_pb2.CameraRoi
    change: ConfigChange

    @property
    def events(self) -> tuple[ConfigChanged, ...]:
        return self.change.events


@dataclass(frozen=True)
class ThresholdsView:
    """An agent's stored thresholds; ``is_set`` is False for the defaults."""

    rules: config_pb2.RuleThresholds
    is_set: bool
    updated_by: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class ThresholdsChange:
    rules: config_pb2.RuleThresholds
    change: ConfigChange

    @property
    def events(self) -> tuple[ConfigChanged, ...]:
        return self.change.events


@dataclass(frozen=True)
class VersionView:
    row: ConfigVersion
    config: config_pb2.AgentConfig


# Camera ROIs -----------------------------------------------------------------


def camera_frame_size(session: Session, camera: Camera) -> tuple[int, int] | None:
    """Return the camera's frame size from its heartbeats, else its newest snapshot."""
    if camera.frame_width and camera.frame_height:
        return (camera.frame_width, camera.frame_height)
    row = session.execute(
        select(CameraSnapshot.width, CameraSnapshot.height)
        .where(
            CameraSnapshot.camera_id == camera.id,
            CameraSnapshot.completed.is_(True),
            CameraSnapshot.width > 0,
            CameraSnapshot.height > 0,
        )
        .order_by(CameraSnapshot.id.desc())
        .limit(1)
    ).one_or_none()
    return (row.width, row.height) if row is not None else None


def get_camera_roi(session: Session, organization_id: str, camera_id: str) -> RoiView:
    camera = scope.get_camera(session, organization_id, camera_id)
    row = session.get(CameraRoi, camera_id)
    agents = session.execute(
        select(Agent.id, Agent.desired_config_version)
        .where(Agent.store_id == camera.store_id, Agent.deleted_at.is_(None))
        .order_by(Agent.id)
    ).all()
    versions = tuple(
        VersionRef(agent_id, version) for agent_id, version in agents if version > 0
    )
    if row is None:
        roi = config_pb2.CameraRoi(camera_id=camera_id)
        size = camera_frame_size(session, camera)
        if size is not None:
            roi.frame_width, roi.frame_height = size
        return RoiView(roi, None, None, ())
    return RoiView(_parse_roi(row.roi), row.updated_by, row.updated_at, versions)


def set_camera_roi(
    session: Session,
    organization_id: str,
    camera_id: str,
    message: config_pb2.CameraRoi,
    user_id: str,
    now: datetime,
) -> RoiChange:
    """Validate and store a camera's ROI; make a version for each agent of its store."""
    camera = scope.get_camera(session, organization_id, camera_id)
    roi = validate_camera_roi(message, camera_id, camera_frame_size(session, camera))
    values = {
        "roi": roi.SerializeToString(deterministic=True),
        "updated_by": user_id,
        "updated_at": now,
    }
    statement = _insert(session, CameraRoi).values(camera_id=camera_id, **values)
    session.execute(
        statement.on_conflict_do_update(index_elements=["camera_id"], set_=values)
    )
    change = make_versions(
        session, camera.store_id, None, user_id, f"camera_roi {camera_id}", now
    )
    return RoiChange(roi, change)


# Rule thresholds ---------------------------------------------------------------


def get_rule_thresholds(
    session: Session, organization_id: str, agent_id: str
) -> ThresholdsView:
    scope.get_agent(session, organization_id, agent_id)
    row = session.get(AgentRules, agent_id)
    if row is None:
        return ThresholdsView(thresholds_to_proto(RuleThresholds()), False, None, None)
    rules = config_pb2.RuleThresholds.FromString(row.rules)
    return ThresholdsView(rules, True, row.updated_by, row.updated_at)


def set_rule_thresholds(
    session: Session,
    organization_id: str,
    agent_id: str,
    message: config_pb2.RuleThresholds,
    user_id: str,
    now: datetime,
) -> ThresholdsChange:
    """Validate and store an agent's thresholds; make a version for it."""
    agent = scope.get_agent(session, organization_id, agent_id)
    rules = validate_rule_thresholds(message)
    values = {
        "rules": rules.SerializeToString(deterministic=True),
        "updated_by": user_id,
        "updated_at": now,
    }
    statement = _insert(session, AgentRules).values(agent_id=agent_id, **values)
    session.execute(
        statement.on_conflict_do_update(index_elements=["agent_id"], set_=values)
    )
    change = make_versions(
        session, agent.store_id, [agent_id], user_id, "rule_thresholds", now
    )
    return ThresholdsChange(rules, change)


# Versions ---------------------------------------------------------------------


def make_versions(
    session: Session,
    store_id: str,
    agent_ids: list[str] | None,
    created_by: str,
    change: str,
    now: datetime,
) -> ConfigChange:
    """Make the next config version of the store's live agents (or of ``agent_ids``).

    Call it after writing the changed row, in the same transaction.
    """
    conditions = [Agent.store_id == store_id, Agent.deleted_at.is_(None)]
    if agent_ids is not None:
        conditions.append(Agent.id.in_(agent_ids))
    # Locking in id order first keeps two store-wide changes from deadlocking.
    locked = session.scalars(
        select(Agent.id).where(*conditions).order_by(Agent.id).with_for_update()
    ).all()
    if not locked:
        return ConfigChange(())
    bumped = session.execute(
        update(Agent)
        .where(Agent.id.in_(locked))
        .values(desired_config_version=Agent.desired_config_version + 1)
        .returning(Agent.id, Agent.desired_config_version)
        .execution_options(synchronize_session=False)
    ).all()
    refs = []
    for agent_id, version in sorted(bumped):
        config = build_agent_config(session, store_id, agent_id)
        session.add(
            ConfigVersion(
                agent_id=agent_id,
                version=version,
                config=check_config_size(config, agent_id),
                created_by=created_by,
                created_at=now,
                change=change[:200],
                camera_count=len(config.cameras),
            )
        )
        refs.append(VersionRef(agent_id, version))
    session.flush()
    return ConfigChange(tuple(refs))


def make_initial_version(
    session: Session, agent_id: str, now: datetime
) -> ConfigChange:
    """Make version 1 for an agent that has none while its store has config.

    Changes made before an agent existed reach it this way on its first connect.
    Returns an empty change when the agent has a version or nothing is configured.
    """
    agent = session.execute(
        select(Agent.store_id, Agent.desired_config_version)
        .where(Agent.id == agent_id, Agent.deleted_at.is_(None))
        .with_for_update()
    ).one_or_none()
    if agent is None or agent.desired_config_version > 0:
        return ConfigChange(())
    config = build_agent_config(session, agent.store_id, agent_id)
    if not config.cameras and not config.HasField("rules"):
        return ConfigChange(())
    return make_versions(
        session, agent.store_id, [agent_id], SYSTEM_USER_ID, INITIAL_CHANGE, now
    )


def build_agent_config(
    session: Session, store_id: str, agent_id: str
) -> config_pb2.AgentConfig:
    """Return the full config of an agent from the rows committed so far.

    It contains the ROI of every live camera of the store that has one, ordered by
    camera id, and the agent's thresholds when they were set. For whatever the
    config leaves out, the agent keeps the values of its local file.
    """
    config = config_pb2.AgentConfig()
    rois = session.execute(
        select(CameraRoi.roi)
        .join(Camera, Camera.id == CameraRoi.camera_id)
        .where(Camera.store_id == store_id, Camera.deleted_at.is_(None))
        .order_by(Camera.id)
    ).scalars()
    for data in rois:
        config.cameras.append(_parse_roi(data))
    rules = session.execute(
        select(AgentRules.rules).where(AgentRules.agent_id == agent_id)
    ).scalar_one_or_none()
    if rules is not None:
        config.rules.ParseFromString(rules)
    return config


def desired_config(
    session: Session, agent_id: str
) -> tuple[int, config_pb2.AgentConfig | None, int | None]:
    """Return the agent's desired version, its config and the last rejected version.

    The config is None when the agent has no version yet.
    """
    agent = session.execute(
        select(Agent.desired_config_version, Agent.rejected_config_version).where(
            Agent.id == agent_id
        )
    ).one_or_none()
    if agent is None or agent.desired_config_version <= 0:
        return 0, None, None
    data = session.execute(
        select(ConfigVersion.config).where(
            ConfigVersion.agent_id == agent_id,
            ConfigVersion.version == agent.desired_config_version,
        )
    ).scalar_one_or_none()
    if data is None:
        return 0, None, None
    config = config_pb2.AgentConfig.FromString(data)
    return agent.desired_config_version, config, agent.rejected_config_version


def list_versions(
    session: Session,
    organization_id: str,
    agent_id: str,
    page_size: int,
    before_version: int | None,
) -> list[ConfigVersion]:
    """Return up to ``page_size`` versions of an agent, newest first."""
    scope.get_agent(session, organization_id, agent_id)
    query = (
        select(ConfigVersion)
        .where(ConfigVersion.agent_id == agent_id)
        .order_by(ConfigVersion.version.desc())
        .limit(page_size)
    )
    if before_version is not None:
        query = query.where(ConfigVersion.version < before_version)
    return list(session.scalars(query))


def get_version(
    session: Session, organization_id: str, agent_id: str, version: int
) -> VersionView:
    scope.get_agent(session, organization_id, agent_id)
    row = session.execute(
        select(ConfigVersion).where(
            ConfigVersion.agent_id == agent_id, ConfigVersion.version == version
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(
            "version",
            version,
            f"agent {agent_id!r} has no config version {version}: list them with "
            "ConfigService.ListConfigVersions",
        )
    return VersionView(row, config_pb2.AgentConfig.FromString(row.config))


def _parse_roi(data: bytes) -> config_pb2.CameraRoi:
    return config_pb2.CameraRoi.FromString(data)


def _insert(session: Session, model: type):
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
