// The control screen (/f/{id}): phases, timer, people, board, settings, results, exports.
import { $, el, replace, setText, announce } from "./dom.js";
import { t, num } from "./i18n.js";
import { LIMITS } from "./limits.js";
import { CLOSE, OP, PHASES } from "./protocol.js";
import { itemTitle, overlay } from "./state.js";
import { groupLabel, groupsOf, hasCommonGround, legend, redraw, resultList, resultRows, OTHER } from "./results.js";
import { bindAdmin } from "./admin.js";
import { Board } from "./board.js";
import { peoplePanel } from "./people.js";
import { drawDoneProgress } from "./reactions.js";
import { promptsPanel } from "./prompts.js";
import { approvalQueue } from "./approvals.js";
import { paperNotes } from "./papernotes.js";
import { newestList } from "./newest.js";
import { planPanel, PLAN_OPS } from "./planpanel.js";
import { watchActivity } from "./activityline.js";
import { suggestPanel } from "./suggest.js";
import { announceNewNotes, bindStatus, Countdown, perspectivesProblem, phaseName, showNotice, splitList, untitled, watchPhase, onFrame, startScreen } from "./ui.js";

const { config, conn } = startScreen("facilitator");
const countdown = new Countdown();
const board = new Board(conn, showNotice);
let onPhase = watchPhase();
/** Acknowledged ops whose event has not come back yet: [{entry, seq}]. */
let settling = [];
let settingsDirty = false;
/** A step back from "closed" is on its way: say the session is open again. */
let reopening = false;

// ----------------------------------------------------------------- rendering
const render = onFrame(() => draw());
const people = peoplePanel(conn, render);
const prompts = promptsPanel(conn);
const approvals = approvalQueue(conn);
const paper = paperNotes(conn);
const drawNewest = newestList(conn);
const plan = planPanel(conn);
// Another activity: what was open for the one before is put away (a question about
// closing, an open edit, acked ops of its board); its phase is said with the activity.
const onActivity = watchActivity(() => {
  onPhase = watchPhase();
  settling = [];
  closeAsked(false);
  plan.activityChanged();
  suggestions.activityChanged();
  $("prompt-rows").replaceChildren();
});
const suggestions = suggestPanel(conn);

function draw() {
  if (!conn.state) return;
  settling = settling.filter((s) => conn.seq === null || s.seq > conn.seq);
  const state = overlay(conn.state, [...settling.map((s) => s.entry), ...conn.outbox]);
  const ws = state.workshop;
  onActivity(conn.state);
  onPhase(ws.phase);
  document.body.dataset.phase = ws.phase;
  setText($("ws-title"), ws.title);
  drawStepper(ws.phase);
  countdown.update(ws.timer);
  drawTimerButtons(ws.timer);
  drawDoneProgress(state);
  people.draw(state);
  prompts.draw(state);
  board.draw(state);
  suggestions.draw(state);
  approvals.draw(conn.state);
  paper.draw(conn.state);
  drawNewest(state);
  plan.draw(conn.state);
  drawResults(state);
  drawSettings(ws.settings);
  $("lock").checked = !!ws.locked;
  $("lock-silent").checked = !!ws.settings.lock_silent;
}

function drawStepper(phase) {
  const list = $("phase-steps");
  const current = PHASES.indexOf(phase);
  if (list.dataset.phase !== phase) {
    list.dataset.phase = phase;
    replace(list, ...PHASES.map((p, i) => el("li", { class: i < current ? "done" : i === current ? "current" : "" },
      el("button", {
        type: "button", class: "step", "aria-current": i === current ? "step" : null,
        onclick: () => setPhase(p),
      }, el("span", { class: "step-n", "aria-hidden": "true", text: String(i + 1) }),
      el("span", { class: "step-name", text: phaseName(p) })))));
  }
  const back = $("phase-back");
  const next = $("phase-next");
  $("closed-hint").hidden = phase !== "closed";
  back.hidden = current <= 0;
  next.hidden = current >= PHASES.length - 1;
  if (current > 0) back.textContent = t("control.phase_back", { phase: phaseName(PHASES[current - 1]) });
  if (current < PHASES.length - 1) next.textContent = t("control.phase_next", { phase: phaseName(PHASES[current + 1]) });
}

