"""Phones see how many have voted (the contract: as the projector), at a bounded rate,
and never the totals while they are hidden."""

from __future__ import annotations

import asyncio

from tests.support import Client, ServerProcess, close_all, create_workshop


async def test_phones_get_voter_progress_not_totals(server: ServerProcess) -> None:
    created = await create_workshop(server.url, "Stemmen", ["Wat?"])
    fac = Client(server, name="facilitator")
    await fac.staff("facilitator", created["id"], created["facilitator_key"])
    voters = [Client(server, name=f"voter{i}") for i in range(4)]
    watcher = Client(server, name="watcher")
    await asyncio.gather(*(p.join(created["code"]) for p in [*voters, watcher]))
    try:
        note = (await voters[0].ok("add_note", {"prompt_id": "q1", "text": "bankjes"}))[
            "result"]["note_id"]
        await fac.ok("set_phase", {"phase": "vote"})
        start = len(watcher.events)
        # A burst of votes from four phones: the watcher hears of it as progress.
        await asyncio.gather(*(p.ok("vote", {"item_id": note, "delta": 1}) for p in voters))
        await watcher.wait_for(
            lambda: watcher.state is not None and watcher.state["votes"]["voters"] == 4,
            within=5, what="voters == 4")
        progress = [e for e in watcher.events[start:] if e["kind"] == "votes_changed"]
        assert progress, "the watcher got no vote progress"
        # Coalesced and rate-bounded: fewer frames than votes; totals stay hidden.
        assert len(progress) < len(voters)
        assert all(e["data"]["totals"] == {} and e["data"]["ranking"] == [] for e in progress)
        assert watcher.violations == []
    finally:
        await close_all(fac, watcher, *voters)


async def test_a_join_storm_reaches_phones_as_counts_not_one_event_per_join(
        server: ServerProcess) -> None:
    created = await create_workshop(server.url, "Drukte", ["Wat?"])   # anonymous (default)
    fac = Client(server, name="facilitator")
    await fac.staff("facilitator", created["id"], created["facilitator_key"])
    watcher = Client(server, name="watcher")
    await watcher.join(created["code"])
    start = len(watcher.events)
    crowd = [Client(server, name=f"joiner{i}") for i in range(40)]
    try:
        for i in range(0, len(crowd), 5):     # a few at a time, as people scan the QR code
            await asyncio.gather(*(p.join(created["code"]) for p in crowd[i:i + 5]))
        # (the presence frame also carries the count; this waits for the event)
        await watcher.wait_event("participant_changed",
                                 lambda d: d.get("count") == 1 + len(crowd), start=start)
        counts = [e for e in watcher.events[start:] if e["kind"] == "participant_changed"
                  and e["data"].get("participant", {}).get("participant_id") != watcher.pid]
        # A phone sees the count (nobody's name: the workshop is anonymous), and fewer
        # times than people joined; the facilitator sees every one of them. (The
        # watcher's own join, with its own details, may arrive after its welcome.)
        assert counts and len(counts) < len(crowd)
        assert [e for e in counts if set(e["data"]) != {"count"}] == []
        await fac.wait_for(lambda: fac.state is not None
                           and len(fac.state["participants"]["list"]) == 1 + len(crowd),
                           within=5, what="facilitator lists all")
        # Every phone, the joiners too, ends at the last seq: a count held back while a
        # joiner got its own event still reaches it.
        await asyncio.gather(*(p.wait_seq(fac.seq) for p in [watcher, *crowd]))
        assert all(p.state is not None and p.state["participants"]["count"] == 1 + len(crowd)
                   for p in [watcher, *crowd])
        assert watcher.violations == [] and fac.violations == []
    finally:
        await close_all(fac, watcher, *crowd)
