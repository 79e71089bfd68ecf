"""Promise: no input a client can send crashes the server (docs/security.md, Input).

Unit level: `parse_frame`, `parse_hello` and `clean_args` (every op in rules.OPS), fed
random JSON values by Hypothesis, either return a clean value or raise DomainError with
a code that the error catalogue knows; what they return can always be stored (orjson).

Live: random and hostile frames (random bytes, invalid UTF-8, deep nesting, huge numbers,
NaN/Infinity literals, bidi and zero-width characters, random ops and arguments) sent to
the real server over real sockets. Each frame gets a clear answer (error, nack, ack or
pong) or a clean close; no traceback reaches the server's log; another connected client
keeps being served.

Optional: a bounded coverage-guided run with atheris, when it is installed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import os
import subprocess
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server import protocol
from server.args import clean_args, clean_workshop
from server.errors import DomainError
from server.ratelimit import TokenBucket
from server.rules import DEFAULT_SETTINGS, OPS, PHASES
from tests.support import PYTHON, ROOT, Client, ServerProcess, create_workshop, http

CATALOGUE: dict[str, str] = json.loads(
    (ROOT / "server" / "locales" / "errors.en.json").read_text("utf-8"))

# Characters that trouble renderers, terminals, spreadsheets and parsers.
NASTY = (
    "\u202a\u202b\u202c\u202d\u202e"    # bidi embeddings and overrides
    "\u2066\u2067\u2068\u2069"          # bidi isolates
    "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"  # zero-width characters and marks
    "\u2028\u2029\x85"                  # line and paragraph separators
    "\x00\x07\x1b\x7f\t\n\r"            # controls
    "\u0301\u0336"                      # combining marks
    "=+-@<>&\"'`\\{}%$"                 # formula, markup and template characters
    "\U0001f600\u00e9\u0627\u05d0"      # astral, accented, Arabic, Hebrew
)
FIELDS = sorted({
    "type", "op_id", "op", "args", "t", "role", "code", "token", "since", "lang",
    "workshop", "key", "prompt_id", "text", "note_id", "name", "perspective", "item_id",
    "delta", "phase", "action", "seconds", "hidden", "note_ids", "cluster_id", "title",
    "locked", "participant_id", "into_id", "on", "contact", "consent", *DEFAULT_SETTINGS,
})

# Any code point (lone surrogates too: Python strings may hold them), and the nasty ones.
nasty_text = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(NASTY)), max_size=40)
# Mostly letters with some nasty characters: text that passes the first checks.
wordy_text = st.text(alphabet=st.one_of(st.sampled_from("abc xyz"), st.sampled_from(NASTY)),
                     min_size=1, max_size=30)
# What a socket can carry: UTF-8, so no lone surrogates.
wire_text = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(NASTY)),
    max_size=40)
# Values that look right to a validator (the right type and range), to get deeper.
plausible = st.one_of(
    st.sampled_from(["q1", "q2", "n1", "c1", "nl", "en", "start", "pause", "resume",
                     "reset", "Bewoner", "other", "123456", *PHASES, *OPS]),
    st.integers(min_value=-3, max_value=1001),
    st.sampled_from([1.0, -1.0, 0.5, 1e308, -0.0]),
)
json_scalar = st.one_of(
    st.none(), st.booleans(), plausible, nasty_text,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_values = st.recursive(
    json_scalar,
    lambda kids: st.one_of(
        st.lists(kids, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), nasty_text), kids, max_size=6),
    ),
    max_leaves=12,
)
# Parsed JSON as orjson gives it: finite floats only, ints within 64 bits.
wire_scalar = st.one_of(
    st.none(), st.booleans(), plausible, wire_text,
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
)
wire_values = st.recursive(
    wire_scalar,
    lambda kids: st.one_of(
        st.lists(kids, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(FIELDS), wire_text), kids, max_size=6),
    ),
    max_leaves=12,
)
args_for_ops = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
# Each op's own fields, with values that are often of the right kind: to get past the
# first check and into the text, id and settings cleaning.
OP_FIELDS: dict[str, tuple[str, ...]] = {
    "add_note": ("prompt_id", "text", "activity_id"), "edit_note": ("note_id", "text"),
    "delete_note": ("note_id",), "moderate_note": ("note_id", "hidden"),
    "set_profile": ("name", "perspective"), "vote": ("item_id", "delta"),
    "set_phase": ("phase",), "timer": ("action", "seconds"),
    "cluster": ("note_ids", "cluster_id", "title"), "uncluster": ("note_ids",),
    "rename_cluster": ("cluster_id", "title"), "delete_cluster": ("cluster_id",),
    "update_settings": tuple(DEFAULT_SETTINGS), "set_lock": ("locked",),
    "remove_participant": ("participant_id",),
    "hide_participant_notes": ("participant_id", "hidden"),
    "add_prompt": ("text",), "edit_prompt": ("prompt_id", "text"),
    "set_done": ("done",), "react": ("note_id", "emoji", "on"),
    "merge_clusters": ("cluster_id", "into_id"),
    "sign_up": ("item_id", "on", "contact", "consent"),
    "add_paper_note": ("prompt_id", "text", "perspective"), "approve_notes": ("note_ids",),
    "set_activity": ("activity_id",), "remove_activity": ("activity_id",),
    "add_activity": ("title", "prompts", "settings", "after"),
    "edit_activity": ("activity_id", "title", "prompts"), "move_activity": ("activity_id", "to"),
    "suggest_themes": ("prompt_id",), "apply_themes": ("themes",), "undo_themes": ("undo_id",),
    "similar_notes": ("prompt_id", "text"),
}
assert set(OP_FIELDS) == set(OPS), "a new op: give it its fields here"
field_values = st.one_of(
    wordy_text, nasty_text, plausible, st.booleans(), st.none(),
    st.lists(st.one_of(wordy_text, plausible), min_size=1, max_size=4), json_values,
)


TEXT_FIELDS = ("text", "title", "name")
# Text fields get text with nasty characters most of the time: it must come out clean.
text_values = st.one_of(wordy_text, wordy_text, wordy_text, field_values)


def shaped_args(op: str) -> st.SearchStrategy[dict[str, Any]]:
    fields = OP_FIELDS[op]
    full = {f: text_values if f in TEXT_FIELDS else st.one_of(plausible, wordy_text,
                                                               field_values)
            for f in fields}
    return st.one_of(
        st.fixed_dictionaries(full),
        st.fixed_dictionaries(full),
        st.fixed_dictionaries({}, optional={f: field_values for f in (*fields, "extra")}),
    )
SETTINGS_VARIANTS = [
    dict(DEFAULT_SETTINGS),
    {**DEFAULT_SETTINGS, "perspectives": ["Bewoner", "Ambtenaar"], "max_note_length": 1000},
    {**DEFAULT_SETTINGS, "votes_per_participant": 1, "max_votes_per_item": 1},
]


def known(err: DomainError) -> None:
    """A refusal the user can read: a catalogued code and a sentence in both languages."""
    assert err.code in CATALOGUE, err.code
    for lang in ("nl", "en"):
        body = err.body(lang)
        assert isinstance(body["message"], str) and body["message"].strip(), body


def deep(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


# ------------------------------------------------------------------ unit level
@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    wire_values.map(lambda v: orjson.dumps(v).decode()),
    st.dictionaries(st.sampled_from(FIELDS), wire_values, max_size=6).map(orjson.dumps),
    st.integers(min_value=1, max_value=20_000).map(lambda n: deep(n)),
    st.integers(min_value=1, max_value=3000).map(lambda n: '{"type":"op","a":' + deep(n) + "}"),
    st.sampled_from(["NaN", "Infinity", "-Infinity", '{"type":NaN}', '{"type":"op","x":1e999}',
                     "\ufeff{}", '{"type":"ping"}' + " " * 20_000, "\ud800",
                     '{"type":"\\ud800"}']),
))
def test_parse_frame_returns_a_frame_or_a_known_error(raw: str | bytes) -> None:
    try:
        frame = protocol.parse_frame(raw)
    except DomainError as err:
        assert err.code in ("malformed", "frame_too_large")
        known(err)
        return
    assert isinstance(frame, dict) and isinstance(frame["type"], str)
    assert len(raw) <= protocol.MAX_FRAME


hello_frames = st.fixed_dictionaries(
    {"type": st.sampled_from(["hello", "op", "Hello"])},
    optional={
        "role": st.one_of(st.sampled_from(["participant", "facilitator", "projector"]),
                          json_values),
        "code": st.one_of(st.from_regex(r"\A[0-9]{6}\Z"), json_values),
        "token": json_values, "since": json_values, "lang": json_values,
        "workshop": st.one_of(st.text(max_size=70), json_values),
        "key": st.one_of(st.text(max_size=210), json_values),
    },
)


@settings(max_examples=150, deadline=None)
@given(hello_frames)
def test_parse_hello_returns_a_hello_or_a_known_error(data: dict[str, Any]) -> None:
    try:
        hello = protocol.parse_hello(data)
    except DomainError as err:
        known(err)
        return
    assert hello.role in ("participant", "facilitator", "projector")
    assert hello.lang in ("", "nl", "en")
    assert hello.since is None or (isinstance(hello.since, int) and hello.since >= 0)
    if hello.role == "participant":
        assert hello.code is not None and 6 <= len(hello.code) <= 10 and hello.code.isdigit()
        assert hello.token is None or (isinstance(hello.token, str) and len(hello.token) <= 200)
    else:
        assert isinstance(hello.workshop, str) and 0 < len(hello.workshop) <= 64
        assert isinstance(hello.key, str) and 0 < len(hello.key) <= 200


@pytest.mark.parametrize("op", sorted(OPS))
@settings(max_examples=60, deadline=None)
@given(data=st.data(), which=st.sampled_from(range(3)))
def test_clean_args_returns_storable_args_or_a_known_error(
    op: str, data: st.DataObject, which: int
) -> None:
    args = data.draw(st.one_of(shaped_args(op), shaped_args(op), shaped_args(op),
                               args_for_ops, json_values))
    current = SETTINGS_VARIANTS[which]
    try:
        clean = clean_args(op, args, current)
    except DomainError as err:
        known(err)
        return
    assert isinstance(clean, dict)
    stored = orjson.loads(orjson.dumps(clean))   # what the Lua script gets, unchanged
    assert stored == clean
    for value in _leaves(clean):
        if isinstance(value, float):
            assert math.isfinite(value)
    # Text that people read (ids are opaque and only looked up): no controls, no bidi
    # overrides or isolates, and a note has something visible in it.
    for field in ("text", "title", "name", "perspective", "perspectives"):
        for value in _leaves(clean.get(field)):
            if isinstance(value, str):
                assert not any(ch in value for ch in "\u202a\u202b\u202c\u202d\u202e"
                               "\u2066\u2067\u2068\u2069\x00\x1b\x7f"), (field, value)
    if "text" in clean:
        assert clean["text"].strip()


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
SPOOF = "ab\u202ec" + BIDI + "d"            # kept as "abcd"
INVISIBLE = "\u200b \u2066\u2069\ufeff\u200d\u200e\x00"   # nothing to see: empty


@pytest.mark.parametrize(("op", "field", "base"), [
    ("add_note", "text", {"prompt_id": "q1"}),
    ("edit_note", "text", {"note_id": "n1"}),
    ("set_profile", "name", {}),
    ("rename_cluster", "title", {"cluster_id": "c1"}),
    ("cluster", "title", {"note_ids": ["n1"], "cluster_id": None}),
])
def test_text_fields_lose_bidi_controls_and_invisible_text(
    op: str, field: str, base: dict[str, Any]
) -> None:
    settings_ = SETTINGS_VARIANTS[0]
    assert clean_args(op, {**base, field: SPOOF}, settings_)[field] == "abcd"
    try:
        empty = clean_args(op, {**base, field: INVISIBLE}, settings_).get(field)
    except DomainError as err:
        assert err.code == "note_empty"
    else:
        assert not empty   # a name or a title without anything visible: none


def test_workshop_text_loses_bidi_controls_and_invisible_text() -> None:
    body = {"title": SPOOF, "prompts": [SPOOF],
            "settings": {"perspectives": [SPOOF, "Bewoner"]}}
    clean = clean_workshop(body)
    assert clean["title"] == "abcd" and clean["prompts"] == ["abcd"]
    assert clean["settings"]["perspectives"] == ["abcd", "Bewoner"]
    for broken, code in [({**body, "title": INVISIBLE}, "title_required"),
                         ({**body, "prompts": [INVISIBLE]}, "prompts_required"),
                         ({**body, "settings": {"perspectives": [INVISIBLE]}}, "bad_setting")]:
        with pytest.raises(DomainError) as err:
            clean_workshop(broken)
        assert err.value.code == code


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [value]


@settings(max_examples=100, deadline=None)
@given(st.one_of(
    json_values,
    st.fixed_dictionaries({"title": st.one_of(nasty_text, json_values),
                           "prompts": st.one_of(st.lists(nasty_text, max_size=7), json_values)},
                          optional={"settings": st.one_of(args_for_ops, json_values)}),
))
def test_clean_workshop_returns_a_workshop_or_a_known_error(body: Any) -> None:
    try:
        clean = clean_workshop(body)
    except DomainError as err:
        known(err)
        return
    assert orjson.loads(orjson.dumps(clean)) == clean
    assert clean["title"] and 1 <= len(clean["prompts"]) <= 6


activity_bodies = st.fixed_dictionaries(
    {"title": st.one_of(wordy_text, nasty_text, json_values),
     "prompts": st.one_of(st.lists(wordy_text, max_size=7), json_values)},
    optional={"settings": st.one_of(args_for_ops, json_values)})


@settings(max_examples=100, deadline=None)
@given(st.one_of(
    st.fixed_dictionaries({"title": st.one_of(wordy_text, json_values),
                           "activities": st.one_of(st.lists(activity_bodies, max_size=14),
                                                   json_values)},
                          optional={"settings": st.one_of(args_for_ops, json_values),
                                    "format": st.one_of(st.just("samenspel-plan"),
                                                        json_values),
                                    "version": st.one_of(st.just(1), json_values)}),
    st.fixed_dictionaries({"template": st.one_of(
        st.sampled_from(["wijkavond", "1-2-4-alle", "../rules", ""]), json_values)},
        optional={"title": st.one_of(wordy_text, json_values)}),
))
def test_a_session_plan_body_is_a_plan_or_a_known_error(body: Any) -> None:
    """POST /api/workshops with a plan (issue 10): 1 to 12 activities, each with 1 to 6
    questions and full settings, or a refusal with words in both languages."""
    try:
        clean = clean_workshop(body)
    except DomainError as err:
        known(err)
        return
    assert orjson.loads(orjson.dumps(clean)) == clean
    assert 1 <= len(clean["activities"]) <= 12
    for activity in clean["activities"]:
        assert activity["title"] and 1 <= len(activity["prompts"]) <= 6
        assert set(activity["settings"]) == set(DEFAULT_SETTINGS)


# ------------------------------------------------------------------------ live
OK_CLOSES = {1007, 1009, 4400, 4429}   # invalid UTF-8, too big, malformed hello, flooding


class Room:
    """A workshop on a server of its own (its log must stay free of tracebacks): a wall
    and a bystander phone that must keep being served, and the sockets that fuzz."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server

    async def setup(self) -> Room:
        w = await create_workshop(self.server.url, prompts=["Wat gaat goed?", "Wat kan beter?"],
                                  settings={"perspectives": ["Bewoner", "Ambtenaar"]})
        self.id, self.code = w["id"], w["code"]
        self.fkey, self.vkey = w["facilitator_key"], w["view_key"]
        self.wall = Client(self.server, name="wall")
        await self.wall.staff("projector", self.id, self.vkey)
        self.bystander = Client(self.server, name="bystander")
        await self.bystander.join(self.code)
        await self.bystander.ok("add_note", {"prompt_id": "q1", "text": "blijft staan"})
        # Several fuzzing sockets: each has its own frame budget (20/s, bursts of 60).
        self.fuzzers: list[Client] = []
        for i in range(4):
            c = Client(self.server, name=f"fuzz-p{i}")
            await c.join(self.code, lang="en" if i % 2 else None)
            self.fuzzers.append(c)
        fac = Client(self.server, name="fuzz-f")
        await fac.staff("facilitator", self.id, self.fkey)
        self.fuzzers.append(fac)
        self.pacers: dict[str, TokenBucket] = {}
        self.turn = 0
        return self

    async def served(self) -> None:
        """The bystanders (a phone and the wall, in turn) still get their pong."""
        self.turn += 1
        other = (self.bystander, self.wall)[self.turn % 2]
        await self.pace(other)
        await other.ping()

    async def pace(self, c: Client, frames: int = 1) -> None:
        """Stay within the server's frame budget per socket (20/s, bursts of 60), so that
        every frame is parsed rather than refused as too fast."""
        pacer = self.pacers.setdefault(c.name, TokenBucket(rate=15, burst=40))
        for _ in range(frames):
            if not pacer.take():
                await asyncio.sleep((1 - pacer.tokens) / pacer.rate + 0.005)
                pacer.take()

    async def reconnect(self, c: Client) -> None:
        if c.hello_fields.get("role") == "participant":
            await c.join(self.code, token=c.token)
        else:
            await c.staff("facilitator", self.id, self.fkey)

    async def close(self) -> None:
        await asyncio.gather(*(c.drop() for c in [self.wall, self.bystander, *self.fuzzers]),
                             return_exceptions=True)