function setPhase(phase) {
  if (phase === conn.state?.workshop.phase) return;
  if (phase === "closed") {
    askClose();
    return;
  }
  closeAsked(false);
  reopening = conn.state?.workshop.phase === "closed";
  conn.send(OP.SET_PHASE, { phase });
}

// "Afgesloten" by accident ends the evening for every phone: ask first, in the page,
// saying what happens and that going back opens the session again. Escape or "Nee"
// keeps the phase.
function askClose() {
  const box = $("phase-confirm");
  const yes = el("button", { type: "button", class: "btn btn-danger", id: "close-yes", text: t("control.close_yes") });
  const no = el("button", { type: "button", class: "btn", id: "close-no", text: t("action.no") });
  replace(box, el("p", { class: "confirm-text", role: "alert", text: t("control.close_confirm") }),
    el("div", { class: "row" }, yes, no));
  box.hidden = false;
  yes.focus();
  yes.addEventListener("click", () => {
    closeAsked(false);
    setText($("info"), "");
    conn.send(OP.SET_PHASE, { phase: "closed" });
  });
  no.addEventListener("click", () => closeAsked(true));
  box.onkeydown = (event) => {
    if (event.key === "Escape") closeAsked(true);
  };
}

/** Put the question away; `refocus`: back to the button that goes on. */
function closeAsked(refocus) {
  const box = $("phase-confirm");
  if (box.hidden) return;
  box.hidden = true;
  box.replaceChildren();
  if (refocus) $("phase-next").focus();
}

function drawTimerButtons(timer) {
  const running = !!timer?.running;
  const paused = !running && timer?.remaining_ms != null;
  $("timer-off").hidden = running || paused;
  $("timer-pause").hidden = !running;
  $("timer-resume").hidden = !paused;
  $("timer-reset").disabled = !running && !paused;
}

function drawResults(state) {
  const phase = state.workshop.phase;
  const section = $("results-section");
  section.hidden = !["vote", "results", "closed"].includes(phase);
  if (section.hidden) return;
  const v = state.votes || {};
  const words = t("control.vote_progress", { count: v.voters ?? 0, voters: num(v.voters ?? 0), total: num(state.participants?.count ?? 0) });
  setText($("vote-progress"), words);
  // The facilitator sees the dots per group of every item; the wall only where chosen.
  const groups = groupsOf(state).length > 0;
  const rows = resultRows(state, untitled);
  redraw($("results-legend"), [groups, v.by_perspective], () => (groups ? legend(state) : []));
  redraw($("chart"), rows, () => (rows.length ? resultList(rows, { groups, divided: true, id: "ranking" })
    : el("p", { class: "muted", text: t("results.empty") })));
  const cg = hasCommonGround(state) && rows.length > 0;
  $("cg-none").hidden = cg || !rows.length || !(state.workshop.settings.perspectives || []).length;
  $("cg-none").textContent = t("results.common_ground_none");
  const cgRows = cg ? resultRows(state, untitled, v.common_ground || []) : [];
  redraw($("common-ground"), cgRows, () => (cg ? resultList(cgRows, { groups: true, bars: false, divided: false, totals: false, other: false, id: "common-ground-list" }) : []));
  const divided = rows.some((r) => r.divided);
  const wallGroups = !!state.workshop.settings.show_groups_on_wall;
  redraw($("results-key"), [divided, groups, wallGroups, v.by_perspective && OTHER in v.by_perspective], () => [
    divided ? el("p", { class: "hint" }, el("span", { class: "badge divided", text: t("results.divided") }),
      ` ${t("results.divided_hint")}`) : null,
    groups ? el("p", { class: "hint", text: t("results.share_hint") }) : null,
    groups && OTHER in (v.by_perspective || {}) ? el("p", { class: "hint", text: t("results.other_hint", { other: groupLabel(OTHER) }) }) : null,
    groups ? el("p", { class: "hint", text: t(wallGroups ? "control.wall_groups_on" : "control.wall_groups_off") }) : null,
  ].filter(Boolean));
  drawSignUps(state);
}

