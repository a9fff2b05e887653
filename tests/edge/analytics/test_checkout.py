"""Checkout interactions: dwell, failsafe, grace against dropouts, pairing."""

import pytest
from analytics_builders import T0, Scene, person, roi, square, stay, zone

from edge.analytics import AnalyticsSettings, CameraAnalytics

CUSTOMER_SPOT = (170.0, 170.0)
STAFF_SPOT = (320.0, 170.0)
AWAY = (600.0, 600.0)


def till_roi(**parameters):
    return roi(
        zones=[
            zone("customer", "checkout_customer", square(150, 150, 50)),
            zone("staff", "checkout_staff", square(300, 150, 50)),
        ],
        **parameters,
    )


def run(customer_path, staff_path, *, settings=None, **parameters):
    parameters = {"checkout_dwell_seconds": 5.0, **parameters}
    analytics = CameraAnalytics("cam-1", till_roi(**parameters), settings=settings)
    scene = Scene().track(1, customer_path).track(2, staff_path)
    return [c for update in scene.run(analytics) for c in update.checkouts]


def present(seconds: float, spot=CUSTOMER_SPOT):
    return stay(spot, round(seconds * 10))


def test_together_for_dwell_counts_one():
    checkouts = run(present(8), present(8, STAFF_SPOT))

    assert len(checkouts) == 1
    assert checkouts[0].time - checkouts[0].started == pytest.approx(5.0)
    assert checkouts[0].customer_zone_id == "customer"
    assert checkouts[0].staff_zone_id == "staff"


def test_shorter_than_dwell_counts_nothing():
    checkouts = run(present(4) + present(10, AWAY), present(14, STAFF_SPOT))

    assert checkouts == []


def test_customer_without_staff_counts_nothing():
    checkouts = run(present(20), present(20, AWAY))

    assert checkouts == []


@pytest.mark.parametrize("dropout_at", [1.0, 4.5, 6.0])
def test_one_frame_dropout_does_not_split(dropout_at):
    customer = present(12)
    customer[int(dropout_at * 10)] = None

    checkouts = run(customer, present(12, STAFF_SPOT))

    assert len(checkouts) == 1
    assert checkouts[0].started == T0


def test_dropout_within_grace_does_not_split():
    settings = AnalyticsSettings(checkout_grace_seconds=2.0)
    # The customer steps away for 1.5 s in the middle of a 12 s interaction.
    customer = present(6) + present(1.5, AWAY) + present(4.5)

    checkouts = run(customer, present(12, STAFF_SPOT), settings=settings)

    assert len(checkouts) == 1


def test_absence_longer_than_grace_starts_new_interaction():
    settings = AnalyticsSettings(checkout_grace_seconds=2.0)
    customer = present(6) + present(3, AWAY) + present(6)

    checkouts = run(customer, present(15, STAFF_SPOT), settings=settings)

    assert len(checkouts) == 2
    assert checkouts[1].started == pytest.approx(T0 + 9.0)


def test_staff_dropout_within_grace_does_not_split():
    staff = present(12, STAFF_SPOT)
    staff[40] = None
    staff[41] = None

    checkouts = run(present(12), staff)

    assert len(checkouts) == 1


def test_failsafe_ends_long_interaction():
    checkouts = run(
        present(25),
        present(25, STAFF_SPOT),
        checkout_dwell_seconds=3.0,
        checkout_failsafe_seconds=10.0,
    )

    starts = [round(c.started - T0, 1) for c in checkouts]
    assert len(checkouts) == 3
    assert starts == [0.0, 10.1, 20.2]


def test_failsafe_equal_to_dwell_counts_each_period():
    checkouts = run(
        present(10),
        present(10, STAFF_SPOT),
        checkout_dwell_seconds=3.0,
        checkout_failsafe_seconds=3.0,
    )

    assert len(checkouts) == 3


def test_two_tills_pair_by_staff_zone_id():
    zones = [
        zone("c1", "checkout_customer", square(0, 0, 50), staff_zone_id="s1"),
        zone("c2", "checkout_customer", square(100, 0, 50), staff_zone_id="s2"),
        zone("s1", "checkout_staff", square(0, 100, 50)),
        zone("s2", "checkout_staff", square(100, 100, 50)),
    ]
    analytics = CameraAnalytics("cam-1", roi(zones=zones, checkout_dwell_seconds=2.0))
    # Customers at both tills, but staff only at till 1.
    scene = (
        Scene()
        .track(1, stay((20.0, 20.0), 40))
        .track(2, stay((120.0, 20.0), 40))
        .track(3, stay((20.0, 120.0), 40))
    )

    checkouts = [c for u in scene.run(analytics) for c in u.checkouts]

    assert [(c.customer_zone_id, c.staff_zone_id) for c in checkouts] == [("c1", "s1")]


def test_one_staff_zone_serves_two_tills():
    zones = [
        zone("c1", "checkout_customer", square(0, 0, 50)),
        zone("c2", "checkout_customer", square(100, 0, 50)),
        zone("s", "checkout_staff", square(50, 100, 50)),
    ]
    analytics = CameraAnalytics("cam-1", roi(zones=zones, checkout_dwell_seconds=2.0))
    scene = (
        Scene()
        .track(1, stay((20.0, 20.0), 40))
        .track(2, stay((120.0, 20.0), 40))
        .track(3, stay((70.0, 120.0), 40))
    )

    checkouts = [c for u in scene.run(analytics) for c in u.checkouts]

    assert sorted(c.customer_zone_id for c in checkouts) == ["c1", "c2"]


def test_offline_ends_interaction_without_count():
    analytics = CameraAnalytics("cam-1", till_roi(checkout_dwell_seconds=5.0))
    together = [person(1, *CUSTOMER_SPOT), person(2, *STAFF_SPOT)]
    for index in range(30):
        analytics.process(T0 + index / 10, together)
    analytics.mark_offline(T0 + 3.0)

    updates = [analytics.process(T0 + 10 + i / 10, together) for i in range(30)]

    # The 3 s before going offline and the 2.9 s after do not add up to 5 s.
    assert [c for u in updates for c in u.checkouts] == []
