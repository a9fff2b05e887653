"""The operator UI in Chromium against the real cloud and bridge, fed by a scripted
agent stream: sign-in, live camera status, charts with gaps, the alert stream
across a bridge restart, and the ROI editor's checks, errors, rollout and
read-only view."""

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import pytest
from dalevision.edge.v1 import config_pb2 as edge_config_pb2
from dalevision.edge.v1 import edge_pb2
from dalevision.ops.v1 import (
    alert_pb2,
    auth_pb2,
    auth_pb2_grpc,
    config_pb2,
    config_pb2_grpc,
)
from ui_agent import ScriptedAgent
from ui_stack import (
    ManagedProcess,
    Tenancy,
    admin,
    assert_eventually,
    bridge_process,
    cloud_process,
    create_operator,
    create_tenancy,
    stop_all,
)

pytestmark = pytest.mark.browser

MANAGER_EMAIL = "manager@ui.example"
MANAGER_PASSWORD = "manager-password-1"
VIEWER_EMAIL = "viewer@ui.example"
VIEWER_PASSWORD = "viewer-password-1"
MULTI_EMAIL = "multi@ui.example"
MULTI_PASSWORD = "multi-password-1"
OTHER_ORGANIZATION_ID = "org-other"
# The default time zone of stores made by ``dale-cloud admin create-store``.
STORE_ZONE = "America/Sao_Paulo"
CAMERA_ID = "plaza"
OTHER_CAMERA_ID = "back-door"


@dataclass
class Stack:
    cloud: ManagedProcess
    bridge: ManagedProcess
    agent: ScriptedAgent | None
    tenancy: Tenancy
    workdir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.bridge.port}/"


@pytest.fixture(scope="module")
def template_database(tmp_path_factory) -> tuple[Path, Tenancy]:
    """A migrated SQLite file with the tenancy and its operators, made once.

    Each test copies it, because the admin commands take seconds each.
    """
    path = tmp_path_factory.mktemp("template") / "cloud.db"
    database_url = f"sqlite:///{path}"
    tenancy = create_tenancy(database_url, (CAMERA_ID, OTHER_CAMERA_ID))
    create_operator(
        database_url,
        tenancy.organization_id,
        MANAGER_EMAIL,
        MANAGER_PASSWORD,
        "manager",
    )
    create_operator(
        database_url, tenancy.organization_id, VIEWER_EMAIL, VIEWER_PASSWORD, "viewer"
    )
    # A user of two organizations, who must name one to sign in.
    create_operator(
        database_url, tenancy.organization_id, MULTI_EMAIL, MULTI_PASSWORD, "viewer"
    )
    admin(database_url, "create-org", "--id", OTHER_ORGANIZATION_ID, "--name", "Other")
    admin(
        database_url,
        "create-user",
        "--org",
        OTHER_ORGANIZATION_ID,
        "--email",
        MULTI_EMAIL,
        "--role",
        "viewer",
    )
    return path, tenancy


@pytest.fixture
def stack(tmp_path, artifacts, template_database) -> Iterator[Stack]:
    """Cloud on a SQLite file, the bridge serving the built UI, a scripted agent."""
    template, tenancy = template_database
    shutil.copyfile(template, tmp_path / "cloud.db")
    database_url = f"sqlite:///{tmp_path / 'cloud.db'}"
    cloud = cloud_process(database_url, tmp_path)
    # The bridge is a placeholder until it starts: stopping it before does nothing.
    stack = Stack(cloud, bridge_process(0, tmp_path), None, tenancy, tmp_path)
    try:
        cloud.start()
        stack.bridge = bridge_process(cloud.port, tmp_path).start()
        stack.agent = ScriptedAgent(
            f"127.0.0.1:{cloud.port}", tenancy.agent_id, tenancy.agent_token
        ).start()
        stack.agent.heartbeat(CAMERA_ID)
        yield stack
    finally:
        if stack.agent is not None:
            stack.agent.stop()
        # A test may replace the bridge, so the stack's current one is stopped.
        stop_all([stack.cloud, stack.bridge])
        for log in tmp_path.glob("*.log"):
            (artifacts / log.name).write_bytes(log.read_bytes())


