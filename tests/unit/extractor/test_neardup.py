"""The near-duplicate index: detection, idempotence, persistence, expiry and its bound."""

from __future__ import annotations

from pathlib import Path

from services.extractor.neardup import NearDupIndex, shingles

STORY = (
    "Military delegations from the rival administrations resumed talks in Geneva on Monday, "
    "aiming to consolidate a fragile ceasefire around the capital after two weeks of clashes "
    "on its southern outskirts. The envoy said both sides had agreed to exchange prisoners and "
    "to open a humanitarian corridor for displaced families, where at least 32 people were "
    "killed. Diplomats said the talks would focus on the withdrawal of heavy weapons from "
    "residential areas and on a joint committee to monitor violations."
)
COPY = "GENEVA (Wire) - " + STORY + " Reporting by the Wire."
OTHER = (
    "Farmers in the southern oases reported a record date harvest this season, helped by new "
    "irrigation wells drilled last year, and traders said prices at the Sabha market fell by a "
    "third as lorries arrived from Ubari, Ghat and Murzuq every morning, while the municipal "
    "council approved money for cold storage and a new road to the coast was promised again."
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def index(tmp_path: Path, **kwargs: object) -> NearDupIndex:
    return NearDupIndex(tmp_path / "neardup.db", **kwargs)  # type: ignore[arg-type]


def test_a_syndicated_copy_points_at_the_first_copy_seen(tmp_path: Path) -> None:
    idx = index(tmp_path)
    assert idx.check_and_add([("a" * 32, STORY), ("b" * 32, COPY), ("c" * 32, OTHER)]) == [
        None,
        "a" * 32,
        None,
    ]
    # A third copy that resembles the second still points at the original.
    assert idx.check_and_add([("d" * 32, COPY + " Edited.")]) == ["a" * 32]


def test_replays_get_the_same_answer_and_are_not_their_own_duplicates(tmp_path: Path) -> None:
    idx = index(tmp_path)
    idx.check_and_add([("a" * 32, STORY), ("b" * 32, COPY)])
    assert idx.check_and_add([("a" * 32, STORY), ("b" * 32, COPY)]) == [None, "a" * 32]
    assert len(idx) == 2


def test_short_texts_are_not_compared(tmp_path: Path) -> None:
    idx = index(tmp_path)
    assert idx.check_and_add([("a" * 32, "Breaking: clashes."), ("b" * 32, "Breaking: clashes.")])
    assert idx.signature("too short") is None
    assert len(shingles("one two three", 5)) == 0
    assert len(shingles(STORY, 5)) == len(STORY.split()) - 4


def test_the_index_persists_across_processes(tmp_path: Path) -> None:
    first = index(tmp_path)
    first.check_and_add([("a" * 32, STORY)])
    first.close()
    second = index(tmp_path)
    assert second.check_and_add([("b" * 32, COPY)]) == ["a" * 32]


def test_entries_expire_after_the_ttl(tmp_path: Path) -> None:
    clock = Clock()
    idx = index(tmp_path, ttl_days=1.0, clock=clock, max_entries=10_000)
    idx.check_and_add([("a" * 32, STORY)])
    clock.now += 2 * 86400
    assert idx.check_and_add([("b" * 32, COPY)]) == [None]  # the original is too old to match
    assert len(idx) == 2
    assert idx.expire() == 1  # (also runs on its own every 1% of max_entries insertions)
    assert len(idx) == 1


def test_the_index_is_bounded(tmp_path: Path) -> None:
    idx = index(tmp_path, max_entries=3)
    texts = [f"{OTHER} Report number {n} {'again ' * n}" for n in range(6)]
    for n, text in enumerate(texts):
        idx.check_and_add([(f"{n:032x}", text + STORY[: 40 * n])])
    assert len(idx) <= 3
    idx.expire()
    assert len(idx) == 3


def test_changed_parameters_start_a_fresh_index(tmp_path: Path) -> None:
    first = index(tmp_path)
    first.check_and_add([("a" * 32, STORY)])
    first.close()
    assert len(index(tmp_path, num_perm=64)) == 0