@pytest.fixture(scope="module")
def fuzz_server(redis_url: str, logs_dir: Path) -> Any:
    with ServerProcess(redis_url, logs_dir, name="fuzz") as proc:
        yield proc


@pytest.fixture(scope="module")
async def room(fuzz_server: ServerProcess) -> AsyncIterator[Room]:
    r = await Room(fuzz_server).setup()
    yield r
    await r.close()


def closing_code(c: Client) -> int | None:
    """The code of the close frame the server sent on this socket, if it sent one."""
    if c.ws is None:
        return None
    rcvd = c.ws.protocol.close_rcvd
    return rcvd.code if rcvd is not None else (c.close_code if c._reader_done() else None)


async def answer_to(room: Room, c: Client, raw: str | bytes, *, text: bool | None = None) -> None:
    """Send one frame, then a ping: the frame must have been answered before the pong
    (an error, nack, ack or pong), or the socket closed cleanly (then reconnect)."""
    if c.ws is None or c._reader_done() or closing_code(c) is not None:
        await c.drop()
        await room.reconnect(c)
    assert c.ws is not None
    await room.pace(c, 2)
    start = len(c.frames)
    marker = os.urandom(4).hex()
    try:
        await c.ws.send(raw, text=text)
        await c.ws.send(orjson.dumps({"type": "ping", "t": marker}).decode())
    except Exception:  # noqa: S110 - closed under our feet: judged by its close code below
        pass
    await c.wait_for(
        lambda: closing_code(c) is not None or any(
            f["type"] == "pong" and f.get("t") == marker for f in c.frames[start:]),
        10, allow_closed=True, what=f"an answer to {raw[:80]!r}")
    got = c.frames[start:]
    for f in got:
        if f["type"] in ("error", "nack"):
            assert f["error"]["code"] in CATALOGUE, f
            assert f["error"]["message"].strip(), f
    code = closing_code(c)
    if code is not None:
        assert code in OK_CLOSES, (raw[:200], code, got)
        await c.drop()
        await room.reconnect(c)
        return
    answers = [f for f in got if f["type"] in ("error", "nack", "ack", "pong")]
    # The frame's own answer comes before the marker's pong.
    assert len(answers) >= 2, (raw[:200], got)


