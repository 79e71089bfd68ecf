// The control screen (/f/{id}): phases, timer, people, board, settings, results, exports.
import { $, el, replace, setText, announce } from "./dom.js";
import { t, num } from "./i18n.js";
import { LIMITS } from "./limits.js";
import { CLOSE, OP, PHASES } from "./protocol.js";
import { overlay } from "./state.js";
import { groupLabel, groupsOf, hasCommonGround, legend, redraw, resultList, resultRows, OTHER } from "./results.js";
import { bindAdmin } from "./admin.js";
import { Board } from "./board.js";
import { peoplePanel } from "./people.js";
import { newestList } from "./newest.js";
import { announceNewNotes, bindStatus, Countdown, perspectivesProblem, phaseName, showNotice, splitList, untitled, watchPhase, onFrame, startScreen } from "./ui.js";

const { config, conn } = startScreen("facilitator");
const countdown = new Countdown();
const board = new Board(conn, showNotice);
const onPhase = watchPhase();
/** Acknowledged ops whose event has not come back yet: [{entry, seq}]. */
let settling = [];
let settingsDirty = false;

// ----------------------------------------------------------------- rendering
const render = onFrame(() => draw());
const people = peoplePanel(conn, render);
const drawNewest = newestList(conn);

function draw() {
  if (!conn.state) return;
  settling = settling.filter((s) => conn.seq === null || s.seq > conn.seq);
  const state = overlay(conn.state, [...settling.map((s) => s.entry), ...conn.outbox]);
  const ws = state.workshop;
  onPhase(ws.phase);
  document.body.dataset.phase = ws.phase;
  setText($("ws-title"), ws.title);
  drawStepper(ws.phase);
  countdown.update(ws.timer);
  drawTimerButtons(ws.timer);
  people.draw(state);
  board.draw(state);
  drawNewest(state);
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
  back.hidden = current <= 0;
  next.hidden = current >= PHASES.length - 1;
  if (current > 0) back.textContent = t("control.phase_back", { phase: phaseName(PHASES[current - 1]) });
  if (current < PHASES.length - 1) next.textContent = t("control.phase_next", { phase: phaseName(PHASES[current + 1]) });
}

function setPhase(phase) {
  if (phase === conn.state?.workshop.phase) return;
  conn.send(OP.SET_PHASE, { phase });
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
}

// ------------------------------------------------------------------ settings
const form = /** @type {HTMLFormElement} */ ($("settings-form"));
const BOOLS = ["anonymous", "show_live_votes", "private_writing", "show_provenance", "show_groups_on_wall"];
const NUMBERS = ["votes_per_participant", "max_votes_per_item", "max_note_length"];

function drawSettings(settings) {
  if (settingsDirty || form.contains(document.activeElement)) return;
  for (const name of BOOLS) form.elements[name].checked = !!settings[name];
  for (const name of NUMBERS) form.elements[name].value = String(settings[name]);
  form.elements.perspectives.value = (settings.perspectives || []).join(", ");
  form.elements.language.value = settings.language || "nl";
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
  showNotice("");
  render();
});
conn.on("nack", (entry, error) => {
  showNotice(error.message || t("error.generic"));
  if (entry.op === OP.UPDATE_SETTINGS) {
    $("settings-status").textContent = "";
    settingsDirty = false;
  }
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
