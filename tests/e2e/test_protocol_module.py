"""The front end's frozen lists of frame types, ops, phases, close codes and limits match
the server's, and its connection keeps an op the store could not take."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from server import protocol, rules
from tests.e2e.conftest import LAPTOP, Screens
from tests.e2e.pages import Control

pytestmark = pytest.mark.e2e


def test_js_protocol_matches_server(screens: Screens) -> None:
    page = screens.page("landing", LAPTOP)
    page.goto("/")
    lists = page.evaluate("""async () => {
        const m = await import("/static/js/protocol.js");
        return {client: m.CLIENT_TYPES, server: m.SERVER_TYPES, ops: Object.values(m.OP),
                phases: m.PHASES, close: m.CLOSE, retry: m.RETRY_CODES,
                frozen: [m.MSG, m.CLIENT_TYPES, m.SERVER_TYPES, m.OP, m.EVENT, m.PHASES,
                         m.CLOSE, m.RETRY_CODES].every(Object.isFrozen)};
    }""")
    assert lists["client"] == list(protocol.CLIENT_TYPES)
    assert lists["server"] == list(protocol.SERVER_TYPES)
    assert sorted(lists["ops"]) == sorted(rules.OPS)
    assert lists["phases"] == list(rules.PHASES)
    assert lists["close"] == protocol.CLOSE_CODES
    assert set(lists["retry"]) == {"try_again", "too_fast"}
    assert lists["frozen"]


# A close code written in a call that closes a socket: close(…, 4401 …), refuse(1013, …),
# Refused(protocol.CLOSE_TOO_MANY …), close(code=1008).
_CLOSE_CALL = re.compile(r"\b(?:_?close|refuse|fail|Refused)\((?:[^()]*?,\s*)?(?:code=)?"
                         r"(\d{4}|(?:protocol\.)?CLOSE_[A-Z_]+)")


def test_every_close_code_the_server_sends_is_listed() -> None:
    """Each close code the server's code sends is in protocol.CLOSE_CODES (and so, by the
    test above, in static/js/protocol.js CLOSE, where the screens read what it means)."""
    root = Path(__file__).resolve().parents[2] / "server"
    used: set[int] = set()
    for path in root.rglob("*.py"):
        for found in _CLOSE_CALL.findall(path.read_text(encoding="utf-8")):
            used.add(int(found) if found.isdigit() else getattr(protocol, found.split(".")[-1]))
    used.discard(1000)  # a normal close says nothing
    assert used, "no close calls found: the pattern no longer matches the server's code"
    assert used <= set(protocol.CLOSE_CODES.values()), used - set(protocol.CLOSE_CODES.values())


def test_screens_take_their_limits_from_the_server(screens: Screens) -> None:
    """The limits the screens check and show come from server/rules.py through the page's
    config: static/js/limits.js and the templates' maxlength / max use the same figures."""
    page = screens.page("landing", LAPTOP)
    page.goto("/")
    limits = page.evaluate("""async () => (await import("/static/js/limits.js")).LIMITS""")
    assert limits == {
        "title": rules.MAX_TITLE, "prompt": rules.MAX_PROMPT, "prompts": rules.MAX_PROMPTS,
        "name": rules.MAX_NAME, "perspective": rules.MAX_PERSPECTIVE,
        "perspectives": rules.MAX_PERSPECTIVES, "cluster_title": rules.MAX_CLUSTER_TITLE,
        "contact": rules.MAX_CONTACT,
        "timer_minutes": rules.MAX_TIMER_SECONDS // 60,
        "note_length": rules.DEFAULT_SETTINGS["max_note_length"],
        "activities": rules.MAX_ACTIVITIES,
    }
    assert page.get_attribute("#title", "maxlength") == str(rules.MAX_TITLE)
    assert page.get_attribute("#prompt-1", "maxlength") == str(rules.MAX_PROMPT)


STATE = {
    "workshop": {"id": "w", "code": "123456", "title": "T", "phase": "collect", "locked": False,
                 "timer": {"running": False, "ends_at": None, "remaining_ms": None},
                 "settings": {"votes_per_participant": 5, "max_votes_per_item": 3}},
    "prompts": [{"id": "q1", "text": "Vraag"}],
    "notes": [
        {"id": "n1", "prompt_id": "q1", "text": "mijn", "cluster_id": None, "hidden": False,
         "created_at": 1, "author": {"participant_id": "me", "name": None, "perspective": None}},
        {"id": "n2", "prompt_id": "q1", "text": "ander", "cluster_id": None, "hidden": False,
         "created_at": 2, "author": None},
    ],
    "clusters": [],
    "votes": {"totals": {}, "voters": 0, "mine": {}, "by_perspective": {}, "ranking": [],
              "common_ground": [], "divided": []},
    "participants": {"count": 2, "online": 2},
    "me": {"participant_id": "me", "name": None, "perspective": None},
}


