"""Minute buckets: UTC alignment, gauges, counters, empty minutes, ticks, flush."""

from datetime import UTC, datetime

import pytest
from analytics_builders import T0, Scene, line, person, roi, square, stay, walk, zone

from edge.analytics import (
    AggregatorSettings,
    AnalyticsSettings,
    CameraAnalytics,
    Gauge,
    MinuteAggregator,
    ZoneKind,
    minute_start,
)
from edge.roi_codec import bucket_to_proto

QUEUE = zone("queue", "queue", square(0, 0, 200))
SHELF = zone("shelf", "area", square(300, 0, 100))
DOOR = line()  # y=300 from x=100 to x=500, in is below


def pipeline(*, zones=(QUEUE, SHELF), lines=(DOOR,), version=1, **aggregator):
    analytics = CameraAnalytics(
        "cam-1",
        roi(zones=zones, lines=lines, min_dwell_seconds=1.0),
        config_version=version,
    )
    return analytics, MinuteAggregator(
        "cam-1", config_version=version, settings=AggregatorSettings(**aggregator)
    )


def feed(analytics, aggregator, frames):
    buckets = []
    for time, people in frames:
        buckets.extend(aggregator.add(analytics.process(time, people)))
    return buckets


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        (T0, T0),
        (T0 + 59.999, T0),
        (T0 + 60.0, T0 + 60),
        (T0 - 0.001, T0 - 60),
        (0.0, 0),
        (-30.0, -60),
    ],
)
def test_minute_start_floors_to_utc_minute(time, expected):
    assert minute_start(time) == expected


def test_bucket_aligned_to_utc_minute():
    analytics, aggregator = pipeline()
    feed(analytics, aggregator, [(T0 + 17.3, []), (T0 + 42.0, [])])

    (bucket,) = aggregator.flush()

    assert bucket.start == datetime(2025, 11, 30, 12, 0, tzinfo=UTC)
    assert bucket.start.tzinfo is UTC
    assert bucket.start_seconds == T0
    assert bucket.duration_seconds == 60
    assert bucket.camera_id == "cam-1"


def test_gauges_are_avg_max_min_over_frames():
    analytics, aggregator = pipeline()
    # 1, 3 and 2 people in the queue, one more person outside every zone.
    counts = [1, 3, 2]
    frames = [
        (
            T0 + i,
            [person(j, 10 + 20 * j, 50) for j in range(n)] + [person(99, 600, 600)],
        )
        for i, n in enumerate(counts)
    ]
    feed(analytics, aggregator, frames)

    (bucket,) = aggregator.flush()

    assert bucket.frames == 3
    assert bucket.people == Gauge(avg=3.0, max=4.0, min=2.0)
    assert bucket.queue_length == Gauge(avg=2.0, max=3.0, min=1.0)
    queue, shelf = bucket.zones
    assert queue.zone_id == "queue"
    assert queue.kind is ZoneKind.QUEUE
    assert queue.occupancy == Gauge(avg=2.0, max=3.0, min=1.0)
    assert queue.queue_length == Gauge(avg=2.0, max=3.0, min=1.0)
    assert shelf.occupancy == Gauge(avg=0.0, max=0.0, min=0.0)
    assert shelf.queue_length is None


def test_counters_sum_events_of_the_minute():
    analytics, aggregator = pipeline()
    scene = Scene(start=T0 + 10)
    scene.track(1, walk((300.0, 250.0), (300.0, 350.0), 20))
    scene.track(2, walk((200.0, 350.0), (200.0, 250.0), 20))
    scene.track(3, walk((250.0, 250.0), (250.0, 350.0), 20))
    # Track 4 stays 3 s on the shelf and leaves.
    scene.track(4, stay((350.0, 50.0), 30) + stay((600.0, 50.0), 20))
    feed(analytics, aggregator, scene.frames())

    (bucket,) = aggregator.flush()

    assert (bucket.entries, bucket.exits) == (2, 1)
    (door,) = bucket.lines
    assert (door.line_id, door.in_count, door.out_count) == ("door", 2, 1)
    shelf = bucket.zones[1]
    assert shelf.dwell_count == 1
    assert shelf.dwell_seconds_sum == pytest.approx(2.9)
    assert shelf.dwell_seconds_max == pytest.approx(2.9)


