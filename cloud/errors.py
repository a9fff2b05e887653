"""Errors raised by the cloud's domain functions, each naming the field and value.

The CLI prints them; the gRPC services map them to status codes
(``InvalidValueError`` to INVALID_ARGUMENT, ``NotFoundError`` to NOT_FOUND,
``AlreadyExistsError`` to ALREADY_EXISTS).
"""


class CloudError(Exception):
    """A request that cannot be carried out, with the field and value at fault."""

    def __init__(self, field: str, value: object, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.message = message


class InvalidValueError(CloudError):
    """A value that breaks a rule of its field."""


class NotFoundError(CloudError):
    """An id that names no live row (missing or soft-deleted)."""


class AlreadyExistsError(CloudError):
    """An id that is already taken."""
