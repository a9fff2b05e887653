"""Subprocess for the SIGKILL test: store records and print each stored receipt id.

Usage: outbox_writer.py OUTBOX_PATH COUNT. A receipt id is printed (and flushed) only
after ``Outbox.put`` has returned, so every printed id must survive a SIGKILL.
"""

import sys

from dale_common.logs import configure_logging
from edge.outbox import Outbox, RecordKind


def main() -> None:
    configure_logging("warning")
    path, count = sys.argv[1], int(sys.argv[2])
    outbox = Outbox(path)
    payload = b"x" * 200
    for index in range(count):
        receipt_id = f"agent-1/cam-1/bucket/{index:06d}"
        outbox.put(receipt_id, RecordKind.METRIC_BUCKET, payload)
        sys.stdout.write(receipt_id + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