def test_apply_events_follows_the_protocol(screens: Screens) -> None:
    """applyEvents (static/js/state.js) on the event shapes of docs/protocol.md."""
    page = screens.page("landing", LAPTOP)
    page.goto("/")
    run = """async ([state, events]) => {
        const m = await import("/static/js/state.js");
        const before = JSON.stringify(state);
        const after = m.applyEvents(state, events);
        if (JSON.stringify(state) !== before) throw new Error("applyEvents changed its input");
        return after;
    }"""
    note3 = {"id": "n3", "prompt_id": "q1", "text": "nieuw", "cluster_id": None,
             "hidden": False, "created_at": 3, "author": None}
    s = page.evaluate(run, [STATE, [
        {"seq": 1, "kind": "note_added", "data": {"note_id": "n3", "hidden": False, "note": note3}},
        {"seq": 2, "kind": "note_moderated", "data": {"note_id": "n2", "hidden": True}},
        {"seq": 3, "kind": "cluster_changed", "data": {
            "cluster": {"id": "c1", "title": "", "order": 1}, "assign": {"n1": "c1", "n3": "c1"},
            "removed_items": []}},
        {"seq": 4, "kind": "phase_changed", "data": {"phase": "vote", "previous": "collect",
                                                      "votes": STATE["votes"]}},
        {"seq": 5, "kind": "votes_changed", "data": {"item_id": "c1", "delta": 1,
                                                      "mine": {"c1": 1}, "voters": 1}},
        {"seq": 6, "kind": "votes_changed", "data": {
            "totals": {}, "voters": 2, "by_perspective": {}, "ranking": [],
            "common_ground": [], "divided": []}},
        {"seq": 7, "kind": "timer_changed", "data": {"timer": {
            "running": True, "ends_at": 99, "remaining_ms": 60000}}},
        {"seq": 8, "kind": "workshop_changed", "data": {"locked": True}},
        {"seq": 9, "kind": "some_future_kind", "data": {}},
    ]])
    assert [n["id"] for n in s["notes"]] == ["n1", "n3"]
    assert {n["id"]: n["cluster_id"] for n in s["notes"]} == {"n1": "c1", "n3": "c1"}
    assert s["clusters"] == [{"id": "c1", "title": "", "order": 1}]
    assert s["workshop"]["phase"] == "vote" and s["workshop"]["locked"] is True
    assert s["votes"]["mine"] == {"c1": 1} and s["votes"]["voters"] == 2
    assert s["workshop"]["timer"]["remaining_ms"] == 60000

    # Dots given back, a dissolved cluster, replaced notes and a profile.
    s = page.evaluate(run, [s, [
        {"seq": 10, "kind": "cluster_deleted", "data": {
            "cluster_id": "c1", "assign": {"n1": None, "n3": None}, "removed_items": ["c1"]}},
        {"seq": 11, "kind": "settings_changed", "data": {
            "settings": {**STATE["workshop"]["settings"], "anonymous": False},
            "changed": ["anonymous"], "votes": STATE["votes"],
            "notes": [{**note3, "author": {"participant_id": "p2", "name": "Ada",
                                           "perspective": None}}]}},
        {"seq": 12, "kind": "participant_changed", "data": {
            "participant": {"participant_id": "me", "name": "Sam", "perspective": None,
                            "joined_at": 0}, "count": 3}},
    ]])
    assert s["clusters"] == [] and s["votes"]["mine"] == {}
    assert [(n["id"], n["cluster_id"]) for n in s["notes"]] == [("n1", None), ("n3", None)]
    assert s["notes"][1]["author"]["name"] == "Ada"
    assert s["notes"][0]["author"]["name"] == "Sam" and s["me"]["name"] == "Sam"
    assert s["participants"]["count"] == 3

    # Hiding a note with dots gives them back (`removed_items`: out of `mine` too) and
    # changes the results: `votes` comes along and replaces them.
    votes = {"totals": {"n3": 2}, "voters": 1, "by_perspective": {}, "ranking": ["n3"],
             "common_ground": ["n3"], "divided": []}
    s = page.evaluate(run, [s, [
        {"seq": 13, "kind": "votes_changed", "data": {"item_id": "n1", "delta": 1,
                                                       "mine": {"n1": 2, "n3": 1}, "voters": 1}},
        {"seq": 14, "kind": "note_moderated", "data": {"note_id": "n1", "hidden": True,
                                                        "removed_items": ["n1"],
                                                        "votes": votes}},
    ]])
    assert [n["id"] for n in s["notes"]] == ["n3"]
    assert s["votes"]["ranking"] == ["n3"] and s["votes"]["totals"] == {"n3": 2}
    assert s["votes"]["mine"] == {"n3": 1}