def test_checkouts_count_in_camera_and_customer_zone():
    zones = (
        zone("till", "checkout_customer", square(0, 0, 50)),
        zone("cashier", "checkout_staff", square(100, 0, 50)),
    )
    analytics = CameraAnalytics(
        "cam-1",
        roi(zones=zones, checkout_dwell_seconds=2.0, checkout_failsafe_seconds=10),
    )
    aggregator = MinuteAggregator("cam-1")
    scene = (
        Scene(start=T0)
        .track(1, stay((20.0, 20.0), 250))
        .track(2, stay((120.0, 20.0), 250))
    )
    feed(analytics, aggregator, scene.frames())

    (bucket,) = aggregator.flush()

    # 25 s together with a 10 s failsafe: interactions at 0, 10.1 and 20.2 s.
    assert bucket.checkouts == 3
    till, cashier = bucket.zones
    assert till.checkouts == 3
    assert cashier.checkouts == 0
    assert bucket.queue_length is None


def test_lines_listed_even_without_crossings():
    analytics, aggregator = pipeline()
    feed(analytics, aggregator, [(T0, [])])

    (bucket,) = aggregator.flush()

    assert [(b.line_id, b.in_count, b.out_count) for b in bucket.lines] == [
        ("door", 0, 0)
    ]


def test_video_seconds_of_a_full_minute():
    analytics, aggregator = pipeline()
    frames = [(T0 + i / 10, []) for i in range(1200)]

    buckets = feed(analytics, aggregator, frames)

    (first,) = buckets  # closed at T0 + 62 s by frame time
    # Each interval between two frames counts in the minute it falls in, so the
    # first minute is fully covered ...
    assert first.frames == 600
    assert first.video_seconds == pytest.approx(60.0)
    (second,) = aggregator.flush()
    # ... and the last one misses the interval after its last frame.
    assert second.frames == 600
    assert second.video_seconds == pytest.approx(59.9)


def test_video_seconds_split_at_minute_boundary():
    analytics, aggregator = pipeline(max_frame_gap_seconds=2.0)
    feed(analytics, aggregator, [(T0 + 59.5, []), (T0 + 60.5, [])])

    first, second = aggregator.flush()

    assert first.video_seconds == pytest.approx(0.5)
    assert second.video_seconds == pytest.approx(0.5)


def test_stall_counts_only_max_gap():
    analytics, aggregator = pipeline(max_frame_gap_seconds=2.0)
    feed(analytics, aggregator, [(T0 + 1, []), (T0 + 2, []), (T0 + 30, [])])

    (bucket,) = aggregator.flush()

    assert bucket.video_seconds == pytest.approx(3.0)


def test_offline_gap_counts_no_video():
    analytics, aggregator = pipeline(max_frame_gap_seconds=5.0)
    feed(analytics, aggregator, [(T0 + 1, []), (T0 + 2, [])])
    aggregator.add(analytics.mark_offline(T0 + 3))
    feed(analytics, aggregator, [(T0 + 4, []), (T0 + 5, [])])

    (bucket,) = aggregator.flush()

    assert bucket.video_seconds == pytest.approx(2.0)


def test_minute_without_video_has_no_gauges():
    analytics, aggregator = pipeline()
    buckets = feed(analytics, aggregator, [(T0 + 10, [person(1, 10, 10)])])
    buckets += feed(analytics, aggregator, [(T0 + 130, [person(1, 10, 10)])])
    buckets += aggregator.flush()

    assert [b.start_seconds - T0 for b in buckets] == [0, 60, 120]
    empty = buckets[1]
    assert empty.frames == 0
    assert empty.video_seconds == 0.0
    assert empty.people is None
    assert empty.queue_length is None
    assert empty.zones == ()
    assert empty.lines == ()
    assert (empty.entries, empty.exits, empty.checkouts) == (0, 0, 0)
    assert empty.config_version == 1
    message = bucket_to_proto(empty)
    assert not message.HasField("people")
    assert not message.HasField("queue_length")


