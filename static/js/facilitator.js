// The control screen (/f/{id}): phases, timer, people, board, settings, results, exports.
import { $, el, replace, announce, readConfig } from "./dom.js";
import { setCatalogue, t, num } from "./i18n.js";
import { Connection, OP, PHASES } from "./protocol.js";
import { overlay, rankingRows, itemTitle } from "./state.js";
import { barChart } from "./chart.js";
import { Board } from "./board.js";
import { bindStatus, Countdown, phaseName, splitList, untitled, watchPhase } from "./ui.js";

const config = readConfig();
setCatalogue(config.i18n, config.lang);

const conn = new Connection({
  role: "facilitator",
  workshop: config.workshop,
  key: config.key,
  lang: config.lang,
  storageKey: `samenspel:facilitator:${config.workshop}`,
});
const countdown = new Countdown();
const board = new Board(conn, showNotice);
const onPhase = watchPhase();
/** Acknowledged ops whose event has not come back yet: [{entry, seq}]. */
let settling = [];
let settingsDirty = false;
let newNotes = 0;
let newNotesTimer = 0;

function showNotice(text) {
  const box = $("notice");
  if (!box) return;
  box.textContent = text || "";
  box.hidden = !text;
}

// ----------------------------------------------------------------- rendering
let queued = false;
function render() {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => {
    queued = false;
    draw();
  });
}

function draw() {
  if (!conn.state) return;
  settling = settling.filter((s) => conn.seq === null || s.seq > conn.seq);
  const state = overlay(conn.state, [...settling.map((s) => s.entry), ...conn.outbox]);
  const ws = state.workshop;
  onPhase(ws.phase);
  document.body.dataset.phase = ws.phase;
  if ($("ws-title").textContent !== ws.title) $("ws-title").textContent = ws.title;
  drawStepper(ws.phase);
  countdown.update(ws.timer);
  drawTimerButtons(ws.timer);
  drawPeople(state);
  board.draw(state);
  drawResults(state);
  drawSettings(ws.settings);
  $("lock").checked = !!ws.locked;
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

function drawPeople(state) {
  const p = state.participants || {};
  const words = t("control.people_count", { online: num(p.online ?? 0), count: p.count ?? 0, total: num(p.count ?? 0) });
  if ($("people-count").textContent !== words) $("people-count").textContent = words;
  const named = (p.list || []).filter((x) => x.name || x.perspective);
  const key = JSON.stringify(named);
  const list = $("people-list");
  if (list.dataset.key !== key) {
    list.dataset.key = key;
    replace(list, ...(named.length ? named.map((x) => el("li", {
      text: [x.name || t("control.no_name"),
        x.perspective === "other" ? t("results.group_other") : x.perspective].filter(Boolean).join(" · "),
    })) : [el("li", { class: "muted", text: t("control.people_none") })]));
  }
}

function drawResults(state) {
  const phase = state.workshop.phase;
  const section = $("results-section");
  section.hidden = !["vote", "results", "closed"].includes(phase);
  if (section.hidden) return;
  const v = state.votes || {};
  const words = t("control.vote_progress", { count: v.voters ?? 0, voters: num(v.voters ?? 0), total: num(state.participants?.count ?? 0) });
  if ($("vote-progress").textContent !== words) $("vote-progress").textContent = words;
  const rows = rankingRows(state, untitled);
  const key = JSON.stringify([rows, v.by_perspective, state.workshop.settings.show_groups_on_wall]);
  if (section.dataset.key === key) return;
  section.dataset.key = key;
  replace($("chart"), rows.length
    ? barChart(rows, { fontSize: 22, maxLabel: 70,
      groups: state.workshop.settings.show_groups_on_wall ? v.by_perspective : null })
    : el("p", { class: "muted", text: t("results.empty") }));
  const title = (id) => itemTitle(state, id, untitled);
  replace($("common-ground"), ...(v.common_ground || []).filter((id) => title(id) !== null)
    .map((id) => el("li", { text: title(id) })));
  const divided = (v.divided || []).filter((id) => title(id) !== null);
  replace($("divided"), ...divided.map((id) => el("li", { text: title(id) })));
  $("divided-none").hidden = divided.length > 0;
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
  if (!(minutes > 0 && minutes <= 240)) {
    showNotice(t("timer.bad_minutes"));
    return;
  }
  conn.send(OP.TIMER, { action: "start", seconds: Math.round(minutes * 60) });
});
$("timer-pause").addEventListener("click", () => conn.send(OP.TIMER, { action: "pause" }));
$("timer-resume").addEventListener("click", () => conn.send(OP.TIMER, { action: "resume" }));
$("timer-reset").addEventListener("click", () => conn.send(OP.TIMER, { action: "reset" }));
$("lock").addEventListener("change", (e) => {
  conn.send(OP.SET_LOCK, { locked: /** @type {HTMLInputElement} */ (e.currentTarget).checked });
});