def sign_in(page, stack: Stack, email: str, password: str) -> None:
    page.goto(stack.url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("user-email").wait_for()


def whoami_code(stack: Stack, token: str) -> grpc.StatusCode:
    with grpc.insecure_channel(f"127.0.0.1:{stack.cloud.port}") as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        try:
            stub.WhoAmI(
                auth_pb2.WhoAmIRequest(),
                metadata=[("authorization", f"Bearer {token}")],
                timeout=10,
            )
        except grpc.RpcError as error:
            return error.code()
    return grpc.StatusCode.OK


def stored_token(page) -> str | None:
    text = page.evaluate("() => sessionStorage.getItem('dalevision.session')")
    if text is None:
        return None
    return page.evaluate("text => JSON.parse(text).accessToken", text)


def test_sign_in_errors_session_and_sign_out(stack, browser):
    page = browser.page
    page.goto(stack.url)
    browser.screenshot("01-sign-in")

    page.get_by_label("Email").fill(MANAGER_EMAIL)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    error = page.get_by_test_id("signin-error")
    error.wait_for()
    assert "UNAUTHENTICATED" in error.inner_text()
    assert stored_token(page) is None
    browser.screenshot("02-wrong-password")

    page.get_by_label("Password").fill(MANAGER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("user-email").wait_for()
    assert page.get_by_test_id("user-email").inner_text() == MANAGER_EMAIL
    token = stored_token(page)
    assert token
    assert whoami_code(stack, token) == grpc.StatusCode.OK

    # The token lives in sessionStorage, so a reload keeps the operator signed in.
    page.reload()
    page.get_by_test_id("stores-view").wait_for()
    assert page.get_by_test_id("user-email").inner_text() == MANAGER_EMAIL

    page.get_by_role("button", name="Sign out").click()
    page.get_by_test_id("signin-view").wait_for()
    assert stored_token(page) is None
    assert_eventually(
        lambda: whoami_code(stack, token) == grpc.StatusCode.UNAUTHENTICATED,
        10,
        "the token still works after sign-out",
    )
    assert browser.page_errors == []
    assert browser.console_errors == []


def test_sign_in_asks_for_organization(stack, browser):
    page = browser.page
    page.goto(stack.url)
    organization = page.get_by_label("Organization id")
    assert organization.is_hidden()
    page.get_by_label("Email").fill(MULTI_EMAIL)
    page.get_by_label("Password").fill(MULTI_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    organization.wait_for()
    error = page.get_by_test_id("signin-error").inner_text()
    assert "INVALID_ARGUMENT" in error
    assert stack.tenancy.organization_id in error
    browser.screenshot("01-organization-needed")

    organization.fill(stack.tenancy.organization_id)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("user-email").wait_for()
    stored = page.evaluate(
        "() => JSON.parse(sessionStorage.getItem('dalevision.session')).organizationId"
    )
    assert stored == stack.tenancy.organization_id
    assert browser.page_errors == []


def test_expired_session_returns_to_sign_in(stack, browser):
    page = browser.page
    sign_in(page, stack, VIEWER_EMAIL, VIEWER_PASSWORD)
    page.evaluate(
        """() => {
          const session = JSON.parse(sessionStorage.getItem('dalevision.session'));
          session.accessToken = 'revoked-or-unknown-token';
          sessionStorage.setItem('dalevision.session', JSON.stringify(session));
        }"""
    )
    page.reload()
    page.get_by_test_id("signin-view").wait_for()
    assert "session has ended" in page.get_by_test_id("signin-error").inner_text()
    assert browser.page_errors == []


def camera_status(page, camera_id: str) -> str:
    return (
        page.get_by_test_id(f"camera-row-{camera_id}")
        .get_by_test_id("camera-status")
        .inner_text()
    )


def test_stores_show_live_camera_status(stack, browser):
    page = browser.page
    sign_in(page, stack, VIEWER_EMAIL, VIEWER_PASSWORD)
    row = page.get_by_test_id(f"camera-row-{CAMERA_ID}")
    row.wait_for()
    assert camera_status(page, CAMERA_ID) == "online"
    assert camera_status(page, OTHER_CAMERA_ID) == "unknown"
    assert re.fullmatch(
        r"\d+ s ago", row.get_by_test_id("camera-last-seen").inner_text()
    )
    assert "768×576" in row.inner_text()
    browser.screenshot("01-online")

    stack.agent.heartbeat(
        CAMERA_ID, state=edge_pb2.CAMERA_STATE_OFFLINE, error="no frame for 12 s", fps=0
    )
    # The list refreshes every 5 s.
    page.wait_for_function(
        """() => document.querySelector('[data-testid="camera-row-plaza"]')
          ?.querySelector('[data-status]')?.dataset.status === 'offline'"""
    )
    assert "no frame for 12 s" in row.inner_text()
    assert (
        "ui-test"
        in page.get_by_test_id(f"agent-row-{stack.tenancy.agent_id}").inner_text()
    )
    browser.screenshot("02-offline")
    assert browser.page_errors == []


def chart_attribute(page, test_id: str, name: str) -> int:
    return int(page.get_by_test_id(test_id).get_attribute(f"data-{name}"))


def test_charts_show_minutes_and_gaps(stack, browser):
    # Ten minutes: video in 0-3 and 6-8, a reported minute without video at 4, and
    # no bucket at all at 5 and 9. Both kinds of missing video are gaps.
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    people = {0: 2.0, 1: 3.0, 2: 5.0, 3: 4.0, 6: 1.0, 7: 2.0, 8: 6.0}
    for minute, average in people.items():
        stack.agent.bucket(
            CAMERA_ID,
            start + timedelta(minutes=minute),
            average,
            entries=minute,
            exits=1,
        )
    stack.agent.empty_bucket(CAMERA_ID, start + timedelta(minutes=4))

    page = browser.page
    sign_in(page, stack, VIEWER_EMAIL, VIEWER_PASSWORD)
    page.get_by_test_id("nav-charts").click()
    page.get_by_label("Camera").select_option(CAMERA_ID)
    page.get_by_label("Range").select_option("custom")
    # The range is entered in the store's time zone, as the axes show it.
    assert (
        page.get_by_test_id("charts-time-zone").inner_text() == f"times in {STORE_ZONE}"
    )
    local_start = start.astimezone(ZoneInfo(STORE_ZONE))
    page.get_by_label("From", exact=True).fill(local_start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("To", exact=True).fill(
        (local_start + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_role("button", name="Show").click()
    page.wait_for_function(
        """() => document.querySelector('[data-testid="chart-people"]')
          ?.dataset.points === '10'"""
    )

    assert chart_attribute(page, "chart-people", "gaps") == 3
    assert chart_attribute(page, "chart-flow", "gaps") == 3
    chart = page.get_by_test_id("chart-people")
    # Each series breaks at the gaps: minutes 0-3 are one segment, 6-8 another.
    assert chart.locator("path.series-avg").count() == 2
    assert chart.locator("path.series-max").count() == 2
    assert chart.locator("rect.chart-gap").count() == 3
    # Entries as bars: minutes 1, 2, 3, 6, 7, 8 (minute 0 had none).
    assert page.get_by_test_id("chart-flow").locator("rect.series-in").count() == 6
    summary = page.get_by_test_id("charts-summary").inner_text()
    assert "10 periods, 7 with video" in summary
    browser.screenshot("01-charts")

    page.get_by_label("To", exact=True).fill(
        (local_start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    )
    page.get_by_role("button", name="Show").click()
    error = page.get_by_test_id("charts-error")
    error.wait_for()
    assert "limit is 2880" in error.inner_text()

    # A week per minute is over the limit, so the page switches to hours.
    page.get_by_label("Range").select_option("7d")
    page.wait_for_function(
        """() => document.querySelector('[data-testid="chart-people"]')
          ?.dataset.points === '168'"""
    )
    assert page.get_by_label("Granularity").input_value() == "2"  # GRANULARITY_HOUR
    assert page.get_by_test_id("charts-error").is_hidden()
    hours_with_video = 168 - chart_attribute(page, "chart-people", "gaps")
    assert hours_with_video in (1, 2)
    assert browser.page_errors == []


def open_alert_rows(page) -> list[str]:
    return page.eval_on_selector_all(
        "[data-testid=alert-rows] tr", "rows => rows.map(row => row.dataset.alertId)"
    )


def watch_after_ids(requests: list) -> list[int]:
    """Return ``after_alert_id`` of each WatchAlerts call, from the request bodies."""
    after_ids = []
    for request in requests:
        body = request.post_data_buffer
        # A grpc-web request body is one frame: flag byte, 4-byte length, message.
        length = int.from_bytes(body[1:5], "big")
        message = alert_pb2.WatchAlertsRequest.FromString(body[5 : 5 + length])
        after_ids.append(message.after_alert_id)
    return after_ids


def test_alerts_stream_resumes_after_bridge_restart(stack, browser):
    page = browser.page
    watch_requests = []
    page.on(
        "request",
        lambda request: (
            request.url.endswith("/dalevision.ops.v1.AlertService/WatchAlerts")
            and watch_requests.append(request)
        ),
    )
    sign_in(page, stack, MANAGER_EMAIL, MANAGER_PASSWORD)
    page.get_by_test_id("nav-alerts").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=alerts-feed-state]')"
        "?.dataset.state === 'live'"
    )
    assert page.get_by_test_id("alerts-empty").is_visible()

    stack.agent.alert(CAMERA_ID, "plaza-zone", value=5, threshold=2)
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=alert-rows] tr').length === 1"
    )
    first_id = open_alert_rows(page)[0]
    assert page.get_by_test_id("nav-open-alerts").inner_text() == "1"
    browser.screenshot("01-first-alert")

    # The bridge goes away: the stream fails and the page retries with backoff.
    port = stack.bridge.port
    stack.bridge.stop()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=alerts-feed-state]')"
        "?.dataset.state === 'retrying'"
    )
    assert "Reconnecting" in page.get_by_test_id("alerts-feed-state").inner_text()
    browser.screenshot("02-reconnecting")
    stack.agent.alert(CAMERA_ID, "plaza-zone", value=7, threshold=2)

    stack.bridge = bridge_process(stack.cloud.port, stack.workdir, port=port).start()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=alert-rows] tr').length === 2",
        timeout=60_000,
    )
    rows = open_alert_rows(page)
    assert len(rows) == len(set(rows)), f"an alert is listed twice: {rows}"
    assert first_id in rows
    assert (
        page.get_by_test_id("alerts-feed-state").get_attribute("data-state") == "live"
    )
    # Each subscription reloads the newest alerts, then watches from the largest
    # id seen: nothing when the page opened, the second alert after the restart.
    after_ids = watch_after_ids(watch_requests)
    assert after_ids[0] == 0
    assert after_ids[-1] == max(int(row) for row in rows)
    assert after_ids == sorted(after_ids)
    browser.screenshot("03-resumed")

    newest = page.get_by_test_id(f"alert-row-{rows[0]}")
    newest.get_by_role("button", name="Resolve").click()
    page.get_by_test_id(f"alert-row-{rows[0]}").wait_for(state="detached")
    page.get_by_test_id(f"alert-row-{first_id}").get_by_role(
        "button", name="Ignore"
    ).click()
    page.get_by_test_id("alerts-empty").wait_for()
    assert page.get_by_test_id("nav-open-alerts").is_hidden()

    page.get_by_label("Show").select_option("all")
    assert page.get_by_test_id(f"alert-row-{rows[0]}").get_attribute("data-status") == (
        "resolved"
    )
    assert page.get_by_test_id(f"alert-row-{first_id}").get_attribute(
        "data-status"
    ) == ("ignored")
    browser.screenshot("04-resolved-and-ignored")
    assert browser.page_errors == []


