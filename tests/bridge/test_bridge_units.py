"""Pure parts of the bridge: framing, metadata, CORS, static paths, settings, kinds."""

import asyncio
import base64
import struct
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

from web_bridge.catalog import (
    MethodCatalog,
    StreamingKind,
    load_descriptor_set,
    load_package_descriptors,
)
from web_bridge.cors import CorsPolicy
from web_bridge.framing import (
    FrameError,
    decode_text_body,
    encode_message_frame,
    encode_trailer_frame,
    parse_message_frames,
)
from web_bridge.metadata import (
    MetadataError,
    metadata_to_headers,
    parse_grpc_timeout,
    percent_encode_message,
    request_metadata,
)
from web_bridge.settings import BridgeSettings
from web_bridge.static_files import StaticFiles, content_type_of


def frame(flag: int, payload: bytes) -> bytes:
    return struct.pack(">BI", flag, len(payload)) + payload


# --- framing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", []),
        (frame(0, b""), [b""]),
        (frame(0, b"abc"), [b"abc"]),
        (frame(0, b"a") + frame(0, b"bc"), [b"a", b"bc"]),
    ],
)
def test_parse_frames_valid(body, expected):
    assert parse_message_frames(body) == expected


@pytest.mark.parametrize(
    ("body", "error_part"),
    [
        (b"\x00\x00\x00", "truncated frame header"),
        (frame(0, b"abc")[:-1], "truncated message frame"),
        (frame(1, b"abc"), "compressed request messages"),
        (frame(0x80, b"grpc-status: 0\r\n"), "invalid frame flag 0x80"),
        (frame(0, b"a") + b"\x02\x00\x00\x00\x00", "at byte 6"),
    ],
)
def test_parse_frames_invalid(body, error_part):
    with pytest.raises(FrameError, match=error_part):
        parse_message_frames(body)


def test_message_frame_round_trip():
    assert parse_message_frames(encode_message_frame(b"\x00\xff")) == [b"\x00\xff"]


def test_trailer_frame_layout():
    encoded = encode_trailer_frame([("grpc-status", "0"), ("x-id", "7")])
    block = b"grpc-status: 0\r\nx-id: 7\r\n"
    assert encoded[0] == 0x80
    assert struct.unpack(">I", encoded[1:5])[0] == len(block)
    assert encoded[5:] == block


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (base64.b64encode(b"hello"), b"hello"),
        (base64.b64encode(b"ab") + base64.b64encode(b"c"), b"abc"),
        (base64.b64encode(b"a") + base64.b64encode(b"bcd"), b"abcd"),
        (base64.b64encode(b"abc") + base64.b64encode(b"def"), b"abcdef"),
        (b"aGVs\r\nbG8=", b"hello"),
        (b"", b""),
    ],
)
def test_decode_text_chunks(text, expected):
    assert decode_text_body(text) == expected


@pytest.mark.parametrize("text", [b"aGVsbG8", b"aGV*bG8=", b"=aGVs"])
def test_decode_text_invalid(text):
    with pytest.raises(FrameError, match="invalid base64"):
        decode_text_body(text)


# --- metadata ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1H", 3600.0),
        ("2M", 120.0),
        ("5S", 5.0),
        ("250m", 0.25),
        ("1500u", 0.0015),
        ("99999999n", 0.099999999),
    ],
)
def test_grpc_timeout_valid(value, seconds):
    assert parse_grpc_timeout(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "5", "S", "1.5S", "123456789S", "5s", "-1S"])
def test_grpc_timeout_invalid(value):
    with pytest.raises(MetadataError, match="invalid grpc-timeout"):
        parse_grpc_timeout(value)


def headers(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), value.encode("latin-1")) for name, value in pairs]


def test_request_metadata_forwards_custom():
    metadata, dropped = request_metadata(
        headers(
            ("authorization", "Bearer t"),
            ("x-store-id", " s1 "),
            ("x-store-id", "s2"),
            ("x-user-agent", "grpc-web-javascript/0.1"),
        )
    )
    assert metadata == [
        ("authorization", "Bearer t"),
        ("x-store-id", "s1"),
        ("x-store-id", "s2"),
        ("x-user-agent", "grpc-web-javascript/0.1"),
    ]
    assert dropped == []


