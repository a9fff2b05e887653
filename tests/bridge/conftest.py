"""Fixtures for the bridge tests: the probe upstream, bridges and a static site."""

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from bridge_harness import BridgeProcess, free_port
from bridge_probe import ProbeModules, ProbeServer, compile_probe_protos
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2


@pytest.fixture(scope="session")
def probe_modules(tmp_path_factory) -> ProbeModules:
    return compile_probe_protos(tmp_path_factory.mktemp("probe_protos"))


@pytest.fixture(scope="session")
def probe_server(probe_modules) -> Iterator[ProbeServer]:
    server = ProbeServer(probe_modules, free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def static_site(tmp_path_factory) -> Path:
    """A UI directory, a secret file beside it and a symlink pointing at the secret."""
    base = tmp_path_factory.mktemp("static")
    (base / "secret.txt").write_text("outside the static directory")
    site = base / "site"
    (site / "assets").mkdir(parents=True)
    (site / "reports").mkdir()
    (site / ".git").mkdir()
    (site / "index.html").write_text("<!doctype html><title>DALE</title>")
    (site / "assets" / "app.js").write_text("console.log('ui');")
    (site / "assets" / "app.css").write_text("body { margin: 0 }")
    (site / "reports" / "index.html").write_text("<p>reports</p>")
    (site / ".git" / "config").write_text("[core]")
    (site / "escape.txt").symlink_to(base / "secret.txt")
    return site


@pytest.fixture(scope="session")
def bridge(probe_server, static_site, tmp_path_factory) -> Iterator[BridgeProcess]:
    """The bridge with default settings in front of the probe upstream."""
    log_path = tmp_path_factory.mktemp("bridge") / "bridge.log"
    process = BridgeProcess(
        probe_server.address, log_path, "--static-dir", str(static_site)
    ).start()
    yield process
    process.stop()


@pytest.fixture
def start_bridge(tmp_path) -> Iterator[Callable[..., BridgeProcess]]:
    """Start extra bridges with their own arguments; they stop after the test."""
    started: list[BridgeProcess] = []

    def start(upstream: str, *args: str) -> BridgeProcess:
        log_path = tmp_path / f"bridge-{len(started)}.log"
        process = BridgeProcess(upstream, log_path, *args).start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def health_schema(tmp_path_factory) -> Path:
    """A descriptor set of grpc.health.v1, as buf curl's --schema."""
    file_proto = descriptor_pb2.FileDescriptorProto()
    health_pb2.DESCRIPTOR.CopyToProto(file_proto)
    descriptor_set = descriptor_pb2.FileDescriptorSet(file=[file_proto])
    path = tmp_path_factory.mktemp("health_schema") / "health.binpb"
    path.write_bytes(descriptor_set.SerializeToString())
    return path