def hostile_frames() -> list[tuple[str | bytes, bool | None]]:
    """Hand-made frames for what random generation rarely hits."""
    op = '{"type":"op","op_id":"h1","op":"add_note","args":{"prompt_id":"q1","text":%s}}'
    frames: list[tuple[str | bytes, bool | None]] = [
        (b"\xff\xfe\xfd", None),                       # binary, not UTF-8
        (b"\xc3\x28 invalid", True),                   # invalid UTF-8 in a text frame
        (b'{"type":"ping","t":"\xed\xa0\x80"}', True),  # an encoded surrogate
        (deep(8000), None),
        (deep(4000, "{\"a\":", "}").replace("}", "", 1)[:16_000], None),
        ('{"type":"ping","t":' + deep(300) + "}", None),
        ('{"type":"ping","t":' + deep(1020) + "}", None),
        ('{"type":"op","op_id":"d1","op":' + deep(1000) + ',"args":{}}', None),
        ('{"type":"op","op_id":' + deep(1000) + ',"op":"add_note","args":{}}', None),
        ('{"type":"op","op_id":"d2","op":"cluster","args":{"note_ids":' + deep(1000) + "}}",
         None),
        ('{"type":' + deep(900) + "}", None),
        ('{"type":"op","op_id":"n1","op":"timer","args":{"action":"start","seconds":1e999}}',
         None),
        ('{"type":"op","op_id":"n2","op":"timer","args":{"action":"start","seconds":NaN}}',
         None),
        ('{"type":"op","op_id":"n3","op":"vote","args":{"item_id":"x","delta":Infinity}}',
         None),
        ('{"type":"op","op_id":"n4","op":"vote","args":{"item_id":"x","delta":-Infinity}}',
         None),
        ('{"type":"op","op_id":18446744073709551615,"op":"vote","args":{}}', None),
        ('{"type":"op","op_id":"n5","op":"timer","args":{"action":"start",'
         '"seconds":123456789012345678901234567890}}', None),
        ('{"type":"op","op_id":"n6","op":"vote","args":{"item_id":"x","delta":1.0000000001}}',
         None),
        ('{"type":"ping","t":-1e308}', None),
        ('{"type":"op","op_id":"dup","op":"vote","op":"add_note","args":{}}', None),
        ("\ufeff" + '{"type":"ping"}', None),
        ('{"type":"hello","role":"facilitator","workshop":"x","key":"y"}', None),
        ('{"type":"events","events":[]}', None),
        ("", None),
        ("null", None),
        (op % json.dumps("\u202e\u2066\u200b\u200d\ufeff"), None),
        (op % json.dumps("gewoon \u202eGNISREV\u202c tekst"), None),
        (op % json.dumps("\u200b" * 4000), None),
        (op % json.dumps("=HYPERLINK(\"http://x\")\u2028\u2029"), None),
        ('{"type":"op","op_id":"' + "i" * 65 + '","op":"add_note","args":{}}', None),
        ('{"type":"op","op_id":"big","op":"add_note","args":{"prompt_id":"q1","text":"'
         + "x" * 16_400 + '"}}', None),
    ]
    return frames