def test_request_metadata_skips_transport_headers():
    metadata, dropped = request_metadata(
        headers(
            ("host", "bridge:8080"),
            ("connection", "keep-alive, x-hop"),
            ("x-hop", "1"),
            ("keep-alive", "timeout=5"),
            ("transfer-encoding", "chunked"),
            ("te", "trailers"),
            ("content-type", "application/grpc-web"),
            ("content-length", "10"),
            ("cookie", "session=abc"),
            ("x-grpc-web", "1"),
            ("user-agent", "Mozilla/5.0"),
            ("grpc-timeout", "1S"),
            ("grpc-accept-encoding", "gzip"),
            ("x-kept", "yes"),
        )
    )
    assert metadata == [("x-kept", "yes")]
    assert dropped == []


def test_request_metadata_reports_invalid():
    metadata, dropped = request_metadata(
        headers(("x-Upper", "1"), ("x-accent", "caf\xe9"), ("x-ok", "1"))
    )
    assert metadata == [("x-ok", "1")]
    assert dropped == ["x-Upper", "x-accent"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("AAEC/w==", [b"\x00\x01\x02\xff"]),
        ("AAEC/w", [b"\x00\x01\x02\xff"]),
        ("AA==, AQ", [b"\x00", b"\x01"]),
        ("", [b""]),
    ],
)
def test_request_metadata_binary(value, expected):
    metadata, _ = request_metadata(headers(("trace-bin", value)))
    assert metadata == [("trace-bin", item) for item in expected]


def test_request_metadata_binary_invalid():
    with pytest.raises(MetadataError, match="trace-bin"):
        request_metadata(headers(("trace-bin", "not base64!")))


def test_metadata_to_headers_encodes_binary():
    lines = metadata_to_headers(
        [
            ("x-id", "7"),
            ("trace-bin", b"\x00\xff"),
            ("content-type", "x"),
            (":status", "1"),
        ]
    )
    assert lines == [("x-id", "7"), ("trace-bin", "AP8=")]


@pytest.mark.parametrize(
    ("message", "encoded"),
    [
        ("plain text", "plain text"),
        ("100%", "100%25"),
        ("café", "caf%C3%A9"),
        ("line\nbreak", "line%0Abreak"),
        ("", ""),
    ],
)
def test_percent_encode_message(message, encoded):
    assert percent_encode_message(message) == encoded


# --- CORS ----------------------------------------------------------------------


DEFAULT_CORS = CorsPolicy(BridgeSettings().allowed_origins, max_age_seconds=600)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:5173", True),
        ("http://localhost", True),
        ("http://127.0.0.1:3000", True),
        ("http://[::1]:8000", True),
        ("http://LOCALHOST:5173", True),
        ("https://localhost:5173", False),
        ("http://localhost.evil.com", False),
        ("http://localhost:5173.evil.com", False),
        ("http://evil.com", False),
        ("null", False),
    ],
)
def test_cors_default_origins(origin, allowed):
    assert DEFAULT_CORS.is_allowed(origin) is allowed


def test_cors_exact_origin():
    policy = CorsPolicy(["https://ops.example.com"], 600)
    assert policy.is_allowed("https://ops.example.com")
    assert policy.is_allowed("https://ops.example.com:443")
    assert not policy.is_allowed("https://ops.example.com:8443")
    assert not policy.is_allowed("http://ops.example.com")


@pytest.mark.parametrize(
    ("origin", "own", "cross"),
    [
        (None, "http://bridge:8080", False),
        ("http://bridge:8080", "http://bridge:8080", False),
        ("http://bridge", "http://bridge:80", False),
        ("http://bridge:8081", "http://bridge:8080", True),
        ("https://bridge:8080", "http://bridge:8080", True),
    ],
)
def test_cors_same_origin(origin, own, cross):
    assert DEFAULT_CORS.is_cross_origin(origin, own) is cross


