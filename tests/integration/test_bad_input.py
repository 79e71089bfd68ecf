"""Acceptance 6: bad input gets the contract's error or close code, and nothing else.

For every kind of bad input: the answer (error frame, nack or close code) is the one the
contract names, with a message in the client's language; another connected client keeps
being served; and the stored state is exactly what it was.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from server.store import Store
from tests.support import Client, Refused, ServerProcess, close_all, create_workshop, http

LOCALES = Path(__file__).resolve().parents[2] / "server" / "locales"
CATALOGUE = {lang: json.loads((LOCALES / f"errors.{lang}.json").read_text("utf-8"))
             for lang in ("nl", "en")}


def says(error: dict[str, Any], code: str, lang: str, **params: Any) -> None:
    """The error has this code and the catalogue's sentence for it in `lang`."""
    assert error["code"] == code, error
    assert error["message"] == CATALOGUE[lang][code].format(**params), error


async def snapshot(store: Store, wid: str) -> dict[str, Any]:
    room = await store.load(wid)
    assert room is not None
    room.pop("online")
    return room


class Workshop:
    """A workshop with a facilitator, a wall, a bystander phone and a note by it."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    async def setup(self) -> Workshop:
        w = await create_workshop(self.server.url, prompts=["Wat gaat goed?", "Wat kan beter?"])
        self.id, self.code = w["id"], w["code"]
        self.fkey, self.vkey = w["facilitator_key"], w["view_key"]
        self.fac = Client(self.server, name="facilitator")
        await self.fac.staff("facilitator", self.id, self.fkey)
        self.wall = Client(self.server, name="projector")
        await self.wall.staff("projector", self.id, self.vkey)
        self.bystander = Client(self.server, name="bystander")
        await self.bystander.join(self.code)
        self.note = (await self.bystander.ok("add_note", {"prompt_id": "q1", "text": "eerste"}))[
            "result"]["note_id"]
        self.culprit = Client(self.server, name="culprit")
        await self.culprit.join(self.code, lang="en")
        await self.culprit.ok("add_note", {"prompt_id": "q2", "text": "mijn eigen"})
        return self

    async def served(self) -> None:
        """The bystander and the wall are still served."""
        await self.bystander.ping()
        await self.wall.ping()

    async def still_live(self) -> None:
        """A real op still goes through and reaches the wall."""
        ack = await self.bystander.ok("add_note", {"prompt_id": "q1", "text": "nog steeds"})
        await self.wall.wait_seq(ack["seq"])
        await self.fac.wait_seq(ack["seq"])
        assert self.wall.violations == self.fac.violations == self.bystander.violations == []

    async def close(self) -> None:
        await close_all(self.fac, self.wall, self.bystander, self.culprit)


@pytest.fixture
async def ws(server: ServerProcess) -> Any:
    w = await Workshop(server).setup()
    yield w
    await w.close()


# --------------------------------------------------------------- hello refused
def no_such_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


async def test_refused_hellos(ws: Workshop, store: Store) -> None:
    before = await snapshot(store, ws.id)
    unknown = no_such_code()
    while await store.workshop_for_code(unknown):
        unknown = no_such_code()
    cases: list[tuple[Any, int, str, dict[str, Any]]] = [
        # (first frame, close code, error code, message params)
        ('{"type": "hello", "role": ', 4400, "malformed", {}),
        ("[]", 4400, "malformed", {}),
        ({"type": "op", "op_id": "1", "op": "add_note", "args": {}}, 4400, "hello_expected", {}),
        ({"type": "hello", "role": "admin", "lang": "en"}, 4400, "bad_args", {"field": "role"}),
        ({"type": "hello", "role": "participant", "code": "12345", "lang": "en"}, 4400,
         "bad_args", {"field": "code"}),
        ({"type": "hello", "role": "participant", "code": 123456, "lang": "en"}, 4400,
         "bad_args", {"field": "code"}),
        ({"type": "hello", "role": "participant", "code": ws.code, "since": -1, "lang": "en"},
         4400, "bad_args", {"field": "since"}),
        ({"type": "hello", "role": "facilitator", "workshop": ws.id, "lang": "en"}, 4400,
         "bad_args", {"field": "key"}),
        ({"type": "hello", "role": "participant", "code": unknown, "lang": "en"}, 4404,
         "no_code", {}),
        ({"type": "hello", "role": "facilitator", "workshop": "nope" + ws.id[4:],
          "key": ws.fkey, "lang": "en"}, 4404, "no_workshop", {}),
        ({"type": "hello", "role": "facilitator", "workshop": ws.id, "key": ws.vkey,
          "lang": "en"}, 4401, "wrong_key", {}),
        ({"type": "hello", "role": "projector", "workshop": ws.id, "key": ws.fkey[:-1] + "x",
          "lang": "en"}, 4401, "wrong_key", {}),
        ({"type": "hello", "role": "participant", "code": ws.code, "token": "forged-token",
          "lang": "en"}, 4401, "wrong_token", {}),
        # Without lang: Dutch, the default.
        ({"type": "hello", "role": "facilitator", "workshop": ws.id, "key": "fout"}, 4401,
         "wrong_key", {}),
    ]
    for frame, close_code, code, params in cases:
        c = Client(ws.server, name=f"hello-{code}")
        await c.connect()
        await c.send(frame)
        closed = await c.wait_closed(5)
        assert closed == close_code, (frame, closed, c.frames)
        assert [f["type"] for f in c.frames] == ["error"], (frame, c.frames)
        lang = "en" if isinstance(frame, dict) and frame.get("lang") == "en" else "nl"
        says(c.frames[0]["error"], code, lang, **params)
        await ws.served()
    assert await snapshot(store, ws.id) == before
    await ws.still_live()


async def test_origin_must_be_our_own(ws: Workshop) -> None:
    for origin in ("http://evil.example", "null"):
        c = Client(ws.server, name="foreign", origin=origin)
        with pytest.raises(Exception) as info:
            await c.connect()
        assert "403" in str(info.value) or "1008" in str(info.value), info.value
    await ws.served()


# --------------------------------------------------------- bad frames and ops
PARTICIPANT_FORBIDDEN: dict[str, dict[str, Any]] = {
    "set_phase": {"phase": "vote"},
    "timer": {"action": "start", "seconds": 60},
    "moderate_note": {"note_id": "NOTE", "hidden": True},
    "cluster": {"note_ids": ["NOTE"], "cluster_id": None, "title": "x"},
    "uncluster": {"note_ids": ["NOTE"]},
    "rename_cluster": {"cluster_id": "c", "title": "x"},
    "delete_cluster": {"cluster_id": "c"},
    "update_settings": {"votes_per_participant": 1},
    "set_lock": {"locked": True},
}


async def test_bad_frames_and_ops(ws: Workshop, store: Store) -> None:
    before = await snapshot(store, ws.id)
    c = ws.culprit  # speaks English

    async def error_after(raw: Any) -> dict[str, Any]:
        start = len(c.errors)
        await c.send(raw)
        await c.wait_for(lambda: len(c.errors) > start, what="error frame")
        err: dict[str, Any] = c.errors[start]["error"]
        return err

    says(await error_after("{not json"), "malformed", "en")
    says(await error_after('"a string"'), "malformed", "en")
    says(await error_after('{"no": "type"}'), "malformed", "en")
    says(await error_after(b"\x00\x01binary"), "malformed", "en")
    says(await error_after({"type": "shout"}), "unknown_type", "en", type="shout")
    await ws.served()

    nacks: list[tuple[str, Any, str, dict[str, Any]]] = [
        ("drop_tables", {}, "unknown_op", {"op": "drop_tables"}),
        ("add_note", {}, "bad_args", {"field": "prompt_id"}),
        ("add_note", {"prompt_id": "q1"}, "bad_args", {"field": "note"}),
        ("add_note", {"prompt_id": 1, "text": "x"}, "bad_args", {"field": "prompt_id"}),
        ("add_note", {"prompt_id": "q1", "text": ["x"]}, "bad_args", {"field": "note"}),
        ("add_note", "not an object", "bad_args", {"field": "args"}),
        ("add_note", {"prompt_id": "q1", "text": "x" * 10_000}, "note_too_long", {"max": 280}),
        ("add_note", {"prompt_id": "q1", "text": ""}, "note_empty", {}),
        ("add_note", {"prompt_id": "q1", "text": " \n\t "}, "note_empty", {}),
        ("add_note", {"prompt_id": "q9", "text": "waar hoort dit?"}, "no_prompt", {}),
        ("edit_note", {"note_id": ws.note, "text": "overschreven"}, "not_own_note", {}),
        ("delete_note", {"note_id": ws.note}, "not_own_note", {}),
        ("edit_note", {"note_id": "nope", "text": "x"}, "no_note", {}),
        ("vote", {"item_id": ws.note, "delta": 1}, "wrong_phase", {"phase": "vote"}),
        ("vote", {"item_id": ws.note, "delta": 5}, "bad_args", {"field": "delta"}),
        ("set_profile", {"perspective": "Koning"}, "bad_perspective", {}),
        ("set_profile", {"name": "x" * 41}, "name_too_long", {"max": 40}),
    ]
    for op, args, code, params in nacks:
        says(await c.refused(op, args), code, "en", **params)
    for op, args in PARTICIPANT_FORBIDDEN.items():
        args = {k: (ws.note if v == "NOTE" else [ws.note] if v == ["NOTE"] else v)
                for k, v in args.items()}
        says(await c.refused(op, args), "not_allowed", "en")
    # An op frame without an op_id.
    start = len(c.answers)
    await c.send({"type": "op", "op": "add_note", "args": {"prompt_id": "q1", "text": "x"}})
    await c.wait_for(lambda: len(c.answers) > start, what="nack without op_id")
    assert c.answers[start]["type"] == "nack"
    says(c.answers[start]["error"], "bad_args", "en", field="op_id")
    await ws.served()

    # The wall may not change anything at all; its messages are Dutch (the default).
    for op, args in [("add_note", {"prompt_id": "q1", "text": "muur"}),
                     ("set_phase", {"phase": "closed"}),
                     ("moderate_note", {"note_id": ws.note, "hidden": True})]:
        says(await ws.wall.refused(op, args), "not_allowed", "nl")
    # The facilitator gets the stored-state refusals in Dutch.
    says(await ws.fac.refused("rename_cluster", {"cluster_id": "nope", "title": "x"}),
         "no_cluster", "nl")
    says(await ws.fac.refused("update_settings", {"max_votes_per_item": 9}), "bad_setting",
         "nl", field="max_votes_per_item")
    says(await ws.fac.refused("set_phase", {"phase": "pause"}), "bad_args", "nl", field="phase")

    assert c.close_code is None and not c._reader_done()   # the culprit is still connected
    await c.ping()
    await ws.served()
    assert await snapshot(store, ws.id) == before
    # Nothing reached the other screens either.
    assert all(e["seq"] <= before["seq"] for e in ws.wall.events + ws.fac.events)
    await ws.still_live()


@pytest.mark.parametrize("size", [64 * 1024, 16 * 1024 + 1])
async def test_oversized_frame_is_closed_with_1009(ws: Workshop, store: Store,
                                                    size: int) -> None:
    before = await snapshot(store, ws.id)
    big = Client(ws.server, name="big")
    await big.join(ws.code, token=ws.culprit.token)
    text = "x" * size
    payload = '{"type":"op","op_id":"big","op":"add_note","args":{"prompt_id":"q1","text":"'
    await big.send((payload + text)[:size])
    assert await big.wait_closed(5) == 1009
    assert not [a for a in big.answers if a.get("op_id") == "big"]
    await ws.served()
    assert await snapshot(store, ws.id) == before
    await ws.still_live()


async def test_frame_at_the_limit_is_read(ws: Workshop) -> None:
    """16 KiB exactly is allowed: the note inside is refused for its length, not the frame."""
    head = '{"type":"op","op_id":"edge","op":"add_note","args":{"prompt_id":"q1","text":"'
    tail = '"}}'
    frame = head + "y" * (16 * 1024 - len(head) - len(tail)) + tail
    assert len(frame.encode()) == 16 * 1024
    c = ws.culprit
    start = len(c.answers)
    await c.send(frame)
    await c.wait_for(lambda: len(c.answers) > start, what="answer at the limit")
    says(c.answers[start]["error"], "note_too_long", "en", max=280)


# ------------------------------------------------------------------------ HTTP
@pytest.mark.parametrize(("body", "code"), [
    (b"{not json", "malformed"),
    ({"title": "", "prompts": ["p"]}, "title_required"),
    ({"title": "t", "prompts": []}, "prompts_required"),
    ({"title": "t", "prompts": ["p"] * 7}, "prompts_required"),
    ({"title": "t", "prompts": ["p"], "settings": {"votes_per_participant": 0}},
     "bad_setting"),
])
async def test_bad_create(server: ServerProcess, body: Any, code: str) -> None:
    resp = await http("POST", f"{server.url}/api/workshops?lang=en", body)
    assert resp.status == 400, resp
    assert resp.json()["error"]["code"] == code
    assert resp.json()["error"]["message"].startswith(CATALOGUE["en"][code].split("{")[0])


async def test_locked_workshop_takes_no_new_participants(ws: Workshop, store: Store) -> None:
    before = await snapshot(store, ws.id)
    newcomer = Client(ws.server, name="newcomer")
    await newcomer.connect()
    await ws.fac.ok("set_lock", {"locked": True})
    # At once after the ack: the lock holds even before this process's room has it.
    with pytest.raises(Refused) as refused:
        await newcomer.join(ws.code, lang="en")
    assert refused.value.code == 4403
    says(refused.value.error or {}, "locked", "en")
    # Who is in stays in: the same token still works.
    back = await ws.bystander.twin()
    assert back.pid == ws.bystander.pid
    await back.close()
    after = await snapshot(store, ws.id)
    assert after["participants"] == before["participants"]
    assert after["workshop"]["locked"] is True
    await ws.fac.ok("set_lock", {"locked": False})
    await newcomer.join(ws.code)          # at once after the unlock's ack, too
    await newcomer.close()
