// The control screen (/f/{id}): phases, timer, people, board, settings, results, exports.
import { $, el, replace, announce } from "./dom.js";
import { t, num } from "./i18n.js";
import { OP, PHASES } from "./protocol.js";
import { overlay } from "./state.js";
import { groupLabel, groupsOf, hasCommonGround, legend, redraw, resultList, resultRows, OTHER } from "./results.js";
import { Board } from "./board.js";
import { bindStatus, Countdown, forgetWorkshop, perspectivesProblem, phaseName, splitList, untitled, watchPhase, onFrame, startScreen } from "./ui.js";

const { config, conn } = startScreen("facilitator");
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
const render = onFrame(() => draw());

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

function drawPeople(state) {
  const p = state.participants || {};
  const words = t("control.people_count", { online: num(p.online ?? 0), count: p.count ?? 0, total: num(p.count ?? 0) });
  if ($("people-count").textContent !== words) $("people-count").textContent = words;
  // Groups as counts only: never who is in which group. A group of fewer than 3 people
  // comes as "other" from the server, and counts with those who chose no group.
  const perspectives = state.workshop.settings.perspectives || [];
  const groups = $("people-groups");
  groups.hidden = !perspectives.length;
  if (perspectives.length) {
    const counts = new Map();
    for (const x of p.list || []) {
      const g = x.perspective && x.perspective !== OTHER ? x.perspective : OTHER;
      counts.set(g, (counts.get(g) || 0) + 1);
    }
    const named = [...perspectives.filter((g) => counts.has(g)),
      ...[...counts.keys()].filter((g) => g !== OTHER && !perspectives.includes(g))];
    const parts = named.map((g) => `${g} ${num(counts.get(g))}`);
    if (counts.has(OTHER)) parts.push(`${t("control.people_other")} ${num(counts.get(OTHER))}`);
    const text = `${t("control.people_groups")} ${parts.length ? parts.join(" · ") : t("control.people_groups_none")}`;
    if (groups.textContent !== text) groups.textContent = text;
  }
  const joins = joinsLastMinute();
  const joinWords = joins ? t("control.joins_per_minute", { count: joins, total: num(joins) }) : "";
  if ($("people-joins").textContent !== joinWords) $("people-joins").textContent = joinWords;
  drawPeopleList(state);
}

// Joins per minute, by this screen's clock: the welcome gives how long ago each of the
// last minute's participants joined, and every join event after it counts as now.
let joinTimes = [];
let joinsSeeded = null;

function countJoins(state, info) {
  const recent = state.participants?.recent_joins;
  if (info.welcome && Array.isArray(recent) && recent !== joinsSeeded) {
    joinsSeeded = recent;
    joinTimes = recent.map((age) => Date.now() - age);
  }
  for (const e of info.events || []) {
    if (e.kind === "participant_changed" && e.data?.joined) joinTimes.push(Date.now());
  }
}

function joinsLastMinute() {
  const since = Date.now() - 60000;
  joinTimes = joinTimes.filter((at) => at > since);
  return joinTimes.length;
}
window.setInterval(() => render(), 5000); // the figure falls as the minute passes

// Everyone who takes part, those with the most notes first (a flood shows on top), with
// "hide all their notes" and "remove" (asked first, in the row). At most PEOPLE_SHOWN.
const PEOPLE_SHOWN = 50;
let confirmRemove = null;

