"""Measure the agent's memory and CPU per camera at 5 frames per second.

Run: .venv/bin/python bench/agent_resources.py [--cameras 1 2] [--seconds 60]

For each camera count, starts ``dale-cloud serve`` (SQLite in a temporary folder)
and ``dale-edge run`` with that many cameras, each the sample video played at its
own rate (10 fps), looped, and limited to ``max_fps: 5``. After a warm-up it samples
the agent process for ``--seconds``: resident memory (RSS) and CPU time over wall
time (100 % = one core). It prints the totals and the processed frame rate each
camera reported in its last heartbeat.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests" / "edge" / "runtime"))

from runtime_helpers import (  # noqa: E402
    CloudServer,
    query,
    start_agent,
    stop_process,
    video_camera,
    write_agent_config,
)

DEFAULT_VIDEO = REPO_ROOT.parent / "shared" / "data" / "vtest.avi"
DEFAULT_MODEL = REPO_ROOT.parent / "shared" / "models" / "yolov8n_int8_openvino_model"
WARM_UP_SECONDS = 20
SAMPLE_INTERVAL_SECONDS = 1.0


def measure(cameras: int, seconds: float, video: Path, model: Path) -> dict:
    with tempfile.TemporaryDirectory() as workdir:
        folder = Path(workdir)
        database_url = f"sqlite:///{folder / 'cloud.db'}"
        camera_ids = [f"cam-{index}" for index in range(1, cameras + 1)]
        cloud = CloudServer(database_url, folder)
        token = cloud.bootstrap("bench-agent", camera_ids)
        cloud.start()
        camera_configs = []
        for camera_id in camera_ids:
            camera = video_camera(camera_id, video, realtime=True, loop=True)
            camera["max_fps"] = 5
            camera_configs.append(camera)
        config = write_agent_config(
            folder / "agent.yaml",
            agent_id="bench-agent",
            cloud_address=cloud.address,
            token=token,
            cameras=camera_configs,
            model=model,
            heartbeat_interval_seconds=5,
            log_level="warning",
        )
        agent = start_agent(config)
        try:
            process = psutil.Process(agent.pid)
            time.sleep(WARM_UP_SECONDS)
            cpu_start = process.cpu_times()
            wall_start = time.monotonic()
            rss = []
            while time.monotonic() - wall_start < seconds:
                rss.append(process.memory_info().rss)
                time.sleep(SAMPLE_INTERVAL_SECONDS)
            cpu_end = process.cpu_times()
            wall = time.monotonic() - wall_start
            fps = query(
                database_url,
                "SELECT id, fps FROM cameras ORDER BY id",
            )
        finally:
            stop_process(agent, timeout=60)
            cloud.stop()
    cpu_seconds = (cpu_end.user + cpu_end.system) - (cpu_start.user + cpu_start.system)
    return {
        "cameras": cameras,
        "rss_mib_start": rss[0] / 2**20,
        "rss_mib_end": rss[-1] / 2**20,
        "rss_mib_max": max(rss) / 2**20,
        "cpu_percent": 100 * cpu_seconds / wall,
        "fps": {camera_id: round(value or 0, 2) for camera_id, value in fps},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=60)
    arguments = parser.parse_args()
    video = Path(os.environ.get("DALE_SAMPLE_VIDEO", DEFAULT_VIDEO))
    model = Path(os.environ.get("DALE_MODEL", DEFAULT_MODEL))
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs")
    results = []
    for cameras in arguments.cameras:
        result = measure(cameras, arguments.seconds, video, model)
        results.append(result)
        print(
            f"{cameras} camera(s) at 5 fps: RSS {result['rss_mib_start']:.0f} -> "
            f"{result['rss_mib_end']:.0f} MiB (max {result['rss_mib_max']:.0f}), "
            f"CPU {result['cpu_percent']:.0f} % of one core, "
            f"processed fps {result['fps']}"
        )
    if len(results) >= 2:
        first, last = results[0], results[-1]
        added = last["cameras"] - first["cameras"]
        rss_per_camera = (last["rss_mib_max"] - first["rss_mib_max"]) / added
        cpu_per_camera = (last["cpu_percent"] - first["cpu_percent"]) / added
        print(
            f"each added camera: +{rss_per_camera:.0f} MiB RSS, "
            f"+{cpu_per_camera:.0f} % CPU"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
