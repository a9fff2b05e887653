"""``dale-cloud serve --listen``: a port in use and an invalid address."""

import subprocess
import sys

import pytest
from cloud_harness import ROOT, CloudProcess


async def test_port_in_use_fails(tmp_path):
    first = CloudProcess(f"sqlite:///{tmp_path / 'first.db'}", tmp_path / "first.log")
    first.start()
    try:
        await first.wait_serving()
        second = CloudProcess(
            f"sqlite:///{tmp_path / 'second.db'}",
            tmp_path / "second.log",
            first.port,
        ).start()
        try:
            exit_code = second.wait(60)
        finally:
            second.stop()
        assert exit_code == 1
        assert "cannot listen on" in second.log_text()
        assert first.process.poll() is None
    finally:
        first.stop()


@pytest.mark.parametrize(
    "address", ["127.0.0.1:99999", "127.0.0.1", ":50051", "127.0.0.1:port"]
)
def test_invalid_listen_address_rejected(tmp_path, address):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cloud.cli",
            "serve",
            "--listen",
            address,
            "--database-url",
            f"sqlite:///{tmp_path / 'cloud.db'}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"invalid address {address!r}" in result.stderr
