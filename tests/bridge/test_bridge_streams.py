"""Stream lifetimes through the bridge: disconnects, idle streams, limits, shutdown."""

import asyncio
import shutil
import signal
import struct
import subprocess
import uuid

import grpc
import httpx
import pytest
from bridge_harness import (
    assert_eventually,
    frame_message,
    free_port,
    grpc_web_post,
    missing,
)
from bridge_probe import ProbeServer
from grpc_health.v1 import health_pb2

COUNT = "/bridgetest.v1.ProbeService/Count"
ECHO = "/bridgetest.v1.ProbeService/Echo"
WATCH = "/grpc.health.v1.Health/Watch"
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE.value[0]
GRPC_WEB_HEADERS = {"content-type": "application/grpc-web+proto", "x-grpc-web": "1"}


class FrameReader:
    """Reads grpc-web frames one at a time from a streamed httpx response."""

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.iter_raw()
        self._buffer = b""

    def _fill(self, size: int) -> None:
        while len(self._buffer) < size:
            self._buffer += next(self._chunks)

    def next_frame(self) -> tuple[int, bytes]:
        self._fill(5)
        flag, length = struct.unpack(">BI", self._buffer[:5])
        self._fill(5 + length)
        payload = self._buffer[5 : 5 + length]
        self._buffer = self._buffer[5 + length :]
        return flag, payload


def count_request(probe_modules, **fields) -> bytes:
    return frame_message(probe_modules.pb2.CountRequest(**fields).SerializeToString())


def trailer_status(payload: bytes) -> dict[str, str]:
    lines = payload.decode("ascii").split("\r\n")
    return {
        key.strip(): value.strip()
        for key, _, value in (line.partition(":") for line in lines if line)
    }


def test_disconnect_cancels_upstream(bridge, probe_server, probe_modules, http):
    stream_id = f"disconnect-{uuid.uuid4().hex[:8]}"
    body = count_request(
        probe_modules, count=1000, interval_ms=100, stream_id=stream_id
    )
    with http.stream(
        "POST", bridge.url(COUNT), content=body, headers=GRPC_WEB_HEADERS
    ) as r:
        flag, payload = FrameReader(r).next_frame()
        assert flag == 0
        assert (
            probe_modules.pb2.CountResponse.FromString(payload).stream_id == stream_id
        )
    # Leaving the block closes the connection, as a closed browser tab does.
    cancelled = probe_server.events.wait_for(lambda e: stream_id in e.cancelled, 10)
    assert cancelled, "the upstream stream was not cancelled after the disconnect"
    assert stream_id not in probe_server.events.finished


def test_disconnect_on_idle_stream(bridge, probe_server, probe_modules):
    stream_id = f"idle-disconnect-{uuid.uuid4().hex[:8]}"
    body = count_request(
        probe_modules, count=2, interval_ms=60_000, stream_id=stream_id
    )
    # The second message is a minute away, so no bytes flow when the client stops
    # reading after 0.5 s and drops the connection.
    with httpx.Client(timeout=httpx.Timeout(30, read=0.5)) as client:
        with client.stream(
            "POST", bridge.url(COUNT), content=body, headers=GRPC_WEB_HEADERS
        ) as response:
            reader = FrameReader(response)
            assert reader.next_frame()[0] == 0
            try:
                reader.next_frame()
            except httpx.ReadTimeout:
                pass
            else:
                raise AssertionError("the second message arrived before the interval")
    cancelled = probe_server.events.wait_for(lambda e: stream_id in e.cancelled, 10)
    assert cancelled, "the upstream stream was not cancelled after the disconnect"


def test_disconnect_while_waiting_for_headers(bridge, probe_server, probe_modules):
    stream_id = f"headerless-{uuid.uuid4().hex[:8]}"
    # Sleeping before the first message, the upstream has sent no headers yet, so
    # the bridge has sent none either when the client leaves.
    body = frame_message(
        probe_modules.pb2.EchoRequest(
            sleep_ms=60_000, text=stream_id
        ).SerializeToString()
    )
    calls_before = probe_server.events.calls["Echo"]
    with httpx.Client(timeout=httpx.Timeout(30, read=0.5)) as client:
        try:
            client.post(bridge.url(ECHO), content=body, headers=GRPC_WEB_HEADERS)
        except httpx.ReadTimeout:
            pass
        else:
            raise AssertionError("the response arrived before the upstream answered")
    cancelled = probe_server.events.wait_for(lambda e: stream_id in e.cancelled, 10)
    assert probe_server.events.calls["Echo"] == calls_before + 1
    assert cancelled, "the upstream call was not cancelled after the disconnect"
    assert_eventually(
        lambda: "client disconnected" in bridge.log(),
        10,
        "the bridge logged why it ended the call",
    )