async def test_hostile_frames_get_an_answer_and_break_nothing(room: Room) -> None:
    for i, (raw, text) in enumerate(hostile_frames()):
        c = room.fuzzers[i % len(room.fuzzers)]
        await answer_to(room, c, raw, text=text)
        await room.served()
    await room.wall.ping()
    assert "Traceback" not in room.server.log_text(), room.server.log_tail(80)


async def test_invisible_and_bidi_text_is_not_a_note(room: Room) -> None:
    """A note of only invisible characters is empty; bidi overrides and isolates (which
    can reorder the text around a note on the wall) are taken out, the rest is kept."""
    c = room.fuzzers[0]
    if c._reader_done():
        await room.reconnect(c)
    await room.pace(c, 6)
    for text in ["\u200b", "\u202e", "\u2066\u2069", "\ufeff \u200d\u2060", " \u200e\u200f "]:
        err = await c.refused("add_note", {"prompt_id": "q1", "text": text})
        assert err["code"] == "note_empty", (text, err)
    ack = await c.ok("add_note", {"prompt_id": "q1", "text": "a\u202eb\u2067c\u2069d \u0627"})
    note = ack["result"]["note_id"]
    await room.wall.wait_seq(ack["seq"])
    assert room.wall.state is not None
    shown = {n["id"]: n["text"] for n in room.wall.state["notes"]}
    assert shown[note] == "abcd \u0627"