def test_viewer_cannot_resolve_alerts(stack, browser):
    stack.agent.alert(CAMERA_ID, "plaza-zone", value=4, threshold=2)
    page = browser.page
    sign_in(page, stack, VIEWER_EMAIL, VIEWER_PASSWORD)
    page.get_by_test_id("nav-alerts").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=alert-rows] tr').length === 1"
    )
    assert page.get_by_role("button", name="Resolve").count() == 0
    assert page.get_by_role("button", name="Ignore").count() == 0
    assert page.get_by_text("Your role can read alerts but not resolve").is_visible()
    assert browser.page_errors == []


def canvas_point(page, x: float, y: float) -> tuple[float, float]:
    """Return the page position of image pixel (x, y) on the ROI canvas."""
    return page.evaluate(
        """([x, y]) => {
          const svg = document.querySelector('[data-testid="roi-canvas"]');
          const point = new DOMPoint(x, y).matrixTransform(svg.getScreenCTM());
          return [point.x, point.y];
        }""",
        [x, y],
    )


def click_image(page, points: list[tuple[float, float]]) -> None:
    for x, y in points:
        page.mouse.click(*canvas_point(page, x, y))


def open_editor(page) -> None:
    page.get_by_test_id("nav-stores").click()
    page.get_by_test_id(f"edit-roi-{CAMERA_ID}").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=roi-snapshot-state]')"
        "?.dataset.state === 'shown'"
    )