def test_idle_stream_stays_open(bridge, probe_modules, http):
    # 6.5 s between messages is longer than uvicorn's 5 s keep-alive timeout.
    body = count_request(
        probe_modules,
        count=2,
        interval_ms=6500,
        send_headers_first=True,
        stream_id="idle",
    )
    with http.stream(
        "POST", bridge.url(COUNT), content=body, headers=GRPC_WEB_HEADERS
    ) as r:
        reader = FrameReader(r)
        frames = [reader.next_frame() for _ in range(3)]
    assert [flag for flag, _ in frames] == [0, 0, 0x80]
    assert trailer_status(frames[2][1])["grpc-status"] == "0"


@pytest.mark.parametrize("send_headers_first", [True, False])
def test_headers_follow_upstream(bridge, probe_modules, send_headers_first):
    request = count_request(
        probe_modules,
        count=1,
        first_message_delay_ms=3000,
        send_headers_first=send_headers_first,
    )
    # The first message comes 3 s after the call starts, later than the 1.5 s
    # read timeout, so only headers the upstream sends early can arrive in time.
    with httpx.Client(timeout=httpx.Timeout(30, read=1.5)) as client:
        try:
            with client.stream(
                "POST", bridge.url(COUNT), content=request, headers=GRPC_WEB_HEADERS
            ) as response:
                content_type = response.headers["content-type"]
        except httpx.ReadTimeout:
            content_type = None
    if send_headers_first:
        assert content_type == "application/grpc-web+proto"
    else:
        assert content_type is None


def test_deadline_after_messages(bridge, probe_server, probe_modules, http):
    stream_id = f"deadline-{uuid.uuid4().hex[:8]}"
    body = count_request(
        probe_modules, count=1000, interval_ms=200, stream_id=stream_id
    )
    headers = dict(GRPC_WEB_HEADERS, **{"grpc-timeout": "900m"})
    with http.stream("POST", bridge.url(COUNT), content=body, headers=headers) as r:
        reader = FrameReader(r)
        frames = [reader.next_frame()]
        while frames[-1][0] != 0x80:
            frames.append(reader.next_frame())
    status = trailer_status(frames[-1][1])
    assert len(frames) > 2
    assert status["grpc-status"] == str(grpc.StatusCode.DEADLINE_EXCEEDED.value[0])
    assert probe_server.events.wait_for(lambda e: stream_id in e.cancelled, 10)


def test_health_watch_streams_changes(bridge, probe_server, http):
    request = health_pb2.HealthCheckRequest(service="bridge.watch.test")
    probe_server.set_health("bridge.watch.test", health_pb2.HealthCheckResponse.SERVING)
    body = frame_message(request.SerializeToString())
    with http.stream(
        "POST", bridge.url(WATCH), content=body, headers=GRPC_WEB_HEADERS
    ) as r:
        reader = FrameReader(r)
        first = health_pb2.HealthCheckResponse.FromString(reader.next_frame()[1])
        probe_server.set_health(
            "bridge.watch.test", health_pb2.HealthCheckResponse.NOT_SERVING
        )
        second = health_pb2.HealthCheckResponse.FromString(reader.next_frame()[1])
    assert first.status == health_pb2.HealthCheckResponse.SERVING
    assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING


def test_max_call_duration(start_bridge, probe_server, probe_modules, http):
    bridge = start_bridge(probe_server.address, "--max-call-seconds", "1")
    stream_id = f"max-duration-{uuid.uuid4().hex[:8]}"
    body = count_request(
        probe_modules, count=1000, interval_ms=100, stream_id=stream_id
    )
    with http.stream(
        "POST", bridge.url(COUNT), content=body, headers=GRPC_WEB_HEADERS
    ) as r:
        reader = FrameReader(r)
        frames = []
        while not frames or frames[-1][0] != 0x80:
            frames.append(reader.next_frame())
    status = trailer_status(frames[-1][1])
    assert len(frames) > 1
    assert len(frames) < 100
    assert status["grpc-status"] == str(UNAVAILABLE)
    assert "max call duration" in status["grpc-message"]
    assert probe_server.events.wait_for(lambda e: stream_id in e.cancelled, 10)


def test_request_size_limit(start_bridge, probe_server, probe_modules, http):
    bridge = start_bridge(probe_server.address, "--max-request-bytes", "64")
    calls_before = probe_server.events.calls["Echo"]
    small = probe_modules.pb2.EchoRequest(text="ok").SerializeToString()
    large = probe_modules.pb2.EchoRequest(text="x" * 100).SerializeToString()
    accepted = grpc_web_post(http, bridge.url(ECHO), [small])
    rejected = grpc_web_post(http, bridge.url(ECHO), [large])
    text_rejected = grpc_web_post(http, bridge.url(ECHO), [large * 2], text_mode=True)
    assert accepted.grpc_status == 0
    assert rejected.grpc_status == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert "max_request_bytes" in rejected.grpc_message
    assert text_rejected.grpc_status == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert probe_server.events.calls["Echo"] == calls_before + 1


