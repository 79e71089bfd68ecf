"""A socket's welcome: the state it needs to start, either the missed events after its
`since` (replayed, cut for this viewer) or a fresh snapshot.

A replay is only sent while the stream still holds every missed event and there are at
most REPLAY_MAX of them; else a snapshot is cheaper and always right.
"""

from __future__ import annotations

from typing import Any

import orjson

from server import protocol
from server.events import Event
from server.fanout import Client, coalesce, frame
from server.hub import Feed, Hub
from server.store import Store
from server.views import Viewer, view_event, view_state

REPLAY_MAX = 2000  # more missed events than this: a fresh snapshot is cheaper


def replay_frame(feed: Feed, viewer: Viewer, events: list[Event]) -> bytes | None:
    """Missed events for one client, cut with today's visibility (the room is newer)."""
    cache: dict[str, Any] = {}
    items = [(e.seq, e.kind, view_event(feed.room, e, viewer, cache)) for e in events]
    kept = coalesce(items, feed.room, viewer, cache)
    return frame(kept) if kept else None


async def replay(
    store: Store, feed: Feed, viewer: Viewer, since: int
) -> tuple[int, list[bytes]] | None:
    """The seq of the last missed event and the frames of the events after `since` up to
    the feed's position, or None when the stream no longer holds them all (trimmed past
    `since`)."""
    frames: list[bytes] = []
    last = since
    while last < feed.position:
        target = feed.position
        events = await store.events_after(feed.workshop_id, last, target - last)
        if not events or events[0].seq != last + 1:
            return None
        events = [e for e in events if e.seq <= target]
        if any(e.kind == "activity_changed" for e in events):
            # The missed events cross a change of activity: those before it belong to
            # another activity than the room's; a fresh state is simply right.
            return None
        missed = replay_frame(feed, viewer, events)
        if missed is not None:
            frames.append(missed)
        last = events[-1].seq
    return last, frames


async def catch_up(store: Store, feed: Feed, viewer: Viewer,
                   since: int | None) -> tuple[int, list[bytes]] | None:
    """To resume a client that has seen `since`: the seq it has after the frames, and
    the frames; None: it needs a snapshot."""
    if since is None:
        return None
    if since <= feed.position:
        if feed.position - since > REPLAY_MAX:
            return None
        return await replay(store, feed, viewer, since)
    # This process is a tick behind the client: wait for the stream to catch up.
    stored = await store.stored_seq(feed.workshop_id)
    return (since, []) if stored is not None and since <= stored else None


async def welcome(hub: Hub, store: Store, feed: Feed, client: Client, since: int | None,
                  token: str | None) -> None:
    """Queue the welcome (and any replay) for the client, then attach it to the feed."""
    viewer = client.viewer
    you = {"role": viewer.role, "participant_id": viewer.pid, "token": token}
    resumed = await catch_up(store, feed, viewer, since)
    state: dict[str, Any] | None = None
    if resumed is None:
        state = view_state(feed.room, viewer, feed.view_cache())
        seq = client.last_seq = feed.position
        frames: list[bytes] = []
    else:
        # The welcome says `since`; the client is at the last replayed event after them.
        seq = since if since is not None else feed.position
        client.last_seq, frames = resumed
    client.push(orjson.dumps({
        "type": "welcome", "workshop": feed.workshop_id, "you": you, "seq": seq,
        "state": state,
    }))
    for missed in frames:
        client.push(missed)
    if not hub.store_ok:
        client.push(protocol.status_frame(False))  # a screen opened while it cannot save
    hub.attach(feed, client)