// Erase: ask first, in the page (no blocking dialog), then DELETE with the cookie.
$("erase").addEventListener("click", () => {
  const box = $("erase-box");
  const yes = el("button", { type: "button", class: "btn btn-danger", text: t("control.erase_yes") });
  const no = el("button", { type: "button", class: "btn", text: t("action.no") });
  replace(box, el("p", { class: "confirm-text", role: "alert", text: t("control.erase_confirm") }),
    el("div", { class: "row" }, yes, no));
  yes.focus();
  no.addEventListener("click", () => location.reload());
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    const response = await fetch(`${config.api}`, { method: "DELETE", credentials: "same-origin" })
      .catch(() => null);
    if (response && response.status === 204) {
      conn.stop();
      conn.forget();
      try { localStorage.removeItem(`samenspel:links:${config.workshop}`); } catch { /* none */ }
      replace(document.body, el("main", { class: "simple-main" },
        el("h1", { text: t("control.erased") }),
        el("p", { text: t("control.erased_text") }),
        el("p", {}, el("a", { href: "/", text: t("error.home") }))));
      return;
    }
    const body = response ? await response.json().catch(() => null) : null;
    showNotice(body?.error?.message || t("error.generic"));
    yes.disabled = false;
  });
});

// Links kept by the landing page right after creating the workshop (this browser only).
function drawSavedLinks() {
  let links = null;
  try { links = JSON.parse(localStorage.getItem(`samenspel:links:${config.workshop}`) || "null"); } catch { links = null; }
  if (!links) return;
  const rows = [];
  for (const [name, url] of [["facilitator", links.facilitator], ["projector", links.projector]]) {
    if (!url) continue;
    const id = `saved-${name}`;
    const input = el("input", { id, type: "text", readonly: true, value: new URL(url, location.href).href });
    rows.push(el("div", { class: "field" },
      el("label", { for: id, text: t(`landing.${name}_link`) }),
      el("div", { class: "row" }, input,
        el("button", { type: "button", class: "btn btn-small", text: t("action.copy"),
          onclick: () => copy(input) }))));
  }
  replace($("saved-links"), ...rows);
}

async function copy(input) {
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    announce(t("action.copied"));
  } catch {
    announce(t("action.copy_manual"));
  }
}

// --------------------------------------------------------------- connection
conn.on("state", (state, info) => {
  if (info.events) {
    const added = info.events.filter((e) => e.kind === "note_added").length;
    if (added) {
      newNotes += added;
      clearTimeout(newNotesTimer);
      newNotesTimer = window.setTimeout(() => {
        announce(t("control.new_notes", { count: newNotes }));
        newNotes = 0;
      }, 2500);
    }
  }
  render();
});
conn.on("outbox", render);
conn.on("ack", (entry, result, seq) => {
  if (seq !== null && seq !== undefined && (conn.seq === null || seq > conn.seq)) {
    settling.push({ entry, seq });
  }
  if (entry.op === OP.CLUSTER && !entry.args.cluster_id && result.cluster_id) {
    board.alias.set(result.cluster_id, `pending:${entry.op_id}`);
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
  showNotice(code === 4410 ? t("control.erased") : error?.message || t("error.generic"));
});

drawSavedLinks();
bindStatus(conn);
conn.start();
