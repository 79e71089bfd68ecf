"""Results from the ballots: totals per perspective, the plain ranking, common ground and
the divided items. Pure functions; docs/results.md explains the choices with an example.

Small-group guard: a perspective chosen by fewer than MIN_GROUP participants is never
shown on its own; its dots count under OTHER, so nobody can be singled out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

MIN_GROUP = 3
OTHER = "other"
# An item is "divided" when one group gives it at least this share of its dots ...
DIVIDED_MIN_SHARE = 0.15
# ... and another group gives it at most this fraction of that share.
DIVIDED_RATIO = 1 / 3


def group_of(
    perspective: str | None, sizes: Mapping[str, int], perspectives: Iterable[str]
) -> str:
    if perspective and perspective in perspectives and sizes.get(perspective, 0) >= MIN_GROUP:
        return perspective
    return OTHER


def group_sizes(participants: Mapping[str, Mapping[str, Any]]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for p in participants.values():
        name = p.get("perspective")
        if name:
            sizes[name] = sizes.get(name, 0) + 1
    return sizes


def by_perspective(
    ballots: Mapping[str, Mapping[str, int]],
    participants: Mapping[str, Mapping[str, Any]],
    perspectives: list[str],
    items: set[str] | None = None,
) -> dict[str, dict[str, int]]:
    """Dots per group and item; groups under MIN_GROUP people are merged into OTHER."""
    if not perspectives:
        return {}
    sizes = group_sizes(participants)
    out: dict[str, dict[str, int]] = {}
    for pid, ballot in ballots.items():
        g = group_of(participants.get(pid, {}).get("perspective"), sizes, perspectives)
        bucket = out.setdefault(g, {})
        for item, n in ballot.items():
            if items is None or item in items:
                bucket[item] = bucket.get(item, 0) + n
    return out


def ranking(totals: Mapping[str, int]) -> list[str]:
    """Items by total dots, most first; ties by id so every screen shows one order."""
    return [item for item, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0])) if n > 0]


def _shares(groups: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, float]]:
    shares: dict[str, dict[str, float]] = {}
    for g, dots in groups.items():
        cast = sum(dots.values())
        if g != OTHER and cast > 0:
            shares[g] = {item: n / cast for item, n in dots.items()}
    return shares


def common_ground(
    totals: Mapping[str, int], groups: Mapping[str, Mapping[str, int]]
) -> list[str]:
    """Items by their weakest support over the named groups that voted.

    Score: the lowest share of a group's dots that the item got, over every named group
    (of at least MIN_GROUP people) that cast dots; ties broken by the geometric mean of
    the shares, then by total dots. With fewer than two such groups it is the ranking.
    """
    shares = _shares(groups)
    items = ranking(totals)
    if len(shares) < 2:
        return items

    def key(item: str) -> tuple[float, float, int, str]:
        values = [s.get(item, 0.0) for s in shares.values()]
        low = min(values)
        geo = math.exp(sum(math.log(v) for v in values) / len(values)) if low > 0 else 0.0
        return (-low, -geo, -totals.get(item, 0), item)

    return sorted(items, key=key)


def divided(totals: Mapping[str, int], groups: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Items that one named group strongly backs and another does not."""
    shares = _shares(groups)
    if len(shares) < 2:
        return []
    out = []
    for item in ranking(totals):
        values = [s.get(item, 0.0) for s in shares.values()]
        high, low = max(values), min(values)
        if high >= DIVIDED_MIN_SHARE and low <= high * DIVIDED_RATIO:
            out.append(item)
    return out


def summary(
    ballots: Mapping[str, Mapping[str, int]],
    participants: Mapping[str, Mapping[str, Any]],
    perspectives: list[str],
    items: set[str] | None = None,
) -> dict[str, Any]:
    """The contract's `votes` object without `mine`."""
    totals: dict[str, int] = {}
    for ballot in ballots.values():
        for item, n in ballot.items():
            if items is None or item in items:
                totals[item] = totals.get(item, 0) + n
    groups = by_perspective(ballots, participants, perspectives, items)
    return {
        "totals": totals,
        "voters": sum(1 for b in ballots.values() if b),
        "by_perspective": groups,
        "ranking": ranking(totals),
        "common_ground": common_ground(totals, groups),
        "divided": divided(totals, groups),
    }
