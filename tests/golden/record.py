"""Record the golden fixture: a whole workshop over the real server, as every role saw it.

Run by hand after a change to what the server sends (the fixture is committed):

    python -m tests.golden.record        # TEST_REDIS_URL, or an embedded Valkey

It writes tests/golden/workshop.json with, for the facilitator, the projector and two
phones (one socket each): the welcome state and every `events` and `presence` frame the
socket got, in order; the workshop's raw event stream (as server.store reads it); the
stored room before the first event and after the last (store.load); and a fresh welcome
state per role at the end. tests/unit/test_golden.py and tests/js/state.test.mjs hold
the appliers to it. Ids and times are random; the tests compare with tests.support's
`comparable`, which leaves out what differs between two sockets of a screen.
"""

from __future__ import annotations

import asyncio
import copy
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from server import keys
from server.embedded import EmbeddedValkey
from server.store import Store, parse_entry
from tests.support import (
    Client,
    ServerProcess,
    close_all,
    comparable,
    create_workshop,
    differences,
    http,
)

FIXTURE = Path(__file__).resolve().parent / "workshop.json"
THUMBS, HEART, IDEA, QUESTION = "\U0001F44D", "\u2764\ufe0f", "\U0001F4A1", "\u2753"
GROUPS = ["Bewoner", "Ambtenaar", "Ondernemer"]
ROLES = ("facilitator", "projector", "phone_a", "phone_b")


class Recorder(Client):
    """A Client that keeps a copy of every frame as it came (its applier changes the
    welcome's state in place)."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.received: list[dict[str, Any]] = []

    def _on_frame(self, msg: dict[str, Any]) -> None:
        self.received.append(copy.deepcopy(msg))
        super()._on_frame(msg)


def recorded(client: Recorder) -> dict[str, Any]:
    """The socket's first welcome state and the frames that changed it after that."""
    assert client.received[0]["type"] == "welcome", client.received[0]
    frames = [f for f in client.received[1:] if f["type"] in ("events", "presence")]
    assert not client.violations, client.violations
    return {"me": client.pid, "welcome": client.received[0]["state"], "frames": frames}


async def note(client: Client, prompt: str, text: str) -> str:
    nid: str = (await client.ok("add_note", {"prompt_id": prompt, "text": text}))["result"][
        "note_id"]
    return nid


async def cluster(fac: Client, note_ids: list[str], cid: str | None = None,
                  title: str | None = None) -> str:
    args: dict[str, Any] = {"note_ids": note_ids, "cluster_id": cid}
    if title is not None:
        args["title"] = title
    made: str = (await fac.ok("cluster", args))["result"]["cluster_id"]
    return made


async def fresh_state(client: Client, seq: int, within: float = 10.0) -> dict[str, Any]:
    """The state of a new socket of the same screen (a reload) that has seen `seq`."""
    deadline = time.monotonic() + within
    while True:
        twin = await client.twin()
        await twin.drop()
        assert twin.welcome is not None and twin.state is not None
        if twin.welcome["seq"] >= seq:
            return twin.state
        assert time.monotonic() < deadline, f"{client.name}: no welcome after seq {seq}"


async def until_same(client: Client, fresh: dict[str, Any], within: float = 10.0) -> None:
    """The live socket's state (tests.support's applier) comes to equal a fresh welcome,
    or the recording is not worth keeping."""
    def same() -> bool:
        return comparable(client.state) == comparable(fresh)  # type: ignore[arg-type]
    try:
        await client.wait_for(same, within, what="the fresh welcome")
    except TimeoutError:
        diff = differences(comparable(client.state), comparable(fresh))  # type: ignore[arg-type]
        raise AssertionError(f"{client.name}: " + "\n".join(diff)) from None


