// The JS applier (static/js/state.js applyEvents) reproduces a recorded workshop: from
// each socket's welcome, the frames it got up to a checkpoint lead to the fresh welcome
// of the same screen at that checkpoint.
// The fixture: tests/golden/workshop.json (python -m tests.golden.record); the Python
// appliers are held to it by tests/unit/test_golden.py. Run: node --test tests/js/
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { applyEvents, applyPresence } from "../../static/js/state.js";

const golden = JSON.parse(
  readFileSync(new URL("../golden/workshop.json", import.meta.url), "utf8"));

/** A screen's state without what differs between two sockets of it (presence, the
 * list's order, a running timer's remaining_ms): tests/support.py `comparable`. */
function comparable(state) {
  const ws = state.workshop;
  const timer = { ...ws.timer };
  if (timer.running) delete timer.remaining_ms;
  const out = {
    workshop: Object.fromEntries(
      ["id", "code", "title", "phase", "locked", "settings"].map((k) => [k, ws[k]])),
    timer,
    prompts: state.prompts,
    notes: Object.fromEntries(state.notes.map((n) => [n.id, n])),
    clusters: state.clusters,
    votes: state.votes,
    count: state.participants.count,
    done: state.participants.done ?? null,
    me: state.me ?? null,
  };
  if ("list" in state.participants) {
    out.list = [...state.participants.list]
      .sort((a, b) => (a.participant_id < b.participant_id ? -1 : 1));
  }
  // "Ik doe mee": the facilitator's list, a participant's own offers.
  for (const key of ["sign_up_list", "my_sign_ups"]) if (key in state) out[key] = state[key];
  return out;
}

for (const check of golden.checkpoints) {
  for (const [role, sock] of Object.entries(golden.sockets)) {
    test(`applyEvents brings the ${role} to a fresh welcome (${check.label})`, () => {
      // A copy: the applier may keep event objects in the state it returns.
      const frames = structuredClone(sock.frames.slice(0, check.frames[role]));
      let state = structuredClone(sock.welcome);
      for (const frame of frames) {
        if (frame.type === "events") state = applyEvents(state, frame.events);
        else state = applyPresence(state, frame.participants);
      }
      assert.deepStrictEqual(comparable(state), comparable(check.fresh[role]));
    });
  }
}

test("the fixture has every role's frames", () => {
  assert.deepStrictEqual(Object.keys(golden.sockets).sort(),
    ["facilitator", "phone_a", "phone_b", "projector"]);
  for (const sock of Object.values(golden.sockets)) assert.ok(sock.frames.length > 0);
});