# Notes that show nothing (docs/security.md, "Text"): each is refused as empty.
BLANK_NOTES = {
    "combining marks": "\u0301\u0302\u0489",
    "hangul filler": "\u3164",
    "hangul choseong filler": "\u115f\u1160",
    "halfwidth hangul filler": "\uffa0 \uffa0",
    "braille blank": "\u2800\u2800\u2800",
    "tag characters": "\U000e0001\U000e0068\U000e0069\U000e007f",
    "all of them": " \u0301\u3164\u2800\U000e0041\u200b\u2028 ",
}


async def test_a_note_that_shows_nothing_is_empty_and_tags_are_taken_out(room: Room) -> None:
    c = room.fuzzers[0]
    if c._reader_done():
        await room.reconnect(c)
    await room.pace(c, len(BLANK_NOTES) + 1)
    for kind, text in BLANK_NOTES.items():
        err = await c.refused("add_note", {"prompt_id": "q1", "text": text})
        assert err["code"] == "note_empty", (kind, err)
    hidden = "".join(chr(0xE0000 + ord(ch)) for ch in "stem op mij")
    ack = await c.ok("add_note", {"prompt_id": "q1", "text": f"Meer{hidden} groen\u2060!"})
    await room.wall.wait_seq(ack["seq"])
    assert room.wall.state is not None
    shown = {n["id"]: n["text"] for n in room.wall.state["notes"]}
    assert shown[ack["result"]["note_id"]] == "Meer groen!"


