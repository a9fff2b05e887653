"""Live agent streams: one ``AgentSession`` per connected agent.

Other components push ``ConfigUpdate`` and ``Command`` messages down to an
agent with ``AgentSessions.send`` or ``AgentSession.send``. Acks are gathered
and sent as few ``Ack`` messages, and everything else is sent in the order given.
"""

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterator

import grpc
import structlog
from dalevision.edge.v1 import edge_pb2

from cloud.agent_tokens import AgentIdentity
from cloud.db.base import utc_now

log = structlog.get_logger(__name__)

# Messages other than acks that may wait for one slow stream before ``send``
# waits for the stream to take them.
MAX_QUEUED_MESSAGES = 1000


class SessionClosedError(Exception):
    """The stream is closing or closed: nothing more can be sent on it."""


class AgentSession:
    """The server side of one agent's ``Connect`` stream."""

    def __init__(
        self, identity: AgentIdentity, peer: str, max_ack_receipt_ids: int
    ) -> None:
        self.identity = identity
        self.peer = peer
        self.connected_at = utc_now()
        self._max_ack_receipt_ids = max_ack_receipt_ids
        self._acks: list[str] = []
        self._messages: deque[edge_pb2.ConnectResponse] = deque()
        self._wakeup = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._close_status: tuple[grpc.StatusCode, str] | None = None
        self._close_callbacks: list[Callable[[], None]] = []
        self._ended = asyncio.Event()

    @property
    def agent_id(self) -> str:
        return self.identity.agent_id

    @property
    def store_id(self) -> str:
        return self.identity.store_id

    @property
    def organization_id(self) -> str:
        return self.identity.organization_id

    @property
    def closing(self) -> bool:
        return self._close_status is not None or self._ended.is_set()

    @property
    def close_status(self) -> tuple[grpc.StatusCode, str] | None:
        return self._close_status

    async def send(self, response: edge_pb2.ConnectResponse) -> None:
        """Queue a message for the agent, or raise ``SessionClosedError`` once closing.

        Waits while ``MAX_QUEUED_MESSAGES`` messages are queued on this stream.
        """
        while True:
            if self.closing:
                raise SessionClosedError(
                    f"stream of agent {self.agent_id!r} is closed: the message is "
                    "not sent"
                )
            if len(self._messages) < MAX_QUEUED_MESSAGES:
                break
            self._room.clear()
            await self._room.wait()
        self._messages.append(response)
        self._wakeup.set()

    def ack(self, receipt_id: str) -> None:
        """Add a stored record's receipt id to the next Ack."""
        if self._ended.is_set():
            return
        self._acks.append(receipt_id)
        self._wakeup.set()

    def send_nowait(self, response: edge_pb2.ConnectResponse) -> None:
        """Queue a message without waiting for room, unless the stream has ended."""
        if self._ended.is_set():
            return
        self._messages.append(response)
        self._wakeup.set()

    def close(self, code: grpc.StatusCode, details: str) -> None:
        """Ask the stream to end with this status once its pending acks are sent.

        Records already read are still committed and acked first. The first
        close request decides the status.
        """
        if self._close_status is not None or self._ended.is_set():
            return
        self._close_status = (code, details)
        self._wakeup.set()
        self._room.set()
        for callback in self._close_callbacks:
            callback()

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when ``close`` is called, or now if it already was."""
        if self._close_status is not None:
            callback()
            return
        self._close_callbacks.append(callback)

    async def wait_ended(self) -> None:
        await self._ended.wait()

    def mark_ended(self) -> None:
        self._ended.set()
        self._room.set()
        self._wakeup.set()

    async def flush_forever(
        self, write: Callable[[edge_pb2.ConnectResponse], Awaitable[None]]
    ) -> None:
        """Write acks and queued messages as they come, until cancelled."""
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await self.flush(write)

    async def flush(
        self, write: Callable[[edge_pb2.ConnectResponse], Awaitable[None]]
    ) -> None:
        """Write every pending ack and message now."""
        while self._acks or self._messages:
            if self._acks:
                receipt_ids = self._acks[: self._max_ack_receipt_ids]
                del self._acks[: self._max_ack_receipt_ids]
                await write(
                    edge_pb2.ConnectResponse(ack=edge_pb2.Ack(receipt_ids=receipt_ids))
                )
            if self._messages:
                await write(self._messages.popleft())
                self._room.set()


class AgentSessions:
    """Registry of the live streams of this process, one per agent."""

    def __init__(self) -> None:
        self._by_agent: dict[str, AgentSession] = {}

    def register(self, session: AgentSession) -> AgentSession | None:
        """Make ``session`` the agent's live stream and return the one it replaces."""
        previous = self._by_agent.get(session.agent_id)
        self._by_agent[session.agent_id] = session
        return previous

    def unregister(self, session: AgentSession) -> None:
        """Forget ``session`` unless a newer stream of its agent replaced it."""
        if self._by_agent.get(session.agent_id) is session:
            del self._by_agent[session.agent_id]

    def get(self, agent_id: str) -> AgentSession | None:
        return self._by_agent.get(agent_id)

    def __len__(self) -> int:
        return len(self._by_agent)

    def __iter__(self) -> Iterator[AgentSession]:
        return iter(list(self._by_agent.values()))

    async def send(self, agent_id: str, response: edge_pb2.ConnectResponse) -> bool:
        """Send to an agent connected to this process. Returns False when it is not."""
        session = self._by_agent.get(agent_id)
        if session is None:
            return False
        try:
            await session.send(response)
        except SessionClosedError:
            return False
        return True

    def close_agent(self, agent_id: str, code: grpc.StatusCode, details: str) -> bool:
        """Close an agent's stream on this process. Returns False when not connected."""
        session = self._by_agent.get(agent_id)
        if session is None:
            return False
        log.info("stream_close_requested", agent_id=agent_id, code=code.name)
        session.close(code, details)
        return True

    def close_all(self, code: grpc.StatusCode, details: str) -> None:
        for session in self:
            session.close(code, details)
