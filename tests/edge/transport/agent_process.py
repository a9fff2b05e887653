"""``stream_agent.py`` as a subprocess, for signal tests against any gateway."""

import asyncio
import os
import sys
from pathlib import Path

from transport_helpers import BASE_MINUTE, TOKEN

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parents[2]
AGENT_SCRIPT = HERE / "stream_agent.py"


class AgentProcess:
    """``stream_agent.py`` as a subprocess with its stderr lines collected."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log_lines: list[str] = []
        self._reader = asyncio.create_task(self._collect())

    @classmethod
    async def start(
        cls, outbox_path: Path, target: str, records: int, token: str = TOKEN
    ) -> "AgentProcess":
        env = {
            **os.environ,
            "DALE_TEST_TOKEN": token,
            "DALE_TEST_BASE_MINUTE": BASE_MINUTE.isoformat(),
            "PYTHONPATH": os.pathsep.join([str(REPOSITORY), str(HERE)]),
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(AGENT_SCRIPT),
            str(outbox_path),
            target,
            str(records),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        agent = cls(process)
        ready = await asyncio.wait_for(process.stdout.readline(), 30.0)
        assert ready == b"ready\n"
        return agent

    async def _collect(self) -> None:
        async for line in self.process.stderr:
            self.log_lines.append(line.decode())

    def logged(self, event: str) -> bool:
        return any(event in line for line in self.log_lines)

    async def wait(self, timeout_seconds: float) -> int:
        code = await asyncio.wait_for(self.process.wait(), timeout_seconds)
        await self._reader
        return code