/** "Wie doet mee?": per item who offered to help, with a contact only where consent was given. */
function drawSignUps(state) {
  const list = state.sign_up_list || [];
  $("signups-panel").hidden = !["results", "closed"].includes(state.workshop.phase) && !list.length;
  const byItem = new Map();
  for (const row of list) {
    const title = itemTitle(state, row.item_id, untitled);
    if (title === null) continue; // an item that is gone since
    if (!byItem.has(row.item_id)) byItem.set(row.item_id, { title, rows: [] });
    byItem.get(row.item_id).rows.push(row);
  }
  redraw($("signup-list"), [...byItem.entries()], () => (byItem.size
    ? [...byItem.values()].map(({ title, rows }) => el("section", { class: "signup-group" },
      el("h4", { text: title }),
      el("ul", { class: "plain-list" }, ...rows.map((r) => el("li", {},
        el("span", { class: "signup-name", text: r.name || t("control.signup_no_name") }), " · ",
        el("span", { class: "signup-contact", text: r.contact || t("control.signup_no_contact") }))))))
    : el("p", { class: "muted", text: t("control.signups_none") })));
}

// ------------------------------------------------------------------ settings
const form = /** @type {HTMLFormElement} */ ($("settings-form"));
const BOOLS = ["anonymous", "show_live_votes", "private_writing", "show_provenance", "show_groups_on_wall",
  "approval_required"];
const NUMBERS = ["votes_per_participant", "max_votes_per_item", "max_note_length"];

function drawSettings(settings) {
  if (settingsDirty || form.contains(document.activeElement)) return;
  for (const name of BOOLS) form.elements[name].checked = !!settings[name];
  for (const name of NUMBERS) form.elements[name].value = String(settings[name]);
  form.elements.perspectives.value = (settings.perspectives || []).join(", ");
  form.elements.language.value = settings.language || "nl";
  form.elements.wall_quiet.checked = settings.wall_during_collect === "count";
}

form.addEventListener("input", () => { settingsDirty = true; });
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const current = conn.state?.workshop.settings;
  if (!current) return;
  const changed = {};
  for (const name of BOOLS) {
    if (form.elements[name].checked !== !!current[name]) changed[name] = form.elements[name].checked;
  }
  for (const name of NUMBERS) {
    const value = Number(form.elements[name].value);
    if (value !== current[name]) changed[name] = value;
  }
  const perspectives = splitList(form.elements.perspectives.value);
  const problem = perspectivesProblem(perspectives);
  const field = form.elements.perspectives;
  $("settings-status").classList.toggle("warn", !!problem);
  if (problem) {
    field.setAttribute("aria-invalid", "true");
    $("settings-status").textContent = problem;
    field.focus();
    return;
  }
  field.removeAttribute("aria-invalid");
  if (JSON.stringify(perspectives) !== JSON.stringify(current.perspectives || [])) changed.perspectives = perspectives;
  if (form.elements.language.value !== current.language) changed.language = form.elements.language.value;
  const wall = form.elements.wall_quiet.checked ? "count" : "live";
  if (wall !== (current.wall_during_collect || "live")) changed.wall_during_collect = wall;
  settingsDirty = false;
  if (!Object.keys(changed).length) {
    $("settings-status").textContent = t("settings.unchanged");
    return;
  }
  $("settings-status").textContent = t("settings.saving");
  conn.send(OP.UPDATE_SETTINGS, changed);
});

