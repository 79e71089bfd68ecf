"""Questions that change during the session (issue 15; contract 1.1, Facilitation):
`add_prompt` and `edit_prompt`, facilitator only, every phase but closed, at most 6
prompts, each non-empty; one `prompts_changed` event with every prompt (replace).

Every screen follows at once (its state equals a fresh welcome afterwards), the exports
and the report use the current texts, and a refusal changes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from server.store import Store
from tests.support import Client, ServerProcess, close_all, create_workshop, http
from tests.support.fresh import fresh_equal


def prompts_of(c: Client) -> list[dict[str, Any]]:
    assert c.state is not None
    prompts: list[dict[str, Any]] = c.state["prompts"]
    return prompts


async def screens(
    server: ServerProcess, w: dict[str, Any]
) -> tuple[Client, Client, Client, Client]:
    fac = Client(server, name="fac")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    wall = Client(server, name="wall")
    await wall.staff("projector", w["id"], w["view_key"])
    alice, bob = Client(server, name="alice"), Client(server, name="bob")
    await alice.join(w["code"])
    await bob.join(w["code"])
    return fac, wall, alice, bob


async def test_a_question_added_and_reworded_reaches_every_screen_and_the_exports(
    server: ServerProcess, store: Store
) -> None:
    w = await create_workshop(server.url, prompts=["Wat gaat goed?", "Wat kan beter?"],
                              settings={"private_writing": True})
    fac, wall, alice, bob = await screens(server, w)
    everyone = [fac, wall, alice, bob]
    await alice.ok("add_note", {"prompt_id": "q1", "text": "De bankjes"})

    added = await fac.ok("add_prompt", {"text": "  Wat mist er nog?  "})
    assert added["result"] == {"prompt_id": "q3"}
    await asyncio.gather(*(c.wait_seq(added["seq"]) for c in everyone))
    three = [{"id": "q1", "text": "Wat gaat goed?"}, {"id": "q2", "text": "Wat kan beter?"},
             {"id": "q3", "text": "Wat mist er nog?"}]
    for c in everyone:
        assert prompts_of(c) == three, c.name

    # A phone writes under the new question at once.
    await bob.ok("add_note", {"prompt_id": "q3", "text": "Een speeltuin"})
    reworded = await fac.ok("edit_prompt", {"prompt_id": "q1", "text": "Wat is er fijn?"})
    await asyncio.gather(*(c.wait_seq(reworded["seq"]) for c in everyone))
    now = [{"id": "q1", "text": "Wat is er fijn?"}, *three[1:]]
    for c in everyone:
        assert prompts_of(c) == now, c.name
        # Every screen got both changes, in order, each with the whole list.
        changes = [e for e in c.events if e["kind"] == "prompts_changed"]
        assert [e["data"] for e in changes] == [{"prompts": three}, {"prompts": now}], c.name
        assert [e["seq"] for e in changes] == [added["seq"], reworded["seq"]], c.name
        assert c.violations == [], c.name

    # The same text again changes nothing: no event.
    same = await fac.ok("edit_prompt", {"prompt_id": "q1", "text": "Wat is er fijn?"})
    assert same["seq"] is None

    await fresh_equal(server, everyone)
    room = await store.load(w["id"])
    assert room is not None and room["prompts"] == now

    auth = {"authorization": f"Bearer {w['facilitator_key']}"}
    api = f"{server.url}/api/workshops/{w['id']}"
    data = orjson.loads((await http("GET", f"{api}/export.json", headers=auth)).body)
    assert data["prompts"] == now
    csv = (await http("GET", f"{api}/export.csv", headers=auth)).text
    assert "Wat is er fijn?" in csv and "Wat mist er nog?" in csv and "Wat gaat goed?" not in csv
    md = (await http("GET", f"{api}/export.md", headers=auth)).text
    assert "Wat mist er nog?" in md and "Wat gaat goed?" not in md
    report = (await http("GET", f"{server.url}/f/{w['id']}/report", headers=auth)).text
    assert "Wat is er fijn?" in report and "Wat mist er nog?" in report
    await close_all(*everyone)


async def test_only_the_facilitator_in_every_phase_but_closed(
    server: ServerProcess, store: Store
) -> None:
    w = await create_workshop(server.url, prompts=["Eén"])
    fac, wall, alice, bob = await screens(server, w)
    for c in (alice, wall):
        for op, args in (("add_prompt", {"text": "Van mij"}),
                         ("edit_prompt", {"prompt_id": "q1", "text": "Van mij"})):
            assert (await c.refused(op, args))["code"] == "not_allowed", (c.name, op)

    for i, phase in enumerate(("collect", "cluster", "vote", "results")):
        await fac.ok("set_phase", {"phase": phase})
        ack = await fac.ok("add_prompt", {"text": f"In {phase}"})
        assert ack["result"] == {"prompt_id": f"q{i + 2}"}
        await fac.ok("edit_prompt", {"prompt_id": "q1", "text": f"Eén, in {phase}"})

    closed = await fac.ok("set_phase", {"phase": "closed"})
    await fac.wait_seq(closed["seq"])
    before = [dict(p) for p in prompts_of(fac)]
    for op, args in (("add_prompt", {"text": "Te laat"}),
                     ("edit_prompt", {"prompt_id": "q1", "text": "Te laat"})):
        error = await fac.refused(op, args)
        assert error["code"] == "wrong_phase", (op, error)
    # Nothing changed: no event stored, the stored questions as before.
    meta = await store.meta(w["id"])
    assert int(meta["seq"]) == closed["seq"]
    assert orjson.loads(meta["prompts"]) == before
    # Back from closed: questions change again.
    await fac.ok("set_phase", {"phase": "results"})
    await fac.ok("edit_prompt", {"prompt_id": "q1", "text": "Weer open"})
    await fresh_equal(server, [fac, wall, alice, bob])
    await close_all(fac, wall, alice, bob)


async def test_bad_questions_are_refused_with_words_and_change_nothing(
    server: ServerProcess, store: Store
) -> None:
    w = await create_workshop(server.url, prompts=["Een", "Twee", "Drie", "Vier", "Vijf"])
    fac = Client(server, name="fac")
    await fac.staff("facilitator", w["id"], w["facilitator_key"])
    fac_en = Client(server, name="fac-en")
    await fac_en.staff("facilitator", w["id"], w["facilitator_key"], lang="en")
    phone = Client(server, name="phone")
    await phone.join(w["code"])
    seq = int((await store.meta(w["id"]))["seq"])   # the phone's join, the last event

    cases: list[tuple[str, dict[str, Any], str, str, str]] = [
        ("edit_prompt", {"prompt_id": "q1", "text": ""}, "prompt_empty", "vraag", "question"),
        ("edit_prompt", {"prompt_id": "q1", "text": " \u200b\u3164 "}, "prompt_empty",
         "vraag", "question"),
        ("add_prompt", {"text": "   "}, "prompt_empty", "vraag", "question"),
        ("edit_prompt", {"prompt_id": "q1", "text": "x" * 201}, "prompt_too_long", "200",
         "200"),
        ("add_prompt", {"text": "x" * 201}, "prompt_too_long", "200", "200"),
        ("edit_prompt", {"prompt_id": "q1", "text": 5}, "bad_args", "text", "text"),
        ("add_prompt", {}, "bad_args", "text", "text"),
        ("edit_prompt", {"text": "Zonder id"}, "bad_args", "prompt_id", "prompt_id"),
        ("edit_prompt", {"prompt_id": "q9", "text": "Bestaat niet"}, "no_prompt", "vraag",
         "question"),
    ]
    for op, args, code, nl_word, en_word in cases:
        nl = await fac.refused(op, args)
        en = await fac_en.refused(op, args)
        assert nl["code"] == en["code"] == code, (op, args, nl, en)
        assert nl_word in nl["message"].lower() and en_word in en["message"].lower(), (nl, en)
        assert nl["message"] != en["message"]

    # The sixth question is taken (200 characters is the most); a seventh is refused.
    sixth = await fac.ok("add_prompt", {"text": "y" * 200})
    assert sixth["result"] == {"prompt_id": "q6"}
    full_nl = await fac.refused("add_prompt", {"text": "Zeven"})
    full_en = await fac_en.refused("add_prompt", {"text": "Seven"})
    assert full_nl["code"] == full_en["code"] == "too_many_prompts"
    assert "6" in full_nl["message"] and "vragen" in full_nl["message"]
    assert "6" in full_en["message"] and "questions" in full_en["message"]
    # Rewording still works with six.
    last = await fac.ok("edit_prompt", {"prompt_id": "q6", "text": "Zes"})

    # Only the two good ops made events: the refusals changed nothing.
    await phone.wait_seq(last["seq"])
    changes = [e for e in phone.events if e["kind"] == "prompts_changed"]
    assert [e["seq"] for e in changes] == [sixth["seq"], last["seq"]] == [seq + 1, seq + 2]
    assert [p["text"] for p in prompts_of(phone)] == ["Een", "Twee", "Drie", "Vier", "Vijf",
                                                      "Zes"]
    await fresh_equal(server, [fac, phone])
    await close_all(fac, fac_en, phone)
