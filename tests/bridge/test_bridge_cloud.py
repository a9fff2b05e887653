"""The bridge in front of the real cloud server (``dale-cloud serve``)."""

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from bridge_harness import (
    BUF,
    REPO_ROOT,
    assert_eventually,
    buf_curl,
    free_port,
    grpc_web_post,
)

CLOUD_START_TIMEOUT_SECONDS = 60


DALE_CLOUD = Path(sys.executable).with_name("dale-cloud")
OPERATOR_EMAIL = "operator@bridge.test"
OPERATOR_PASSWORD = "bridge-test-password"


@dataclass(frozen=True)
class CloudServer:
    address: str
    database_url: str


def run_admin(database_url: str, *args: str) -> None:
    command = [str(DALE_CLOUD), "admin", *args, "--database-url", database_url]
    result = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def cloud_server(tmp_path_factory) -> Iterator[CloudServer]:
    """``dale-cloud serve`` on a SQLite file, with one admin operator."""
    tmp_path = tmp_path_factory.mktemp("cloud")
    address = f"127.0.0.1:{free_port()}"
    database_url = f"sqlite:///{tmp_path / 'cloud.db'}"
    log_path = tmp_path / "cloud.log"
    command = [
        str(DALE_CLOUD),
        "serve",
        "--listen",
        address,
        "--database-url",
        database_url,
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=log_file, stderr=subprocess.STDOUT
        )

    def started() -> bool:
        if process.poll() is not None:
            raise AssertionError(
                f"dale-cloud exited with {process.returncode}:\n{log_path.read_text()}"
            )
        return "server_started" in log_path.read_text()

    try:
        assert_eventually(
            started, CLOUD_START_TIMEOUT_SECONDS, "dale-cloud logged server_started"
        )
        run_admin(database_url, "create-org", "--name", "Bridge", "--id", "org_bridge")
        run_admin(
            database_url,
            "create-user",
            "--org",
            "org_bridge",
            "--email",
            OPERATOR_EMAIL,
            "--password",
            OPERATOR_PASSWORD,
            "--role",
            "admin",
        )
        yield CloudServer(address, database_url)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_cloud_health_through_bridge(cloud_server, start_bridge, health_schema):
    bridge = start_bridge(cloud_server.address)
    overall = buf_curl(bridge.url("/grpc.health.v1.Health/Check"), health_schema, {})
    gateway = buf_curl(
        bridge.url("/grpc.health.v1.Health/Check"),
        health_schema,
        {"service": "dalevision.edge.v1.EdgeGateway"},
    )
    assert overall.returncode == 0, overall.stderr
    assert json.loads(overall.stdout) == {"status": "SERVING"}
    assert gateway.returncode == 0, gateway.stderr
    assert json.loads(gateway.stdout) == {"status": "SERVING"}


@pytest.mark.parametrize(
    "path",
    [
        "/dalevision.edge.v1.EdgeGateway/Connect",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ],
)
def test_cloud_bidi_rejected(cloud_server, start_bridge, http, path):
    bridge = start_bridge(cloud_server.address)
    response = grpc_web_post(http, bridge.url(path), [b""])
    assert response.grpc_status == grpc.StatusCode.UNIMPLEMENTED.value[0], bridge.log()
    assert "bidirectional-streaming" in response.grpc_message


@pytest.fixture(scope="module")
def project_schema(tmp_path_factory) -> Path:
    """A buf image of the project's protos, for buf curl's --schema."""
    image = tmp_path_factory.mktemp("schema") / "project.binpb"
    subprocess.run(
        [str(BUF), "build", "-o", str(image)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return image


def test_operator_login_through_bridge(cloud_server, start_bridge, project_schema):
    bridge = start_bridge(cloud_server.address)
    login = buf_curl(
        bridge.url("/dalevision.ops.v1.AuthService/Login"),
        project_schema,
        {"email": OPERATOR_EMAIL, "password": OPERATOR_PASSWORD},
    )
    assert login.returncode == 0, login.stderr
    token = json.loads(login.stdout)["accessToken"]
    whoami = buf_curl(
        bridge.url("/dalevision.ops.v1.AuthService/WhoAmI"),
        project_schema,
        {},
        headers=(f"authorization: Bearer {token}",),
    )
    assert whoami.returncode == 0, whoami.stderr
    caller = json.loads(whoami.stdout)
    assert caller["email"] == OPERATOR_EMAIL
    assert caller["organizationId"] == "org_bridge"
    assert token not in bridge.log()


def test_operator_watch_needs_token(cloud_server, start_bridge, http):
    bridge = start_bridge(cloud_server.address)
    response = grpc_web_post(
        http, bridge.url("/dalevision.ops.v1.AlertService/WatchAlerts"), [b""]
    )
    assert response.messages == []
    assert response.grpc_status == grpc.StatusCode.UNAUTHENTICATED.value[0]