def test_roi_editor_checks_errors_and_rejection(stack, browser):
    page = browser.page
    sign_in(page, stack, MANAGER_EMAIL, MANAGER_PASSWORD)
    open_editor(page)
    assert page.get_by_test_id("roi-canvas").get_attribute("data-frame") == "768x576"
    assert len(stack.agent.snapshot_commands) >= 1

    # A bow tie crosses itself: the editor lists the problem and will not push.
    page.get_by_role("button", name="Draw zone").click()
    click_image(page, [(100, 100), (300, 300), (300, 100), (100, 300)])
    page.get_by_role("button", name="Finish zone").click()
    problems = page.get_by_test_id("roi-problems")
    problems.wait_for()
    assert "cross" in problems.inner_text()
    assert page.get_by_test_id("roi-push").is_disabled()
    browser.screenshot("01-self-crossing")

    # Dragging corner 1 above corner 2 unties the bow.
    page.mouse.move(*canvas_point(page, 300, 300))
    page.mouse.down()
    page.mouse.move(*canvas_point(page, 320, 90), steps=5)
    page.mouse.up()
    assert page.get_by_test_id("roi-problems").is_hidden()
    assert page.get_by_test_id("roi-push").is_enabled()
    page.get_by_test_id("roi-delete-shape").click()
    assert page.get_by_test_id("roi-zone-zone-1").count() == 0

    page.get_by_role("button", name="Draw zone").click()
    click_image(page, [(100, 100), (300, 100), (300, 300), (100, 300), (100, 100)])
    assert page.get_by_test_id("roi-zone-zone-1").get_attribute("data-points") == "4"
    assert page.get_by_test_id("roi-problems").is_hidden()
    page.get_by_label("Kind").select_option(label="Queue")
    page.get_by_label("Capacity (people; empty for none)").fill("3")

    page.get_by_role("button", name="Draw line").click()
    click_image(page, [(400, 150), (420, 450)])
    page.get_by_label("“In” side (as seen walking from A to B)").select_option(
        label="Left of A→B"
    )
    page.get_by_label("Cooldown per person (seconds)").fill("2")
    browser.screenshot("02-zone-and-line")

    # The agent rejects the config: the rollout shows the reason.
    stack.agent.reject_reason = "zone zone-1: test rejection from the agent"
    page.get_by_test_id("roi-push").click()
    page.get_by_test_id("roi-error").wait_for()
    assert "ROI saved" in page.get_by_test_id("roi-error").inner_text()
    rollout = page.get_by_test_id(f"roi-rollout-{stack.tenancy.agent_id}")
    page.wait_for_function(
        f"""() => document.querySelector(
          '[data-testid="roi-rollout-{stack.tenancy.agent_id}"]')?.dataset.state
          === 'rejected'"""
    )
    assert "test rejection from the agent" in rollout.inner_text()
    assert page.get_by_test_id("roi-dirty").get_attribute("data-dirty") == "false"
    browser.screenshot("03-rejected")

    update = stack.agent.config_updates[-1]
    camera = next(c for c in update.config.cameras if c.camera_id == CAMERA_ID)
    assert [(p.x, p.y) for p in camera.zones[0].polygon] == [
        (100, 100),
        (300, 100),
        (300, 300),
        (100, 300),
    ]
    assert camera.zones[0].capacity == 3
    assert (camera.lines[0].a.x, camera.lines[0].b.y) == (400, 450)
    assert camera.lines[0].in_side == 1  # LINE_SIDE_LEFT
    assert camera.lines[0].cooldown_seconds == 2

    # The next snapshot has another size than the camera reports, so the server
    # rejects a push drawn on it, and the page shows the server's message.
    stack.agent.snapshot_size = (640, 480)
    page.get_by_role("button", name="Take new snapshot").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=roi-canvas]')?.dataset.frame"
        " === '640x480'"
    )
    page.get_by_test_id("roi-select-line-line-1").click()
    page.get_by_test_id("roi-delete-shape").click()
    page.get_by_test_id("roi-push").click()
    error = page.get_by_test_id("roi-error")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=roi-error]')?.dataset.kind"
        " === 'error'"
    )
    assert "Could not push the ROI" in error.inner_text()
    assert "INVALID_ARGUMENT" in error.inner_text()
    browser.screenshot("04-server-error")
    assert browser.page_errors == []