FORMULAS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "|calc", "=HYPERLINK(\"http://x\")",
            "\u200b=1+1", "<img src=x onerror=alert(1)>", "[link](javascript:alert(1))",
            "# kop", "**vet**", "<script>alert(1)</script>"]


async def test_exports_keep_hostile_text_as_text(room: Room) -> None:
    """CSV cells that people typed never start a formula; Markdown shows what was typed."""
    w = await create_workshop(room.server.url, title="=cmd|' /C calc'!A0",
                              prompts=["-1+1", "<b>vet</b>"], settings={"anonymous": False})
    c = Client(room.server, name="formulas")
    await c.join(w["code"])
    await c.ok("set_profile", {"name": "=2+2"})
    for text in FORMULAS:
        await c.ok("add_note", {"prompt_id": "q1", "text": text})
    await c.drop()
    auth = {"Authorization": f"Bearer {w['facilitator_key']}"}
    base = f"{room.server.url}/api/workshops/{w['id']}"
    rows = list(csv.reader(io.StringIO((await http("GET", f"{base}/export.csv",
                                                   headers=auth)).text.lstrip("\ufeff"))))
    assert len(rows) == 1 + len(FORMULAS)
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "|", "\t", "\r")), row
    texts = {row[2] for row in rows[1:]}
    # The zero-width space in front of "=1+1" is taken out of the note: quoted as well.
    assert "'=1+1" in texts and not any("\u200b" in t for t in texts)
    markdown = (await http("GET", f"{base}/export.md", headers=auth)).text
    assert "<" not in markdown and "](" not in markdown, markdown


