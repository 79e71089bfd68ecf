// A phone's own notes (static/js/state.js myNotes): a post still in the outbox is shown
// as "pending" until its note is in the state; its note_added may come before its ack,
// and then the note is shown once, not twice. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { myNotes } from "../../static/js/state.js";

const me = { participant_id: "p1" };
const note = (id, text) => ({ id, prompt_id: "q1", text, cluster_id: null, hidden: false,
  created_at: 1, author: { participant_id: "p1" } });
const post = (opId, text, twins) => ({ op_id: opId, op: "add_note", at: 1,
  args: { prompt_id: "q1", text }, ...(twins === undefined ? {} : { twins }) });

test("a post whose note came before its ack is shown once", () => {
  const state = { me, notes: [note("n1", "Meer groen")] };
  const shown = myNotes(state, [post("a1", "Meer groen", 0)]);
  assert.deepEqual(shown.map((n) => [n.id, n.pending]), [["n1", false]]);
});

test("a post not yet in the state is pending", () => {
  const state = { me, notes: [] };
  const shown = myNotes(state, [post("a1", "Meer groen", 0)]);
  assert.deepEqual(shown.map((n) => [n.id, n.pending]), [["pending:a1", true]]);
});

test("the same words posted again: the older note does not hide the new post", () => {
  const state = { me, notes: [note("n1", "Meer groen")] };
  const shown = myNotes(state, [post("a2", "Meer groen", 1)]);
  assert.deepEqual(shown.map((n) => n.id), ["n1", "pending:a2"]);
});

test("two posts of the same words: each hides only when its own note is there", () => {
  const outbox = [post("a1", "Bankjes", 0), post("a2", "Bankjes", 0)];
  const one = myNotes({ me, notes: [note("n1", "Bankjes")] }, outbox);
  assert.deepEqual(one.map((n) => n.id), ["n1", "pending:a2"]);
  const two = myNotes({ me, notes: [note("n1", "Bankjes"), note("n2", "Bankjes")] }, outbox);
  assert.deepEqual(two.map((n) => n.id), ["n1", "n2"]);
});

test("a post kept from before this page (no twins) is shown as before", () => {
  const state = { me, notes: [note("n1", "Meer groen")] };
  const shown = myNotes(state, [post("a1", "Meer groen")]);
  assert.deepEqual(shown.map((n) => n.id), ["n1", "pending:a1"]);
});
