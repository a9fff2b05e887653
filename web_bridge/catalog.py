"""Streaming kinds of the upstream's methods, read from protobuf descriptors.

grpc-web carries one request message per call, so only unary and server-streaming
methods can cross the bridge. The request bytes cannot tell the kinds apart, so the
bridge reads them from descriptors: the generated ``*_pb2`` modules of configured
packages, FileDescriptorSet files, and the upstream's reflection service.
"""

import asyncio
import enum
import importlib
import pkgutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

import structlog
from google.protobuf import descriptor_pb2
from google.protobuf.message import DecodeError

log = structlog.get_logger(__name__)


class StreamingKind(enum.Enum):
    UNARY = "unary"
    SERVER_STREAMING = "server-streaming"
    CLIENT_STREAMING = "client-streaming"
    BIDI_STREAMING = "bidirectional-streaming"

    @classmethod
    def from_flags(
        cls, client_streaming: bool, server_streaming: bool
    ) -> "StreamingKind":
        if client_streaming and server_streaming:
            return cls.BIDI_STREAMING
        if client_streaming:
            return cls.CLIENT_STREAMING
        if server_streaming:
            return cls.SERVER_STREAMING
        return cls.UNARY

    @property
    def fits_grpc_web(self) -> bool:
        """Whether grpc-web can carry the method: at most one request message."""
        return self in (StreamingKind.UNARY, StreamingKind.SERVER_STREAMING)


# Service full name -> method name -> kind.
ServiceMethods = dict[str, dict[str, StreamingKind]]


def methods_of_file(file_proto: descriptor_pb2.FileDescriptorProto) -> ServiceMethods:
    """Return the streaming kind of every method the file declares."""
    services: ServiceMethods = {}
    for service in file_proto.service:
        full_name = (
            f"{file_proto.package}.{service.name}"
            if file_proto.package
            else service.name
        )
        services[full_name] = {
            method.name: StreamingKind.from_flags(
                method.client_streaming, method.server_streaming
            )
            for method in service.method
        }
    return services


def load_package_descriptors(package_names: Iterable[str]) -> ServiceMethods:
    """Import every ``*_pb2`` module under the packages and collect their methods.

    Raises ModuleNotFoundError naming the package when one cannot be imported.
    """
    services: ServiceMethods = {}
    for package_name in package_names:
        try:
            package = importlib.import_module(package_name)
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(
                f"descriptor package {package_name!r} cannot be imported: {error}; "
                "install it or drop it from the descriptor packages"
            ) from error
        module_names = [package_name] + [
            info.name
            for info in pkgutil.walk_packages(
                getattr(package, "__path__", []), prefix=f"{package_name}."
            )
        ]
        for module_name in module_names:
            if not module_name.endswith("_pb2"):
                continue
            module = importlib.import_module(module_name)
            file_proto = descriptor_pb2.FileDescriptorProto()
            module.DESCRIPTOR.CopyToProto(file_proto)
            services.update(methods_of_file(file_proto))
    return services


def load_descriptor_set(path: Path) -> ServiceMethods:
    """Collect the methods of a serialized FileDescriptorSet (a buf image works)."""
    descriptor_set = descriptor_pb2.FileDescriptorSet()
    try:
        descriptor_set.ParseFromString(path.read_bytes())
    except OSError as error:
        raise ValueError(f"cannot read descriptor set {path}: {error}") from error
    except DecodeError as error:
        raise ValueError(
            f"invalid descriptor set {path}: {error}; build one with "
            "`buf build -o FILE.binpb` or `protoc --descriptor_set_out`"
        ) from error
    services: ServiceMethods = {}
    for file_proto in descriptor_set.file:
        services.update(methods_of_file(file_proto))
    return services


class ServiceResolver(Protocol):
    async def resolve(self, service: str) -> dict[str, StreamingKind] | None:
        """Return the service's methods, or None when the service stays unknown."""


class MethodCatalog:
    """Streaming kinds from local descriptors first, then from a resolver.

    A resolver result is cached: a found service for the life of the process,
    because a method's streaming kind changes only with a breaking API change, and
    an unknown service for ``negative_cache_seconds``. Concurrent lookups of one
    service share one resolver request.
    """

    def __init__(
        self,
        local: ServiceMethods,
        resolver: ServiceResolver | None = None,
        negative_cache_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._local = local
        self._resolver = resolver
        self._negative_cache_seconds = negative_cache_seconds
        self._clock = clock
        self._found: ServiceMethods = {}
        self._unknown_until: dict[str, float] = {}
        self._pending: dict[str, asyncio.Task[dict[str, StreamingKind] | None]] = {}

    async def kind_of(self, service: str, method: str) -> StreamingKind | None:
        """Return the method's streaming kind, or None when no source describes it."""
        methods = self._local.get(service) or self._found.get(service)
        if methods is None:
            methods = await self._resolve(service)
        if methods is None:
            return None
        return methods.get(method)

    async def _resolve(self, service: str) -> dict[str, StreamingKind] | None:
        if self._resolver is None:
            return None
        if self._unknown_until.get(service, 0.0) > self._clock():
            return None
        task = self._pending.get(service)
        if task is None:
            task = asyncio.create_task(self._resolve_and_cache(self._resolver, service))
            self._pending[service] = task
        # A caller that goes away must not cancel the lookup other callers share.
        return await asyncio.shield(task)

    async def _resolve_and_cache(
        self, resolver: ServiceResolver, service: str
    ) -> dict[str, StreamingKind] | None:
        try:
            methods = await resolver.resolve(service)
        finally:
            del self._pending[service]
        if methods is None:
            self._unknown_until[service] = self._clock() + self._negative_cache_seconds
        else:
            self._found[service] = methods
        return methods