def test_cors_preflight_headers():
    answer = dict(
        DEFAULT_CORS.preflight_headers(
            "http://localhost:5173", "x-store-id, Trace-Bin, bad header, connection"
        )
    )
    allowed = answer[b"access-control-allow-headers"].decode().split(", ")
    assert answer[b"access-control-allow-origin"] == b"http://localhost:5173"
    assert b"Origin" in answer[b"vary"]
    assert answer[b"access-control-allow-methods"] == b"POST, OPTIONS"
    assert answer[b"access-control-max-age"] == b"600"
    for name in ("x-grpc-web", "x-user-agent", "grpc-timeout", "authorization"):
        assert name in allowed
    assert "x-store-id" in allowed
    assert "trace-bin" in allowed
    assert "bad header" not in allowed
    assert "connection" not in allowed


def test_cors_wildcard_never_echoes():
    policy = CorsPolicy(["*"], 600)
    answer = dict(policy.response_headers("https://any.example", ["x-id"]))
    exposed = answer[b"access-control-expose-headers"].decode().split(", ")
    assert policy.is_allowed("https://any.example")
    assert answer[b"access-control-allow-origin"] == b"*"
    assert exposed == ["grpc-status", "grpc-message", "grpc-status-details-bin", "x-id"]


# --- static files --------------------------------------------------------------


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    (root / "sub").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "index.html").write_text("home")
    (root / "sub" / "index.html").write_text("sub")
    (root / "sub" / "page.js").write_text("js")
    (root / ".hidden" / "key").write_text("k")
    (tmp_path / "secret").write_text("s")
    (root / "link").symlink_to(tmp_path / "secret")
    (root / "inner-link.js").symlink_to(root / "sub" / "page.js")
    return root


@pytest.mark.parametrize(
    ("url_path", "relative"),
    [
        ("/", "index.html"),
        ("/index.html", "index.html"),
        ("/sub", "sub/index.html"),
        ("/sub/", "sub/index.html"),
        ("//sub//page.js", "sub/page.js"),
        ("/./sub/./page.js", "sub/page.js"),
        ("/inner-link.js", "sub/page.js"),
    ],
)
def test_static_resolve_serves(site, url_path, relative):
    assert StaticFiles(site).resolve(url_path) == (site / relative).resolve()


@pytest.mark.parametrize(
    "url_path",
    [
        "/../secret",
        "/sub/../../secret",
        "/sub/..",
        "/link",
        "/.hidden/key",
        "/missing.js",
        "/index.html\x00.js",
        "/..\\secret",
    ],
)
def test_static_resolve_rejects(site, url_path):
    assert StaticFiles(site).resolve(url_path) is None


def test_static_missing_directory(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        StaticFiles(tmp_path / "nope")


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("a.html", "text/html; charset=utf-8"),
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.mjs", "text/javascript; charset=utf-8"),
        ("a.CSS", "text/css; charset=utf-8"),
        ("a.svg", "image/svg+xml"),
        ("a.wasm", "application/wasm"),
        ("a.unknownext", "application/octet-stream"),
    ],
)
def test_static_content_types(tmp_path, name, content_type):
    assert content_type_of(tmp_path / name) == content_type


# --- settings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error_part"),
    [
        ({"upstream": "localhost"}, "invalid upstream"),
        ({"max_request_bytes": 0}, "max_request_bytes=0"),
        ({"max_receive_message_bytes": -1}, "max_receive_message_bytes=-1"),
        ({"max_call_seconds": 0}, "max_call_seconds=0"),
        ({"allowed_origins": ("localhost:5173",)}, "invalid allowed origin"),
        ({"allowed_origins": ("http://a.com/path",)}, "invalid allowed origin"),
        ({"allowed_origins": ("ftp://a.com",)}, "invalid allowed origin"),
        ({"upstream_ca_file": "ca.pem"}, "upstream_tls is off"),
        (
            {"upstream_tls": True, "upstream_ca_file": Path("/no/ca.pem")},
            "does not exist",
        ),
    ],
)
def test_settings_invalid(overrides, error_part):
    with pytest.raises(ValueError, match=error_part):
        BridgeSettings(**overrides)


def test_settings_channel_options():
    options = dict(BridgeSettings(max_receive_message_bytes=123).channel_options())
    assert options["grpc.max_receive_message_length"] == 123
    assert options["grpc.max_send_message_length"] == 4 * 1024 * 1024


