"""Line crossings: hysteresis, segment extent, strides, cooldown, several tracks."""

import random

import pytest
from analytics_builders import FPS, T0, Scene, counts, line, roi, stay, walk

from edge.analytics import AnalyticsSettings, CameraAnalytics, Direction, LineSide

# The default line runs from (100, 300) to (500, 300); "in" is below it (right side
# when walking from a to b on the image).
ABOVE = (300.0, 250.0)
BELOW = (300.0, 350.0)
ON_LINE = (300.0, 300.0)


def jitter(center: tuple[float, float], amplitude: float, frames: int, seed: int):
    rng = random.Random(seed)
    return [
        (
            center[0] + rng.uniform(-amplitude, amplitude),
            center[1] + rng.uniform(-amplitude, amplitude),
        )
        for _ in range(frames)
    ]


def ys(*values: float, x: float = 300.0):
    return [(x, y) for y in values]


CASES = [
    # name, path of track 1, expected (in, out)
    ("walk down counts in", walk(ABOVE, BELOW, 30), (1, 0)),
    ("walk up counts out", walk(BELOW, ABOVE, 30), (0, 1)),
    ("walk down then up", walk(ABOVE, BELOW, 30) + walk(BELOW, ABOVE, 30), (1, 1)),
    ("jitter 5 px for 30 s", jitter(ON_LINE, 5.0, int(30 * FPS), seed=1), (0, 0)),
    (
        "jitter 5 px after arriving from above",
        walk(ABOVE, ON_LINE, 10) + jitter(ON_LINE, 5.0, int(30 * FPS), seed=2),
        (0, 0),
    ),
    ("one-frame flicker A,A,A,B,A,A,A", ys(280, 280, 280, 320, 280, 280, 280), (0, 0)),
    ("two-frame flicker", ys(280, 280, 280, 320, 320, 280, 280, 280), (0, 0)),
    ("flicker far across", ys(250, 250, 250, 400, 250, 250, 250), (0, 0)),
    ("stride of one frame", ys(200, 200, 200, 450, 450, 450, 450), (1, 0)),
    ("stride then band then confirm", ys(200, 200, 450, 305, 450, 450, 450), (1, 0)),
    (
        "outside the segment extent",
        walk((600.0, 250.0), (600.0, 350.0), 30),
        (0, 0),
    ),
    (
        "around the end of the segment",
        walk(ABOVE, (600.0, 250.0), 20)
        + walk((600.0, 250.0), (600.0, 350.0), 20)
        + walk((600.0, 350.0), BELOW, 20),
        (0, 0),
    ),
    (
        "stops on the line, then goes on",
        walk(ABOVE, ON_LINE, 10)
        + jitter(ON_LINE, 5.0, 100, seed=3)
        + walk(ON_LINE, BELOW, 10)
        + stay(BELOW, 5),
        (1, 0),
    ),
    (
        "steps onto the line and returns",
        walk(ABOVE, (300.0, 308.0), 10)
        + stay((300.0, 308.0), 20)
        + walk((300.0, 308.0), ABOVE, 10),
        (0, 0),
    ),
    (
        "steps over for two frames and returns",
        walk(ABOVE, (300.0, 290.0), 10)
        + ys(330, 330)
        + walk((300.0, 290.0), ABOVE, 10),
        (0, 0),
    ),
    (
        "appears on the line then leaves below",
        stay(ON_LINE, 5) + walk(ON_LINE, BELOW, 10),
        (0, 0),
    ),
    (
        "crosses at the end point",
        walk((500.0, 250.0), (500.0, 350.0), 20),
        (1, 0),
    ),
    (
        "three full crossings",
        (walk(ABOVE, BELOW, 20) + walk(BELOW, ABOVE, 20)) + walk(ABOVE, BELOW, 20),
        (2, 1),
    ),
]


@pytest.mark.parametrize(
    ("path", "expected"),
    [pytest.param(path, expected, id=name) for name, path, expected in CASES],
)
def test_line_crossing_table(path, expected):
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]))

    updates = Scene().track(1, path).run(analytics)

    assert counts(updates) == expected


@pytest.mark.parametrize(
    ("in_side", "expected"),
    [(LineSide.RIGHT, (1, 0)), (LineSide.LEFT, (0, 1))],
)
def test_in_side_sets_direction(in_side, expected):
    analytics = CameraAnalytics("cam-1", roi(lines=[line(in_side=in_side)]))

    updates = Scene().track(1, walk(ABOVE, BELOW, 30)).run(analytics)

    assert counts(updates) == expected


def test_reversed_line_swaps_sides():
    # b -> a points left, so the right-hand side is now above the line.
    reversed_line = line(a=(500.0, 300.0), b=(100.0, 300.0), in_side=LineSide.RIGHT)
    analytics = CameraAnalytics("cam-1", roi(lines=[reversed_line]))

    updates = Scene().track(1, walk(BELOW, ABOVE, 30)).run(analytics)

    assert counts(updates) == (1, 0)


def test_diagonal_line_counts_crossing():
    diagonal = line(a=(100.0, 100.0), b=(500.0, 500.0))
    analytics = CameraAnalytics("cam-1", roi(lines=[diagonal]))

    # Right of a -> b (pointing down-right on screen) is the lower-left half.
    updates = Scene().track(1, walk((400.0, 200.0), (200.0, 400.0), 30)).run(analytics)

    assert counts(updates) == (1, 0)


