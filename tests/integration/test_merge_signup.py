"""Participants in the loop (issue 13): merging themes, and "ik doe mee" (sign_up).

- merge_clusters moves a theme's notes and, in the vote phase, its dots into another:
  every dot and every budget stays (the store's totals are the sum of its ballots, before
  as after), and every screen's state equals a fresh welcome of the same screen.
- sign_up: every role sees how many per item, only the facilitator who; a contact only
  with consent; withdrawn means gone (from every key and the event stream); erased with
  the workshop, and never in the log.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from server import keys
from server.errors import message
from server.store import Store
from tests.integration.test_moderation import note, sum_of_ballots
from tests.support import Client, ServerProcess, close_all, create_workshop, http
from tests.support.fresh import fresh_equal

CONTACT = "anna.meedoen@example.org"
NO_CONSENT = "06-98765432"


async def everything_stored(store: Store, wid: str) -> bytes:
    """Every value of every key of a workshop (hashes, the stream), as one blob."""
    blob = bytearray()
    async for key in store.redis.scan_iter(match=f"ws:{{{wid}}}:*", count=1000):
        kind = await store.redis.type(key)
        if kind == "hash":
            blob += orjson.dumps(await store.redis.hgetall(key))
        elif kind == "stream":
            blob += orjson.dumps([list(e) for e in await store.redis.xrange(key)], default=str)
        elif kind == "zset":
            blob += orjson.dumps(await store.redis.zrange(key, 0, -1))
        else:
            blob += str(await store.redis.get(key) if kind == "string" else "").encode()
    return bytes(blob)


def used(c: Client) -> int:
    return sum(c.state["votes"]["mine"].values())  # type: ignore[index]


async def test_merge_in_the_vote_phase_keeps_every_dot_and_budget(
    server: ServerProcess, store: Store
) -> None:
    w = await create_workshop(server.url, settings={
        "votes_per_participant": 5, "max_votes_per_item": 3})
    fac = Client(server, name="fac")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(server, name="wall")
    await wall.staff("projector", w["id"], w["view_key"])
    alice, bob, carol = (Client(server, name=n) for n in ("alice", "bob", "carol"))
    for c in (alice, bob, carol):
        await c.join(w["code"])
    a1, b1, c1, c2 = (await note(alice, "Bomen"), await note(bob, "Bankjes"),
                      await note(carol, "Licht"), await note(carol, "Weg ermee"))
    await fac.ok("moderate_note", {"note_id": c2, "hidden": True})   # only carol and fac see it
    await fac.ok("set_phase", {"phase": "cluster"})
    green = (await fac.ok("cluster", {"note_ids": [a1, c2], "cluster_id": None,
                                      "title": "Groen"}))["result"]["cluster_id"]
    seats = (await fac.ok("cluster", {"note_ids": [b1], "cluster_id": None,
                                      "title": "Zitten"}))["result"]["cluster_id"]
    light = (await fac.ok("cluster", {"note_ids": [c1], "cluster_id": None}))["result"][
        "cluster_id"]
    await fac.ok("set_phase", {"phase": "vote"})
    last = 0
    for c, item, n in ((alice, green, 3), (alice, seats, 2), (bob, green, 1), (bob, seats, 1),
                       (carol, light, 1)):
        for _ in range(n):
            last = (await c.ok("vote", {"item_id": item, "delta": 1}))["seq"]
    # Each phone has its own dots back as events (they come in the phones' batches).
    await asyncio.gather(*(c.wait_seq(last) for c in (fac, wall, alice, bob, carol)))
    before = await store.load(w["id"])
    assert before is not None
    budgets = {c.name: used(c) for c in (alice, bob, carol)}
    assert budgets == {"alice": 5, "bob": 2, "carol": 1}

    ack = await fac.ok("merge_clusters", {"cluster_id": green, "into_id": seats})
    screens = [fac, wall, alice, bob, carol]
    await asyncio.gather(*(c.wait_seq(ack["seq"]) for c in screens))

    after = await store.load(w["id"])
    assert after is not None
    assert sum(before["totals"].values()) == sum(after["totals"].values()) == 8
    assert after["totals"] == sum_of_ballots(after) == {seats: 7, light: 1}
    assert green not in after["clusters"]
    assert {after["notes"][n]["cluster_id"] for n in (a1, b1, c2)} == {seats}
    # Not given back, also past max_votes_per_item (alice has 5 on one item now).
    assert alice.state["votes"]["mine"] == {seats: 5}  # type: ignore[index]
    assert bob.state["votes"]["mine"] == {seats: 2}  # type: ignore[index]
    assert {c.name: used(c) for c in (alice, bob, carol)} == budgets
    for c in screens:
        assert green not in {x["id"] for x in c.state["clusters"]}, c.name  # type: ignore[index]
    # carol's hidden note went along on her own phone (the shared view leaves it out).
    own = {n["id"]: n for n in carol.state["notes"]}  # type: ignore[index]
    assert own[c2]["cluster_id"] == seats
    await fresh_equal(server, screens)
    # Over the limit: no more dots on it, but taking one off works.
    full = await alice.refused("vote", {"item_id": seats, "delta": 1})
    assert full["code"] in ("item_full", "no_votes_left")
    await alice.ok("vote", {"item_id": seats, "delta": -1})
    await close_all(*screens)


async def test_a_bad_merge_is_refused_and_changes_nothing(
    server: ServerProcess, store: Store
) -> None:
    w = await create_workshop(server.url)
    fac = Client(server, name="fac")
    await fac.staff("facilitator", w["id"], w["facilitator_key"], lang="en")
    fac_nl = Client(server, name="fac-nl")
    await fac_nl.staff("facilitator", w["id"], w["facilitator_key"], lang="nl")
    phone = Client(server, name="phone")
    await phone.join(w["code"])
    n1 = await note(phone, "Bomen")
    early = await fac.refused("merge_clusters", {"cluster_id": "a", "into_id": "b"})
    assert early["code"] == "wrong_phase"
    await fac.ok("set_phase", {"phase": "cluster"})
    cid = (await fac.ok("cluster", {"note_ids": [n1], "cluster_id": None}))["result"][
        "cluster_id"]
    seq = await store.stored_seq(w["id"])
    same = await fac.refused("merge_clusters", {"cluster_id": cid, "into_id": cid})
    assert same == {"code": "merge_same", "message": message("merge_same", "en")}
    assert "itself" in same["message"]
    missing = await fac.refused("merge_clusters", {"cluster_id": cid, "into_id": "nope"})
    assert missing["code"] == "no_cluster"
    gone = await fac.refused("merge_clusters", {"cluster_id": "nope", "into_id": cid})
    assert gone["code"] == "no_cluster"
    assert (await phone.refused("merge_clusters", {"cluster_id": cid, "into_id": cid}))[
        "code"] == "not_allowed"
    bad = await fac.refused("merge_clusters", {"cluster_id": cid})
    assert bad["code"] == "bad_args"
    assert await store.stored_seq(w["id"]) == seq
    room = await store.load(w["id"])
    assert room is not None and cid in room["clusters"] and room["notes"][n1]["cluster_id"] == cid
    dutch = await fac_nl.refused("merge_clusters", {"cluster_id": cid, "into_id": cid})
    assert dutch == {"code": "merge_same", "message": message("merge_same", "nl")}
    assert "zichzelf" in dutch["message"]
    assert await store.stored_seq(w["id"]) == seq
    await close_all(fac, fac_nl, phone)


async def signed_up_workshop(server: ServerProcess) -> tuple[
        dict[str, Any], Client, Client, list[Client], dict[str, str]]:
    """A workshop in the results phase with a cluster and a loose note."""
    w = await create_workshop(server.url, settings={"anonymous": True})
    fac = Client(server, name="fac")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(server, name="wall")
    await wall.staff("projector", w["id"], w["view_key"])
    phones = [Client(server, name=n) for n in ("anna", "bram", "cor")]
    for c in phones:
        await c.join(w["code"])
        await c.ok("set_profile", {"name": c.name.capitalize()})
    n1, n2 = await note(phones[0], "Bomen"), await note(phones[1], "Bankjes")
    await fac.ok("set_phase", {"phase": "cluster"})
    cid = (await fac.ok("cluster", {"note_ids": [n1], "cluster_id": None, "title": "Groen"}))[
        "result"]["cluster_id"]
    early = await phones[0].refused("sign_up", {"item_id": cid, "on": True, "contact": None,
                                                "consent": False})
    assert early["code"] == "wrong_phase"
    await fac.ok("set_phase", {"phase": "results"})
    return w, fac, wall, phones, {"cluster": cid, "note": n2}


async def test_sign_ups_count_for_everyone_and_name_only_for_the_facilitator(
    server: ServerProcess, store: Store
) -> None:
    w, fac, wall, phones, items = await signed_up_workshop(server)
    anna, bram, cor = phones
    await anna.ok("sign_up", {"item_id": items["cluster"], "on": True, "contact": CONTACT,
                              "consent": True})
    await bram.ok("sign_up", {"item_id": items["cluster"], "on": True, "contact": None,
                              "consent": False})
    last = await cor.ok("sign_up", {"item_id": items["note"], "on": True, "contact": None,
                                    "consent": False})
    screens = [fac, wall, *phones]
    await asyncio.gather(*(c.wait_seq(last["seq"]) for c in screens))
    counts = {items["cluster"]: 2, items["note"]: 1}
    for c in screens:
        assert c.state["votes"]["sign_ups"] == counts, c.name  # type: ignore[index]
    for c in (wall, *phones):
        assert "sign_up_list" not in c.state, c.name  # type: ignore[operator]
    for c in (wall, bram, cor):   # (anna sees her own contact in her own offers)
        assert CONTACT not in orjson.dumps(c.state).decode(), c.name
    # Nothing on the wall or on another phone says who (the workshop is anonymous).
    assert "Anna" not in orjson.dumps(wall.state).decode()
    assert "Anna" not in orjson.dumps(bram.state).decode()
    assert anna.state["my_sign_ups"] == {items["cluster"]: {"contact": CONTACT}}  # type: ignore[index]
    assert bram.state["my_sign_ups"] == {items["cluster"]: {"contact": None}}  # type: ignore[index]
    rows = [(r["item_id"], r["name"], r["contact"]) for r in fac.state["sign_up_list"]]  # type: ignore[index]
    assert rows == [(items["cluster"], "Anna", CONTACT), (items["cluster"], "Bram", None),
                    (items["note"], "Cor", None)]
    # A name change follows in the facilitator's list; a removal takes the offer along.
    renamed = await bram.ok("set_profile", {"name": "Bram B."})
    await fac.wait_seq(renamed["seq"])
    assert [r["name"] for r in fac.state["sign_up_list"]] == ["Anna", "Bram B.", "Cor"]  # type: ignore[index]
    removed = await fac.ok("remove_participant", {"participant_id": cor.pid})
    await asyncio.gather(*(c.wait_seq(removed["seq"]) for c in (fac, wall, anna, bram)))
    assert wall.state["votes"]["sign_ups"] == {items["cluster"]: 2}  # type: ignore[index]
    await fresh_equal(server, [fac, wall, anna, bram])

    # The exports and the report: names, contacts only with consent, no participant ids.
    auth = {"authorization": f"Bearer {w['facilitator_key']}"}
    data = orjson.loads((await http("GET", f"{server.url}/api/workshops/{w['id']}/export.json",
                                    headers=auth)).body)
    assert data["sign_up_list"] == [
        {"item_id": items["cluster"], "item": "Groen", "name": "Anna", "contact": CONTACT},
        {"item_id": items["cluster"], "item": "Groen", "name": "Bram B.", "contact": None}]
    csv = (await http("GET", f"{server.url}/api/workshops/{w['id']}/export.csv",
                      headers=auth)).text
    assert f"{items['cluster']},Groen,Anna,{CONTACT}" in csv
    md = (await http("GET", f"{server.url}/api/workshops/{w['id']}/export.md",
                     headers=auth)).text
    assert "## Wie doet mee" in md and "Groen (2)" in md and "anna\\.meedoen" in md
    report = (await http("GET", f"{server.url}/f/{w['id']}/report", headers=auth)).text
    assert "Wie doet mee" in report and CONTACT in report
    for body in (orjson.dumps(data).decode(), csv, md, report):
        assert anna.pid not in body and bram.pid not in body
    await close_all(fac, wall, anna, bram)


async def test_a_contact_is_kept_only_with_consent(server: ServerProcess, store: Store) -> None:
    w, fac, wall, phones, items = await signed_up_workshop(server)
    anna = phones[0]
    ack = await anna.ok("sign_up", {"item_id": items["cluster"], "on": True,
                                    "contact": NO_CONSENT, "consent": False})
    await fac.wait_seq(ack["seq"])
    assert fac.state["sign_up_list"][0]["contact"] is None  # type: ignore[index]
    assert NO_CONSENT.encode() not in await everything_stored(store, w["id"])
    # Bad input: a missing item, a contact over 200, a wrong shape: refused, nothing kept.
    seq = await store.stored_seq(w["id"])
    assert (await anna.refused("sign_up", {"item_id": "nope", "on": True, "contact": None,
                                           "consent": False}))["code"] == "no_item"
    long = await anna.refused("sign_up", {"item_id": items["note"], "on": True,
                                          "contact": "x" * 201, "consent": True})
    assert long["code"] == "contact_too_long" and "200" in long["message"]
    assert (await anna.refused("sign_up", {"item_id": items["note"], "on": "yes"}))[
        "code"] == "bad_args"
    assert (await fac.refused("sign_up", {"item_id": items["note"], "on": True,
                                          "contact": None, "consent": False}))[
        "code"] == "not_allowed"
    assert await store.stored_seq(w["id"]) == seq
    await close_all(fac, wall, *phones)


async def test_withdrawn_means_gone_from_every_key(server: ServerProcess, store: Store) -> None:
    w, fac, wall, phones, items = await signed_up_workshop(server)
    anna, bram = phones[0], phones[1]
    await anna.ok("sign_up", {"item_id": items["cluster"], "on": True, "contact": CONTACT,
                              "consent": True})
    await bram.ok("sign_up", {"item_id": items["note"], "on": True, "contact": "bram@x.nl",
                              "consent": True})
    assert CONTACT.encode() in await everything_stored(store, w["id"])
    # Offering again with another contact forgets the first one.
    await bram.ok("sign_up", {"item_id": items["note"], "on": True, "contact": "bram@y.nl",
                              "consent": True})
    # After the session too (an extension: closed takes sign_up, from the receipt page).
    await fac.ok("set_phase", {"phase": "closed"})
    off = await anna.ok("sign_up", {"item_id": items["cluster"], "on": False, "contact": None,
                                    "consent": False})
    screens = [fac, wall, anna, bram]
    await asyncio.gather(*(c.wait_seq(off["seq"]) for c in screens))
    stored = await everything_stored(store, w["id"])
    assert CONTACT.encode() not in stored and b"bram@x.nl" not in stored
    assert b"bram@y.nl" in stored
    assert fac.state["votes"]["sign_ups"] == {items["note"]: 1}  # type: ignore[index]
    assert [r["name"] for r in fac.state["sign_up_list"]] == ["Bram"]  # type: ignore[index]
    assert anna.state["my_sign_ups"] == {}  # type: ignore[index]
    again = await anna.ok("sign_up", {"item_id": items["cluster"], "on": False,
                                      "contact": None, "consent": False})
    assert again["seq"] is None   # nothing to take back: no change
    await fresh_equal(server, screens)
    # Gone from the socket a late phone catches up with, too (a replay from the start).
    late = Client(server, name="late")
    await late.staff("facilitator", w["id"], w["facilitator_key"], since=0)
    assert CONTACT not in orjson.dumps(late.frames).decode()
    await close_all(late, fac, wall, *phones)


async def test_erase_leaves_no_sign_up_and_the_log_no_contact(
    server: ServerProcess, store: Store
) -> None:
    w, fac, wall, phones, items = await signed_up_workshop(server)
    await phones[0].ok("sign_up", {"item_id": items["cluster"], "on": True,
                                   "contact": CONTACT, "consent": True})
    signups = keys.workshop_key(w["id"], "signups")
    assert await store.redis.exists(signups)
    assert 0 < int(await store.redis.pttl(signups))   # it expires with the workshop
    erased = await http("DELETE", f"{server.url}/api/workshops/{w['id']}",
                        headers={"authorization": f"Bearer {w['facilitator_key']}"})
    assert erased.status == 204
    assert [k async for k in store.redis.scan_iter(match=f"ws:{{{w['id']}}}:*")] == []
    assert CONTACT not in server.log_text()
    await close_all(fac, wall, *phones)
