"""Shared helpers of the runtime tests: polling, processes and the RTSP relay."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

REPO_ROOT = Path(__file__).resolve().parents[3]
RELAY_SCRIPT = Path(__file__).with_name("rtsp_relay.py")
VENV_BIN = Path(sys.executable).parent

T = TypeVar("T")


def _load_root_conftest():
    """Load tests/conftest.py under its own name: every conftest here is "conftest"."""
    path = REPO_ROOT / "tests" / "conftest.py"
    spec = importlib.util.spec_from_file_location("dale_runtime_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_root_conftest = _load_root_conftest()
free_port = _root_conftest.free_port
missing = _root_conftest.missing


def assert_eventually(
    probe: Callable[[], T],
    *,
    timeout: float,
    interval: float = 0.1,
    message: str = "",
) -> T:
    """Call ``probe`` until it returns a truthy value; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(
                f"condition not met within {timeout} s: {message} (last={last!r})"
            )
        time.sleep(interval)


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    def is_open() -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            return sock.connect_ex(("127.0.0.1", port)) == 0

    assert_eventually(is_open, timeout=timeout, message=f"127.0.0.1:{port} listening")


class RtspRelay:
    """The test RTSP server (``rtsp_relay.py``) as a subprocess on one port."""

    def __init__(self, video: Path, port: int) -> None:
        self.video = video
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/live"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(RELAY_SCRIPT), "--port", str(self.port)]
            + ["--video", str(self.video)],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is None:
            return
        stop_process(self.process)
        self.process = None


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM a child, SIGKILL it after ``timeout`` s, and return its exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def child_environment(**extra: str) -> dict[str, str]:
    environment = dict(os.environ)
    environment["YOLO_OFFLINE"] = "1"
    environment["PYTHONUNBUFFERED"] = "1"
    environment.update(extra)
    return environment


DEMO_ROI_FILE = REPO_ROOT / "scripts" / "demo_roi.yaml"
# 2026-01-05T12:00:00Z: the video's first frame in every run of these tests.
VIDEO_START_TIME = "2026-01-05T12:00:00Z"


def demo_roi() -> dict:
    import yaml

    return yaml.safe_load(DEMO_ROI_FILE.read_text())


class CloudServer:
    """``dale-cloud serve`` as a subprocess on 127.0.0.1, with its tenancy."""

    def __init__(self, database_url: str, workdir: Path, port: int | None = None):
        self.database_url = database_url
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / f"cloud-{self.port}.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(
                [
                    str(VENV_BIN / "dale-cloud"),
                    "serve",
                    "--listen",
                    self.address,
                    "--database-url",
                    self.database_url,
                ],
                cwd=self.workdir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=child_environment(),
            )
        wait_for_port(self.port, timeout=60)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        code = stop_process(self.process, timeout=30)
        self.process = None
        return code

    def bootstrap(self, agent_id: str, camera_ids: list[str]) -> str:
        """Register an org, a store, the cameras and the agent; return its token."""
        from sqlalchemy.orm import Session

        from cloud.agent_tokens import issue_agent_token
        from cloud.db.engine import make_engine, migrate
        from cloud.tenancy import (
            create_agent,
            create_camera,
            create_organization,
            create_store,
        )

        migrate(self.database_url)
        engine = make_engine(self.database_url)
        try:
            with Session(engine) as session, session.begin():
                create_organization(session, "Test retail", f"org-{agent_id}")
                create_store(
                    session,
                    f"org-{agent_id}",
                    "Test store",
                    store_id=f"store-{agent_id}",
                )
                for camera_id in camera_ids:
                    create_camera(session, f"store-{agent_id}", camera_id, camera_id)
                create_agent(session, f"store-{agent_id}", agent_id, agent_id)
                return issue_agent_token(session, agent_id).token
        finally:
            engine.dispose()


def query(database_url: str, statement: str, **parameters) -> list[tuple]:
    from sqlalchemy import text

    from cloud.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return [
                tuple(row) for row in connection.execute(text(statement), parameters)
            ]
    finally:
        engine.dispose()


def stored_buckets(database_url: str, camera_id: str) -> list[dict]:
    """Minute buckets of a camera as the cloud stored them, oldest first."""
    buckets = query(
        database_url,
        "SELECT id, start_time, frames, video_seconds, people_avg, people_max,"
        " people_min, entries, exits FROM metric_buckets WHERE camera_id = :camera"
        " ORDER BY start_time",
        camera=camera_id,
    )
    zones = query(
        database_url,
        "SELECT bucket_id, zone_id, occupancy_avg, occupancy_max, dwell_count"
        " FROM zone_metrics WHERE camera_id = :camera",
        camera=camera_id,
    )
    lines = query(
        database_url,
        "SELECT bucket_id, line_id, in_count, out_count FROM line_metrics"
        " WHERE camera_id = :camera",
        camera=camera_id,
    )
    result = []
    for row in buckets:
        bucket_id = row[0]
        result.append(
            {
                "start": _naive_utc(row[1]),
                "frames": row[2],
                "video_seconds": round(row[3], 3),
                "people": (round(row[4], 6), row[5], row[6]),
                "entries": row[7],
                "exits": row[8],
                "zones": sorted(
                    (z[1], round(z[2], 6), z[3], z[4])
                    for z in zones
                    if z[0] == bucket_id
                ),
                "lines": sorted(
                    (line[1], line[2], line[3])
                    for line in lines
                    if line[0] == bucket_id
                ),
            }
        )
    return result


def expected_buckets(buckets) -> list[dict]:
    """The same view as ``stored_buckets`` of buckets computed in-process."""
    return [
        {
            "start": bucket.start.replace(tzinfo=None),
            "frames": bucket.frames,
            "video_seconds": round(bucket.video_seconds, 3),
            "people": (
                round(bucket.people.avg, 6),
                bucket.people.max,
                bucket.people.min,
            ),
            "entries": bucket.entries,
            "exits": bucket.exits,
            "zones": sorted(
                (z.zone_id, round(z.occupancy.avg, 6), z.occupancy.max, z.dwell_count)
                for z in bucket.zones
            ),
            "lines": sorted(
                (ln.line_id, ln.in_count, ln.out_count) for ln in bucket.lines
            ),
        }
        for bucket in buckets
    ]


def _naive_utc(value):
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def write_agent_config(
    path: Path,
    *,
    agent_id: str,
    cloud_address: str,
    token: str,
    cameras: list[dict],
    model: Path,
    **extra,
) -> Path:
    import yaml

    token_path = path.with_suffix(".token")
    token_path.write_text(token)
    config = {
        "agent_id": agent_id,
        "cloud": {
            "address": cloud_address,
            "token_file": str(token_path),
            "reconnect_initial_seconds": 0.2,
            "reconnect_max_seconds": 2,
        },
        "outbox": {"path": str(path.with_suffix(".outbox.db"))},
        "model": {"path": str(model)},
        "heartbeat_interval_seconds": 1,
        "drain_timeout_seconds": 120,
        "cameras": cameras,
        **extra,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def video_camera(camera_id: str, video: Path, **options) -> dict:
    return {
        "id": camera_id,
        "source": str(video),
        "file": {"start_time": VIDEO_START_TIME, **options},
        "roi": demo_roi(),
    }


def start_agent(config_path: Path, *extra_args: str) -> subprocess.Popen:
    log_path = config_path.with_suffix(".log")
    with open(log_path, "ab") as log_file:
        return subprocess.Popen(
            [str(VENV_BIN / "dale-edge"), "run", "--config", str(config_path)]
            + list(extra_args),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=child_environment(),
        )
