"""TLS: agents reach a server started with a certificate; plaintext fails."""

import subprocess

import grpc
import pytest
from cloud_harness import (
    ScriptedAgent,
    bucket_request,
    free_port,
    server_settings,
    start_test_server,
)

from cloud.server import ServerStartError, start_server


def make_certificate(directory) -> tuple[str, str, bytes]:
    """Write a self-signed certificate for 127.0.0.1; return the paths and PEM."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(cert), str(key), cert.read_bytes()


async def test_tls_stream_and_plaintext_rejected(seeded, tmp_path):
    cert_path, key_path, cert_pem = make_certificate(tmp_path)
    server = await start_test_server(
        seeded.database_url, tls_cert_file=cert_path, tls_key_file=key_path
    )
    credentials = seeded.agent
    address = f"127.0.0.1:{server.port}"
    secure = ScriptedAgent(
        address,
        credentials.token,
        credentials.agent_id,
        credentials=grpc.ssl_channel_credentials(root_certificates=cert_pem),
    )
    plain = ScriptedAgent(address, credentials.token, credentials.agent_id)
    try:
        await secure.connect()
        request = bucket_request(credentials.agent_id, credentials.camera_ids[0], 0)
        await secure.send(request)
        await secure.wait_answered([request.receipt_id])
        await plain.connect(hello=False)
        await plain.wait_ended()
    finally:
        await secure.disconnect()
        await plain.disconnect()
        await server.stop()

    assert request.receipt_id in secure.acked
    assert plain.failure is not None
    assert plain.failure.code() == grpc.StatusCode.UNAVAILABLE


async def test_missing_certificate_fails_start(seeded, tmp_path):
    settings = server_settings(
        seeded.database_url,
        free_port(),
        tls_cert_file=str(tmp_path / "absent.pem"),
        tls_key_file=str(tmp_path / "absent-key.pem"),
    )

    with pytest.raises(ServerStartError) as raised:
        await start_server(settings)

    assert "absent" in str(raised.value)
    assert "--tls-cert-file" in str(raised.value)