def test_tick_closes_minute_without_frames():
    analytics, aggregator = pipeline(close_grace_seconds=2.0)
    feed(analytics, aggregator, [(T0 + 30, [person(1, 10, 10)])])

    assert aggregator.tick(T0 + 61.9) == []
    (bucket,) = aggregator.tick(T0 + 62.0)
    assert bucket.start_seconds == T0
    assert bucket.frames == 1
    assert aggregator.tick(T0 + 62.5) == []
    later = aggregator.tick(T0 + 182.0)
    assert [b.start_seconds - T0 for b in later] == [60, 120]
    assert all(b.frames == 0 and b.people is None for b in later)


def test_tick_alone_emits_empty_minutes():
    aggregator = MinuteAggregator("cam-dead", config_version=7)

    assert aggregator.tick(T0 + 5) == []
    buckets = aggregator.tick(T0 + 181)

    assert [b.start_seconds - T0 for b in buckets] == [0, 60]
    assert all(b.frames == 0 for b in buckets)
    assert all(b.config_version == 7 for b in buckets)


def test_late_frame_within_grace_joins_its_minute():
    analytics, aggregator = pipeline(close_grace_seconds=2.0)
    feed(analytics, aggregator, [(T0 + 50, [])])
    assert aggregator.tick(T0 + 61) == []

    feed(analytics, aggregator, [(T0 + 59.9, [])])
    (bucket,) = aggregator.tick(T0 + 62)

    assert bucket.frames == 2


def test_frame_after_its_minute_closed_counts_in_next():
    analytics, aggregator = pipeline(close_grace_seconds=2.0)
    # The camera's frames lag: the wall clock closed minute 0 already.
    assert aggregator.tick(T0 + 10) == []
    assert len(aggregator.tick(T0 + 63)) == 1

    update = analytics.process(T0 + 59.0, [person(1, 10, 10)])
    aggregator.add(update)
    (bucket,) = aggregator.flush()

    assert bucket.start_seconds == T0 + 60
    assert bucket.frames == 1


def test_crossing_late_for_closed_minute_is_not_lost():
    analytics, aggregator = pipeline(close_grace_seconds=0.0)
    scene = Scene(start=T0 + 59.5).track(1, walk((300.0, 250.0), (300.0, 350.0), 11))
    buckets = feed(analytics, aggregator, scene.frames()) + aggregator.flush()

    assert sum(b.entries for b in buckets) == 1


def test_flush_closes_partial_minute_once():
    analytics, aggregator = pipeline()
    feed(analytics, aggregator, [(T0 + 5, []), (T0 + 61, [])])

    flushed = aggregator.flush()

    assert [b.start_seconds - T0 for b in flushed] == [0, 60]
    assert aggregator.flush() == []
    assert aggregator.tick(T0 + 1000) != []
    # Minute 900-960 ended at 960 + 2 s grace <= 1000; minute 960 is still open.
    assert aggregator.next_minute_start == T0 + 960


def test_flush_before_anything_is_empty():
    assert MinuteAggregator("cam-1").flush() == []


def test_clock_jump_skips_old_empty_minutes():
    analytics, aggregator = pipeline(max_catch_up_minutes=10)
    feed(analytics, aggregator, [(T0 + 1, [])])

    buckets = aggregator.tick(T0 + 100 * 60 + 5)

    assert buckets[0].start_seconds == T0
    assert buckets[0].frames == 1
    assert len(buckets) == 11
    assert [b.start_seconds - T0 for b in buckets[1:]] == [
        60 * m for m in range(90, 100)
    ]


