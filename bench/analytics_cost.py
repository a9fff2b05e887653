"""Measure the per-frame cost of the edge analytics (no detector, no I/O).

Run: .venv/bin/python bench/analytics_cost.py [--frames 3000]

Feeds seeded random walks of N people through CameraAnalytics, MinuteAggregator and
EdgeRules and prints milliseconds per frame for several N. The ROI has 11 octagonal
zones (among them one queue and one checkout pair) and 4 lines on a 768x576 frame.
The cost includes building the TrackedPerson objects.
"""

from __future__ import annotations

import argparse
import math
import platform
import random
import time

from dale_common.logs import configure_logging
from edge.analytics import (
    CameraAnalytics,
    EdgeRules,
    MinuteAggregator,
    TrackedPerson,
    parse_roi,
)

WIDTH, HEIGHT = 768, 576


def octagon(x: float, y: float, size: float) -> list[list[float]]:
    radius = size / 2
    return [
        [
            x + radius + radius * math.cos(2 * math.pi * i / 8),
            y + radius + radius * math.sin(2 * math.pi * i / 8),
        ]
        for i in range(8)
    ]


def bench_roi():
    zones = [
        {"id": f"area-{i}", "kind": "area", "polygon": octagon(70 * i, 40, 150)}
        for i in range(8)
    ]
    zones += [
        {"id": "queue", "kind": "queue", "polygon": octagon(0, 300, 260)},
        {"id": "till", "kind": "checkout_customer", "polygon": octagon(300, 300, 100)},
        {"id": "cashier", "kind": "checkout_staff", "polygon": octagon(450, 300, 100)},
    ]
    lines = [
        {
            "id": f"line-{i}",
            "a": [0, 100 + 100 * i],
            "b": [768, 120 + 100 * i],
            "in_side": "right",
        }
        for i in range(4)
    ]
    return parse_roi({"zones": zones, "lines": lines}, (WIDTH, HEIGHT))


def run(people_count: int, frames: int) -> float:
    rng = random.Random(people_count)
    analytics = CameraAnalytics("bench", bench_roi())
    aggregator = MinuteAggregator("bench")
    rules = EdgeRules("bench")
    positions = [
        [rng.uniform(0, WIDTH), rng.uniform(0, HEIGHT)] for _ in range(people_count)
    ]
    started = time.perf_counter()
    for index in range(frames):
        people = []
        for track_id, point in enumerate(positions):
            point[0] = min(WIDTH, max(0.0, point[0] + rng.uniform(-8, 8)))
            point[1] = min(HEIGHT, max(0.0, point[1] + rng.uniform(-8, 8)))
            box = (point[0] - 15, point[1] - 60, point[0] + 15, point[1])
            people.append(TrackedPerson(track_id, box, 0.8))
        update = analytics.process(1_764_504_000 + index / 10, people)
        aggregator.add(update)
        rules.observe(update)
    return (time.perf_counter() - started) / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=3000, help="frames per run")
    arguments = parser.parse_args()
    configure_logging("warning")
    print(f"python {platform.python_version()} on {platform.machine()}")
    for people_count in (5, 20, 50):
        seconds = run(people_count, arguments.frames)
        print(f"{people_count:3d} people: {seconds * 1000:.3f} ms/frame")


if __name__ == "__main__":
    main()
