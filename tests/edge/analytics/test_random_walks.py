"""Invariants over seeded random walks: counts match side changes, nothing is lost."""

import random

import pytest
from analytics_builders import T0, Scene, counts, line, person, roi, square, zone

from edge.analytics import (
    AnalyticsSettings,
    CameraAnalytics,
    LineSide,
    MinuteAggregator,
)

SEEDS = range(12)
SETTINGS = AnalyticsSettings()


def random_walk(rng: random.Random, frames: int, step: float):
    """Return a walk that stays within x 150..450, inside the line's extent."""
    x, y = rng.uniform(150, 450), rng.uniform(150, 450)
    path = []
    for _ in range(frames):
        x = min(450.0, max(150.0, x + rng.uniform(-step, step)))
        y = min(500.0, max(100.0, y + rng.uniform(-step, step)))
        path.append((x, y))
    return path


def confirmed_sides(path):
    """Replay the hysteresis rule by hand: the side of y=300 each confirmation."""
    band = SETTINGS.line_min_distance_pixels
    needed = SETTINGS.line_confirm_observations
    confirmed, run = None, 0
    sides = []
    for _, y in path:
        if abs(y - 300) < band:
            side = 0
        elif y > 300:
            side = 1
        else:
            side = -1
        if side == 0:
            run = 0
        elif confirmed is None or side == confirmed:
            confirmed, run = side, 0
        else:
            run += 1
            if run >= needed:
                confirmed, run = side, 0
                sides.append(side)
    return sides


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("step", [3.0, 15.0, 60.0])
def test_counts_follow_confirmed_side_changes(seed, step):
    rng = random.Random(seed)
    path = random_walk(rng, 600, step)
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]), settings=SETTINGS)

    updates = Scene().track(1, path).run(analytics)

    expected_sides = confirmed_sides(path)
    ins, outs = counts(updates)
    assert ins == expected_sides.count(1)
    assert outs == expected_sides.count(-1)
    # Counts alternate, so they never differ by more than one.
    assert abs(ins - outs) <= 1


@pytest.mark.parametrize("seed", SEEDS)
def test_walk_inside_band_counts_nothing(seed):
    rng = random.Random(seed)
    band = SETTINGS.line_min_distance_pixels
    path = [
        (rng.uniform(150, 450), 300 + rng.uniform(-band, band) * 0.99)
        for _ in range(600)
    ]
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]))

    updates = Scene().track(1, path).run(analytics)

    assert counts(updates) == (0, 0)


@pytest.mark.parametrize("seed", SEEDS)
def test_aggregator_loses_nothing_with_random_ticks(seed):
    rng = random.Random(seed)
    zones = [
        zone("queue", "queue", square(100, 100, 200)),
        zone("till", "checkout_customer", square(300, 350, 100)),
        zone("cashier", "checkout_staff", square(420, 350, 80)),
    ]
    analytics = CameraAnalytics(
        "cam-1",
        roi(
            zones=zones,
            lines=[line(), line("aisle", (150, 100), (150, 500), LineSide.LEFT)],
            checkout_dwell_seconds=2.0,
            min_dwell_seconds=0.0,
        ),
        settings=AnalyticsSettings(track_lost_seconds=1.0),
    )
    aggregator = MinuteAggregator("cam-1")
    paths = {track: random_walk(rng, 1500, 20.0) for track in range(8)}
    paths[99] = [(450.0, 380.0)] * 1500  # the cashier
    buckets, updates = [], []
    time = T0 + rng.uniform(0, 60)
    for index in range(1500):
        # Irregular frame times with stalls; some frames lose some tracks.
        time += rng.choice([0.1, 0.1, 0.1, 0.5, 3.0, 20.0])
        people = [
            person(track, *path[index])
            for track, path in paths.items()
            if rng.random() > 0.05
        ]
        update = analytics.process(time, people)
        updates.append(update)
        buckets.extend(aggregator.add(update))
        if rng.random() < 0.1:
            tick = analytics.tick(time + rng.uniform(0, 5))
            updates.append(tick)
            buckets.extend(aggregator.add(tick))
    buckets.extend(aggregator.flush())

    starts = [b.start_seconds for b in buckets]
    assert starts == sorted(set(starts))
    assert all(b - a == 60 for a, b in zip(starts, starts[1:], strict=False))
    assert sum(b.frames for b in buckets) == 1500
    crossings = [c for u in updates for c in u.crossings]
    assert sum(b.entries for b in buckets) == sum(
        c.direction == "in" for c in crossings
    )
    assert sum(b.exits for b in buckets) == sum(c.direction == "out" for c in crossings)
    checkouts = sum(len(u.checkouts) for u in updates)
    assert sum(b.checkouts for b in buckets) == checkouts
    dwells = [d for u in updates for d in u.dwells]
    bucket_dwells = sum(z.dwell_count for b in buckets for z in b.zones)
    assert bucket_dwells == len(dwells)
    for bucket in buckets:
        assert bucket.video_seconds <= 60.0 + 1e-6
        assert (bucket.people is None) == (bucket.frames == 0)