def test_receive_message_limit(start_bridge, probe_server, probe_modules, http):
    bridge = start_bridge(
        probe_server.address, "--max-receive-message-bytes", str(64 * 1024)
    )
    request = probe_modules.pb2.EchoRequest(payload_bytes=100 * 1024)
    response = grpc_web_post(http, bridge.url(ECHO), [request.SerializeToString()])
    assert response.grpc_status == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]


def test_upstream_down(start_bridge, probe_modules, http):
    bridge = start_bridge(f"127.0.0.1:{free_port()}")
    request = probe_modules.pb2.EchoRequest(text="nobody home")
    response = grpc_web_post(http, bridge.url(ECHO), [request.SerializeToString()])
    assert response.http_status == 200
    assert response.grpc_status == UNAVAILABLE
    assert "call_finished" in bridge.log()


def test_shutdown_ends_streams(start_bridge, probe_server, probe_modules, http):
    bridge = start_bridge(probe_server.address)
    stream_id = f"shutdown-{uuid.uuid4().hex[:8]}"
    body = count_request(
        probe_modules, count=1000, interval_ms=100, stream_id=stream_id
    )
    with http.stream(
        "POST", bridge.url(COUNT), content=body, headers=GRPC_WEB_HEADERS
    ) as r:
        reader = FrameReader(r)
        assert reader.next_frame()[0] == 0
        bridge.process.send_signal(signal.SIGTERM)
        flag, payload = reader.next_frame()
        while flag == 0:
            flag, payload = reader.next_frame()
    status = trailer_status(payload)
    assert status["grpc-status"] == str(UNAVAILABLE)
    assert "shutting down" in status["grpc-message"]
    try:
        exit_code = bridge.process.wait(15)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"bridge did not exit:\n{bridge.log()}") from None
    assert exit_code == 0
    assert "bridge_stopped" in bridge.log()
    assert probe_server.events.wait_for(lambda e: stream_id in e.cancelled, 10)


def test_authorization_not_logged(bridge, probe_modules, http):
    secret = f"secret-{uuid.uuid4().hex}"
    grpc_web_post(
        http,
        bridge.url(ECHO),
        [probe_modules.pb2.EchoRequest(fail_code=16).SerializeToString()],
        headers={"authorization": f"Bearer {secret}", "x-bad!name": "1"},
    )
    assert_eventually(lambda: ECHO in bridge.log(), 5, "the bridge logged the call")
    assert "x-bad!name" in bridge.log()
    assert secret not in bridge.log()


async def test_concurrent_streams(bridge, probe_modules):
    streams = 100

    async def one_stream(client: httpx.AsyncClient, index: int) -> list[int]:
        body = count_request(
            probe_modules, count=5, interval_ms=20, stream_id=f"c{index}"
        )
        response = await client.post(
            bridge.url(COUNT), content=body, headers=GRPC_WEB_HEADERS
        )
        content = response.content
        indexes = []
        while content:
            flag, length = struct.unpack(">BI", content[:5])
            if flag == 0:
                message = probe_modules.pb2.CountResponse.FromString(
                    content[5 : 5 + length]
                )
                assert message.stream_id == f"c{index}"
                indexes.append(message.index)
            else:
                assert b"grpc-status: 0" in content[5 : 5 + length]
            content = content[5 + length :]
        return indexes

    limits = httpx.Limits(max_connections=streams)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        results = await asyncio.gather(*(one_stream(client, i) for i in range(streams)))
    assert results == [[0, 1, 2, 3, 4]] * streams


def test_upstream_tls(start_bridge, probe_modules, http, tmp_path):
    openssl = shutil.which("openssl")
    if openssl is None:
        missing("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server = ProbeServer(
        probe_modules,
        free_port(),
        tls_key_and_cert=(key.read_bytes(), cert.read_bytes()),
    ).start()
    try:
        trusted = start_bridge(
            server.address, "--upstream-tls", "--upstream-ca-file", str(cert)
        )
        untrusted = start_bridge(server.address, "--upstream-tls")
        request = probe_modules.pb2.EchoRequest(text="over tls").SerializeToString()
        good = grpc_web_post(http, trusted.url(ECHO), [request])
        bad = grpc_web_post(http, untrusted.url(ECHO), [request])
    finally:
        server.stop()
    assert good.grpc_status == 0
    assert (
        probe_modules.pb2.EchoResponse.FromString(good.messages[0]).text == "over tls"
    )
    assert bad.grpc_status == UNAVAILABLE
