"""The front end's frozen lists of frame types, ops and phases match the server's."""

from __future__ import annotations

import pytest

from server import protocol, rules
from tests.e2e.conftest import LAPTOP, Screens

pytestmark = pytest.mark.e2e


def test_js_protocol_matches_server(screens: Screens) -> None:
    page = screens.page("landing", LAPTOP)
    page.goto("/")
    lists = page.evaluate("""async () => {
        const m = await import("/static/js/protocol.js");
        return {client: m.CLIENT_TYPES, server: m.SERVER_TYPES, ops: Object.values(m.OP),
                phases: m.PHASES, frozen: Object.isFrozen(m.OP) && Object.isFrozen(m.MSG)};
    }""")
    assert lists["client"] == list(protocol.CLIENT_TYPES)
    assert lists["server"] == list(protocol.SERVER_TYPES)
    assert sorted(lists["ops"]) == sorted(rules.OPS)
    assert lists["phases"] == list(rules.PHASES)
    assert lists["frozen"]


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
        const m = await import("/static/js/protocol.js");
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
                    retry: [...m.RETRY_CODES]};
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
