"""The real cloud for stream client tests: the ``dale-cloud`` serve and admin CLI.

``RealCloud`` bootstraps a tenancy with the admin CLI: an organization, a store,
cameras ``cam-1`` and ``cam-2``, and agent ``agent-1`` with its token. It runs
``dale-cloud serve`` on a loopback port as a subprocess with its log in a file, and
reads back what the cloud stored.
"""

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from transport_helpers import AGENT_ID, free_port

from cloud.db.models import Agent, MetricBucket

REPOSITORY = Path(__file__).resolve().parents[3]
CAMERA_IDS = ("cam-1", "cam-2")


class RealCloud:
    def __init__(self, database_url: str, log_path: Path) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.token = ""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cli(self, *args: str) -> dict:
        """Run ``dale-cloud ARGS --database-url URL --json`` and parse its output."""
        command = [sys.executable, "-m", "cloud.cli", *args]
        command += ["--database-url", self.database_url, "--json"]
        result = subprocess.run(
            command, capture_output=True, text=True, cwd=REPOSITORY, timeout=60
        )
        if result.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited with {result.returncode}: {result.stderr}"
            )
        return json.loads(result.stdout)

    def bootstrap(self) -> "RealCloud":
        """Migrate and create the tenancy, keeping the agent's token."""
        subprocess.run(
            [sys.executable, "-m", "cloud.cli", "migrate"]
            + ["--database-url", self.database_url],
            check=True,
            capture_output=True,
            cwd=REPOSITORY,
            timeout=120,
        )
        self.cli("admin", "create-org", "--name", "Transport tests", "--id", "org-t")
        self.cli(
            "admin", "create-store", "--org", "org-t", "--name", "S", "--id", "store-t"
        )
        for camera_id in CAMERA_IDS:
            self.cli(
                "admin", "create-camera", "--store", "store-t", "--id", camera_id,
                "--name", camera_id,
            )  # fmt: skip
        agent = self.cli(
            "admin", "create-agent", "--store", "store-t", "--id", AGENT_ID,
            "--name", "Agent",
        )  # fmt: skip
        self.token = agent["token"]
        return self

    def bootstrap_from(self, template: "RealCloud") -> "RealCloud":
        """Copy a bootstrapped SQLite database instead of running the admin CLI."""
        source = make_url(template.database_url).database
        target = make_url(self.database_url).database
        with sqlite3.connect(source) as source_db, sqlite3.connect(target) as copy:
            source_db.backup(copy)
        self.token = template.token
        return self

    def rotate_token(self) -> str:
        self.token = self.cli("admin", "rotate-agent-token", "--agent", AGENT_ID)[
            "token"
        ]
        return self.token

    def start(self, *extra_args: str) -> "RealCloud":
        command = [sys.executable, "-m", "cloud.cli", "serve", "--no-migrate"]
        command += ["--listen", self.address, "--database-url", self.database_url]
        command += list(extra_args)
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                command,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                cwd=REPOSITORY,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return self

    async def wait_serving(self, timeout_seconds: float = 60.0) -> None:
        """Wait until the health service reports SERVING."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_seconds
        while not await self._health_serving():
            if self.process.poll() is not None:
                raise AssertionError(
                    f"dale-cloud serve exited with {self.process.returncode}: "
                    f"{self.log_text()[-2000:]}"
                )
            if loop.time() > deadline:
                raise AssertionError(
                    f"dale-cloud serve not serving after {timeout_seconds} s: "
                    f"{self.log_text()[-2000:]}"
                )
            await asyncio.sleep(0.1)

    async def _health_serving(self) -> bool:
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                response = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
            except grpc.aio.AioRpcError:
                return False
        return response.status == health_pb2.HealthCheckResponse.SERVING

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def log_text(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    def bucket_receipt_ids(self) -> list[str]:
        """Return the receipt ids of all stored metric buckets."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(select(MetricBucket.receipt_id)).all()
        finally:
            engine.dispose()
        return [row[0] for row in rows]

    def agent_row(self) -> dict:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                row = connection.execute(
                    select(Agent.software_version, Agent.outbox_depth).where(
                        Agent.id == AGENT_ID
                    )
                ).one()
        finally:
            engine.dispose()
        return {"software_version": row[0], "outbox_depth": row[1]}
