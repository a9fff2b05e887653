"""Zone occupancy, people in view and queue length with people being served."""

import pytest
from analytics_builders import T0, person, roi, square, zone

from edge.analytics import CameraAnalytics, RoiParameters, UpdateKind, ZoneKind

# A queue zone that also covers the till's customer zone, a staff zone behind the
# till, and a second queue zone overlapping the first.
QUEUE = zone("queue", "queue", square(0, 0, 200))
CUSTOMER = zone("till-customer", "checkout_customer", square(150, 150, 50))
STAFF = zone("till-staff", "checkout_staff", square(300, 150, 50))
OVERFLOW = zone("overflow", "queue", square(100, 0, 200))
AREA = zone("floor", "area", square(0, 0, 400))


def sample_of(analytics, *people):
    update = analytics.process(T0, list(people))
    assert update.kind is UpdateKind.FRAME
    return update.sample


def occupancy(sample):
    return {z.zone_id: z.occupancy for z in sample.zones}


def queues(sample):
    return {z.zone_id: z.queue_length for z in sample.zones}


@pytest.mark.parametrize(
    ("positions", "expected"),
    [
        pytest.param([], {"queue": 0, "floor": 0}, id="empty"),
        pytest.param([(10, 10)], {"queue": 1, "floor": 1}, id="inside both"),
        pytest.param([(250, 250)], {"queue": 0, "floor": 1}, id="area only"),
        pytest.param([(450, 450)], {"queue": 0, "floor": 0}, id="outside"),
        pytest.param(
            [(10, 10), (20, 20), (390, 390), (500, 10)],
            {"queue": 2, "floor": 3},
            id="mixed",
        ),
    ],
)
def test_zone_occupancy_table(positions, expected):
    analytics = CameraAnalytics("cam-1", roi(zones=[QUEUE, AREA]))
    people = [person(i, x, y) for i, (x, y) in enumerate(positions)]

    sample = sample_of(analytics, *people)

    assert occupancy(sample) == expected
    assert sample.people == len(positions)


def test_position_is_bottom_centre_of_box():
    analytics = CameraAnalytics("cam-1", roi(zones=[QUEUE]))
    # The box's top half is inside the queue zone, its feet are below it.
    head_inside = person(1, 100, 230)
    feet_inside = person(2, 100, 190)

    sample = sample_of(analytics, head_inside, feet_inside)

    assert head_inside.position == (100, 230)
    assert occupancy(sample) == {"queue": 1}


def test_queue_counts_everyone_without_staff():
    analytics = CameraAnalytics("cam-1", roi(zones=[QUEUE, CUSTOMER, STAFF]))

    sample = sample_of(analytics, person(1, 20, 20), person(2, 170, 170))

    assert queues(sample)["queue"] == 2
    assert sample.queue_length == 2


def test_queue_excludes_customer_being_served():
    analytics = CameraAnalytics("cam-1", roi(zones=[QUEUE, CUSTOMER, STAFF]))
    waiting = person(1, 20, 20)
    at_till = person(2, 170, 170)
    cashier = person(3, 320, 170)

    sample = sample_of(analytics, waiting, at_till, cashier)

    assert queues(sample) == {
        "queue": 1,
        "till-customer": None,
        "till-staff": None,
    }
    assert occupancy(sample)["till-customer"] == 1
    assert occupancy(sample)["till-staff"] == 1
    assert sample.queue_length == 1


def test_queue_never_below_zero_when_served_outside_queue():
    # The customer zone lies outside the queue zone: being served there must not
    # reduce the queue.
    customer = zone("till-customer", "checkout_customer", square(250, 250, 50))
    analytics = CameraAnalytics("cam-1", roi(zones=[QUEUE, customer, STAFF]))

    sample = sample_of(analytics, person(1, 270, 270), person(2, 320, 170))

    assert queues(sample)["queue"] == 0
    assert sample.queue_length == 0


def test_queue_served_status_survives_staff_dropout():
    analytics = CameraAnalytics("cam-1", roi(zones=[QUEUE, CUSTOMER, STAFF]))
    analytics.process(T0, [person(2, 170, 170), person(3, 320, 170)])

    # The cashier is missed for one frame, within the checkout grace.
    update = analytics.process(T0 + 0.1, [person(2, 170, 170)])

    assert update.sample.queue_length == 0


def test_queue_counts_customer_after_staff_left():
    analytics = CameraAnalytics("cam-1", roi(zones=[QUEUE, CUSTOMER, STAFF]))
    analytics.process(T0, [person(2, 170, 170), person(3, 320, 170)])

    update = analytics.process(T0 + 10.0, [person(2, 170, 170)])

    assert update.sample.queue_length == 1


def test_overlapping_queue_zones_count_person_once():
    analytics = CameraAnalytics("cam-1", roi(zones=[QUEUE, OVERFLOW]))
    # x=150 lies in both zones, x=20 only in the first, x=250 only in the second.
    people = [person(1, 150, 50), person(2, 20, 50), person(3, 250, 50)]

    sample = sample_of(analytics, *people)

    assert queues(sample) == {"queue": 2, "overflow": 2}
    assert sample.queue_length == 3


def test_no_queue_zone_gives_none():
    analytics = CameraAnalytics("cam-1", roi(zones=[AREA]))

    sample = sample_of(analytics, person(1, 10, 10))

    assert sample.queue_length is None
    assert queues(sample) == {"floor": None}


def test_sample_carries_kind_and_capacity():
    capped = zone("shop", ZoneKind.AREA, square(0, 0, 100), capacity=4)
    analytics = CameraAnalytics("cam-1", roi(zones=[capped]))

    (zone_sample,) = sample_of(analytics).zones

    assert zone_sample.kind is ZoneKind.AREA
    assert zone_sample.capacity == 4


def test_duplicate_track_id_counts_once():
    analytics = CameraAnalytics("cam-1", roi(zones=[QUEUE, AREA]))

    sample = sample_of(
        analytics, person(1, 10, 10, confidence=0.4), person(1, 250, 250, 0.8)
    )

    assert sample.people == 1
    assert occupancy(sample) == {"queue": 0, "floor": 1}


def test_timestamp_going_back_is_clamped():
    analytics = CameraAnalytics("cam-1", roi(zones=[QUEUE]))
    analytics.process(T0 + 5.0, [])

    update = analytics.process(T0, [person(1, 10, 10)])

    assert update.time == T0 + 5.0


@pytest.mark.parametrize("bad_time", [float("nan"), float("inf"), "12"])
def test_invalid_timestamp_is_rejected(bad_time):
    analytics = CameraAnalytics("cam-1", roi())

    with pytest.raises(ValueError, match="time"):
        analytics.process(bad_time, [])


def test_parameters_default():
    analytics = CameraAnalytics("cam-1", roi())

    assert analytics.roi.parameters == RoiParameters()
