"""Vote budgets, property-based: whatever participants try, no limit ever breaks.

server.votes.check_vote is the rule the Lua vote script applies; room.apply_event is how every
process keeps its mirror of the totals. Both are driven with random vote sequences.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from server.errors import DomainError
from server.events import Event
from server.room import apply_event, remove_items
from server.votes import check_vote

PEOPLE = ["p1", "p2", "p3", "p4"]
ITEMS = ["c1", "c2", "n1", "n2", "n3"]

limits = st.integers(1, 8).flatmap(
    lambda budget: st.fixed_dictionaries({
        "votes_per_participant": st.just(budget),
        "max_votes_per_item": st.integers(1, budget),
    })
)
votes = st.lists(
    st.tuples(st.sampled_from(PEOPLE), st.sampled_from(ITEMS), st.sampled_from([1, -1])),
    max_size=120,
)


def empty_room() -> dict[str, Any]:
    return {"ballots": {}, "totals": {}, "notes": {}, "clusters": {}, "participants": {},
            "workshop": {}, "seq": 0}


def sums(ballots: dict[str, dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for ballot in ballots.values():
        for item, n in ballot.items():
            out[item] = out.get(item, 0) + n
    return {item: n for item, n in out.items() if n}


@settings(max_examples=300, deadline=None)
@given(limits, votes)
def test_check_vote_never_breaks_a_limit(limit: dict[str, int],
                                         seq: list[tuple[str, str, int]]) -> None:
    ballots: dict[str, dict[str, int]] = {}
    for pid, item, delta in seq:
        before = dict(ballots.get(pid, {}))
        used, current = sum(before.values()), before.get(item, 0)
        allowed = (
            used + 1 <= limit["votes_per_participant"]
            and current + 1 <= limit["max_votes_per_item"]
        ) if delta > 0 else current > 0
        try:
            after = check_vote(before, item, delta, limit)
        except DomainError as err:
            assert not allowed, (before, item, delta, err.code)
            expected = ("no_votes_left" if used + 1 > limit["votes_per_participant"]
                        else "item_full") if delta > 0 else "no_vote_to_remove"
            assert err.code == expected
            assert ballots.get(pid, {}) == before  # nothing changed
            continue
        assert allowed, (before, item, delta)
        assert after.get(item, 0) == current + delta
        assert {k: v for k, v in after.items() if k != item} == \
            {k: v for k, v in before.items() if k != item}
        ballots[pid] = after
        for ballot in ballots.values():
            assert sum(ballot.values()) <= limit["votes_per_participant"]
            assert all(0 < n <= limit["max_votes_per_item"] for n in ballot.values())


@settings(max_examples=300, deadline=None)
@given(limits, votes, st.lists(st.sampled_from(ITEMS), max_size=3))
def test_room_totals_stay_the_sum_of_ballots(limit: dict[str, int],
                                             seq: list[tuple[str, str, int]],
                                             refunded: list[str]) -> None:
    """The mirror applies votes_changed as the Lua script emits them (and refunds)."""
    room = empty_room()
    stored_totals: dict[str, int] = {}
    seq_no = 0
    for i, (pid, item, delta) in enumerate(seq):
        ballot = room["ballots"].get(pid, {})
        try:
            after = check_vote(ballot, item, delta, limit)
        except DomainError:
            continue
        # What the script stores and emits: HINCRBY on the total, the ballot as `mine`.
        stored_totals[item] = stored_totals.get(item, 0) + delta
        total = stored_totals[item]
        if total <= 0:
            stored_totals.pop(item)
        voters = sum(1 for b in {**room["ballots"], pid: after}.values() if b)
        seq_no += 1
        apply_event(room, Event(seq_no, "votes_changed", pid, {
            "participant_id": pid, "item_id": item, "delta": delta, "mine": after,
            "total": total, "voters": voters,
        }))
        assert room["totals"] == sums(room["ballots"]) == stored_totals
        assert all(n >= 0 for n in room["totals"].values())
        assert room["seq"] == seq_no
        if i == len(seq) // 2 and refunded:
            remove_items(room, refunded)
            for item_gone in refunded:
                stored_totals.pop(item_gone, None)
            assert room["totals"] == sums(room["ballots"])
            assert not set(refunded) & set(room["totals"])
    assert all(room["ballots"].values())  # no empty ballots are kept
