"""Client-streaming and bidi methods are rejected; the kind comes from descriptors."""

import grpc
import pytest
from bridge_harness import buf_curl, free_port, grpc_web_post
from bridge_probe import ProbeServer

UNIMPLEMENTED = grpc.StatusCode.UNIMPLEMENTED.value[0]
CHAT = "/bridgetest.v1.ProbeService/Chat"
UPLOAD = "/bridgetest.v1.ProbeService/Upload"
COUNT = "/bridgetest.v1.ProbeService/Count"


@pytest.fixture(scope="module")
def probe_without_reflection(probe_modules):
    server = ProbeServer(probe_modules, free_port(), reflection_enabled=False).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("path", "kind"),
    [(CHAT, "bidirectional-streaming"), (UPLOAD, "client-streaming")],
)
@pytest.mark.parametrize("text_mode", [False, True], ids=["binary", "text"])
def test_streaming_client_rejected(
    bridge, probe_server, probe_modules, http, path, kind, text_mode
):
    calls_before = dict(probe_server.events.calls)
    request = probe_modules.pb2.ChatRequest(text="hi").SerializeToString()
    response = grpc_web_post(http, bridge.url(path), [request], text_mode=text_mode)
    assert response.http_status == 200
    assert response.messages == []
    assert response.grpc_status == UNIMPLEMENTED
    assert path in response.grpc_message
    assert kind in response.grpc_message
    assert dict(probe_server.events.calls) == calls_before


def test_edge_stream_rejected_from_generated_descriptors(bridge, http):
    # dalevision.edge.v1.EdgeGateway/Connect is bidi in the generated modules; the
    # probe upstream does not serve it, so only local descriptors can tell.
    path = "/dalevision.edge.v1.EdgeGateway/Connect"
    response = grpc_web_post(http, bridge.url(path), [b""])
    assert response.grpc_status == UNIMPLEMENTED
    assert "bidirectional-streaming" in response.grpc_message


def test_rejection_via_buf_curl(bridge, probe_modules):
    result = buf_curl(bridge.url(UPLOAD), probe_modules.descriptor_set, {"text": "one"})
    assert result.returncode != 0
    assert '"code": "unimplemented"' in result.stderr
    assert "client-streaming" in result.stderr


def test_descriptor_set_without_reflection(
    start_bridge, probe_without_reflection, probe_modules, http
):
    bridge = start_bridge(
        probe_without_reflection.address,
        "--descriptor-set",
        str(probe_modules.descriptor_set),
    )
    request = probe_modules.pb2.ChatRequest(text="hi").SerializeToString()
    response = grpc_web_post(http, bridge.url(CHAT), [request])
    assert response.grpc_status == UNIMPLEMENTED
    assert probe_without_reflection.events.calls["Chat"] == 0


def test_unknown_kind_forwarded(
    start_bridge, probe_without_reflection, probe_modules, http
):
    # Neither reflection nor a descriptor describes the probe, so the bridge forwards
    # every call, and unary and server-streaming ones still work.
    bridge = start_bridge(probe_without_reflection.address)
    request = probe_modules.pb2.CountRequest(count=2).SerializeToString()
    response = grpc_web_post(http, bridge.url(COUNT), [request])
    assert response.grpc_status == 0
    assert len(response.messages) == 2
    assert "reflection_failed" in bridge.log()
