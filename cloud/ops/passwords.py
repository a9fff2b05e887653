"""Password hashing with scrypt from the standard library (``hashlib.scrypt``).

An encoded hash is "scrypt$<n>$<r>$<p>$<salt>$<key>" with base64 salt and key. The
parameters travel with each hash, so hashes made with older parameters still
verify after the defaults change.
"""

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cloud.errors import InvalidValueError

SALT_BYTES = 16
KEY_BYTES = 32
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


@dataclass(frozen=True)
class ScryptCost:
    """scrypt's CPU/memory cost ``n``, block size ``r`` and parallelization ``p``.

    One hash needs about 128 * n * r bytes of memory.
    """

    n: int
    r: int = 8
    p: int = 1

    @property
    def memory_bytes(self) -> int:
        return 128 * self.n * self.r


# The minimum that OWASP's Password Storage Cheat Sheet (May 2023 revision) gives
# for scrypt: n=2**17, r=8, p=1, which takes 128 MiB per hash.
DEFAULT_COST = ScryptCost(n=2**17)
# Hashes whose stored parameters exceed these are rejected when verifying, so a
# tampered row cannot make one login take minutes or gigabytes.
MAX_ACCEPTED_COST = ScryptCost(n=2**20, r=16, p=4)


def validate_password(password: str) -> str:
    """Return ``password`` when its length is allowed, else raise InvalidValueError.

    The error gives the length and never the password.
    """
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidValueError(
            "password",
            f"<{len(password)} characters>",
            f"password has {len(password)} characters: use "
            f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH}",
        )
    return password


def _derive(password: str, salt: bytes, cost: ScryptCost) -> bytes:
    return hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=cost.n,
        r=cost.r,
        p=cost.p,
        # OpenSSL rejects parameters that need more than 32 MiB unless maxmem is
        # raised.
        maxmem=2 * cost.memory_bytes,
        dklen=KEY_BYTES,
    )


def hash_password(password: str, cost: ScryptCost = DEFAULT_COST) -> str:
    """Hash a password with a new random salt and return the encoded hash."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _derive(password, salt, cost)
    encoded_salt = base64.b64encode(salt).decode()
    encoded_key = base64.b64encode(key).decode()
    return f"scrypt${cost.n}${cost.r}${cost.p}${encoded_salt}${encoded_key}"


def _parse(encoded: str) -> tuple[ScryptCost, bytes, bytes] | None:
    parts = encoded.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        cost = ScryptCost(n=int(parts[1]), r=int(parts[2]), p=int(parts[3]))
        salt = base64.b64decode(parts[4], validate=True)
        key = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None
    # n must be a power of two above 1.
    if cost.n < 2 or cost.n & (cost.n - 1):
        return None
    if not (0 < cost.r <= MAX_ACCEPTED_COST.r and 0 < cost.p <= MAX_ACCEPTED_COST.p):
        return None
    if cost.n > MAX_ACCEPTED_COST.n:
        return None
    return cost, salt, key


def verify_password(password: str, encoded: str) -> bool:
    """Return whether ``password`` matches an encoded hash; malformed hashes fail."""
    parsed = _parse(encoded)
    if parsed is None:
        return False
    cost, salt, expected = parsed
    return hmac.compare_digest(_derive(password, salt, cost), expected)


@functools.cache
def dummy_hash(cost: ScryptCost) -> str:
    """Return a hash of a random password, made once per cost.

    Login verifies against it when the email is unknown, so a failed login takes
    as long whether or not the account exists.
    """
    return hash_password(secrets.token_urlsafe(16), cost)


def verify_password_or_dummy(
    password: str, encoded: str | None, cost: ScryptCost
) -> bool:
    """Verify against ``encoded``, or against ``dummy_hash(cost)`` when it is None.

    The dummy check always fails but takes as long as a real one.
    """
    if encoded is None:
        verify_password(password, dummy_hash(cost))
        return False
    return verify_password(password, encoded)
