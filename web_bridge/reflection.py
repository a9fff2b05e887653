"""Method descriptions from the upstream's gRPC server reflection service."""

import grpc
import structlog
from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError
from grpc_reflection.v1alpha import reflection_pb2

from web_bridge.catalog import StreamingKind, methods_of_file

log = structlog.get_logger(__name__)

# v1 and v1alpha use the same messages; Python servers serve only v1alpha
# (grpcio-reflection 1.85), others may serve only v1.
REFLECTION_PATHS = (
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
)
_NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]


class ReflectionResolver:
    """Finds a service's methods with one ``file_containing_symbol`` request."""

    def __init__(self, channel: grpc.aio.Channel, timeout_seconds: float) -> None:
        self._channel = channel
        self._timeout_seconds = timeout_seconds
        self._paths = list(REFLECTION_PATHS)

    async def resolve(self, service: str) -> dict[str, StreamingKind] | None:
        """Return the service's methods, or None when reflection cannot tell.

        None covers an upstream without reflection, a service reflection does not
        know, and a failed reflection request; each is logged.
        """
        request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=service)
        for path in list(self._paths):
            call = self._channel.stream_stream(
                path,
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )(iter([request]), timeout=self._timeout_seconds)
            try:
                responses = [response async for response in call]
            except grpc.aio.AioRpcError as error:
                if (
                    error.code() == grpc.StatusCode.UNIMPLEMENTED
                    and len(self._paths) > 1
                ):
                    # Skip this version from now on.
                    self._paths.remove(path)
                    continue
                log.warning(
                    "reflection_failed",
                    service=service,
                    path=path,
                    code=error.code().name,
                    details=error.details(),
                )
                return None
            return _methods_from_responses(service, responses)
        log.warning("reflection_unavailable", service=service)
        return None


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
