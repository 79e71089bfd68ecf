"""server/app.py's collection pace: what survived young collections is moved on to the
old generation by `promote_survivors`, not left for a middle collection that would
come due in the middle of whatever follows (docs/benchmarks.md, "Issue 14")."""

from __future__ import annotations

import gc

from server.app import promote_survivors


class Kept:
    """A tracked object with a cycle, as a socket's session and its queue are."""

    def __init__(self) -> None:
        self.me = self


def test_survivors_of_young_collections_are_promoted() -> None:
    kept = [Kept() for _ in range(100)]
    gc.collect(0)  # a young collection: they survive it, into the middle generation
    assert gc.get_count()[1] >= 1
    middle = {id(o) for o in gc.get_objects(generation=1)}
    assert all(id(k) in middle for k in kept)
    promote_survivors()
    assert gc.get_count()[1] == 0
    old = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(k) in old for k in kept)


def test_nothing_is_collected_without_a_young_collection_since() -> None:
    promote_survivors()
    assert gc.get_count()[1] == 0
    before = gc.get_stats()[1]["collections"]
    promote_survivors()
    assert gc.get_stats()[1]["collections"] == before
