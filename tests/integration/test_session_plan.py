"""A session plan (issue 10; contract 1.1, "A session plan"): one code, several
activities, each with its own questions, phase, notes, clusters, votes and settings.

Over the real server and its store: every role's state is the current activity's and
equals a fresh welcome after each change; switching back and forth keeps notes, phases
and vote budgets apart; a phone that was away resumes in the right activity; two server
processes agree; the plan ops change the plan and nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.store import Store
from tests.support import CREATED, Client, ServerProcess, close_all, http, running
from tests.support.fresh import fresh_equal

PLAN: dict[str, Any] = {
    "title": "Wijkavond plein",
    "settings": {"perspectives": ["Bewoner", "Ondernemer"]},
    "activities": [
        {"title": "Welkom", "prompts": ["Wat is je favoriete plek?"]},
        {"title": "Ideeën", "prompts": ["Wat kan beter?", "Wat wil je zelf doen?"],
         "settings": {"votes_per_participant": 2, "max_votes_per_item": 1}},
        {"title": "Afsluiting", "prompts": ["Wat neem je mee?"],
         "settings": {"timer_seconds": 180}},
    ],
}


async def create_plan(base_url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = await http("POST", f"{base_url}/api/workshops", body or PLAN)
    assert resp.status == 201, resp
    created: dict[str, Any] = resp.json()
    CREATED.append(created["id"])
    return created


async def screens(server: ServerProcess, w: dict[str, Any]) -> dict[str, Client]:
    out = {"fac": Client(server, name="fac"), "wall": Client(server, name="wall"),
           "alice": Client(server, name="alice"), "bob": Client(server, name="bob")}
    await out["fac"].staff("facilitator", w["id"], w["facilitator_key"])
    await out["wall"].staff("projector", w["id"], w["view_key"])
    await out["alice"].join(w["code"])
    await out["bob"].join(w["code"])
    return out


def state(c: Client) -> dict[str, Any]:
    assert c.state is not None
    return c.state


async def move(fac: Client, everyone: list[Client], activity_id: str) -> None:
    answer = await fac.ok("set_activity", {"activity_id": activity_id})
    await asyncio.gather(*(c.wait_seq(answer["seq"]) for c in everyone))


async def test_every_role_sees_the_current_activity_and_switching_keeps_them_apart(
    server: ServerProcess, store: Store
) -> None:
    w = await create_plan(server.url)
    s = await screens(server, w)
    fac, wall, alice, bob = s["fac"], s["wall"], s["alice"], s["bob"]
    everyone = list(s.values())
    for c in everyone:
        workshop = state(c)["workshop"]
        assert workshop["activities"] == [{"id": "a1", "title": "Welkom"},
                                          {"id": "a2", "title": "Ideeën"},
                                          {"id": "a3", "title": "Afsluiting"}], c.name
        assert (workshop["activity_id"], workshop["activity_index"]) == ("a1", 0)
        assert [p["text"] for p in state(c)["prompts"]] == ["Wat is je favoriete plek?"]
    assert [a["phase"] for a in state(fac)["workshop"]["plan"]] == ["collect"] * 3
    assert state(fac)["workshop"]["plan"][1]["prompts"] == ["Wat kan beter?",
                                                           "Wat wil je zelf doen?"]
    assert "plan" not in state(wall)["workshop"] and "plan" not in state(alice)["workshop"]

    await alice.ok("set_profile", {"name": "Alice", "perspective": "Bewoner"})
    welcome_note = (await alice.ok("add_note", {"prompt_id": "q1", "text": "Het park"}))[
        "result"]["note_id"]
    await fac.ok("set_phase", {"phase": "vote"})
    for _ in range(3):
        await alice.ok("vote", {"item_id": welcome_note, "delta": 1})
    await bob.ok("set_done", {"done": True})
    await fac.ok("timer", {"action": "start", "seconds": 300})

    # To the second activity: every screen has its (empty) part, its own settings.
    await move(fac, everyone, "a2")
    for c in everyone:
        st = state(c)
        assert st["workshop"]["activity_id"] == "a2" and st["workshop"]["activity_index"] == 1
        assert st["workshop"]["phase"] == "collect", c.name
        assert st["notes"] == [] and st["clusters"] == [], c.name
        assert [p["id"] for p in st["prompts"]] == ["q1", "q2"]
        assert st["workshop"]["settings"]["votes_per_participant"] == 2
        assert st["workshop"]["settings"]["perspectives"] == ["Bewoner", "Ondernemer"]
        assert st["votes"]["totals"] == {} and st["participants"]["done"] == 0
        assert st["workshop"]["timer"]["running"] is False, c.name   # its own timer
    assert state(alice)["votes"]["mine"] == {} and state(alice)["me"]["name"] == "Alice"
    assert state(alice)["me"]["perspective"] == "Bewoner"  # the profile carried over
    assert state(bob)["me"]["done"] is False
    await fresh_equal(server, everyone)

    # A note written for the first activity, sent after the room moved on (an outbox):
    # refused, not put under this activity's q1.
    late = await bob.refused("add_note", {"prompt_id": "q1", "text": "Te laat",
                                          "activity_id": "a1"})
    assert late["code"] == "wrong_activity"
    assert state(fac)["notes"] == []

    # A note here; the budget here is this activity's own (2, not what is left of 5).
    other = (await alice.ok("add_note", {"prompt_id": "q2", "text": "Een moestuin"}))[
        "result"]["note_id"]
    idea = (await bob.ok("add_note", {"prompt_id": "q1", "text": "Meer bankjes",
                                      "activity_id": "a2"}))["result"]["note_id"]
    await fac.ok("set_phase", {"phase": "vote"})
    await alice.ok("vote", {"item_id": idea, "delta": 1})
    assert (await alice.refused("vote", {"item_id": idea, "delta": 1}))["code"] == "item_full"
    await alice.ok("vote", {"item_id": other, "delta": 1})
    # Two dots spent here (of 2), though she has 2 left of 5 in the first activity.
    assert (await alice.refused("vote", {"item_id": other, "delta": 1}))["code"] == \
        "no_votes_left"

    # A setting of the session (names shown) holds in every activity; a vote budget not.
    await fac.ok("update_settings", {"anonymous": False})

    # Back: the first activity as it was (its note, its phase, its dots), and forth again.
    await move(fac, everyone, "a1")
    for c in everyone:
        st = state(c)
        assert st["workshop"]["settings"]["anonymous"] is False, c.name
        assert st["workshop"]["timer"]["running"] is True, c.name
        assert st["workshop"]["settings"]["votes_per_participant"] == 5, c.name
        assert st["workshop"]["phase"] == "vote", c.name
        assert [n["text"] for n in st["notes"]] == ["Het park"], c.name
    assert state(alice)["votes"]["mine"] == {welcome_note: 3}
    assert state(fac)["votes"]["totals"] == {welcome_note: 3}
    await alice.ok("vote", {"item_id": welcome_note, "delta": -1})  # a dot back, here
    await fresh_equal(server, everyone)
    await move(fac, everyone, "a2")
    assert sorted(n["text"] for n in state(bob)["notes"]) == ["Een moestuin", "Meer bankjes"]
    assert state(alice)["votes"]["mine"] == {idea: 1, other: 1}
    assert [a["phase"] for a in state(fac)["workshop"]["plan"]] == ["vote", "vote", "collect"]
    await fresh_equal(server, everyone)

    # The store holds both, apart.
    room, activities = await store.load_activities(w["id"])
    assert room is not None and [e["id"] for e, _ in activities] == ["a1", "a2", "a3"]
    assert [len(r["notes"]) for _, r in activities] == [1, 2, 0]
    assert activities[0][1]["totals"] == {welcome_note: 2}
    await close_all(*everyone)


async def test_a_phone_that_was_away_resumes_in_the_right_activity(
    server: ServerProcess,
) -> None:
    w = await create_plan(server.url)
    s = await screens(server, w)
    fac, alice, bob = s["fac"], s["alice"], s["bob"]
    await alice.ok("add_note", {"prompt_id": "q1", "text": "Het park"})
    await bob.wait_seq(max(a.get("seq") or 0 for a in alice.answers))
    await bob.drop()   # asleep
    await move(fac, [fac, alice], "a2")
    garden = (await alice.ok("add_note", {"prompt_id": "q2", "text": "Een moestuin"}))[
        "result"]["note_id"]
    await fac.ok("cluster", {"note_ids": [garden], "cluster_id": None, "title": "Groen"})
    await move(fac, [fac, alice], "a3")
    assert state(fac)["clusters"] == []
    await move(fac, [fac, alice], "a2")
    # With `since`: the missed events cross changes of activity, so it gets a fresh state
    # (docs/protocol.md), not a replay of events of other activities.
    crossed = await bob.resume()
    assert crossed["state"] is not None
    await bob.wait_for(lambda: state(bob)["workshop"]["activity_id"] == "a2")
    assert [n["text"] for n in state(bob)["notes"]] == ["Een moestuin"]
    assert [c["title"] for c in state(bob)["clusters"]] == ["Groen"]
    assert [p["id"] for p in state(bob)["prompts"]] == ["q1", "q2"]
    await fresh_equal(server, [bob])

    # Asleep without a change of activity: a plain replay, in the same activity.
    await bob.drop()
    await alice.ok("add_note", {"prompt_id": "q1", "text": "Bankjes"})
    welcome = await bob.resume()
    assert welcome["state"] is None   # replayed, not a fresh state
    await bob.wait_for(lambda: len(state(bob)["notes"]) == 2)
    await fresh_equal(server, [bob])
    await close_all(*s.values())


@pytest.fixture(scope="module")
def pair(redis_url: str, logs_dir: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    with running(ServerProcess(redis_url, logs_dir, name="A"),
                 ServerProcess(redis_url, logs_dir, name="B")) as (a, b):
        yield a, b


async def test_two_processes_agree_on_the_activity(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = pair
    w = await create_plan(a.url)
    fac = Client(b, name="fac@B")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall_a, wall_b = Client(a, name="wall@A"), Client(b, name="wall@B")
    await wall_a.staff("projector", w["id"], w["view_key"])
    await wall_b.staff("projector", w["id"], w["view_key"])
    phone_a, phone_b = Client(a, name="phone@A"), Client(b, name="phone@B")
    await phone_a.join(w["code"])
    await phone_b.join(w["code"])
    everyone = [fac, wall_a, wall_b, phone_a, phone_b]
    await phone_a.ok("add_note", {"prompt_id": "q1", "text": "Op A"})
    await move(fac, everyone, "a2")
    await phone_b.ok("add_note", {"prompt_id": "q2", "text": "Op B"})
    await move(fac, everyone, "a1")
    last = max(x.get("seq") or 0 for c in everyone for x in c.answers)
    await asyncio.gather(*(c.wait_seq(last) for c in everyone))
    assert state(wall_a)["workshop"] == state(wall_b)["workshop"]
    assert state(wall_a)["notes"] == state(wall_b)["notes"]
    assert [n["text"] for n in state(wall_a)["notes"]] == ["Op A"]
    assert state(phone_a)["workshop"]["activity_id"] == state(phone_b)["workshop"][
        "activity_id"] == "a1"
    await fresh_equal(a, [wall_a, phone_a])
    await fresh_equal(b, [fac, wall_b, phone_b])
    await close_all(*everyone)


async def test_plan_ops_edit_the_plan_for_every_screen(server: ServerProcess) -> None:
    w = await create_plan(server.url)
    s = await screens(server, w)
    fac, wall, alice = s["fac"], s["wall"], s["alice"]
    everyone = list(s.values())
    added = await fac.ok("add_activity", {"title": "Pauze", "prompts": ["Koffie?"],
                                          "after": "a1", "settings": {"timer_seconds": 600}})
    new_id = added["result"]["activity_id"]
    await asyncio.gather(*(c.wait_seq(added["seq"]) for c in everyone))
    titles = ["Welkom", "Pauze", "Ideeën", "Afsluiting"]
    for c in everyone:
        assert [x["title"] for x in state(c)["workshop"]["activities"]] == titles, c.name
    assert state(fac)["workshop"]["plan"][1] == {"id": new_id, "title": "Pauze",
                                                 "prompts": ["Koffie?"], "phase": "collect"}
    await fac.ok("edit_activity", {"activity_id": "a3", "title": "Tot slot",
                                   "prompts": ["Wat neem je mee?", "Hoe was het?"]})
    await fac.ok("move_activity", {"activity_id": "a3", "to": 0})
    done = await fac.ok("remove_activity", {"activity_id": new_id})
    await asyncio.gather(*(c.wait_seq(done["seq"]) for c in everyone))
    for c in everyone:
        assert [x["id"] for x in state(c)["workshop"]["activities"]] == ["a3", "a1", "a2"]
        assert state(c)["workshop"]["activity_index"] == 1 and state(c)["workshop"][
            "activity_id"] == "a1"
    assert state(fac)["workshop"]["plan"][0]["prompts"] == ["Wat neem je mee?", "Hoe was het?"]
    await fresh_equal(server, everyone)
    await move(fac, everyone, "a3")
    assert [p["text"] for p in state(wall)["prompts"]] == ["Wat neem je mee?", "Hoe was het?"]
    assert state(fac)["workshop"]["settings"]["timer_seconds"] == 180

    # Refusals change nothing.
    seq = state(fac)["workshop"]
    for op, args, code in [
        ("set_activity", {"activity_id": "a99"}, "unknown_activity"),
        ("remove_activity", {"activity_id": "a3"}, "activity_current"),
        ("edit_activity", {"activity_id": "a3", "prompts": ["x"]}, "activity_current"),
        ("add_activity", {"title": "Leeg", "prompts": []}, "no_prompts"),
        ("add_activity", {"title": "Na", "prompts": ["x"], "after": "a99"}, "unknown_activity"),
        ("move_activity", {"activity_id": "a1", "to": 5}, "bad_args"),
    ]:
        assert (await fac.refused(op, args))["code"] == code, op
    assert (await alice.refused("set_activity", {"activity_id": "a1"}))["code"] == "not_allowed"
    await alice.ok("add_note", {"prompt_id": "q1", "text": "Fijn"})
    await move(fac, everyone, "a1")
    assert (await fac.refused("remove_activity", {"activity_id": "a3"}))["code"] == \
        "activity_not_empty"
    assert state(fac)["workshop"]["activities"] == seq["activities"]
    for n in range(9):
        await fac.ok("add_activity", {"title": f"Extra {n}", "prompts": ["?"]})
    assert (await fac.refused("add_activity", {"title": "13", "prompts": ["?"]}))["code"] == \
        "too_many_activities"
    await fac.ok("set_phase", {"phase": "closed"})
    assert (await fac.refused("set_activity", {"activity_id": "a2"}))["code"] == "wrong_phase"
    await close_all(*everyone)
