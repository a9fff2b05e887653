"""Run the cloud and an edge agent over the sample video and print minute summaries.

Steps: start ``dale-cloud serve`` on its SQLite default (``var/dale-cloud.db``),
register an organization, store, camera and agent with ``dale-cloud admin``, write
an agent YAML with the ROI in ``scripts/demo_roi.yaml``, run ``dale-edge run
--exit-when-done`` once over the video (as fast as possible, video time starting at
``DEMO_START_TIME``), read the minute buckets back from the cloud database, print
them, and stop the cloud. Meanwhile ``dale-bridge`` serves the operator UI, and
the demo prints its URL and sign-in. With ``DALE_DEMO_KEEP_SERVING=1`` the cloud
and the UI keep running after the summary until Ctrl-C.

Inputs: ``DALE_SAMPLE_VIDEO`` (default ``../shared/data/vtest.avi`` next to the
repository) and ``DALE_MODEL`` (default
``../shared/models/yolov8n_int8_openvino_model``). Running it again reuses the
registered ids and the same receipt ids, so the cloud stores each minute once.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from cloud.db.engine import DEFAULT_DATABASE_URL  # noqa: E402

DEMO_DIR = REPO_ROOT / "var" / "demo"
ROI_FILE = REPO_ROOT / "scripts" / "demo_roi.yaml"
DEFAULT_VIDEO = REPO_ROOT.parent / "shared" / "data" / "vtest.avi"
DEFAULT_MODEL = REPO_ROOT.parent / "shared" / "models" / "yolov8n_int8_openvino_model"
BIN = Path(sys.executable).parent

ORGANIZATION_ID = "demo-org"
# The operator account the demo creates for the UI. The password is printed, so it
# protects nothing, which is acceptable because the bridge listens on 127.0.0.1.
OPERATOR_EMAIL = "operator@demo.example"
OPERATOR_PASSWORD = "dale-demo-operator"
# Port of the UI unless it is taken. DALE_DEMO_UI_PORT overrides it.
DEFAULT_UI_PORT = 8080
STATIC_DIR = REPO_ROOT / "web_bridge" / "static"
STORE_ID = "demo-store"
CAMERA_ID = "plaza"
AGENT_ID = "demo-agent"
# A fixed video start time makes every run produce the same minute buckets.
DEMO_START_TIME = "2026-01-05T12:00:00Z"

CLOUD_START_TIMEOUT_SECONDS = 60
AGENT_TIMEOUT_SECONDS = 15 * 60

VIDEO_HELP = """\
The sample video was not found at {path}.
Set DALE_SAMPLE_VIDEO to the path of vtest.avi. It ships with OpenCV's samples in
Debian's opencv-doc package:
    apt-get download opencv-doc && dpkg-deb -x opencv-doc_*.deb opencv-doc
    export DALE_SAMPLE_VIDEO=$PWD/opencv-doc/usr/share/doc/opencv-doc/examples/\
data/vtest.avi
"""

MODEL_HELP = """\
The YOLO model was not found at {path}.
Set DALE_MODEL to a local Ultralytics YOLOv8n export: a .pt file, an .onnx file or
an OpenVINO folder whose name ends in _openvino_model. On a machine with internet
access, for example:
    yolo export model=yolov8n.pt format=openvino int8=True
    export DALE_MODEL=$PWD/yolov8n_int8_openvino_model
