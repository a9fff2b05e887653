"""Subprocess for the signal tests: an agent that only streams its outbox.

Usage: stream_agent.py OUTBOX_PATH TARGET RECORDS. The token comes from the
environment variable DALE_TEST_TOKEN. Stores RECORDS metric buckets, prints "ready"
on stdout, streams until SIGTERM, then stops the client with a 5 s flush and exits 0.
"""

import asyncio
import os
import signal
import sys

from transport_helpers import AGENT_ID, FAST_BACKOFF, bucket_request

from dale_common.logs import configure_logging
from edge.outbox import Outbox, RecordKind
from edge.stream_client import StreamClient, StreamSettings


async def main() -> None:
    path, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    configure_logging("info")
    outbox = Outbox(path)
    requests = (bucket_request(index) for index in range(count))
    outbox.put_many(
        (request.receipt_id, RecordKind.METRIC_BUCKET, request.SerializeToString())
        for request in requests
    )
    settings = StreamSettings(
        target=target,
        agent_id=AGENT_ID,
        backoff=FAST_BACKOFF,
        shutdown_flush_seconds=5.0,
    )
    client = StreamClient(outbox, settings, os.environ["DALE_TEST_TOKEN"])
    stop_tasks: list[asyncio.Task[None]] = []
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, lambda: stop_tasks.append(asyncio.create_task(client.stop()))
    )
    print("ready", flush=True)
    await client.run()
    await asyncio.gather(*stop_tasks)
    outbox.close()


if __name__ == "__main__":
    asyncio.run(main())
