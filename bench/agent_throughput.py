"""Measure the agent's frames per second against raw ``model.predict``.

Run: .venv/bin/python bench/agent_throughput.py [--rounds 2]

Each round runs, in this process and one after the other:

- raw: ``YOLO.predict`` (person class, the agent's default confidence, IoU and image
  size) on every frame of the video, the frames decoded into memory beforehand;
- agent: one ``CameraPipeline`` over the file as fast as possible: decoding,
  detection, ByteTrack, analytics with the demo ROI, minute buckets, rules and the
  SQLite outbox.

It prints frames per second of both and their ratio per round, then the best of
each. Inputs: ``DALE_SAMPLE_VIDEO`` and ``DALE_MODEL`` (defaults: the shared assets
next to the repository).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ["YOLO_OFFLINE"] = "1"
REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import cv2  # noqa: E402
import yaml  # noqa: E402

from dale_common.logs import configure_logging  # noqa: E402
from edge.analytics import RuleThresholds, parse_roi  # noqa: E402
from edge.detector import PersonDetector  # noqa: E402
from edge.outbox import Outbox  # noqa: E402
from edge.pipeline import CameraPipeline  # noqa: E402
from edge.record_writer import RecordWriter  # noqa: E402
from edge.sources import FileSource  # noqa: E402

DEFAULT_VIDEO = REPO_ROOT.parent / "shared" / "data" / "vtest.avi"
DEFAULT_MODEL = REPO_ROOT.parent / "shared" / "models" / "yolov8n_int8_openvino_model"
START_TIME = 1_767_614_400.0  # 2026-01-05T12:00:00Z


def load_frames(video: Path) -> list:
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frames.append(image)
    capture.release()
    return frames


def raw_predict_fps(model, frames: list) -> float:
    options = {"conf": 0.25, "iou": 0.7, "imgsz": 640, "classes": [0], "verbose": False}
    model.predict(frames[0], **options)
    started = time.perf_counter()
    for image in frames:
        model.predict(image, **options)
    return len(frames) / (time.perf_counter() - started)


def agent_fps(
    video: Path, detector: PersonDetector, workdir: Path
) -> tuple[float, int]:
    roi = parse_roi(
        yaml.safe_load((REPO_ROOT / "scripts" / "demo_roi.yaml").read_text())
    )
    outbox = Outbox(workdir / f"outbox-{time.monotonic_ns()}.db")
    pipeline = CameraPipeline(
        "plaza",
        source=FileSource(str(video), start_time=START_TIME),
        detector=detector,
        writer=RecordWriter(outbox, "bench-agent"),
        roi=roi,
        thresholds=RuleThresholds(),
    )
    started = time.perf_counter()
    pipeline.start()
    pipeline.done.wait()
    elapsed = time.perf_counter() - started
    frames = pipeline.health().frames_processed
    stored = outbox.depth()
    outbox.close()
    return frames / elapsed, stored


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    arguments = parser.parse_args()
    video = Path(os.environ.get("DALE_SAMPLE_VIDEO", DEFAULT_VIDEO))
    model_path = Path(os.environ.get("DALE_MODEL", DEFAULT_MODEL))
    configure_logging("warning")

    from ultralytics import YOLO

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    )
    print(f"video: {video}\nmodel: {model_path}")
    frames = load_frames(video)
    raw_model = YOLO(str(model_path), task="detect")
    detector = PersonDetector(model_path)
    raw_results, agent_results = [], []
    with tempfile.TemporaryDirectory() as workdir:
        for round_number in range(1, arguments.rounds + 1):
            raw = raw_predict_fps(raw_model, frames)
            agent, stored = agent_fps(video, detector, Path(workdir))
            raw_results.append(raw)
            agent_results.append(agent)
            print(
                f"round {round_number}: raw predict {raw:.1f} frames/s, agent "
                f"{agent:.1f} frames/s, ratio {agent / raw:.2f} "
                f"({len(frames)} frames, {stored} records stored)"
            )
    best_raw, best_agent = max(raw_results), max(agent_results)
    print(
        f"best: raw predict {best_raw:.1f} frames/s, agent {best_agent:.1f} frames/s, "
        f"ratio {best_agent / best_raw:.2f} (target >= 0.9)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
