"""Tagging workers that die or hang never take an article down with them."""

from __future__ import annotations

import sys

import pytest

from services.extractor.errors import ExtractorError
from services.extractor.tagpool import TaggingPool

pytestmark = pytest.mark.integration

DIES = [sys.executable, "-c", "import sys; sys.exit(3)"]
HANGS = [
    sys.executable,
    "-c",
    "import sys, time\n"
    "from services.extractor.tagworker import read_frame, write_frame\n"
    "write_frame(sys.stdout.buffer, ('ready',))\n"
    "read_frame(sys.stdin.buffer)\n"
    "time.sleep(60)\n",
]


def submit(pool: TaggingPool) -> object:
    return pool.submit(
        "The army said two were killed.", title=None, published_at=None, source_country=None
    )


def test_a_worker_that_dies_gives_an_error_result_not_an_exception() -> None:
    pool = TaggingPool(1, timeout_s=10, command=DIES)
    try:
        with pytest.raises(ExtractorError, match="exited"):
            pool.start()
        result, _seconds = pool.result(submit(pool))  # type: ignore[arg-type]
        assert result.error and result.events == []
    finally:
        pool.close()


def test_a_worker_that_hangs_is_timed_out_and_replaced() -> None:
    pool = TaggingPool(1, timeout_s=0.5, command=HANGS)
    try:
        pool.start()
        result, _seconds = pool.result(submit(pool))  # type: ignore[arg-type]
        assert result.error == "tagging timed out after 0.5s"
        old = pool._workers[0]
        assert old is not None and not old.alive
        submit(pool)  # a new worker is started for the next document
        assert pool._workers[0] is not old
    finally:
        pool.close()


def test_a_real_worker_answers_equal_to_the_tagger_and_exits_cleanly() -> None:
    from services.extractor.tagging import tag

    pool = TaggingPool(1, timeout_s=120)
    try:
        pool.start()
        text = "Gunmen killed four soldiers at a checkpoint near Arish on Friday, officials said."
        result, _seconds = pool.result(
            pool.submit(text, title=None, published_at=None, source_country="EG")
        )
        assert result.error is None and result.events
        assert result == tag(text, source_country="EG")  # the answer crossed the pipe as JSON
        worker = pool._workers[0]
        assert worker is not None
    finally:
        pool.close()
    assert worker.process.returncode == 0  # closed stdin: the worker leaves without an error