The demo never downloads a model itself.
"""


def main() -> int:
    video = Path(os.environ.get("DALE_SAMPLE_VIDEO", DEFAULT_VIDEO))
    model = Path(os.environ.get("DALE_MODEL", DEFAULT_MODEL))
    if not video.is_file():
        print(VIDEO_HELP.format(path=video), file=sys.stderr)
        return 1
    if not model.exists():
        print(MODEL_HELP.format(path=model), file=sys.stderr)
        return 1

    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    print(f"Starting dale-cloud on 127.0.0.1:{port} ({database_url()})")
    cloud = start_cloud(port)
    bridge = None
    try:
        wait_for_cloud(cloud, port)
        token = bootstrap()
        bridge, ui_url = start_ui(port)
        config_path = write_agent_config(video.resolve(), model.resolve(), port, token)
        print(f"Running dale-edge over {video} (agent log: {DEMO_DIR / 'agent.log'})")
        exit_code = run_agent(config_path)
        if exit_code != 0:
            print(f"dale-edge exited with {exit_code}; see {DEMO_DIR / 'agent.log'}")
            return 1
        print_summary()
        print(f"Charts of this run in the UI: {charts_link(ui_url)}")
        if os.environ.get("DALE_DEMO_KEEP_SERVING") == "1":
            wait_for_interrupt(ui_url)
    finally:
        if bridge is not None:
            stop_bridge(bridge)
        stop_cloud(cloud)
    return 0


def start_ui(cloud_port: int) -> tuple[subprocess.Popen, str]:
    """Create the demo operator, start ``dale-bridge`` and print how to sign in."""
    create_operator()
    port = ui_port()
    with open(DEMO_DIR / "bridge.log", "ab") as log_file:
        bridge = subprocess.Popen(
            [
                str(BIN / "dale-bridge"),
                "--listen",
                f"127.0.0.1:{port}",
                "--upstream",
                f"127.0.0.1:{cloud_port}",
                "--static-dir",
                str(STATIC_DIR),
            ],
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + CLOUD_START_TIMEOUT_SECONDS
    while not port_is_open(port):
        if bridge.poll() is not None or time.monotonic() > deadline:
            stop_bridge(bridge)
            raise SystemExit(
                f"dale-bridge did not start on 127.0.0.1:{port}; see "
                f"{DEMO_DIR / 'bridge.log'}"
            )
        time.sleep(0.2)
    url = f"http://127.0.0.1:{port}/"
    print(f"Operator UI: {url}  (sign in as {OPERATOR_EMAIL} / {OPERATOR_PASSWORD})")
    return bridge, url


def charts_link(ui_url: str) -> str:
    """Return a UI link to the charts of the demo camera over the video's minutes."""
    start = datetime.fromisoformat(DEMO_START_TIME)
    end = start + timedelta(minutes=5)
    # "Z" rather than "+00:00": a "+" in a query string reads as a space.
    utc = "%Y-%m-%dT%H:%M:%SZ"
    return (
        f"{ui_url}#/charts?store={STORE_ID}&camera={CAMERA_ID}"
        f"&start={start.strftime(utc)}&end={end.strftime(utc)}"
    )


def create_operator() -> None:
    """Add the demo operator as a manager of the demo organization, once."""
    result = subprocess.run(
        [
            str(BIN / "dale-cloud"),
            "admin",
            "create-user",
            "--org",
            ORGANIZATION_ID,
            "--email",
            OPERATOR_EMAIL,
            "--password",
            "-",
            "--role",
            "manager",
        ],
        cwd=REPO_ROOT,
        input=f"{OPERATOR_PASSWORD}\n",
        capture_output=True,
        text=True,
    )
    # A second run finds the account made by the first, with the same password.
    if result.returncode != 0 and "exists" not in result.stderr:
        raise SystemExit(
            f"dale-cloud admin create-user failed: {result.stderr.strip()}"
        )


def ui_port() -> int:
    requested = os.environ.get("DALE_DEMO_UI_PORT")
    if requested is not None:
        return int(requested)
    return free_port() if port_is_open(DEFAULT_UI_PORT) else DEFAULT_UI_PORT


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for_interrupt(ui_url: str) -> None:
    print(f"The cloud and the UI at {ui_url} keep running; press Ctrl-C to stop.")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print()