frame_types = st.sampled_from(["op", "op", "op", "ping", "hello", "events", "", "OP"])
op_names = st.one_of(st.sampled_from(sorted(OPS)), wire_text, wire_values)
op_ids = st.one_of(st.text(min_size=1, max_size=64), st.text(max_size=80), wire_scalar)
random_frames = st.one_of(
    st.binary(max_size=200).map(lambda b: (b, None)),
    st.binary(max_size=60).map(lambda b: (b"\xff" + b, True)),     # never valid UTF-8
    st.text(max_size=200).map(lambda s: (s, None)),
    st.fixed_dictionaries(
        {"type": frame_types},
        optional={"op_id": op_ids, "op": op_names,
                  "args": st.one_of(st.dictionaries(st.sampled_from(FIELDS), wire_values,
                                                    max_size=6), wire_values),
                  "t": wire_values},
    ).map(lambda d: (orjson.dumps(d).decode(), None)),
    wire_values.map(lambda v: (orjson.dumps(v).decode(), None)),
)


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(frame=random_frames, who=st.integers(min_value=0, max_value=4))
async def test_random_frames_get_an_answer_and_break_nothing(
    room: Room, frame: tuple[str | bytes, bool | None], who: int
) -> None:
    raw, text = frame
    await answer_to(room, room.fuzzers[who], raw, text=text)
    await room.served()


