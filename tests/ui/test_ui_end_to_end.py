"""The whole product through the browser: ``dale-cloud serve`` on Postgres,
``dale-bridge`` serving the UI, and ``dale-edge run`` on the sample video with the
YOLO model. An operator signs in and finds the camera online. On the agent's
snapshot they draw a zone with a capacity of one person, push it and watch the
agent apply it. The over-capacity alert that follows arrives live and they
resolve it.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from ui_stack import (
    ManagedProcess,
    Tenancy,
    agent_process,
    bridge_process,
    cloud_process,
    create_operator,
    create_tenancy,
    stop_all,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.model]

EMAIL = "operator@e2e.example"
PASSWORD = "operator-password-1"
CAMERA_ID = "plaza"
# The sample video's frame size.
FRAME = (768, 576)
# Loading the model and opening the video take a while on two shared cores.
AGENT_ONLINE_TIMEOUT_MS = 120_000
# The agent applies a pushed config within a second when it is connected; the
# margin covers a loaded machine.
APPLY_TIMEOUT_MS = 30_000
# The zone must stay over capacity for the agent's over_capacity_min_seconds (5 s).
ALERT_TIMEOUT_MS = 60_000


@dataclass
class Product:
    cloud: ManagedProcess
    bridge: ManagedProcess
    agent: ManagedProcess
    tenancy: Tenancy

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.bridge.port}/"


def write_agent_config(
    path: Path, tenancy: Tenancy, cloud_port: int, video: Path, model: Path
) -> Path:
    token_path = path.with_suffix(".token")
    token_path.write_text(tenancy.agent_token)
    config = {
        "agent_id": tenancy.agent_id,
        "cloud": {
            "address": f"127.0.0.1:{cloud_port}",
            "token_file": str(token_path),
        },
        "outbox": {"path": str(path.with_suffix(".outbox.db"))},
        "model": {"path": str(model)},
        "heartbeat_interval_seconds": 2,
        "cameras": [
            {
                "id": CAMERA_ID,
                "name": "Plaza",
                "source": str(video),
                # At the video's own frame rate and looping, like a live camera,
                # with wall-clock timestamps.
                "file": {"realtime": True, "loop": True},
                # No zones with a capacity yet: the over-capacity alert can only
                # come from the zone the test pushes.
                "roi": {
                    "lines": [
                        {
                            "id": "plaza-crossing",
                            "a": [510, 160],
                            "b": [530, 440],
                            "in_side": "left",
                        }
                    ]
                },
            }
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


@pytest.fixture
def product(
    tmp_path, artifacts, postgres_url, sample_video, model_path
) -> Iterator[Product]:
    tenancy = create_tenancy(postgres_url, (CAMERA_ID,), suffix="e2e")
    create_operator(postgres_url, tenancy.organization_id, EMAIL, PASSWORD, "manager")
    processes: list[ManagedProcess] = []
    try:
        cloud = cloud_process(postgres_url, tmp_path).start()
        processes.append(cloud)
        bridge = bridge_process(cloud.port, tmp_path).start()
        processes.append(bridge)
        config = write_agent_config(
            tmp_path / "agent.yaml", tenancy, cloud.port, sample_video, model_path
        )
        agent = agent_process(config, tmp_path).start()
        processes.append(agent)
        yield Product(cloud, bridge, agent, tenancy)
    finally:
        stop_all(processes)
        for log in tmp_path.glob("*.log"):
            (artifacts / log.name).write_bytes(log.read_bytes())


def sign_in(page, product: Product) -> None:
    page.goto(product.url)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("user-email").wait_for()


def canvas_point(page, x: float, y: float) -> tuple[float, float]:
    return page.evaluate(
        """([x, y]) => {
          const svg = document.querySelector('[data-testid="roi-canvas"]');
          const point = new DOMPoint(x, y).matrixTransform(svg.getScreenCTM());
          return [point.x, point.y];
        }""",
        [x, y],
    )


def snapshot_image_size(page) -> list[int]:
    """Decode the image under the ROI canvas and return its natural size."""
    return page.evaluate(
        """async () => {
          const href = document.querySelector('[data-testid="roi-canvas"] image')
            .getAttribute('href');
          const image = new Image();
          image.src = href;
          await image.decode();
          return [image.naturalWidth, image.naturalHeight];
        }"""
    )


def test_operator_flow_with_real_agent(product, browser):
    alerts_page = browser.page
    sign_in(alerts_page, product)

    # The camera goes online once the agent has loaded the model and read frames.
    alerts_page.wait_for_function(
        """() => document.querySelector('[data-testid="camera-row-plaza"]')
          ?.querySelector('[data-status]')?.dataset.status === 'online'""",
        timeout=AGENT_ONLINE_TIMEOUT_MS,
    )
    row = alerts_page.get_by_test_id(f"camera-row-{CAMERA_ID}")
    assert "768×576" in row.inner_text()
    browser.screenshot("01-camera-online")

    alerts_page.get_by_test_id("nav-alerts").click()
    alerts_page.wait_for_function(
        "() => document.querySelector('[data-testid=alerts-feed-state]')"
        "?.dataset.state === 'live'"
    )
    assert alerts_page.get_by_test_id("alerts-empty").is_visible()

    # A second tab (its own session) edits the ROI while the first one watches.
    editor = alerts_page.context.new_page()
    sign_in(editor, product)
    editor.get_by_test_id(f"edit-roi-{CAMERA_ID}").click()
    editor.wait_for_function(
        "() => document.querySelector('[data-testid=roi-snapshot-state]')"
        "?.dataset.state === 'shown'",
        timeout=APPLY_TIMEOUT_MS,
    )
    assert editor.get_by_test_id("roi-canvas").get_attribute("data-frame") == "768x576"
    assert snapshot_image_size(editor) == list(FRAME)
    # The agent's line comes from its local file, which the cloud does not know.
    assert editor.get_by_test_id("roi-line-plaza-crossing").count() == 0
    assert editor.get_by_test_id("roi-origin").get_attribute("data-origin") == "local"

    editor.get_by_role("button", name="Draw zone").click()
    corners = [(8, 8), (760, 8), (760, 568), (8, 568)]
    for x, y in corners:
        editor.mouse.click(*canvas_point(editor, x, y))
    editor.get_by_role("button", name="Finish zone").click()
    editor.get_by_label("Id", exact=True).fill("plaza-all")
    editor.get_by_label("Kind").select_option(label="Area")
    editor.get_by_label("Capacity (people; empty for none)").fill("1")
    assert editor.get_by_test_id("roi-problems").is_hidden()
    editor.screenshot(path=str(browser.artifacts / "02-zone-drawn.png"), full_page=True)

    editor.get_by_role("button", name="Push to agents").click()
    rollout = f'[data-testid="roi-rollout-{product.tenancy.agent_id}"]'
    editor.wait_for_function(
        f"() => document.querySelector('{rollout}')?.dataset.state === 'applied'",
        timeout=APPLY_TIMEOUT_MS,
    )
    applied_row = editor.locator(rollout)
    desired = applied_row.get_attribute("data-desired")
    assert int(desired) >= 1
    assert applied_row.get_attribute("data-applied") == desired
    saved = editor.get_by_test_id("roi-error").inner_text()
    assert f"{product.tenancy.agent_id} version {desired}" in saved
    assert editor.get_by_test_id("roi-origin").get_attribute("data-origin") == "cloud"
    editor.screenshot(path=str(browser.artifacts / "03-applied.png"), full_page=True)

    # The pushed zone contains more than one person, so the agent raises an alert
    # and the first tab receives it over the stream.
    alerts_page.bring_to_front()
    alerts_page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid=alert-rows] tr')]
          .some(row => row.dataset.type === 'over capacity')""",
        timeout=ALERT_TIMEOUT_MS,
    )
    alert_row = alerts_page.locator(
        "[data-testid=alert-rows] tr[data-type='over capacity']"
    ).first
    assert "plaza-all" in alert_row.inner_text()
    # Highlighted rows are the ones that arrived after the page loaded its list.
    assert "alert-new" in alert_row.get_attribute("class")
    alert_id = alert_row.get_attribute("data-alert-id")
    browser.screenshot("04-alert-live")

    alert_row.get_by_role("button", name="Resolve").click()
    alerts_page.get_by_test_id(f"alert-row-{alert_id}").wait_for(state="detached")
    alerts_page.get_by_label("Show").select_option("all")
    resolved = alerts_page.get_by_test_id(f"alert-row-{alert_id}")
    assert resolved.get_attribute("data-status") == "resolved"
    browser.screenshot("05-alert-resolved")

    assert product.agent.running(), product.agent.log_tail()
    assert browser.page_errors == []
    assert browser.console_errors == []