// ------------------------------------------------------------- the controls
$("phase-back").addEventListener("click", () => {
  const i = PHASES.indexOf(conn.state?.workshop.phase);
  if (i > 0) setPhase(PHASES[i - 1]);
});
$("phase-next").addEventListener("click", () => {
  const i = PHASES.indexOf(conn.state?.workshop.phase);
  if (i >= 0 && i < PHASES.length - 1) setPhase(PHASES[i + 1]);
});

$("timer-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const minutes = Number($("timer-minutes").value);
  if (!(minutes > 0 && minutes <= LIMITS.timer_minutes)) {
    showNotice(t("timer.bad_minutes", { max: LIMITS.timer_minutes }));
    return;
  }
  conn.send(OP.TIMER, { action: "start", seconds: Math.round(minutes * 60) });
});
$("timer-pause").addEventListener("click", () => conn.send(OP.TIMER, { action: "pause" }));
$("timer-resume").addEventListener("click", () => conn.send(OP.TIMER, { action: "resume" }));
$("timer-reset").addEventListener("click", () => conn.send(OP.TIMER, { action: "reset" }));
// On a narrow screen the control screen is a remote (compact mode, in the CSS); this
// button shows everything after all, and back.
$("compact-toggle").addEventListener("click", (e) => {
  const all = document.body.classList.toggle("show-all");
  /** @type {HTMLElement} */ (e.currentTarget).setAttribute("aria-pressed", String(all));
});
$("lock").addEventListener("change", (e) => {
  conn.send(OP.SET_LOCK, { locked: /** @type {HTMLInputElement} */ (e.currentTarget).checked });
});
$("lock-silent").addEventListener("change", (e) => {
  conn.send(OP.UPDATE_SETTINGS, { lock_silent: /** @type {HTMLInputElement} */ (e.currentTarget).checked });
});

// --------------------------------------------------------------- connection
conn.on("state", (state, info) => {
  people.countJoins(state, info);
  render();
});
announceNewNotes(conn, { wait: 2500 });
conn.on("outbox", render);
conn.on("ack", (entry, result, seq) => {
  if (seq !== null && seq !== undefined && (conn.seq === null || seq > conn.seq)) {
    settling.push({ entry, seq });
  }
  if (entry.op === OP.CLUSTER && !entry.args.cluster_id && result.cluster_id) {
    board.clusterMade(result.cluster_id, `pending:${entry.op_id}`);
  }
  if (entry.op === OP.UPDATE_SETTINGS) $("settings-status").textContent = t("settings.saved");
  if (entry.op === OP.SET_PHASE) announce(t("phase.changed", { phase: phaseName(entry.args.phase) }));
  if (entry.op === OP.SET_PHASE && reopening && entry.args.phase !== "closed") {
    reopening = false;
    setText($("info"), t("control.reopened"));
  }
  if (entry.op === OP.ADD_PROMPT || entry.op === OP.EDIT_PROMPT) prompts.saved();
  if (PLAN_OPS.includes(entry.op)) plan.saved(entry);
  suggestions.acked(entry, result);
  showNotice("");
  render();
});
conn.on("nack", (entry, error) => {
  showNotice(error.message || t("error.generic"));
  if (entry.op === OP.UPDATE_SETTINGS) {
    $("settings-status").textContent = "";
    settingsDirty = false;
  }
  if (entry.op === OP.ADD_PROMPT || entry.op === OP.EDIT_PROMPT) prompts.failed(error.message || t("error.generic"));
  if (PLAN_OPS.includes(entry.op)) plan.failed(error.message || t("error.generic"));
  suggestions.nacked(entry, error);
  render();
});
conn.on("error", (error) => showNotice(error?.message || t("error.generic")));
conn.on("fatal", (code, error) => {
  const words = { [CLOSE.ERASED]: t("control.erased"), [CLOSE.WRONG_KEY]: t("control.key_changed") }[code];
  showNotice(words || error?.message || t("error.generic"));
});

bindAdmin(config, conn);
bindStatus(conn);
conn.start();
