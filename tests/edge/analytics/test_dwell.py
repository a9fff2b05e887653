"""Dwell per zone: on exit, on track loss, on ticks, offline and ROI changes."""

import pytest
from analytics_builders import T0, Scene, roi, square, stay, walk, zone

from edge.analytics import AnalyticsSettings, CameraAnalytics, UpdateKind, ZoneKind

SHELF = zone("shelf", "area", square(100, 100, 100))
INSIDE = (150.0, 150.0)
OUTSIDE = (400.0, 400.0)


def dwells_of(updates):
    return [d for u in updates for d in u.dwells]


def analytics_for(*zones, min_dwell=2.0, **settings):
    return CameraAnalytics(
        "cam-1",
        roi(zones=zones or [SHELF], min_dwell_seconds=min_dwell),
        settings=AnalyticsSettings(**settings),
    )


def test_dwell_recorded_on_exit():
    analytics = analytics_for(zone_exit_grace_seconds=1.0)
    # Inside for frames 0..99 (9.9 s), then outside.
    path = stay(INSIDE, 100) + stay(OUTSIDE, 30)

    updates = Scene().track(7, path).run(analytics)

    (dwell,) = dwells_of(updates)
    assert dwell.zone_id == "shelf"
    assert dwell.zone_kind is ZoneKind.AREA
    assert dwell.track_id == 7
    assert dwell.seconds == pytest.approx(9.9)
    # Ended once the track was outside for more than the 1 s grace.
    assert dwell.time == pytest.approx(T0 + 9.9 + 1.1)


def test_stay_shorter_than_min_dwell_is_dropped():
    analytics = analytics_for(min_dwell=5.0)
    path = stay(INSIDE, 40) + stay(OUTSIDE, 30)

    updates = Scene().track(1, path).run(analytics)

    assert dwells_of(updates) == []


def test_stay_equal_to_min_dwell_is_kept():
    analytics = analytics_for(min_dwell=3.0)
    path = stay(INSIDE, 31) + stay(OUTSIDE, 30)

    updates = Scene().track(1, path).run(analytics)

    assert len(dwells_of(updates)) == 1


def test_short_exit_within_grace_keeps_one_stay():
    analytics = analytics_for(zone_exit_grace_seconds=1.0)
    path = stay(INSIDE, 50) + stay(OUTSIDE, 5) + stay(INSIDE, 50) + stay(OUTSIDE, 20)

    updates = Scene().track(1, path).run(analytics)

    (dwell,) = dwells_of(updates)
    assert dwell.seconds == pytest.approx(10.4)


def test_walking_through_zone_records_crossing_time():
    analytics = analytics_for(min_dwell=0.0)
    path = walk((50.0, 150.0), (250.0, 150.0), 21) + stay(OUTSIDE, 20)

    updates = Scene().track(1, path).run(analytics)

    (dwell,) = dwells_of(updates)
    # x goes 10 px per frame; inside for x = 100..190 (the left edge is inside,
    # the right edge outside), i.e. frames 5..14.
    assert dwell.seconds == pytest.approx(0.9)


def test_dwell_recorded_when_track_lost():
    analytics = analytics_for(track_lost_seconds=3.0)
    path = stay(INSIDE, 60) + [None] * 40
    path.append(OUTSIDE)
    scene = Scene().track(1, path).track(2, stay(OUTSIDE, len(path)))

    updates = scene.run(analytics)

    (dwell,) = dwells_of(updates)
    assert dwell.seconds == pytest.approx(5.9)
    # Last seen at 5.9 s; finalized by the first frame more than 3 s later.
    assert dwell.time == pytest.approx(T0 + 9.0)


def test_tick_finalizes_lost_tracks_without_frames():
    analytics = analytics_for(track_lost_seconds=3.0)
    Scene().track(1, stay(INSIDE, 50)).run(analytics)

    early = analytics.tick(T0 + 6.0)
    late = analytics.tick(T0 + 8.0)

    assert early.kind is UpdateKind.TICK
    assert early.dwells == ()
    assert [d.seconds for d in late.dwells] == [pytest.approx(4.9)]
    assert analytics.active_track_ids == []


def test_mark_offline_finalizes_every_stay():
    analytics = analytics_for()
    Scene().track(1, stay(INSIDE, 50)).track(2, stay(INSIDE, 30)).run(analytics)

    update = analytics.mark_offline(T0 + 5.0)

    assert update.kind is UpdateKind.OFFLINE
    assert sorted((d.track_id, round(d.seconds, 1)) for d in update.dwells) == [
        (1, 4.9),
        (2, 2.9),
    ]
    assert analytics.online is False
    assert analytics.active_track_ids == []


def test_frame_after_offline_sets_online():
    analytics = analytics_for()
    analytics.mark_offline(T0)

    analytics.process(T0 + 1.0, [])

    assert analytics.online is True


def test_removed_zone_ends_stays_on_roi_update():
    other = zone("door", "entrance", square(0, 0, 50))
    analytics = analytics_for(SHELF, other)
    Scene().track(1, stay(INSIDE, 50)).run(analytics)

    update = analytics.update_roi(roi(zones=[other]), T0 + 5.0, config_version=4)

    assert [(d.zone_id, round(d.seconds, 1)) for d in update.dwells] == [("shelf", 4.9)]
    assert update.config_version == 4


def test_changed_zone_keeps_stay_on_roi_update():
    analytics = analytics_for(min_dwell=0.0)
    Scene().track(1, stay(INSIDE, 50)).run(analytics)
    bigger = zone("shelf", "queue", square(50, 50, 200))
    analytics.update_roi(roi(zones=[bigger], min_dwell_seconds=0.0), T0 + 5.0)

    after = Scene(start=T0 + 5.0).track(1, stay(INSIDE, 50) + stay(OUTSIDE, 20))
    updates = after.run(analytics)

    (dwell,) = dwells_of(updates)
    assert dwell.seconds == pytest.approx(9.9)
    assert dwell.zone_kind is ZoneKind.QUEUE


def test_dwell_in_two_zones_at_once():
    outer = zone("floor", "area", square(0, 0, 300))
    analytics = analytics_for(SHELF, outer, min_dwell=0.0)
    path = stay(INSIDE, 30) + stay((250.0, 250.0), 30) + stay(OUTSIDE, 20)

    updates = Scene().track(1, path).run(analytics)

    by_zone = {d.zone_id: round(d.seconds, 1) for d in dwells_of(updates)}
    assert by_zone == {"shelf": 2.9, "floor": 5.9}