def test_crossing_counts_once_per_crossing_at_confirmation():
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]))

    updates = Scene().track(1, ys(250, 250, 350, 350, 350, 350, 350)).run(analytics)

    crossing_frames = [i for i, u in enumerate(updates) if u.crossings]
    # Observations 2, 3 and 4 are the three below the band that confirm the side.
    assert crossing_frames == [4]
    crossing = updates[4].crossings[0]
    assert crossing.track_id == 1
    assert crossing.direction is Direction.IN
    assert crossing.time == pytest.approx(T0 + 0.4)


def test_low_frame_rate_confirms_by_seconds():
    settings = AnalyticsSettings(line_confirm_observations=5, line_confirm_seconds=1.0)
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]), settings=settings)

    # One frame per second: the second observation below spans 1 s.
    updates = Scene(fps=1.0).track(1, ys(250, 250, 350, 350)).run(analytics)

    assert counts(updates) == (1, 0)
    assert updates[3].crossings


def test_single_observation_never_confirms_by_seconds():
    settings = AnalyticsSettings(line_confirm_observations=5, line_confirm_seconds=0.0)
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]), settings=settings)

    updates = Scene(fps=0.1).track(1, ys(250, 250, 350, 250, 250)).run(analytics)

    assert counts(updates) == (0, 0)


def test_cooldown_suppresses_quick_recrossing():
    analytics = CameraAnalytics("cam-1", roi(lines=[line(cooldown_seconds=10.0)]))
    back_and_forth = (
        walk(ABOVE, BELOW, 10) + walk(BELOW, ABOVE, 10) + walk(ABOVE, BELOW, 10)
    )
    # 3 s of crossings, then 10 s of standing below, then out again.
    path = back_and_forth + stay(BELOW, 100) + walk(BELOW, ABOVE, 10)

    updates = Scene().track(1, path).run(analytics)

    assert counts(updates) == (1, 1)
    times = [c.time - T0 for u in updates for c in u.crossings]
    assert times[1] - times[0] >= 10.0


def test_cooldown_is_per_track():
    analytics = CameraAnalytics("cam-1", roi(lines=[line(cooldown_seconds=60.0)]))
    scene = Scene()
    scene.track(1, walk(ABOVE, BELOW, 20))
    scene.track(2, walk((200.0, 250.0), (200.0, 350.0), 20))

    updates = scene.run(analytics)

    assert counts(updates) == (2, 0)


def test_two_tracks_cross_in_opposite_directions():
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]))
    scene = Scene()
    scene.track(1, walk(ABOVE, BELOW, 30))
    scene.track(2, walk((200.0, 350.0), (200.0, 250.0), 30))
    scene.track(3, stay((400.0, 250.0), 30))

    updates = scene.run(analytics)

    crossings = sorted(
        (c.track_id, c.direction.value) for u in updates for c in u.crossings
    )
    assert crossings == [(1, "in"), (2, "out")]


def test_two_lines_count_separately():
    door = line("door")
    aisle = line("aisle", a=(100.0, 400.0), b=(500.0, 400.0), in_side=LineSide.LEFT)
    analytics = CameraAnalytics("cam-1", roi(lines=[door, aisle]))

    updates = Scene().track(1, walk(ABOVE, (300.0, 450.0), 40)).run(analytics)

    assert counts(updates, "door") == (1, 0)
    assert counts(updates, "aisle") == (0, 1)
    assert updates[0].line_ids == ("door", "aisle")


def test_lost_track_restarts_without_count():
    settings = AnalyticsSettings(track_lost_seconds=1.0)
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]), settings=settings)
    # Seen above, lost for 2 s, then seen below: the path is unknown.
    path = stay(ABOVE, 5) + [None] * 20 + stay(BELOW, 10)

    updates = Scene().track(1, path).run(analytics)

    assert counts(updates) == (0, 0)


def test_short_gap_keeps_track_state():
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]))
    # Missing for 1 s (under track_lost_seconds) while it crosses.
    path = stay(ABOVE, 5) + [None] * 10 + stay(BELOW, 10)

    updates = Scene().track(1, path).run(analytics)

    assert counts(updates) == (1, 0)


def test_changed_line_counts_from_change():
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]))
    frames = Scene().track(1, walk(ABOVE, (300.0, 290.0), 10)).frames()
    for time, people in frames:
        analytics.process(time, people)
    # The line moves up past the track; a stale state would see the track already
    # below it.
    moved = line(a=(100.0, 200.0), b=(500.0, 200.0))
    analytics.update_roi(roi(lines=[moved]), frames[-1][0], config_version=2)
    after = Scene(start=frames[-1][0] + 0.1).track(
        1, walk((300.0, 290.0), (300.0, 150.0), 20)
    )

    updates = after.run(analytics)

    assert counts(updates) == (0, 1)
    assert all(u.config_version == 2 for u in updates)


def test_unchanged_line_keeps_state_across_roi_update():
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]))
    first = Scene().track(1, ys(250, 250, 250, 350))
    for time, people in first.frames():
        analytics.process(time, people)
    # Only the cooldown and name change: the crossing in progress still counts.
    renamed = line(cooldown_seconds=5.0)
    analytics.update_roi(roi(lines=[renamed]), T0 + 0.3)

    updates = Scene(start=T0 + 0.4).track(1, ys(350, 350, 350)).run(analytics)

    assert counts(updates) == (1, 0)


def test_moved_line_drops_crossing_in_progress():
    analytics = CameraAnalytics("cam-1", roi(lines=[line()]))
    for time, people in Scene().track(1, ys(250, 250, 250, 350)).frames():
        analytics.process(time, people)
    shifted = line(a=(100.0, 301.0), b=(500.0, 301.0))
    analytics.update_roi(roi(lines=[shifted]), T0 + 0.3)

    updates = Scene(start=T0 + 0.4).track(1, ys(350, 350, 350)).run(analytics)

    assert counts(updates) == (0, 0)
