"""CORS and static files of the running bridge."""

import pytest
from bridge_harness import grpc_web_post

ECHO = "/bridgetest.v1.ProbeService/Echo"
DEV_ORIGIN = "http://localhost:5173"


def preflight(http, url: str, origin: str, request_headers: str = ""):
    headers = {"origin": origin, "access-control-request-method": "POST"}
    if request_headers:
        headers["access-control-request-headers"] = request_headers
    return http.options(url, headers=headers)


def header_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",")]


# --- CORS ----------------------------------------------------------------------


def test_preflight_allowed_origin(bridge, http):
    reply = preflight(
        http,
        bridge.url(ECHO),
        DEV_ORIGIN,
        "content-type,x-grpc-web,x-user-agent,grpc-timeout,authorization,x-store-bin",
    )
    allowed_headers = header_list(reply.headers["access-control-allow-headers"])
    assert reply.status_code == 204
    assert reply.headers["access-control-allow-origin"] == DEV_ORIGIN
    assert "Origin" in reply.headers["vary"]
    assert "POST" in header_list(reply.headers["access-control-allow-methods"])
    for name in ("content-type", "x-grpc-web", "x-user-agent", "grpc-timeout"):
        assert name in allowed_headers
    assert "authorization" in allowed_headers
    assert "x-store-bin" in allowed_headers
    assert int(reply.headers["access-control-max-age"]) > 0


def test_preflight_rejected_origin(bridge, http):
    reply = preflight(http, bridge.url(ECHO), "https://evil.example", "x-grpc-web")
    assert reply.status_code == 403
    assert "access-control-allow-origin" not in reply.headers


def test_cross_origin_call_allowed(bridge, probe_modules, http):
    request = probe_modules.pb2.EchoRequest(
        initial_metadata=[
            probe_modules.pb2.MetadataEntry(key="x-server-id", value=b"1")
        ]
    )
    response = grpc_web_post(
        http,
        bridge.url(ECHO),
        [request.SerializeToString()],
        headers={"origin": DEV_ORIGIN},
    )
    exposed = header_list(response.headers["access-control-expose-headers"])
    assert response.grpc_status == 0
    assert response.headers["access-control-allow-origin"] == DEV_ORIGIN
    assert "grpc-status" in exposed
    assert "grpc-message" in exposed
    assert "x-server-id" in exposed


def test_cross_origin_trailers_only_exposed(bridge, probe_modules, http):
    request = probe_modules.pb2.EchoRequest(
        fail_code=5,
        trailing_metadata=[probe_modules.pb2.MetadataEntry(key="x-why", value=b"gone")],
    )
    response = grpc_web_post(
        http,
        bridge.url(ECHO),
        [request.SerializeToString()],
        headers={"origin": DEV_ORIGIN},
    )
    exposed = header_list(response.headers["access-control-expose-headers"])
    assert response.headers["grpc-status"] == "5"
    assert "grpc-status" in exposed
    assert "x-why" in exposed


def test_cross_origin_call_rejected(bridge, probe_server, probe_modules, http):
    calls_before = probe_server.events.calls["Echo"]
    reply = http.post(
        bridge.url(ECHO),
        content=b"\x00\x00\x00\x00\x00",
        headers={
            "content-type": "application/grpc-web",
            "origin": "https://evil.example",
        },
    )
    assert reply.status_code == 403
    assert "access-control-allow-origin" not in reply.headers
    assert probe_server.events.calls["Echo"] == calls_before


def test_same_origin_call(bridge, probe_modules, http):
    response = grpc_web_post(
        http,
        bridge.url(ECHO),
        [probe_modules.pb2.EchoRequest().SerializeToString()],
        headers={"origin": bridge.base_url},
    )
    assert response.grpc_status == 0
    assert "access-control-allow-origin" not in response.headers


def test_configured_origin_replaces_defaults(start_bridge, probe_server, http):
    bridge = start_bridge(
        probe_server.address, "--allow-origin", "https://ops.example.com"
    )
    allowed = preflight(http, bridge.url(ECHO), "https://ops.example.com")
    dev = preflight(http, bridge.url(ECHO), DEV_ORIGIN)
    assert allowed.status_code == 204
    assert allowed.headers["access-control-allow-origin"] == "https://ops.example.com"
    assert dev.status_code == 403


def test_wildcard_origin(start_bridge, probe_server, probe_modules, http):
    bridge = start_bridge(probe_server.address, "--allow-origin", "*")
    reply = preflight(http, bridge.url(ECHO), "https://anywhere.example")
    response = grpc_web_post(
        http,
        bridge.url(ECHO),
        [probe_modules.pb2.EchoRequest().SerializeToString()],
        headers={"origin": "https://anywhere.example"},
    )
    assert reply.status_code == 204
    assert reply.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-origin"] == "*"


def test_plain_options(bridge, http):
    reply = http.options(bridge.url(ECHO))
    assert reply.status_code == 204
    assert "POST" in reply.headers["allow"]


# --- static files --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type", "text"),
    [
        ("/", "text/html; charset=utf-8", "<title>DALE</title>"),
        ("/index.html", "text/html; charset=utf-8", "<title>DALE</title>"),
        ("/assets/app.js", "text/javascript; charset=utf-8", "console.log"),
        ("/assets/app.css", "text/css; charset=utf-8", "margin"),
        ("/reports/", "text/html; charset=utf-8", "reports"),
    ],
)
def test_static_file(bridge, http, path, content_type, text):
    reply = http.get(bridge.url(path))
    assert reply.status_code == 200
    assert reply.headers["content-type"] == content_type
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert text in reply.text


@pytest.mark.parametrize(
    "raw_path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/escape.txt",
        "/.git/config",
        "/missing.js",
        "/index.html%00.js",
    ],
)
def test_static_rejects_escape(bridge, http, raw_path):
    # Sent as raw bytes, so neither httpx nor the server normalizes the path first.
    reply = http.request(
        "GET", bridge.url("/"), extensions={"target": raw_path.encode()}
    )
    assert reply.status_code == 404
    assert "outside the static directory" not in reply.text


def test_static_head(bridge, http):
    reply = http.head(bridge.url("/assets/app.js"))
    assert reply.status_code == 200
    assert int(reply.headers["content-length"]) == len("console.log('ui');")
    assert reply.content == b""


def test_static_etag(bridge, http):
    first = http.get(bridge.url("/"))
    again = http.get(bridge.url("/"), headers={"if-none-match": first.headers["etag"]})
    assert first.headers["cache-control"] == "no-cache"
    assert again.status_code == 304
    assert again.content == b""


def test_no_static_dir(start_bridge, probe_server, http):
    bridge = start_bridge(probe_server.address)
    assert http.get(bridge.url("/")).status_code == 404
