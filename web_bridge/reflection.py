"""Method descriptions from the upstream's gRPC server reflection service."""

import grpc
import structlog
from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError
from grpc_reflection.v1alpha import reflection_pb2

from web_bridge.catalog import StreamingKind, methods_of_file

log = structlog.get_logger(__name__)

# v1 and v1alpha use the same messages. grpcio-reflection 1.85 serves only
# v1alpha, and newer servers may serve only v1, so v1alpha goes first.
REFLECTION_PATHS = (
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
)
# Codes after which another reflection version cannot do better.
_UPSTREAM_UNREACHABLE = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
)
_NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]


class ReflectionResolver:
    """Finds a service's methods with one ``file_containing_symbol`` request."""

    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._channel = channel
        self._timeout_seconds = timeout_seconds

    async def resolve(self, service: str) -> dict[str, StreamingKind] | None:
        """Return the service's methods, or None when reflection cannot tell.

        None covers an upstream without reflection, a service reflection does not
        know, and a failed reflection request; each is logged.
        """
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=service)
        failure: grpc.aio.AioRpcError | None = None
        for path in REFLECTION_PATHS:
            try:
                responses = await self._query(path, request)
            except grpc.aio.AioRpcError as error:
                failure = error
                if error.code() in _UPSTREAM_UNREACHABLE:
                    break
                # UNIMPLEMENTED means this version is missing. grpcio 1.85 also
                # reports INTERNAL now and then for a missing bidi method.
                continue
            return _methods_from_responses(service, responses)

        log.warning(
            "reflection_failed",
            service=service,
            code=failure.code().name if failure else None,
            details=failure.details() if failure else None,
        )
        return None

    async def _query(
        self, path: str, request: reflection_pb2.ServerReflectionRequest
    ) -> list[reflection_pb2.ServerReflectionResponse]:
        call = self._channel.stream_stream(
            path,
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )(iter([request]), timeout=self._timeout_seconds)
        return [response async for response in call]


def _methods_from_responses(
    service: str, responses: list[reflection_pb2.ServerReflectionResponse]
) -> dict[str, StreamingKind] | None:
    for response in responses:
        if response.HasField("error_response"):
            error = response.error_response
            level = log.info if error.error_code == _NOT_FOUND else log.warning
            level(
                "reflection_service_unknown",
                service=service,
                error_code=error.error_code,
                error_message=error.error_message,
            )
            continue
        for serialized in response.file_descriptor_response.file_descriptor_proto:
            file_proto = descriptor_pb2.FileDescriptorProto()
            try:
                file_proto.ParseFromString(serialized)
            except DecodeError as error:
                log.warning(
                    "reflection_descriptor_invalid", service=service, error=str(error)
                )
                continue
            methods = methods_of_file(file_proto).get(service)
            if methods is not None:
                return methods
    return None