def scenario_buckets():
    """Run one fixed scenario with lines, zones, checkouts and dwell."""
    zones = (
        zone("queue", "queue", square(0, 0, 200)),
        zone("till", "checkout_customer", square(150, 150, 50)),
        zone("cashier", "checkout_staff", square(300, 150, 50)),
    )
    analytics = CameraAnalytics(
        "cam-1",
        roi(zones=zones, lines=[DOOR], checkout_dwell_seconds=3.0, min_dwell_seconds=1),
        config_version=5,
        settings=AnalyticsSettings(track_lost_seconds=2.0),
    )
    aggregator = MinuteAggregator("cam-1", config_version=5)
    scene = Scene(start=T0 + 45.05)
    for track in range(12):
        offset = [None] * (track * 25)
        scene.track(
            track, offset + walk((100.0 + 30 * track, 250.0), (170.0, 170.0), 40)
        )
    scene.track(100, stay((320.0, 170.0), 900))
    buckets = feed(analytics, aggregator, scene.frames())
    buckets += aggregator.add(analytics.tick(T0 + 200))
    return buckets + aggregator.flush()


def test_same_frames_give_identical_buckets():
    first = scenario_buckets()
    second = scenario_buckets()

    assert first == second
    assert [
        bucket_to_proto(b).SerializeToString(deterministic=True) for b in first
    ] == [bucket_to_proto(b).SerializeToString(deterministic=True) for b in second]
    assert sum(b.checkouts for b in first) >= 1
    assert sum(b.frames for b in first) == 900


def test_update_roi_mid_stream():
    analytics, aggregator = pipeline(zones=(QUEUE, SHELF), version=1)
    shopper = stay((350.0, 50.0), 50)
    scene = Scene(start=T0 + 10).track(1, shopper)
    feed(analytics, aggregator, scene.frames())

    new_roi = roi(
        zones=[QUEUE, zone("exit", "entrance", square(500, 0, 100))], lines=[DOOR]
    )
    aggregator.add(analytics.update_roi(new_roi, T0 + 15, config_version=2))
    after = Scene(start=T0 + 15).track(1, walk((350.0, 250.0), (350.0, 350.0), 20))
    feed(analytics, aggregator, after.frames())

    (bucket,) = aggregator.flush()
    assert bucket.config_version == 2
    # The removed zone comes after the zones of the current ROI.
    assert [z.zone_id for z in bucket.zones] == ["queue", "exit", "shelf"]
    shelf = bucket.zones[2]
    # The removed zone's stay ended at the update and still counts.
    assert shelf.dwell_count == 1
    assert shelf.dwell_seconds_sum == pytest.approx(4.9)
    assert shelf.occupancy.max == 1.0
    exit_zone = bucket.zones[1]
    assert exit_zone.kind is ZoneKind.ENTRANCE
    assert bucket.frames == 70
    assert bucket.entries == 1


def test_bucket_carries_version_of_latest_update():
    analytics, aggregator = pipeline(version=1)
    feed(analytics, aggregator, [(T0 + 1, [])])
    aggregator.add(analytics.update_roi(analytics.roi, T0 + 2, config_version=9))

    buckets = feed(analytics, aggregator, [(T0 + 65, [])]) + aggregator.flush()

    assert [b.config_version for b in buckets] == [9, 9]


def test_zones_listed_in_roi_order():
    shelf_first = (SHELF, QUEUE)
    analytics, aggregator = pipeline(zones=shelf_first)
    # The dwell in the queue ends by a tick before the minute's first frame.
    feed(
        analytics,
        aggregator,
        [(T0 + 50 + i / 10, [person(1, 50, 50)]) for i in range(30)],
    )
    aggregator.add(analytics.tick(T0 + 61))

    (bucket,) = feed(analytics, aggregator, [(T0 + 62, [])])[1:] + aggregator.flush()

    assert [z.zone_id for z in bucket.zones] == ["shelf", "queue"]
    assert bucket.zones[1].dwell_count == 1
