"""The bridge in front of the real cloud server (``dale-cloud serve``)."""

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from bridge_harness import (
    REPO_ROOT,
    assert_eventually,
    buf_curl,
    free_port,
    grpc_web_post,
)

CLOUD_START_TIMEOUT_SECONDS = 60


@pytest.fixture(scope="module")
def cloud_server(tmp_path_factory) -> Iterator[str]:
    """``dale-cloud serve`` on a SQLite file; yields its address."""
    tmp_path = tmp_path_factory.mktemp("cloud")
    address = f"127.0.0.1:{free_port()}"
    log_path = tmp_path / "cloud.log"
    command = [
        str(Path(sys.executable).with_name("dale-cloud")),
        "serve",
        "--listen",
        address,
        "--database-url",
        f"sqlite:///{tmp_path / 'cloud.db'}",
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
        yield address
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_cloud_health_through_bridge(cloud_server, start_bridge, health_schema):
    bridge = start_bridge(cloud_server)
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
    bridge = start_bridge(cloud_server)
    response = grpc_web_post(http, bridge.url(path), [b""])
    assert response.grpc_status == grpc.StatusCode.UNIMPLEMENTED.value[0], bridge.log()
    assert "bidirectional-streaming" in response.grpc_message
