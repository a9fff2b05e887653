"""Passwords, page tokens, webhook signatures and retry delays."""

import hashlib
import hmac

import pytest

from cloud.errors import InvalidValueError
from cloud.ops import passwords
from cloud.ops.envelope import is_retryable_status, retry_delay_seconds, sign_body
from cloud.ops.page_tokens import decode_page_token, encode_page_token

FAST = passwords.ScryptCost(n=2**10)


def test_password_round_trip_at_default_cost():
    encoded = passwords.hash_password("correct horse battery")
    assert encoded.startswith(f"scrypt${2**17}$8$1$")
    assert passwords.verify_password("correct horse battery", encoded)
    assert not passwords.verify_password("correct horse batterY", encoded)


def test_salts_differ():
    assert passwords.hash_password("same password", FAST) != passwords.hash_password(
        "same password", FAST
    )


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "bcrypt$10$abc",
        "scrypt$1000$8$1$AAAA$AAAA",
        f"scrypt${2**21}$8$1$AAAA$AAAA",
        "scrypt$1024$99$1$AAAA$AAAA",
        "scrypt$1024$8$1$not base64!$AAAA",
    ],
)
def test_malformed_hashes_fail(encoded):
    assert not passwords.verify_password("anything at all", encoded)


def test_unknown_account_check_fails():
    assert not passwords.verify_password_or_dummy("anything at all", None, FAST)


@pytest.mark.parametrize("length", [0, 9, 1025])
def test_password_length_limits(length):
    with pytest.raises(InvalidValueError) as raised:
        passwords.validate_password("x" * length)
    assert "x" * max(length, 1) not in raised.value.message
    assert str(length) in raised.value.message


def test_page_token_round_trip():
    filters = {"status": ["open"], "store_id": None}
    token = encode_page_token(41, filters)
    assert decode_page_token(token, filters) == 41
    assert decode_page_token("", filters) is None


@pytest.mark.parametrize("token", ["x", "!!!!", "eyJhZnRlciI6ICJ4In0"])
def test_bad_page_tokens(token):
    with pytest.raises(InvalidValueError) as raised:
        decode_page_token(token, {})
    assert raised.value.field == "page_token"


def test_signature_is_hmac_sha256_of_body():
    body = b'{"event_id":"e1"}'
    expected = hmac.new(b"key", body, hashlib.sha256).hexdigest()
    assert sign_body(body, "key") == f"sha256={expected}"


def test_retry_delay_doubles_up_to_the_cap():
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 60.0)]:
        delays = [retry_delay_seconds(attempt, 2.0, 60.0) for _ in range(50)]
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (503, True), (429, True), (408, True), (400, False), (410, False)],
)
def test_retryable_statuses(status, retryable):
    assert is_retryable_status(status) is retryable
