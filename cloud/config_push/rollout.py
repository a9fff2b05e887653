"""Rollout state of agents: the version made for each, the one it runs, rejections.

Ingest keeps ``agents.applied_config_version`` and the ``rejected_*`` columns up to
date from the agents' ``Hello``, heartbeats and ``ConfigAck`` records; this module
only reads them.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from cloud.db.models import Agent, ConfigVersion, Store
from cloud.ops import scope


@dataclass(frozen=True)
class RolloutView:
    agent: Agent
    # When the desired version was made; None when the agent has no version.
    desired_created_at: datetime | None

    @property
    def in_sync(self) -> bool:
        return self.agent.applied_config_version == self.agent.desired_config_version


def get_rollout(session: Session, organization_id: str, agent_id: str) -> RolloutView:
    scope.get_agent(session, organization_id, agent_id)
    row = session.execute(_query().where(Agent.id == agent_id)).one()
    return RolloutView(row.Agent, row.created_at)


def list_rollout(
    session: Session, organization_id: str, store_id: str | None
) -> list[RolloutView]:
    """Return the live agents of one store, or of the organization, by store and id."""
    query = _query().where(Store.organization_id == organization_id)
    if store_id is not None:
        scope.get_store(session, organization_id, store_id)
        query = query.where(Agent.store_id == store_id)
    rows = session.execute(query.order_by(Agent.store_id, Agent.id))
    return [RolloutView(row.Agent, row.created_at) for row in rows]


def _query() -> Select:
    return (
        select(Agent, ConfigVersion.created_at)
        .join(Store, Store.id == Agent.store_id)
        .outerjoin(
            ConfigVersion,
            and_(
                ConfigVersion.agent_id == Agent.id,
                ConfigVersion.version == Agent.desired_config_version,
            ),
        )
        .where(Agent.deleted_at.is_(None))
    )
