"""The dot-voting rule for one ballot (the same rule the Lua vote script applies inside
Redis; tests hold the two together)."""

from __future__ import annotations

from typing import Any

from server.errors import DomainError


def check_vote(
    ballot: dict[str, int], item_id: str, delta: int, settings: dict[str, Any]
) -> dict[str, int]:
    """The ballot after one vote, or DomainError when a limit would break.

    Limits: never more than votes_per_participant in all, never more than
    max_votes_per_item on one item, never below zero. The Lua vote script applies
    exactly this rule inside Redis.
    """
    current = ballot.get(item_id, 0)
    if delta > 0:
        if sum(ballot.values()) + delta > int(settings["votes_per_participant"]):
            raise DomainError("no_votes_left")
        if current + delta > int(settings["max_votes_per_item"]):
            raise DomainError("item_full", max=settings["max_votes_per_item"])
    elif current + delta < 0:
        raise DomainError("no_vote_to_remove")
    after = dict(ballot)
    if current + delta:
        after[item_id] = current + delta
    else:
        after.pop(item_id, None)
    return after