def test_try_again_keeps_the_op_and_sends_it_again(screens: Screens) -> None:
    """A `try_again` nack (the store is briefly unreachable) keeps the op in the outbox, also
    in storage, says so ("delay"), and sends the same op again; any other nack drops it."""
    page = screens.page("landing", LAPTOP)
    page.goto("/")
    out = page.evaluate("""async (state) => {
        const m = await import("/static/js/connection.js");
        const {RETRY_CODES} = await import("/static/js/protocol.js");
        const sent = [];
        class FakeSocket {
            static OPEN = 1;
            constructor() {
                this.readyState = 1;
                FakeSocket.last = this;
                setTimeout(() => this.onopen && this.onopen(), 0);
            }
            send(data) { sent.push(JSON.parse(data)); }
            close() { this.readyState = 3; }
        }
        const real = window.WebSocket;
        window.WebSocket = FakeSocket;
        const wait = (ms) => new Promise((r) => setTimeout(r, ms));
        const conn = new m.Connection({role: "facilitator", workshop: "w", key: "k",
                                       storageKey: "test:retry", url: "ws://fake/ws"});
        try {
            const delays = [];
            const nacks = [];
            conn.on("delay", (n) => delays.push(n));
            conn.on("nack", (entry, error) => nacks.push(error.code));
            conn.start();
            await wait(30);
            const ws = FakeSocket.last;
            const receive = (msg) => ws.onmessage({data: JSON.stringify(msg)});
            receive({type: "welcome", workshop: "w", you: {role: "facilitator"}, seq: 1, state});
            const a = conn.send("timer", {action: "pause"});
            const b = conn.send("timer", {action: "reset"});
            receive({type: "nack", op_id: a.op_id, error: {code: "try_again", message: "later"}});
            receive({type: "nack", op_id: b.op_id, error: {code: "wrong_phase", message: "no"}});
            const kept = conn.outbox.map((e) => e.op_id);
            const stored = JSON.parse(localStorage.getItem("test:retry")).outbox
                .map((e) => e.op_id);
            const delayed = conn.delayed.size;
            await wait(m.RETRY_MS + 400);
            const sentA = sent.filter((f) => f.type === "op" && f.op_id === a.op_id).length;
            receive({type: "ack", op_id: a.op_id, seq: null, result: {}});
            return {a: a.op_id, kept, stored, delayed, sentA, left: conn.outbox.length,
                    delayedAfter: conn.delayed.size, delays, nacks,
                    retry: [...RETRY_CODES]};
        } finally {
            conn.stop();
            window.WebSocket = real;
            localStorage.removeItem("test:retry");
        }
    }""", STATE)
    assert out["kept"] == [out["a"]] and out["stored"] == [out["a"]]
    assert out["delayed"] == 1
    assert out["sentA"] == 2  # sent, refused for now, sent again: the same op_id
    assert out["left"] == 0 and out["delayedAfter"] == 0
    assert out["delays"] == [1, 0]
    assert out["nacks"] == ["wrong_phase"]
    assert "try_again" in out["retry"]


def test_control_screen_allows_the_servers_longest_timer(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    """The control screen let a timer run at most 240 minutes while the server allows a
    day: it now takes the server's limit (5 hours runs), and says that limit past it."""
    created = make_workshop()
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    most = rules.MAX_TIMER_SECONDS // 60
    assert control.page.get_attribute("#timer-minutes", "max") == str(most)
    control.start_timer(300)
    expect(control.page.locator("#timer")).to_be_visible(timeout=2000)
    expect(control.page.locator("#timer-value")).to_have_text(re.compile(r"^(5:00:00|4:59:5\d)$"))
    expect(control.page.locator("#notice")).to_be_hidden()
    control.start_timer(most + 1)
    expect(control.page.locator("#notice")).to_have_text(
        f"Vul een aantal minuten in van 1 tot {most}.")
