// The session plan as data (static/js/planlist.js): the position line every screen
// shows, a list moved about by the editors' up/down buttons, and the body the landing
// page posts. Run: node --test tests/js/
import assert from "node:assert/strict";
import { test } from "node:test";

import { moved, planBody, position, positionText, promptLines, suggestedMinutes } from "../../static/js/planlist.js";

const t = (key, p = {}) => `${key}:${JSON.stringify(p)}`;
const plan = (activityId) => ({ workshop: { activity_id: activityId,
  activities: [{ id: "a1", title: "Welkom" }, { id: "a2", title: "Ideeën" }, { id: "a3", title: "Kiezen" }] } });

test("the position names the current activity, from 1, and nothing for a plan of one", () => {
  assert.deepEqual(position(plan("a2")), { n: 2, total: 3, title: "Ideeën" });
  assert.equal(positionText(plan("a3"), t), 'plan.position:{"n":3,"total":3,"title":"Kiezen"}');
  assert.equal(position({ workshop: { activity_id: "a1", activities: [{ id: "a1", title: "x" }] } }), null);
  assert.equal(position({ workshop: { title: "before plans" } }), null);
  assert.equal(positionText({ workshop: {} }, t), "");
});

test("moved moves one item and leaves the list it came from alone", () => {
  const list = ["a", "b", "c", "d"];
  assert.deepEqual(moved(list, 0, 1), ["b", "a", "c", "d"]);
  assert.deepEqual(moved(list, 3, 0), ["d", "a", "b", "c"]);
  assert.deepEqual(moved(list, 1, 99), ["a", "c", "d", "b"]);
  assert.deepEqual(list, ["a", "b", "c", "d"]);
});

test("a plan of one untitled activity is a version 1 body; more are activities", () => {
  const settings = { votes_per_participant: 5 };
  assert.deepEqual(planBody({ title: "Park", settings, activities: [{ title: " ", prompts: ["Wat?", " "] }] }, String),
    { title: "Park", prompts: ["Wat?"], settings });
  assert.deepEqual(planBody({ title: "Avond", settings, activities: [
    { title: "", prompts: ["Hoe heet je?"] },
    { title: "Ideeën", prompts: ["Wat mist?"], settings: { timer_seconds: 300 } }] }, (n) => `Onderdeel ${n}`),
  { title: "Avond", settings, activities: [
    { title: "Onderdeel 1", prompts: ["Hoe heet je?"] },
    { title: "Ideeën", prompts: ["Wat mist?"], settings: { timer_seconds: 300 } }] });
});

test("questions one per line, and a suggested timer in whole minutes", () => {
  assert.deepEqual(promptLines(" Een \n\n Twee\n"), ["Een", "Twee"]);
  assert.equal(suggestedMinutes({ timer_seconds: 300 }), 5);
  assert.equal(suggestedMinutes({ timer_seconds: 20 }), 1);
  assert.equal(suggestedMinutes({ timer_seconds: null }), 0);
  assert.equal(suggestedMinutes(undefined), 0);
});
