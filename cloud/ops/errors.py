"""Errors of the operator API and their gRPC status codes.

Domain functions raise ``cloud.errors.CloudError`` subclasses that name the field
and value at fault. ``status_for`` maps each class to the status the services
abort with.
"""

import grpc

from cloud.errors import (
    AlreadyExistsError,
    CloudError,
    InvalidValueError,
    NotFoundError,
)


class PermissionDeniedError(CloudError):
    """The caller's role does not allow the request."""


class FailedPreconditionError(CloudError):
    """The request is valid but the current state of the data forbids it."""


class UnauthenticatedError(Exception):
    """A missing, unknown, expired or revoked bearer token, or wrong credentials.

    ``reason`` is for logs and never contains a token or password.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_STATUS_BY_ERROR: tuple[tuple[type[CloudError], grpc.StatusCode], ...] = (
    (InvalidValueError, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFoundError, grpc.StatusCode.NOT_FOUND),
    (AlreadyExistsError, grpc.StatusCode.ALREADY_EXISTS),
    (PermissionDeniedError, grpc.StatusCode.PERMISSION_DENIED),
    (FailedPreconditionError, grpc.StatusCode.FAILED_PRECONDITION),
)


def status_for(error: CloudError) -> grpc.StatusCode:
    """Return the gRPC status code for a domain error; unknown kinds are INTERNAL."""
    for error_type, code in _STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return code
    return grpc.StatusCode.INTERNAL
