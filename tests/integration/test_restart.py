"""Acceptance 5: the server process (not Redis) stops and starts mid-workshop.

Everything acknowledged is still there; the participants' tokens, the facilitator key
and the view key still open the same screens; screens resume where they were.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.support import Client, Refused, ServerProcess, close_all, create_workshop


def essentials(state: dict[str, Any]) -> dict[str, Any]:
    ws = state["workshop"]
    return {
        "workshop": {k: ws[k] for k in ("id", "code", "title", "phase", "locked", "settings")},
        # A running timer's remaining_ms is computed when sent; ends_at is the fact.
        "timer": {k: ws["timer"][k] for k in ("running", "ends_at")},
        "prompts": state["prompts"],
        "notes": sorted(state["notes"], key=lambda n: n["id"]),
        "clusters": state["clusters"],
        "votes": state["votes"],
        "count": state["participants"]["count"],
        "me": state.get("me"),
    }


@pytest.mark.parametrize("how", ["stop", "kill"])
async def test_restart_keeps_everything(redis_url: str, logs_dir: Path, how: str) -> None:
    proc = ServerProcess(redis_url, logs_dir, name=f"restart-{how}")
    proc.start()
    try:
        await _workshop_across_restart(proc, how)
    finally:
        proc.stop()
        proc.reap()


async def _workshop_across_restart(proc: ServerProcess, how: str) -> None:
    w = await create_workshop(proc.url, prompts=["Wat gaat goed?"],
                              settings={"perspectives": ["Bewoner", "Ambtenaar"]})
    fac = Client(proc, name="facilitator")
    wall = Client(proc, name="projector")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    await wall.staff("projector", w["id"], w["view_key"])
    phones = [Client(proc, name=f"phone{i}") for i in range(3)]
    await asyncio.gather(*(p.join(w["code"]) for p in phones))
    await phones[0].ok("set_profile", {"name": "Anna", "perspective": "Bewoner"})
    notes = [(await p.ok("add_note", {"prompt_id": "q1", "text": f"idee {i}"}))["result"][
        "note_id"] for i, p in enumerate(phones)]
    await fac.ok("set_phase", {"phase": "cluster"})
    cluster = (await fac.ok("cluster", {"note_ids": notes[:2], "cluster_id": None,
                                        "title": "Samen"}))["result"]["cluster_id"]
    await fac.ok("set_phase", {"phase": "vote"})
    await phones[0].ok("vote", {"item_id": cluster, "delta": 1})
    await phones[0].ok("vote", {"item_id": notes[2], "delta": 1})
    await phones[1].ok("vote", {"item_id": cluster, "delta": 1})
    # A barrier every screen sees (phones do not see each other's dots while voting).
    last = await fac.ok("timer", {"action": "start", "seconds": 120})
    everyone = [fac, wall, *phones]
    await asyncio.gather(*(c.wait_seq(last["seq"]) for c in everyone))
    before = {c.name: essentials(c.state) for c in everyone}  # type: ignore[arg-type]
    pids = [p.pid for p in phones]

    async def page_loads() -> list[dict[str, Any]]:
        """Fresh welcomes with the same key or token, as a page reload gets them."""
        fresh = [Client(proc, name=f"fresh-{c.name}") for c in everyone]
        await fresh[0].staff("facilitator", w["id"], w["facilitator_key"])
        await fresh[1].staff("projector", w["id"], w["view_key"])
        await asyncio.gather(*(f.join(w["code"], token=p.token)
                               for f, p in zip(fresh[2:], phones, strict=True)))
        assert [f.pid for f in fresh[2:]] == pids
        await close_all(*fresh)
        return [essentials(f.state) for f in fresh]  # type: ignore[arg-type]

    loaded_before = await page_loads()

    # --- the process goes away
    if how == "stop":
        proc.stop()
        codes = await asyncio.gather(*(c.wait_closed(10) for c in everyone))
        assert set(codes) == {1012}, codes   # "server restarts": reconnect
    else:
        proc.kill()
        await asyncio.gather(*(c.wait_closed(10) for c in everyone))
    assert not proc.running
    proc.start()

    # --- every screen comes back: with its seq (replay) ...
    await asyncio.gather(*(c.resume() for c in everyone))
    assert [p.pid for p in phones] == pids
    for c in everyone:
        assert essentials(c.state) == before[c.name], c.name  # type: ignore[arg-type]
        assert c.violations == []
    assert fac.you["role"] == "facilitator" and wall.you["role"] == "projector"

    # ... and from nothing (a page reload with the same token or key).
    assert await page_loads() == loaded_before
    anna = Client(proc, name="anna-again")
    await anna.join(w["code"], token=phones[0].token)
    fresh = [anna]
    assert anna.state["me"]["name"] == "Anna"  # type: ignore[index]
    assert anna.state["votes"]["mine"] == {cluster: 1, notes[2]: 1}  # type: ignore[index]

    # The workshop goes on: the budget remembers the dots placed before the restart.
    await phones[0].ok("vote", {"item_id": cluster, "delta": 1})
    await phones[0].ok("vote", {"item_id": cluster, "delta": 1})
    err = await phones[0].refused("vote", {"item_id": cluster, "delta": 1})
    assert err["code"] == "item_full"
    await phones[0].ok("vote", {"item_id": notes[2], "delta": 1})
    err = await phones[0].refused("vote", {"item_id": notes[2], "delta": 1})
    assert err["code"] == "no_votes_left"
    done = await fac.ok("set_phase", {"phase": "results"})
    await asyncio.gather(*(c.wait_seq(done["seq"]) for c in everyone))
    assert wall.state["votes"]["totals"] == {cluster: 4, notes[2]: 2}  # type: ignore[index]
    assert fac.state["votes"]["totals"] == wall.state["votes"]["totals"]  # type: ignore[index]

    # A wrong key is still wrong after the restart.
    bad = Client(proc, name="intruder")
    with pytest.raises(Refused) as refused:
        await bad.staff("facilitator", w["id"], w["view_key"])
    assert refused.value.code == 4401
    await close_all(*everyone, *fresh, bad)
