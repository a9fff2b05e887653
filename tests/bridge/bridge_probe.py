"""A real ``grpc.aio`` upstream for the bridge tests, run in a background thread.

The server serves ``bridgetest.v1.ProbeService`` (compiled from ``protos/`` next to
this file at test time), the health service and, unless disabled, reflection. It
records which streams were cancelled, so tests can check that a browser
disconnect reaches the upstream.
"""

import asyncio
import importlib
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

PROTO_ROOT = Path(__file__).with_name("protos")
PROBE_PROTO = "bridgetest/v1/bridgetest.proto"
PROBE_SERVICE = "bridgetest.v1.ProbeService"
_CODES_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


@dataclass(frozen=True)
class ProbeModules:
    pb2: ModuleType
    pb2_grpc: ModuleType
    descriptor_set: Path


def compile_probe_protos(out_dir: Path) -> ProbeModules:
    """Generate the probe's Python modules and a descriptor set into ``out_dir``."""
    descriptor_set = out_dir / "bridgetest.binpb"
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--descriptor_set_out={descriptor_set}",
        "--include_imports",
        PROBE_PROTO,
    ]
    subprocess.run(command, check=True, capture_output=True, text=True)
    for package in (out_dir / "bridgetest", out_dir / "bridgetest" / "v1"):
        (package / "__init__.py").touch()
    sys.path.insert(0, str(out_dir))
    importlib.invalidate_caches()
    return ProbeModules(
        pb2=importlib.import_module("bridgetest.v1.bridgetest_pb2"),
        pb2_grpc=importlib.import_module("bridgetest.v1.bridgetest_pb2_grpc"),
        descriptor_set=descriptor_set,
    )


class ProbeEvents:
    """Thread-safe record of what the upstream saw, with waiting."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self.started: set[str] = set()
        self.cancelled: set[str] = set()
        self.finished: set[str] = set()
        self.calls: Counter[str] = Counter()

    def record(self, kind: str, value: str) -> None:
        with self._condition:
            getattr(self, kind).add(value)
            self._condition.notify_all()

    def count_call(self, method: str) -> None:
        with self._condition:
            self.calls[method] += 1
            self._condition.notify_all()

    def wait_for(
        self, predicate: Callable[["ProbeEvents"], bool], timeout: float
    ) -> bool:
        with self._condition:
            return self._condition.wait_for(lambda: predicate(self), timeout)


def _metadata_pairs(entries) -> list[tuple[str, str | bytes]]:
    return [
        (entry.key, entry.value if entry.key.endswith("-bin") else entry.value.decode())
        for entry in entries
    ]


class ProbeServicer:
    def __init__(self, pb2: ModuleType, events: ProbeEvents) -> None:
        self.pb2 = pb2
        self.events = events

    async def Echo(self, request, context):
        self.events.count_call("Echo")
        if request.sleep_ms:
            try:
                await asyncio.sleep(request.sleep_ms / 1000)
            except asyncio.CancelledError:
                self.events.record("cancelled", request.text)
                raise
        if request.initial_metadata:
            await context.send_initial_metadata(
                _metadata_pairs(request.initial_metadata)
            )
        if request.trailing_metadata:
            context.set_trailing_metadata(_metadata_pairs(request.trailing_metadata))
        if request.fail_code:
            await context.abort(
                _CODES_BY_NUMBER[request.fail_code], request.fail_message
            )
        received = [
            self.pb2.MetadataEntry(
                key=key, value=value if isinstance(value, bytes) else value.encode()
            )
            for key, value in context.invocation_metadata()
        ]
        return self.pb2.EchoResponse(
            text=request.text,
            metadata=received,
            payload=b"p" * request.payload_bytes,
            time_remaining_seconds=context.time_remaining() or 0.0,
        )

    async def Count(self, request, context):
        self.events.count_call("Count")
        stream_id = request.stream_id
        self.events.record("started", stream_id)
        try:
            if request.initial_metadata:
                await context.send_initial_metadata(
                    _metadata_pairs(request.initial_metadata)
                )
            elif request.send_headers_first:
                await context.send_initial_metadata(())
            if request.first_message_delay_ms:
                await asyncio.sleep(request.first_message_delay_ms / 1000)
            for index in range(request.count):
                if index and request.interval_ms:
                    await asyncio.sleep(request.interval_ms / 1000)
                yield self.pb2.CountResponse(index=index, stream_id=stream_id)
            if request.trailing_metadata:
                context.set_trailing_metadata(
                    _metadata_pairs(request.trailing_metadata)
                )
            if request.fail_code:
                await context.abort(
                    _CODES_BY_NUMBER[request.fail_code], request.fail_message
                )
        except (asyncio.CancelledError, GeneratorExit):
            self.events.record("cancelled", stream_id)
            raise
        self.events.record("finished", stream_id)

    async def Upload(self, request_iterator, context):
        self.events.count_call("Upload")
        count = 0
        async for _ in request_iterator:
            count += 1
        return self.pb2.UploadResponse(count=count)

    async def Chat(self, request_iterator, context):
        self.events.count_call("Chat")
        async for request in request_iterator:
            yield self.pb2.ChatResponse(text=request.text)


class ProbeServer:
    """The probe upstream on 127.0.0.1, in its own thread and event loop."""

    def __init__(
        self,
        modules: ProbeModules,
        port: int,
        reflection_enabled: bool = True,
        tls_key_and_cert: tuple[bytes, bytes] | None = None,
    ) -> None:
        self.modules = modules
        self.port = port
        self.address = f"127.0.0.1:{port}"
        self.reflection_enabled = reflection_enabled
        self.tls_key_and_cert = tls_key_and_cert
        self.events = ProbeEvents()
        self.health = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="probe-server", daemon=True
        )
        self._error: BaseException | None = None

    def start(self) -> "ProbeServer":
        self._thread.start()
        if not self._ready.wait(15):
            raise RuntimeError("probe server did not start within 15 s")
        if self._error is not None:
            raise RuntimeError(f"probe server failed to start: {self._error}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    def set_health(self, service: str, status: int) -> None:
        future = asyncio.run_coroutine_threadsafe(
            self.health.set(service, status), self._loop
        )
        future.result(5)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported to the starting thread
            self._error = error
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = grpc.aio.server()
        self.modules.pb2_grpc.add_ProbeServiceServicer_to_server(
            ProbeServicer(self.modules.pb2, self.events), server
        )
        self.health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        await self.health.set(PROBE_SERVICE, health_pb2.HealthCheckResponse.SERVING)
        if self.reflection_enabled:
            reflection.enable_server_reflection(
                [PROBE_SERVICE, "grpc.health.v1.Health", reflection.SERVICE_NAME],
                server,
            )
        if self.tls_key_and_cert is None:
            server.add_insecure_port(self.address)
        else:
            credentials = grpc.ssl_server_credentials([self.tls_key_and_cert])
            server.add_secure_port(self.address, credentials)
        await server.start()
        self._ready.set()
        await self._stop.wait()
        await server.stop(grace=None)
