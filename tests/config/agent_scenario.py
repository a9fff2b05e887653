"""Helpers for tests with real processes: ``dale-cloud serve``, ``dale-edge run``,
``buf curl``, and an offline pass over the sample video to predict the counts.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import grpc
import yaml
from config_harness import ROOT, assert_eventually, execute, free_port
from dalevision.edge.v1 import config_pb2 as edge_config_pb2

from edge.analytics import CameraAnalytics, CameraRoi, TrackedPerson, parse_roi
from edge.analytics.buckets import minute_start
from edge.roi_codec import roi_to_proto

VENV_BIN = Path(sys.executable).parent
DEMO_ROI_FILE = ROOT / "scripts" / "demo_roi.yaml"
# The video's first frame in every run; a whole minute, so buckets align with it.
VIDEO_START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# Frames analysed per second of video. Half of the file's 10 fps keeps the passes
# affordable on two shared cores, and the agent and the offline pass skip the same
# frames.
MAX_FPS = 5.0
FRAME_WIDTH, FRAME_HEIGHT = 768, 576

Frames = list[tuple[float, list[TrackedPerson]]]


def demo_roi() -> dict:
    """The ROI drawn for the sample video: two zones and the line plaza-crossing."""
    return yaml.safe_load(DEMO_ROI_FILE.read_text())


def west_roi() -> dict:
    """The demo zones with the line west-crossing in place of plaza-crossing."""
    roi = demo_roi()
    roi["lines"] = [
        {
            "id": "west-crossing",
            "a": [350, 150],
            "b": [360, 450],
            "in_side": "left",
            "cooldown_seconds": 2,
        }
    ]
    return roi


def roi_message(roi: dict) -> edge_config_pb2.CameraRoi:
    return roi_to_proto(parse_roi(roi), "")


class CloudProcess:
    """``dale-cloud serve`` on a loopback port, logging JSON lines to a file."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "CloudProcess":
        command = [
            sys.executable,
            "-m",
            "cloud.cli",
            "serve",
            "--listen",
            self.address,
            "--database-url",
            self.database_url,
            "--log-json",
        ]
        with self.log_path.open("ab") as log_file:
            self.process = subprocess.Popen(
                command,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
                cwd=ROOT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        return self

    async def wait_serving(self, timeout_seconds: float = 60.0) -> None:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        async def serving() -> bool:
            assert self.process.poll() is None, (
                f"dale-cloud serve exited with {self.process.returncode}: "
                f"{self.log_path.read_text()[-2000:]}"
            )
            async with grpc.aio.insecure_channel(self.address) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                try:
                    response = await stub.Check(
                        health_pb2.HealthCheckRequest(), timeout=1
                    )
                except grpc.aio.AioRpcError:
                    return False
                return response.status == health_pb2.HealthCheckResponse.SERVING

        await assert_eventually(serving, timeout_seconds, 0.2, "cloud serving")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def write_agent_config(
    path: Path,
    *,
    cloud_address: str,
    token: str,
    video: Path,
    model: Path,
    roi: dict,
    drain_timeout_seconds: float = 120,
) -> Path:
    """Write an agent YAML for agent-a with one file camera, cam-1."""
    token_path = path.with_suffix(".token")
    token_path.write_text(token)
    config = {
        "agent_id": "agent-a",
        "cloud": {
            "address": cloud_address,
            "token_file": str(token_path),
            "reconnect_initial_seconds": 0.2,
            "reconnect_max_seconds": 1,
        },
        "outbox": {"path": str(path.parent / "outbox.db")},
        "model": {"path": str(model)},
        "heartbeat_interval_seconds": 1,
        "drain_timeout_seconds": drain_timeout_seconds,
        "cameras": [
            {
                "id": "cam-1",
                "source": str(video),
                "max_fps": MAX_FPS,
                "file": {"start_time": VIDEO_START.isoformat()},
                "roi": roi,
            }
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def start_agent(config_path: Path, log_path: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "edge.cli",
        "run",
        "--config",
        str(config_path),
        "--exit-when-done",
        "--log-json",
    ]
    with log_path.open("ab") as log_file:
        return subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "YOLO_OFFLINE": "1"},
        )


def log_events(log_path: Path, event: str, **fields) -> list[dict]:
    """Return the JSON log lines of ``event`` whose fields match ``fields``."""
    found = []
    for line in log_path.read_text(errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("event") != event:
            continue
        if all(entry.get(key) == value for key, value in fields.items()):
            found.append(entry)
    return found


def buf_curl(address: str, token: str, method: str, body: dict) -> dict:
    """Call an operator method through server reflection with ``buf curl``."""
    completed = subprocess.run(
        [
            str(VENV_BIN / "buf"),
            "curl",
            "--protocol",
            "grpc",
            "--http2-prior-knowledge",
            "-H",
            f"authorization: Bearer {token}",
            "-d",
            json.dumps(body),
            f"http://{address}/dalevision.ops.v1.ConfigService/{method}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert completed.returncode == 0, (
        f"buf curl {method} exited with {completed.returncode}: {completed.stderr}"
    )
    return json.loads(completed.stdout)


# Offline prediction -------------------------------------------------------------


def offline_tracks(video: Path, model: Path) -> Frames:
    """Run the agent's source, detector and tracker over the video in this process."""
    from edge.config import ModelSettings
    from edge.detector import PersonDetector, PersonTracker
    from edge.sources import FileSource

    source = FileSource(str(video), start_time=VIDEO_START.timestamp(), max_fps=MAX_FPS)
    source.start()
    detector = PersonDetector.from_settings(ModelSettings(path=model))
    tracker = PersonTracker()
    frames: Frames = []
    try:
        while (frame := source.read()) is not None:
            people = tracker.update(detector.detect(frame.image), frame.image)
            frames.append((frame.timestamp, people))
    finally:
        source.close()
    return frames


def fitted_roi(roi: dict) -> CameraRoi:
    return parse_roi(roi).validate_frame(FRAME_WIDTH, FRAME_HEIGHT)


def line_counts(frames: Frames, roi: dict) -> Counter:
    """Return crossings per (minute start, line id, direction) of a fresh analysis."""
    analytics = CameraAnalytics("cam-1", fitted_roi(roi))
    counts: Counter = Counter()
    for time_seconds, people in frames:
        update = analytics.process(time_seconds, people)
        for crossing in update.crossings:
            minute = minute_start(crossing.time)
            counts[(minute, crossing.line_id, crossing.direction.value)] += 1
    return counts


def people_gauges(frames: Frames) -> dict[int, tuple[float, float, float]]:
    """Return (avg, max, min) of the people in view per minute start."""
    per_minute: dict[int, list[int]] = {}
    for time_seconds, people in frames:
        track_ids = {person.track_id for person in people}
        per_minute.setdefault(minute_start(time_seconds), []).append(len(track_ids))
    return {
        minute: (sum(values) / len(values), max(values), min(values))
        for minute, values in per_minute.items()
    }


def stored_line_counts(database_url: str, camera_id: str) -> Counter:
    rows = execute(
        database_url,
        "SELECT start_time, line_id, in_count, out_count FROM line_metrics "
        "WHERE camera_id = :c",
        c=camera_id,
    )
    counts: Counter = Counter()
    for start, line_id, in_count, out_count in rows:
        minute = int(_utc(start).timestamp())
        if in_count:
            counts[(minute, line_id, "in")] += in_count
        if out_count:
            counts[(minute, line_id, "out")] += out_count
    return counts


def stored_buckets(database_url: str, camera_id: str) -> dict[int, dict]:
    rows = execute(
        database_url,
        "SELECT start_time, config_version, frames, people_avg, people_max, "
        "people_min FROM metric_buckets WHERE camera_id = :c ORDER BY start_time",
        c=camera_id,
    )
    return {
        int(_utc(start).timestamp()): {
            "config_version": version,
            "frames": frames,
            "people": (avg, peak, low),
        }
        for start, version, frames, avg, peak, low in rows
    }


def version_in_effect(
    minute: int, frames: Frames, switches: Sequence[tuple[float, int]]
) -> int:
    """Return the config version that analysed the last frame of a minute."""
    last_frame = max(t for t, _ in frames if minute_start(t) == minute)
    version = 0
    # A switch at time t applies after the frame at t, and its own update counts
    # in the minute of t.
    for switch_time, switched_to in sorted(switches):
        if switch_time <= last_frame:
            version = switched_to
    return version


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


async def wait_exit(process: subprocess.Popen, timeout_seconds: float) -> int:
    deadline = time.monotonic() + timeout_seconds
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            process.wait(10)
            raise AssertionError(f"process did not exit within {timeout_seconds} s")
        await asyncio.sleep(0.2)
    return process.returncode