function drawPeopleList(state) {
  const people = state.participants?.list || [];
  const notes = new Map();
  for (const n of state.notes) {
    const id = n.author?.participant_id;
    if (!id) continue;
    if (!notes.has(id)) notes.set(id, []);
    notes.get(id).push(n);
  }
  const rows = people.map((x) => {
    const own = notes.get(x.participant_id) || [];
    const first = own[0]?.text;
    const label = x.name || (first ? t("control.person_by_note", { text: first.length > 30 ? `${first.slice(0, 30)}…` : first })
      : t("control.no_name"));
    return { id: x.participant_id, label, count: own.length,
      hidden: own.length > 0 && own.every((n) => n.hidden), joined: x.joined_at || 0 };
  }).sort((a, b) => b.count - a.count || b.joined - a.joined || (a.id < b.id ? -1 : 1));
  const shown = rows.slice(0, PEOPLE_SHOWN);
  const more = rows.length - shown.length;
  const list = $("people-list");
  const focused = list.contains(document.activeElement) ? document.activeElement?.dataset.key : null;
  const changed = redraw(list, [shown, more, confirmRemove], () => {
    if (!rows.length) return [el("li", { class: "muted", text: t("control.people_none") })];
    const items = shown.map((r) => personRow(r));
    if (more) items.push(el("li", { class: "muted", text: t("control.people_more", { count: more, total: num(more) }) }));
    return items;
  });
  if (changed && focused) list.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

function personRow(r) {
  const title = r.label.charAt(0).toUpperCase() + r.label.slice(1);
  const what = el("span", { class: "person-what" }, el("span", { class: "person-name", text: title }),
    ` · ${t("control.person_notes", { count: r.count, total: num(r.count) })}`);
  if (confirmRemove === r.id) {
    const yes = el("button", { type: "button", class: "btn btn-small btn-danger", "data-key": `yes:${r.id}`,
      text: t("control.person_remove_yes"), onclick: () => {
        confirmRemove = null;
        conn.send(OP.REMOVE_PARTICIPANT, { participant_id: r.id });
        announce(t("control.person_removed"));
        $("people-heading").setAttribute("tabindex", "-1");
        $("people-heading").focus();
      } });
    const no = el("button", { type: "button", class: "btn btn-small", "data-key": `no:${r.id}`, text: t("action.no"),
      onclick: () => { confirmRemove = null; render(); } });
    window.setTimeout(() => { if (document.activeElement !== no) yes.focus(); }, 0);
    return el("li", { class: "person confirming", "data-participant": r.id }, what,
      el("p", { class: "confirm-text", role: "alert", text: t("control.person_remove_confirm", { name: title }) }),
      el("div", { class: "row" }, yes, no));
  }
  const hide = el("button", { type: "button", class: "btn btn-small person-hide", "data-key": `hide:${r.id}`,
    text: t(r.hidden ? "control.person_show" : "control.person_hide"),
    "aria-label": t(r.hidden ? "control.person_show_aria" : "control.person_hide_aria", { name: r.label }),
    onclick: () => conn.send(OP.HIDE_PARTICIPANT_NOTES, { participant_id: r.id, hidden: !r.hidden }) });
  hide.hidden = !r.count;
  const remove = el("button", { type: "button", class: "btn btn-small btn-danger person-remove", "data-key": `remove:${r.id}`,
    text: t("control.person_remove"), "aria-label": t("control.person_remove_aria", { name: r.label }),
    onclick: () => { confirmRemove = r.id; render(); } });
  return el("li", { class: "person", "data-participant": r.id }, what, el("div", { class: "row" }, hide, remove));
}

function drawResults(state) {
  const phase = state.workshop.phase;
  const section = $("results-section");
  section.hidden = !["vote", "results", "closed"].includes(phase);
  if (section.hidden) return;
  const v = state.votes || {};
  const words = t("control.vote_progress", { count: v.voters ?? 0, voters: num(v.voters ?? 0), total: num(state.participants?.count ?? 0) });
  if ($("vote-progress").textContent !== words) $("vote-progress").textContent = words;
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
$("lock-silent").addEventListener("change", (e) => {
  conn.send(OP.UPDATE_SETTINGS, { lock_silent: /** @type {HTMLInputElement} */ (e.currentTarget).checked });
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
      forgetWorkshop(config.workshop); // (the answer dropped the cookies)
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

// New secret links: ask first, then POST with the cookie; the answer holds the new keys.
// The old links (and the wall that was opened with one) stop working at once. Going to
// the new control link swaps this browser's cookie; the new links are kept here to copy.
const rotatedKey = `samenspel:rotated:${config.workshop}`;
$("rotate").addEventListener("click", () => {
  const box = $("rotate-box");
  const yes = el("button", { type: "button", class: "btn btn-primary", id: "rotate-yes", text: t("control.rotate_yes") });
  const no = el("button", { type: "button", class: "btn", id: "rotate-no", text: t("action.no") });
  const first = box.firstElementChild;
  const ask = el("div", { class: "confirm-box" },
    el("p", { class: "confirm-text", role: "alert", text: t("control.rotate_confirm") }),
    el("div", { class: "row" }, yes, no));
  first.hidden = true;
  box.append(ask);
  yes.focus();
  no.addEventListener("click", () => {
    ask.remove();
    first.hidden = false;
    first.focus();
  });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    no.disabled = true;
    const response = await fetch(`${config.api}/keys`, { method: "POST", credentials: "same-origin" })
      .catch(() => null);
    const body = response ? await response.json().catch(() => null) : null;
    if (response && response.ok && body?.urls?.facilitator) {
      const abs = (url) => new URL(url, location.href).href;
      try {
        localStorage.setItem(`samenspel:links:${config.workshop}`,
          JSON.stringify({ facilitator: abs(body.urls.facilitator), projector: abs(body.urls.projector) }));
        sessionStorage.setItem(rotatedKey, "1");
      } catch { /* the links are also in the address bar's history; keeping them is a help */ }
      conn.stop(); // the server closes this socket now: no "wrong key" message meanwhile
      location.assign(body.urls.facilitator);
      return;
    }
    showNotice(body?.error?.message || t("error.generic"));
    yes.disabled = false;
    no.disabled = false;
  });
});

// Forget this device: ask first; then the server drops the HttpOnly cookies and this page
// drops what the browser keeps (links, saved state). The workshop itself goes on.
$("forget").addEventListener("click", () => {
  const box = $("forget-box");
  const yes = el("button", { type: "button", class: "btn btn-primary", id: "forget-yes", text: t("control.forget_yes") });
  const no = el("button", { type: "button", class: "btn", id: "forget-no", text: t("action.no") });
  const first = box.firstElementChild;
  const ask = el("div", { class: "confirm-box" },
    el("p", { class: "confirm-text", role: "alert", text: t("control.forget_confirm") }),
    el("div", { class: "row" }, yes, no));
  first.hidden = true;
  box.append(ask);
  yes.focus();
  no.addEventListener("click", () => {
    ask.remove();
    first.hidden = false;
    first.focus();
  });
  yes.addEventListener("click", async () => {
    yes.disabled = true;
    no.disabled = true;
    const response = await fetch(`${config.api}/forget`, { method: "POST", credentials: "same-origin" })
      .catch(() => null);
    if (response && response.status === 204) {
      conn.stop();
      conn.forget();
      forgetWorkshop(config.workshop);
      replace(document.body, el("main", { class: "simple-main" },
        el("h1", { tabindex: "-1", id: "forgotten", text: t("control.forgotten") }),
        el("p", { text: t("control.forgotten_text") }),
        el("p", {}, el("a", { href: "/", text: t("error.home") }))));
      $("forgotten").focus();
      return;
    }
    const body = response ? await response.json().catch(() => null) : null;
    showNotice(body?.error?.message || t("error.generic"));
    yes.disabled = false;
    no.disabled = false;
  });
});

/** Right after new links were made: say what changed, and where the new links are. */
function announceRotated() {
  let rotated = null;
  try {
    rotated = sessionStorage.getItem(rotatedKey);
    sessionStorage.removeItem(rotatedKey);
  } catch { rotated = null; }
  if (!rotated) return;
  replace($("info"), el("p", { text: t("control.rotated") }),
    el("p", {}, el("a", { href: "#saved-links", text: t("control.rotated_link") })));
}

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
  countJoins(state, info);
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
  const words = { 4410: t("control.erased"), 4401: t("control.key_changed") }[code];
  showNotice(words || error?.message || t("error.generic"));
});

drawSavedLinks();
announceRotated();
bindStatus(conn);
conn.start();