async def test_server_log_has_no_traceback_after_fuzzing(room: Room) -> None:
    await room.wall.ping()
    await room.pace(room.bystander)
    await room.bystander.ok("add_note", {"prompt_id": "q2", "text": "nog steeds hier"})
    assert "Traceback" not in room.server.log_text(), room.server.log_tail(80)


# --------------------------------------------------------------------- atheris
ATHERIS_HARNESS = textwrap.dedent('''
    import sys
    import atheris

    with atheris.instrument_imports():
        from server import args, protocol, rules
        from server.errors import DomainError
    import orjson

    OPS = sorted(rules.OPS)
    SETTINGS = {**rules.DEFAULT_SETTINGS, "perspectives": ["Bewoner"]}

    def one(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        pick = fdp.ConsumeIntInRange(0, len(OPS) - 1)
        raw = fdp.ConsumeBytes(fdp.remaining_bytes())
        try:
            frame = protocol.parse_frame(raw)
        except DomainError as err:
            assert err.code in ("malformed", "frame_too_large"), err.code
            return
        try:
            protocol.parse_hello(frame)
        except DomainError:
            pass
        try:
            clean = args.clean_args(OPS[pick], frame.get("args", frame), SETTINGS)
        except DomainError:
            return
        orjson.dumps(clean)

    atheris.Setup([sys.argv[0], "-runs=30000", "-max_len=512", "-seed=1"], one)
    atheris.Fuzz()
''')


def test_atheris_bounded_run(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is not installed (optional)")
    harness = tmp_path / "fuzz_frames.py"
    harness.write_text(ATHERIS_HARNESS)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, seed in enumerate([b'\x00{"type":"op","op":"add_note","args":{"prompt_id":"q1",'
                              b'"text":"x"}}', b'\x03{"type":"hello","role":"participant",'
                              b'"code":"123456"}', b'\x05{"args":{"phase":"vote"}}']):
        (corpus / f"seed{i}").write_bytes(seed)
    done = subprocess.run([PYTHON, str(harness), str(corpus)], cwd=str(ROOT),
                          capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "Done 30000 runs" in done.stderr, done.stderr[-2000:]