async def workshop(server: ServerProcess, store: Store) -> dict[str, Any]:
    created = await create_workshop(
        server.url, "Plein van morgen", ["Wat gaat goed?", "Wat kan beter?"],
        # show_provenance from the start: switched on later, a phone's own notes would keep
        # no group label (the event's `notes` leave out the viewer's own notes; see the
        # report of issue 9), and this fixture is about the appliers, not that gap.
        {"perspectives": GROUPS, "private_writing": True, "show_provenance": True})
    wid, code = created["id"], created["code"]
    initial = await store.load(wid)
    fac, wall = Recorder(server, name="facilitator"), Recorder(server, name="projector")
    await fac.staff("facilitator", wid, created["facilitator_key"])
    await wall.staff("projector", wid, created["view_key"])
    q1, q2 = (p["id"] for p in fac.state["prompts"])  # type: ignore[index]
    # Two recorded phones (a resident, and the only entrepreneur: a group under 3), and
    # five more: two residents, and civil servants that become 3, then 2 again.
    a, b = Recorder(server, name="phone_a"), Recorder(server, name="phone_b")
    others = [Client(server, name=f"phone{i}") for i in range(2, 7)]
    phones = [a, b, *others]
    for p in phones:
        await p.join(code)
    await a.ok("set_profile", {"name": "Anna", "perspective": "Bewoner"})
    await b.ok("set_profile", {"name": "Bram", "perspective": "Ondernemer"})
    for p, group in zip(others[:4], ["Bewoner", "Bewoner", "Ambtenaar", "Ambtenaar"],
                        strict=True):
        await p.ok("set_profile", {"name": p.name, "perspective": group})
    p2, p3, p4, p5, p6 = others
    watched = {"facilitator": fac, "projector": wall, "phone_a": a, "phone_b": b}
    checkpoints: list[dict[str, Any]] = []

    async def checkpoint(label: str) -> dict[str, Any]:
        """Wait until every watched socket has had every event meant for it, then note
        how many frames it had and a fresh welcome of each role."""
        seq = int(await store.redis.hget(keys.workshop_key(wid, "meta"), "seq"))
        states = {role: await fresh_state(c, seq) for role, c in watched.items()}
        for role, c in watched.items():
            await until_same(c, states[role])
        checkpoints.append({"label": label, "seq": seq, "fresh": states, "frames": {
            role: len(recorded(c)["frames"]) for role, c in watched.items()}})
        return states

    # --- collect, writing privately first
    a1 = await note(a, q1, "Meer bomen op het plein")
    a2 = await note(a, q2, "Te weinig bankjes")
    b1 = await note(b, q1, "Een markt op zaterdag")
    n2 = await note(p2, q1, "Fietsenstalling")
    gone = await note(p2, q2, "Dubbel, weg ermee")
    n3 = await note(p3, q2, "Verlichting 's avonds")
    n4 = await note(p4, q2, "Minder auto's")
    troll = await note(p5, q1, "Dit moet weg")
    n6 = await note(p6, q1, "Speeltuin opknappen")
    n6b = await note(p6, q2, "Water om te spelen")
    await a.ok("edit_note", {"note_id": a1, "text": "Meer bomen en groen op het plein"})
    await p2.ok("delete_note", {"note_id": gone})
    await fac.ok("update_settings", {"private_writing": False})      # everyone sees all
    await fac.ok("update_settings", {"anonymous": False})             # names are shown
    await fac.ok("update_settings", {"show_groups_on_wall": True})
    # Reactions (on, off, on an edited note) and "done" (said, taken back), issue 13.
    await b.ok("react", {"note_id": a1, "emoji": THUMBS, "on": True})
    await p2.ok("react", {"note_id": a1, "emoji": THUMBS, "on": True})
    await a.ok("react", {"note_id": b1, "emoji": HEART, "on": True})
    await a.ok("react", {"note_id": n2, "emoji": IDEA, "on": True})
    await a.ok("react", {"note_id": n2, "emoji": IDEA, "on": False})
    await p6.ok("react", {"note_id": b1, "emoji": QUESTION, "on": True})
    await a.ok("edit_note", {"note_id": a1, "text": "Meer bomen en groen op het plein!"})
    await a.ok("set_done", {"done": True})
    await p3.ok("set_done", {"done": True})
    await a.ok("set_done", {"done": False})
    await b.ok("set_done", {"done": True})
    await p6.ok("set_profile", {"perspective": "Ambtenaar"})          # the group reaches 3
    await b.ok("set_profile", {"name": "Bram B."})
    await fac.ok("timer", {"action": "start", "seconds": 300})
    await fac.ok("timer", {"action": "pause"})
    await fac.ok("timer", {"action": "resume"})
    # Issue 15: a paper note, notes that wait for approval (one approved, edited back into
    # the queue and approved again, one that waits to the end), and the quiet wall.
    await fac.ok("add_paper_note", {"prompt_id": q1, "text": "Van een kaartje",
                                    "perspective": "Bewoner"})
    await fac.ok("update_settings", {"approval_required": True})
    waits = await note(a, q2, "Wacht op goedkeuring")
    await note(b, q1, "Blijft wachten")
    await fac.ok("approve_notes", {"note_ids": [waits]})
    await a.ok("edit_note", {"note_id": waits, "text": "Weer in de wachtrij"})
    await fac.ok("approve_notes", {"note_ids": [waits]})
    await fac.ok("update_settings", {"wall_during_collect": "count"})
    await note(p4, q1, "Stil geteld")
    await fac.ok("update_settings", {"approval_required": False})
    await fac.ok("moderate_note", {"note_id": troll, "hidden": True})
    await fac.ok("moderate_note", {"note_id": troll, "hidden": False})
    await fac.ok("moderate_note", {"note_id": troll, "hidden": True})
    await fac.ok("set_lock", {"locked": True})
    await fac.ok("set_lock", {"locked": False})
    await fac.ok("update_settings", {"private_writing": True})        # others' notes go
    await checkpoint("collect")
    # --- cluster (the phase shows everyone's notes again)
    await fac.ok("set_phase", {"phase": "cluster"})
    await b.ok("react", {"note_id": n3, "emoji": QUESTION, "on": True})
    await a.ok("set_done", {"done": True})
    green = await cluster(fac, [a1, n6], title="Groen")
    traffic = await cluster(fac, [n4])
    await cluster(fac, [n3], traffic)
    await fac.ok("rename_cluster", {"cluster_id": traffic, "title": "Verkeer"})
    await fac.ok("add_prompt", {"text": "Wat mist er nog?"})           # questions change
    await fac.ok("edit_prompt", {"prompt_id": q2, "text": "Wat kan er beter op het plein?"})
    await fac.ok("uncluster", {"note_ids": [n6]})
    spare = await cluster(fac, [n2], title="Reserve")
    await fac.ok("update_settings", {"show_live_votes": True})
    # --- vote: dots given back by a hide, a merge, a delete and a removal
    await fac.ok("set_phase", {"phase": "vote"})
    for voter, item, delta in [
        (a, green, 1), (a, green, 1), (a, b1, 1), (a, green, -1), (b, traffic, 1),
        (b, a2, 1), (p2, spare, 1), (p2, n6, 1), (p3, green, 1), (p4, traffic, 1),
        (p4, n6b, 1), (p5, a2, 1), (p6, n6, 1), (p6, green, 1), (b, n6b, 1),
    ]:
        await voter.ok("vote", {"item_id": item, "delta": delta})
    await checkpoint("voted")
    await fac.ok("moderate_note", {"note_id": a2, "hidden": True})    # its dots go back
    await checkpoint("hidden")
    await fac.ok("hide_participant_notes", {"participant_id": p3.pid, "hidden": True})
    await fac.ok("hide_participant_notes", {"participant_id": p3.pid, "hidden": False})
    await cluster(fac, [b1], green)                                   # b1's dot goes back
    await fac.ok("delete_cluster", {"cluster_id": spare})
    # Verkeer goes into Groen: its dots (b's, p4's) go with it, and their phones' `mine`.
    await fac.ok("merge_clusters", {"cluster_id": traffic, "into_id": green})
    await checkpoint("merged")
    await fac.ok("update_settings", {"show_live_votes": False})
    await b.ok("vote", {"item_id": n2, "delta": 1})
    await p6.ok("set_done", {"done": True})                           # removed while done
    await fac.ok("remove_participant", {"participant_id": p6.pid})    # the group drops to 2
    await checkpoint("removed")
    await fac.ok("delete_note", {"note_id": n4})
    await fac.ok("timer", {"action": "start", "seconds": 120})
    await fac.ok("update_settings", {"votes_per_participant": 6})
    await fac.ok("set_phase", {"phase": "results"})
    await checkpoint("results")
    # --- "ik doe mee": a contact with consent, one without (not stored), a withdrawal, a
    # name that changes in the facilitator's list, and a removal that takes an offer.
    await a.ok("sign_up", {"item_id": green, "on": True, "contact": "anna@example.org",
                           "consent": True})
    await b.ok("sign_up", {"item_id": green, "on": True, "contact": "06-12345678",
                           "consent": False})
    await b.ok("sign_up", {"item_id": n2, "on": True, "contact": None, "consent": False})
    await p2.ok("sign_up", {"item_id": n2, "on": True, "contact": None, "consent": False})
    await p5.ok("sign_up", {"item_id": green, "on": True, "contact": None, "consent": False})
    await b.ok("sign_up", {"item_id": green, "on": False, "contact": None, "consent": False})
    await p2.ok("set_profile", {"name": "Piet"})
    await fac.ok("remove_participant", {"participant_id": p5.pid})
    await checkpoint("signed")
    # --- a session plan (issue 10): an activity added, edited and moved; everyone moves
    # to it (its own questions, notes, phase and dot budget) and back again.
    added = (await fac.ok("add_activity", {"title": "Afsluiting", "prompts": ["Wat neem je mee?"],
                                           "after": None,
                                           "settings": {"votes_per_participant": 2}}))
    closing = added["result"]["activity_id"]
    await fac.ok("edit_activity", {"activity_id": closing, "title": "Tot slot",
                                   "prompts": ["Wat neem je mee?", "Wat was fijn?"]})
    await fac.ok("add_activity", {"title": "Weg ermee", "prompts": ["?"], "after": None})
    await fac.ok("move_activity", {"activity_id": closing, "to": 0})
    await fac.ok("set_activity", {"activity_id": closing})
    await a.ok("set_done", {"done": True})
    last = await note(a, "q1", "Een goed gesprek")
    await note(b, "q2", "De koffie")
    await checkpoint("second activity")
    await fac.ok("set_phase", {"phase": "vote"})
    await a.ok("vote", {"item_id": last, "delta": 1})
    await fac.ok("set_activity", {"activity_id": "a1"})
    await checkpoint("first activity again")
    await fac.ok("set_activity", {"activity_id": closing})
    await checkpoint("second activity again")
    await fac.ok("set_phase", {"phase": "results"})
    fresh = await checkpoint("second results")
    final = await store.load(wid)
    stream = await store.redis.xrange(keys.workshop_key(wid, "events"))
    events = [parse_entry(str(eid), dict(fields)) for eid, fields in stream]
    out = {
        "workshop_id": wid,
        "sockets": {role: recorded(c) for role, c in watched.items()},
        "checkpoints": checkpoints,
        "fresh": fresh,
        "initial_room": initial,
        "final_room": final,
        "events": [{"seq": e.seq, "kind": e.kind, "actor": e.actor, "data": e.data}
                   for e in events],
    }
    await close_all(*phones, fac, wall)
    erased = await http("DELETE", f"{server.url}/api/workshops/{wid}",
                        headers={"authorization": f"Bearer {created['facilitator_key']}"})
    assert erased.status == 204, erased
    return out


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        valkey = None
        url = os.environ.get("TEST_REDIS_URL")
        if not url:
            valkey = EmbeddedValkey(Path(tmp) / "valkey")
            valkey.start()
            url = valkey.url
        server = ServerProcess(url, Path(tmp) / "logs", name="golden").start()
        store = Store.from_url(url, retention_ms=3600_000, stream_maxlen=10_000)
        try:
            out = await workshop(server, store)
        finally:
            await store.close()
            server.stop()
            if valkey is not None:
                valkey.stop()
    FIXTURE.write_bytes(orjson.dumps(out, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
                        + b"\n")
    kinds = sorted({e["kind"] for e in out["events"]})
    print(f"{FIXTURE}: {len(out['events'])} events of {len(kinds)} kinds: {', '.join(kinds)}")


if __name__ == "__main__":
    asyncio.run(main())
