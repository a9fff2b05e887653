"""AgentService: edge agents of the caller's organization and their tokens."""

import structlog
from dalevision.ops.v1 import agent_pb2, agent_pb2_grpc

from cloud.ops import inventory
from cloud.ops.auth import Caller, Role
from cloud.ops.convert import set_time
from cloud.ops.rpc import OpsServicer, operator_rpc
from cloud.ops.validation import validate_id, validate_optional_id

log = structlog.get_logger(__name__)


def agent_message(view: inventory.AgentView) -> agent_pb2.Agent:
    agent = view.agent
    message = agent_pb2.Agent(
        agent_id=agent.id,
        store_id=agent.store_id,
        name=agent.name,
        software_version=agent.software_version or "",
        outbox_depth=agent.outbox_depth or 0,
        desired_config_version=agent.desired_config_version or 0,
        applied_config_version=agent.applied_config_version or 0,
        rejected_config_version=agent.rejected_config_version or 0,
        rejection_reason=agent.rejection_reason or "",
        token_prefix=view.token_prefix or "",
    )
    set_time(message, "last_seen_time", agent.last_seen_at)
    set_time(message, "create_time", agent.created_at)
    return message


class AgentServicer(OpsServicer, agent_pb2_grpc.AgentServiceServicer):
    service_name = "AgentService"

    @operator_rpc(Role.ADMIN)
    async def CreateAgent(self, request, context, caller: Caller):
        agent_id = validate_optional_id("agent_id", request.agent_id)
        store_id = validate_id("store_id", request.store_id)
        view, token = await self.db.run(
            inventory.create_agent,
            caller.organization_id,
            store_id,
            agent_id,
            request.name,
        )
        log.info(
            "agent_created",
            agent_id=view.agent.id,
            store_id=store_id,
            by_user_id=caller.user_id,
        )
        return agent_pb2.CreateAgentResponse(agent=agent_message(view), token=token)

    @operator_rpc(Role.VIEWER)
    async def ListAgents(self, request, context, caller: Caller):
        store_id = validate_optional_id("store_id", request.store_id)
        views = await self.db.run(
            inventory.list_agents, caller.organization_id, store_id
        )
        return agent_pb2.ListAgentsResponse(agents=[agent_message(v) for v in views])

    @operator_rpc(Role.ADMIN)
    async def RevokeAgentToken(self, request, context, caller: Caller):
        agent_id = validate_id("agent_id", request.agent_id)
        view, count = await self.db.run(
            inventory.revoke_agent_tokens, caller.organization_id, agent_id
        )
        log.info(
            "agent_tokens_revoked",
            agent_id=agent_id,
            revoked=count,
            by_user_id=caller.user_id,
        )
        return agent_pb2.RevokeAgentTokenResponse(
            agent=agent_message(view), revoked_count=count
        )

    @operator_rpc(Role.ADMIN)
    async def RotateAgentToken(self, request, context, caller: Caller):
        agent_id = validate_id("agent_id", request.agent_id)
        view, token = await self.db.run(
            inventory.rotate_agent_token, caller.organization_id, agent_id
        )
        log.info(
            "agent_token_rotated",
            agent_id=agent_id,
            by_user_id=caller.user_id,
        )
        return agent_pb2.RotateAgentTokenResponse(
            agent=agent_message(view), token=token
        )
