"""Child process of the crash test: consume and commit in a loop until killed.

Usage: ``kill_worker.py SPEC_JSON GROUP TOPIC JOURNAL``. For every batch it appends to JOURNAL
(flushed and fsynced, so the parent can trust it after SIGKILL): ``processed`` with the
messages, ``committing`` with the offsets about to be committed, ``committed`` once the commit
returned; and prints ``committed`` on stdout. Small batches and a short pause make sure the kill
lands in the middle of the run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, TextIO

from buses import build_bus


def note(journal: TextIO, record: dict[str, Any]) -> None:
    journal.write(json.dumps(record) + "\n")
    journal.flush()
    os.fsync(journal.fileno())


def main() -> int:
    spec, group, topic, journal_path = json.loads(sys.argv[1]), *sys.argv[2:5]
    bus = build_bus(spec)
    consumer = bus.consumer(group, [topic], member_id=f"worker-{os.getpid()}")
    idle_since = time.monotonic()
    with open(journal_path, "a", encoding="utf-8") as journal:
        while time.monotonic() - idle_since < 120:
            batch = consumer.poll(7, timeout=0.5)
            if not batch:
                continue
            idle_since = time.monotonic()
            note(
                journal,
                {
                    "event": "processed",
                    "messages": [[m.topic, m.partition, m.offset, m.value.decode()] for m in batch],
                },
            )
            offsets: dict[Any, int] = {}
            for m in batch:
                offsets[m.tp] = m.offset + 1
            listed = [[tp.topic, tp.partition, off] for tp, off in offsets.items()]
            note(journal, {"event": "committing", "offsets": listed})
            consumer.commit(offsets)
            note(journal, {"event": "committed", "offsets": listed})
            print("committed", flush=True)
            time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
