"""The tagging worker process: ``python -m services.extractor.tagworker``.

Reads requests from stdin and writes answers to stdout, each a frame: a 4-byte big-endian length
and a pickle. Request ``(id, text, title, published_at, source_country)``; answer ``(id,
TaggingResult as JSON | None, seconds, error | None)``. The result travels as its JSON, not as
pickled models: unpickling a TaggingResult runs Python code for every nested model (about
0.5 ms, in the extractor's process, under its GIL), where pydantic validates the JSON in Rust
(0.03 ms) into an equal model. The first frame written is ``("ready",)``, once
the tagger's lexicons are loaded. It exits when stdin closes. Only the tagger is imported here,
so the worker costs the tagger's memory and nothing more (``multiprocessing``'s spawn would
re-import the parent's main module: trafilatura, the bus and the rest).
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import time
from typing import IO, Any

__all__ = ["main", "read_frame", "write_frame"]

_LENGTH = struct.Struct(">I")


def write_frame(stream: IO[bytes], payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any | None:
    """The next frame's payload, or None at end of stream."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(header)
    data = stream.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)


def main() -> int:
    # Ctrl-C reaches the whole process group: the parent decides when this worker stops (by
    # closing its input once the documents in flight are answered).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the frames

    from services.extractor.tagging import tag

    tag("The army said on Friday that an airstrike near the border killed two people.")
    write_frame(answers, ("ready",))
    while True:
        request = read_frame(requests)
        if request is None:
            # Every answer is flushed; skip the interpreter's teardown, which frees the tagger's
            # millions of lexicon objects one by one (~0.4 s a worker) before the process ends.
            answers.flush()
            os._exit(0)
        request_id, text, title, published_at, source_country = request
        started = time.perf_counter()
        try:
            result = tag(
                text, title=title, published_at=published_at, source_country=source_country
            )
            error = None
        except Exception as exc:  # the tagger promises not to raise; report it if it does
            result, error = None, f"{type(exc).__name__}: {exc}"[:2000]
        seconds = time.perf_counter() - started
        encoded = result.model_dump_json() if result is not None else None
        write_frame(answers, (request_id, encoded, seconds, error))


if __name__ == "__main__":
    sys.exit(main())