# --- method kinds --------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_streaming", "server_streaming", "kind", "fits"),
    [
        (False, False, StreamingKind.UNARY, True),
        (False, True, StreamingKind.SERVER_STREAMING, True),
        (True, False, StreamingKind.CLIENT_STREAMING, False),
        (True, True, StreamingKind.BIDI_STREAMING, False),
    ],
)
def test_streaming_kind_flags(client_streaming, server_streaming, kind, fits):
    found = StreamingKind.from_flags(client_streaming, server_streaming)
    assert found is kind
    assert found.fits_grpc_web is fits


def test_package_descriptors_edge_contract():
    services = load_package_descriptors(["dalevision", "grpc_health"])
    assert services["dalevision.edge.v1.EdgeGateway"]["Connect"] is (
        StreamingKind.BIDI_STREAMING
    )
    assert services["grpc.health.v1.Health"]["Check"] is StreamingKind.UNARY
    assert services["grpc.health.v1.Health"]["Watch"] is StreamingKind.SERVER_STREAMING


def test_package_descriptors_missing_package():
    with pytest.raises(ModuleNotFoundError, match="no_such_package"):
        load_package_descriptors(["no_such_package"])


def test_descriptor_set_file(tmp_path):
    file_proto = descriptor_pb2.FileDescriptorProto(name="t.proto", package="t.v1")
    service = file_proto.service.add(name="S")
    service.method.add(name="Up", client_streaming=True)
    service.method.add(name="Get")
    path = tmp_path / "t.binpb"
    path.write_bytes(
        descriptor_pb2.FileDescriptorSet(file=[file_proto]).SerializeToString()
    )
    assert load_descriptor_set(path) == {
        "t.v1.S": {"Up": StreamingKind.CLIENT_STREAMING, "Get": StreamingKind.UNARY}
    }


def test_descriptor_set_invalid(tmp_path):
    path = tmp_path / "bad.binpb"
    path.write_bytes(b"\xff\xff\xff")
    with pytest.raises(ValueError, match="invalid descriptor set"):
        load_descriptor_set(path)


class CountingResolver:
    def __init__(self, answers: dict[str, dict[str, StreamingKind] | None]) -> None:
        self.answers = answers
        self.requests: list[str] = []
        self.release = asyncio.Event()
        self.release.set()

    async def resolve(self, service: str):
        self.requests.append(service)
        await self.release.wait()
        return self.answers.get(service)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_catalog_local_before_resolver():
    resolver = CountingResolver({})
    catalog = MethodCatalog({"a.S": {"M": StreamingKind.UNARY}}, resolver)
    assert await catalog.kind_of("a.S", "M") is StreamingKind.UNARY
    assert await catalog.kind_of("a.S", "Other") is None
    assert resolver.requests == []


async def test_catalog_caches_found_service():
    resolver = CountingResolver({"b.S": {"Chat": StreamingKind.BIDI_STREAMING}})
    catalog = MethodCatalog({}, resolver)
    assert await catalog.kind_of("b.S", "Chat") is StreamingKind.BIDI_STREAMING
    assert await catalog.kind_of("b.S", "Chat") is StreamingKind.BIDI_STREAMING
    assert resolver.requests == ["b.S"]


async def test_catalog_negative_cache_expires():
    clock = FakeClock()
    resolver = CountingResolver({})
    catalog = MethodCatalog({}, resolver, negative_cache_seconds=60, clock=clock)
    assert await catalog.kind_of("c.S", "M") is None
    clock.now += 59
    assert await catalog.kind_of("c.S", "M") is None
    assert resolver.requests == ["c.S"]
    clock.now += 2
    assert await catalog.kind_of("c.S", "M") is None
    assert resolver.requests == ["c.S", "c.S"]


async def test_catalog_shares_concurrent_lookups():
    resolver = CountingResolver({"d.S": {"M": StreamingKind.UNARY}})
    resolver.release.clear()
    catalog = MethodCatalog({}, resolver)
    lookups = [asyncio.create_task(catalog.kind_of("d.S", "M")) for _ in range(5)]
    await asyncio.sleep(0)
    lookups[0].cancel()
    resolver.release.set()
    results = await asyncio.gather(*lookups[1:])
    assert results == [StreamingKind.UNARY] * 4
    assert resolver.requests == ["d.S"]


async def test_catalog_without_resolver():
    catalog = MethodCatalog({})
    assert await catalog.kind_of("e.S", "M") is None