def set_roi_as_manager(stack: Stack) -> None:
    """Store a one-zone ROI for the camera through the API, as the manager."""
    zone = edge_config_pb2.Zone(
        id="queue-1",
        kind=edge_config_pb2.ZONE_KIND_QUEUE,
        polygon=[
            edge_config_pb2.Point(x=50, y=60),
            edge_config_pb2.Point(x=250, y=60),
            edge_config_pb2.Point(x=250, y=200),
        ],
    )
    with grpc.insecure_channel(f"127.0.0.1:{stack.cloud.port}") as channel:
        login = auth_pb2_grpc.AuthServiceStub(channel).Login(
            auth_pb2.LoginRequest(email=MANAGER_EMAIL, password=MANAGER_PASSWORD),
            timeout=30,
        )
        config_pb2_grpc.ConfigServiceStub(channel).SetCameraRoi(
            config_pb2.SetCameraRoiRequest(
                camera_id=CAMERA_ID,
                roi=edge_config_pb2.CameraRoi(zones=[zone]),
            ),
            metadata=[("authorization", f"Bearer {login.access_token}")],
            timeout=30,
        )


def test_viewer_sees_roi_read_only(stack, browser):
    set_roi_as_manager(stack)
    page = browser.page
    sign_in(page, stack, VIEWER_EMAIL, VIEWER_PASSWORD)
    page.get_by_test_id(f"edit-roi-{CAMERA_ID}").click()
    page.get_by_test_id("roi-zone-queue-1").wait_for()
    assert page.get_by_test_id("roi-zone-queue-1").get_attribute("data-points") == "3"
    assert page.get_by_test_id("roi-origin").get_attribute("data-origin") == "cloud"
    # The camera's heartbeat gives the frame size, so shapes show without an image.
    assert page.get_by_test_id("roi-canvas").get_attribute("data-frame") == "768x576"
    assert (
        "A manager can request one"
        in page.get_by_test_id("roi-snapshot-state").inner_text()
    )
    for name in ("Take new snapshot", "Draw zone", "Draw line", "Push to agents"):
        assert page.get_by_role("button", name=name).is_disabled(), name

    page.get_by_test_id("roi-select-zone-queue-1").click()
    assert page.get_by_label("Kind").is_disabled()
    assert page.get_by_test_id("roi-delete-shape").is_disabled()
    # Dragging a corner changes nothing.
    start = canvas_point(page, 250, 200)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 40, start[1] + 40, steps=4)
    page.mouse.up()
    assert page.get_by_test_id("roi-dirty").get_attribute("data-dirty") == "false"
    page.keyboard.press("Delete")
    assert page.get_by_test_id("roi-zone-queue-1").count() == 1
    browser.screenshot("01-read-only")
    assert browser.page_errors == []
