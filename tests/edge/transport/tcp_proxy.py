"""A TCP proxy on 127.0.0.1 that can blackhole its open connections.

After ``blackhole()`` the connections open at that moment stay open but every byte
in either direction is read and dropped, like a NAT entry that expired without a
reset. Connections opened later are forwarded normally.
"""

import asyncio


class _Link:
    def __init__(self, writers: tuple[asyncio.StreamWriter, asyncio.StreamWriter]):
        self.writers = writers
        self.blackholed = False
        self.tasks: list[asyncio.Task[None]] = []


class TcpProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.connections = 0
        self._links: list[_Link] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    def blackhole(self) -> None:
        """Drop all traffic on the connections open now."""
        for link in self._links:
            link.blackholed = True

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in self._links:
            for task in link.tasks:
                task.cancel()
            for writer in link.writers:
                writer.close()

    async def _accept(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )
        self.connections += 1
        link = _Link((client_writer, upstream_writer))
        self._links.append(link)
        link.tasks = [
            asyncio.create_task(self._pump(link, client_reader, upstream_writer)),
            asyncio.create_task(self._pump(link, upstream_reader, client_writer)),
        ]

    async def _pump(
        self,
        link: _Link,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        try:
            while data := await reader.read(65536):
                if link.blackholed:
                    continue
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            if not link.blackholed:
                writer.close()