def stop_bridge(bridge: subprocess.Popen) -> None:
    if bridge.poll() is None:
        bridge.send_signal(signal.SIGTERM)
        try:
            bridge.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bridge.kill()
            bridge.wait()
    print(f"dale-bridge stopped (exit code {bridge.returncode})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """Return the URL dale-cloud uses when given none (relative to the repo root)."""
    return os.environ.get("DALE_DATABASE_URL", DEFAULT_DATABASE_URL)


def start_cloud(port: int) -> subprocess.Popen:
    with open(DEMO_DIR / "cloud.log", "ab") as log_file:
        # The child keeps its own copy of the file descriptor.
        return subprocess.Popen(
            [str(BIN / "dale-cloud"), "serve", "--listen", f"127.0.0.1:{port}"],
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


def wait_for_cloud(cloud: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + CLOUD_START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if cloud.poll() is not None:
            log_path = DEMO_DIR / "cloud.log"
            raise SystemExit(
                f"dale-cloud exited with {cloud.returncode}; see {log_path}"
            )
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(
        f"dale-cloud did not listen on 127.0.0.1:{port} within "
        f"{CLOUD_START_TIMEOUT_SECONDS} s; see {DEMO_DIR / 'cloud.log'}"
    )


def stop_cloud(cloud: subprocess.Popen) -> None:
    if cloud.poll() is None:
        cloud.send_signal(signal.SIGTERM)
        try:
            cloud.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cloud.kill()
            cloud.wait()
    print(f"dale-cloud stopped (exit code {cloud.returncode})")


def admin(*arguments: str) -> dict | list | None:
    """Run ``dale-cloud admin ... --json``; None when the row already exists."""
    result = subprocess.run(
        [str(BIN / "dale-cloud"), "admin", *arguments, "--json"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        if "already exists" in result.stderr:
            return None
        raise SystemExit(
            f"dale-cloud admin {' '.join(arguments)} failed: {result.stderr.strip()}"
        )
    return json.loads(result.stdout)


def bootstrap() -> str:
    """Register the demo tenancy (once) and return a fresh agent token."""
    admin("create-org", "--id", ORGANIZATION_ID, "--name", "Demo retail")
    admin(
        "create-store",
        "--org",
        ORGANIZATION_ID,
        "--id",
        STORE_ID,
        "--name",
        "Plaza store",
    )
    admin("create-camera", "--store", STORE_ID, "--id", CAMERA_ID, "--name", "Plaza")
    created = admin(
        "create-agent", "--store", STORE_ID, "--id", AGENT_ID, "--name", "Demo agent"
    )
    if created is None:
        # The agent exists from an earlier run, whose token was shown only then.
        created = admin("rotate-agent-token", "--agent", AGENT_ID)
    print(f"Registered {ORGANIZATION_ID}/{STORE_ID}: camera {CAMERA_ID}, {AGENT_ID}")
    return created["token"]


def write_agent_config(video: Path, model: Path, port: int, token: str) -> Path:
    token_path = DEMO_DIR / "agent.token"
    token_path.write_text(token)
    token_path.chmod(0o600)
    roi = yaml.safe_load(ROI_FILE.read_text())
    config = {
        "agent_id": AGENT_ID,
        "cloud": {"address": f"127.0.0.1:{port}", "token_file": str(token_path)},
        "outbox": {"path": str(DEMO_DIR / "outbox.db")},
        "model": {"path": str(model)},
        "heartbeat_interval_seconds": 5,
        "drain_timeout_seconds": 120,
        "cameras": [
            {
                "id": CAMERA_ID,
                "name": "Plaza",
                "source": str(video),
                "file": {"realtime": False, "start_time": DEMO_START_TIME},
                "roi": roi,
            }
        ],
    }
    path = DEMO_DIR / "agent.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def run_agent(config_path: Path) -> int:
    with open(DEMO_DIR / "agent.log", "wb") as log_file:
        agent = subprocess.run(
            [
                str(BIN / "dale-edge"),
                "run",
                "--config",
                str(config_path),
                "--exit-when-done",
            ],
            cwd=REPO_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, "YOLO_OFFLINE": "1"},
            timeout=AGENT_TIMEOUT_SECONDS,
        )
    return agent.returncode


def print_summary() -> None:
    from sqlalchemy import select

    from cloud.db.engine import make_engine
    from cloud.db.models import MetricBucket, ZoneMetric

    engine = make_engine(database_url())
    with engine.connect() as connection:
        buckets = connection.execute(
            select(MetricBucket)
            .where(MetricBucket.camera_id == CAMERA_ID)
            .order_by(MetricBucket.start_time)
        ).all()
        zones = connection.execute(
            select(ZoneMetric).where(ZoneMetric.camera_id == CAMERA_ID)
        ).all()
    engine.dispose()
    print(format_summary(buckets, zones))


def format_summary(buckets, zones) -> str:
    """Format minute buckets with their zone occupancy as a text table."""
    zone_ids = sorted({zone.zone_id for zone in zones})
    occupancy = {(zone.bucket_id, zone.zone_id): zone for zone in zones}
    header = ["minute (UTC)", "frames", "people avg", "people max", "entries", "exits"]
    header += [f"{zone_id} avg/max" for zone_id in zone_ids]
    rows = [_summary_row(bucket, zone_ids, occupancy) for bucket in buckets]

    widths = [
        max(len(line[index]) for line in [header, *rows])
        for index in range(len(header))
    ]
    text = [f"Per-minute summary of camera {CAMERA_ID}, read from the cloud database:"]
    for row in [header, *rows]:
        cells = zip(row, widths, strict=True)
        text.append("  ".join(cell.rjust(width) for cell, width in cells))

    total_entries = sum(bucket.entries for bucket in buckets)
    total_exits = sum(bucket.exits for bucket in buckets)
    text.append(
        f"{len(buckets)} minute(s): {total_entries} entries and {total_exits} exits "
        "in total"
    )
    return "\n".join(text)


def _summary_row(bucket, zone_ids: list[str], occupancy: dict) -> list[str]:
    row = [
        bucket.start_time.strftime("%Y-%m-%d %H:%M"),
        str(bucket.frames),
        _number(bucket.people_avg),
        _number(bucket.people_max),
        str(bucket.entries),
        str(bucket.exits),
    ]
    for zone_id in zone_ids:
        zone = occupancy.get((bucket.id, zone_id))
        if zone is None or zone.occupancy_avg is None:
            row.append("-")
        else:
            row.append(f"{_number(zone.occupancy_avg)}/{_number(zone.occupancy_max)}")
    return row


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


if __name__ == "__main__":
    sys.exit(main())
