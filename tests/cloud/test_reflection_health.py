"""Reflection lists the services to ``buf curl``, and health reports each one."""

import asyncio
import json

from cloud_harness import ROOT

BUF = ROOT / ".venv" / "bin" / "buf"


async def buf_curl(port: int, *args: str) -> str:
    process = await asyncio.create_subprocess_exec(
        str(BUF),
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode()


async def test_buf_curl_lists_methods(server):
    output = await buf_curl(
        server.port, "--list-methods", f"http://127.0.0.1:{server.port}"
    )
    methods = output.split()

    assert "dalevision.edge.v1.EdgeGateway/Connect" in methods
    assert "grpc.health.v1.Health/Check" in methods
    assert "grpc.health.v1.Health/Watch" in methods


async def test_health_serving_per_service(server):
    url = f"http://127.0.0.1:{server.port}/grpc.health.v1.Health/Check"

    overall = json.loads(await buf_curl(server.port, url, "-d", "{}"))
    gateway = json.loads(
        await buf_curl(
            server.port, url, "-d", '{"service": "dalevision.edge.v1.EdgeGateway"}'
        )
    )

    assert overall == {"status": "SERVING"}
    assert gateway == {"status": "SERVING"}
