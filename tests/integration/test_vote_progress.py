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
