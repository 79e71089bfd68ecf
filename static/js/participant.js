// The phone (/j/{code}): post notes, own notes, profile, dots, results.
import { $, el, replace, syncList, announce } from "./dom.js";
import { t, num } from "./i18n.js";
import { OP } from "./protocol.js";
import { dotsLeft, myDots, myNotes, notesByPrompt, voteItems } from "./state.js";
import { groupsLine, resultRows } from "./results.js";
import { bindStatus, Countdown, phaseName, untitled, watchPhase, onFrame, startScreen } from "./ui.js";

const { config, conn } = startScreen("participant");
const countdown = new Countdown();
const draftKey = `samenspel:draft:${config.code}`;
const promptKey = `samenspel:prompt:${config.code}`;

/** Acknowledged posts whose note_added may still be on its way (no flicker between). */
const posted = new Map();
/** Note ids being edited (their form stays open across renders). */
const editing = new Set();
/** Note id whose deletion asks "are you sure?". */
let confirmDelete = null;
let profileDirty = false;
let fatal = false;

const onPhase = watchPhase();

// ----------------------------------------------------------------- rendering
const render = onFrame(() => draw());

function draw() {
  const state = conn.state;
  if (!state) return;
  const ws = state.workshop;
  const phase = ws.phase;
  onPhase(phase);
  document.body.dataset.phase = phase;
  setText($("ws-title"), ws.title);
  setText($("phase-name"), phaseName(phase));
  setText($("now-text"), t(`phone.now.${phase}`));
  countdown.update(ws.timer);

  const collecting = phase === "collect" && !fatal;
  $("write").hidden = !collecting;
  $("vote").hidden = phase !== "vote" || fatal;
  const showResults = phase === "results" || (phase === "closed" && state.votes?.ranking?.length);
  $("results").hidden = !showResults;
  $("mine").hidden = phase === "vote" || phase === "results" || phase === "closed";
  $("profile").hidden = phase === "results" || phase === "closed" || fatal;

  if (collecting) drawWrite(state);
  if (!$("mine").hidden) drawMine(state, phase);
  drawOthers(state, phase);
  if (!$("vote").hidden) drawVote(state);
  if (showResults) drawResults(state);
  if (!$("profile").hidden) drawProfile(state);
}

function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

function promptText(state, id) {
  return state.prompts.find((p) => p.id === id)?.text ?? "";
}

function chosenPrompt(state) {
  const saved = sessionStorage.getItem(promptKey);
  if (state.prompts.some((p) => p.id === saved)) return saved;
  return state.prompts[0]?.id;
}

function drawWrite(state) {
  const box = $("prompt-choice");
  const ids = state.prompts.map((p) => p.id + p.text).join("|");
  if (box.dataset.ids !== ids) {
    box.dataset.ids = ids;
    const current = chosenPrompt(state);
    if (state.prompts.length === 1) {
      replace(box, el("p", { class: "prompt-single" },
        el("span", { class: "prompt-label", text: t("phone.question") }),
        el("span", { class: "prompt-text", text: state.prompts[0].text })));
    } else {
      const fieldset = el("fieldset", { class: "prompt-choice" },
        el("legend", { class: "label-strong", text: t("phone.choose_question") }));
      for (const prompt of state.prompts) {
        const id = `prompt-${prompt.id}`;
        fieldset.append(el("div", { class: "radio" },
          el("input", { type: "radio", name: "prompt", id, value: prompt.id,
            checked: prompt.id === current,
            onchange: () => sessionStorage.setItem(promptKey, prompt.id) }),
          el("label", { for: id, text: prompt.text })));
      }
      replace(box, fieldset);
    }
  }
  const area = $("note-text");
  const max = state.workshop.settings.max_note_length || 280;
  if (area.maxLength !== max) area.maxLength = max;
  updateCount();
}

function updateCount() {
  const area = $("note-text");
  const max = conn.state?.workshop.settings.max_note_length || 280;
  setText($("note-count"), t("phone.chars_left", { count: Math.max(0, max - area.value.length) }));
}

function drawMine(state, phase) {
  const notes = myNotes(state, conn.outbox, posted);
  $("mine-empty").hidden = notes.length > 0;
  const list = $("my-notes");
  const canEdit = phase === "collect";
  const canDelete = phase !== "closed";
  syncList(list, notes, (n) => `${n.id}|${canEdit}|${canDelete}|${editing.has(n.id)}|${confirmDelete === n.id}|${!!n.pending}`,
    (n) => myNoteItem(state, n, canEdit, canDelete), (node, n) => updateMyNote(node, state, n));
}

function myNoteItem(state, note, canEdit, canDelete) {
  const li = el("li", { class: "note own" });
  if (editing.has(note.id)) {
    const id = `edit-${note.id}`;
    const area = el("textarea", { id, rows: 3, maxlength: state.workshop.settings.max_note_length });
    area.value = note.text;
    const form = el("form", { class: "edit-form", onsubmit: (e) => {
      e.preventDefault();
      const text = area.value.trim();
      if (!text) return;
      editing.delete(note.id);
      if (text !== note.text) conn.send(OP.EDIT_NOTE, { note_id: note.id, text });
      render();
    } },
    el("label", { for: id, text: t("phone.edit_label") }),
    area,
    el("div", { class: "row" },
      el("button", { type: "submit", class: "btn btn-primary", text: t("action.save") }),
      el("button", { type: "button", class: "btn", text: t("action.cancel"),
        onclick: () => { editing.delete(note.id); render(); } })));
    li.append(form);
    requestAnimationFrame(() => area.focus());
    return li;
  }
  li.append(
    el("p", { class: "note-prompt", text: promptText(state, note.prompt_id) }),
    el("p", { class: "note-text", text: note.text }),
    el("p", { class: "note-status" }));
  const actions = el("div", { class: "row note-actions" });
  if (confirmDelete === note.id) {
    actions.append(
      el("span", { class: "confirm-text", text: t("phone.delete_confirm") }),
      el("button", { type: "button", class: "btn btn-danger", text: t("action.delete_yes"),
        onclick: () => {
          confirmDelete = null;
          conn.send(OP.DELETE_NOTE, { note_id: note.id });
          announce(t("phone.deleted"));
          render();
        } }),
      el("button", { type: "button", class: "btn", text: t("action.no"),
        onclick: () => { confirmDelete = null; render(); } }));
  } else if (!note.pending) {
    if (canEdit) {
      actions.append(el("button", { type: "button", class: "btn", text: t("action.edit"),
        "aria-label": t("phone.edit_aria", { text: short(note.text) }),
        onclick: () => { editing.add(note.id); render(); } }));
    }
    if (canDelete) {
      actions.append(el("button", { type: "button", class: "btn", text: t("action.delete"),
        "aria-label": t("phone.delete_aria", { text: short(note.text) }),
        onclick: () => { confirmDelete = note.id; render(); } }));
    }
  }
  li.append(actions);
  return li;
}

function updateMyNote(node, state, note) {
  if (editing.has(note.id)) return;
  const text = node.querySelector(".note-text");
  if (text) setText(text, note.text);
  const status = node.querySelector(".note-status");
  if (status) {
    const words = note.pending ? t(conn.status === "online" ? "phone.sending" : "phone.pending") : note.hidden ? t("phone.hidden_by_host") : "";
    setText(status, words);
    node.classList.toggle("pending", !!note.pending);
    node.classList.toggle("is-hidden", !!note.hidden);
  }
}

function short(text) {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function drawOthers(state, phase) {
  const me = state.me?.participant_id;
  const others = state.notes.filter((n) => !n.hidden && !(me && n.author?.participant_id === me));
  const section = $("others");
  const show = !fatal && (phase === "collect" || phase === "cluster") && others.length > 0;
  section.hidden = !show;
  if (!show) return;
  setText($("others-heading"), t("phone.others_heading", { count: others.length }));
  const byPrompt = notesByPrompt({ ...state, notes: others });
  const list = $("others-list");
  const parts = [];
  for (const prompt of state.prompts) {
    const notes = byPrompt.get(prompt.id) || [];
    if (!notes.length) continue;
    parts.push(el("h3", { class: "others-prompt", text: prompt.text }),
      el("ul", { class: "note-list compact" }, ...notes.map((n) => el("li", { class: "note" },
        el("p", { class: "note-text", text: n.text }),
        n.author?.name ? el("p", { class: "note-author", text: n.author.name }) : null))));
  }
  replace(list, ...parts);
}

function drawVote(state) {
  const mine = myDots(state, conn.outbox);
  const view = { ...state, votes: { ...state.votes, mine } };
  const left = dotsLeft(view);
  const total = state.workshop.settings.votes_per_participant;
  const perItem = state.workshop.settings.max_votes_per_item;
  const dots = $("dots-left");
  setText(dots, left ? t("phone.dots_left", { count: left, total }) : t("phone.dots_none", { total }));
  dots.classList.toggle("none-left", left === 0);
  const voters = state.votes?.voters ?? 0;
  const people = state.participants?.count ?? 0;
  setText($("vote-progress"), people
    ? t("wall.voted", { count: voters, voters: num(voters), total: num(people) }) : "");
  const items = voteItems(view, untitled);
  syncList($("vote-items"), items, (item) => item.id, (item) => voteItem(item),
    (node, item) => updateVoteItem(node, item, mine[item.id] || 0, left, perItem));
}

function voteItem(item) {
  const titleId = `item-${item.id}`;
  const li = el("li", { class: `vote-item ${item.kind}` });
  li.append(el("h3", { id: titleId, class: "item-title", text: item.title }));
  if (item.kind === "cluster") li.append(el("ul", { class: "item-notes" }));
  const minus = el("button", { type: "button", class: "btn btn-round minus",
    "aria-label": t("phone.vote_minus", { item: short(item.title) }),
    onclick: () => vote(item.id, -1) }, el("span", { "aria-hidden": "true", text: "−" }));
  const plus = el("button", { type: "button", class: "btn btn-round plus",
    "aria-label": t("phone.vote_plus", { item: short(item.title) }),
    onclick: () => vote(item.id, 1) }, el("span", { "aria-hidden": "true", text: "+" }));
  const count = el("p", { class: "my-dots" },
    el("span", { class: "dot-row", "aria-hidden": "true" }),
    el("span", { class: "dot-count" }));
  li.append(el("div", { class: "vote-controls" }, minus, count, plus));
  return li;
}

function updateVoteItem(node, item, mineHere, left, perItem) {
  setText(node.querySelector(".item-title"), item.title);
  const notes = node.querySelector(".item-notes");
  if (notes) {
    const shown = item.notes.slice(0, 3).map((n) => n.text);
    const key = JSON.stringify([shown, item.notes.length]);
    if (notes.dataset.key !== key) {
      notes.dataset.key = key;
      replace(notes, ...shown.map((text) => el("li", { text })),
        item.notes.length > 3 ? el("li", { class: "more", text: t("phone.more_notes", { count: item.notes.length - 3 }) }) : null);
    }
  }
  setText(node.querySelector(".dot-count"), t("phone.my_dots", { count: mineHere }));
  setText(node.querySelector(".dot-row"), "●".repeat(mineHere));
  node.classList.toggle("has-dots", mineHere > 0);
  node.querySelector(".minus").disabled = mineHere <= 0;
  node.querySelector(".plus").disabled = left <= 0 || mineHere >= perItem;
}

function vote(itemId, delta) {
  conn.send(OP.VOTE, { item_id: itemId, delta });
  render();
}

function drawResults(state) {
  const rows = resultRows(state, untitled);
  $("results-empty").hidden = rows.length > 0;
  const max = Math.max(1, ...rows.map((r) => r.total));
  const mine = state.votes?.mine || {};
  replace($("ranking"), ...rows.map((row) => {
    const bar = el("span", { class: "bar" });
    bar.style.width = `${Math.round((row.total / max) * 100)}%`;
    return el("li", { class: "rank-row" },
      el("span", { class: "rank-title", text: row.title }),
      el("span", { class: "bar-track", "aria-hidden": "true" }, bar),
      el("span", { class: "rank-total", text: t("results.dots", { count: row.total, n: num(row.total) }) }),
      mine[row.id] ? el("span", { class: "rank-mine", text: t("results.yours", { count: mine[row.id] }) }) : null,
      // "verdeeld" always comes with the numbers per group (docs/results.md).
      row.divided ? (row.groups.length ? groupsLine(row, true, false)
        : el("p", { class: "result-groups" }, el("span", { class: "badge divided", text: t("results.divided") }))) : null);
  }));
}

function drawProfile(state) {
  const settings = state.workshop.settings;
  setText($("profile-hint"), settings.anonymous ? t("phone.profile_anonymous") : t("phone.profile_public"));
  const perspectives = settings.perspectives || [];
  $("perspective-field").hidden = perspectives.length === 0;
  const select = $("perspective");
  const key = JSON.stringify(perspectives);
  if (select.dataset.key !== key) {
    select.dataset.key = key;
    replace(select, el("option", { value: "", text: t("phone.perspective_none") }),
      ...perspectives.map((p) => el("option", { value: p, text: p })));
    profileDirty = false;
  }
  if (!profileDirty && document.activeElement !== $("name") && document.activeElement !== select) {
    $("name").value = state.me?.name ?? "";
    select.value = state.me?.perspective ?? "";
  }
}

// ------------------------------------------------------------------- actions
function showNotice(text) {
  const box = $("notice");
  box.textContent = text;
  box.hidden = !text;
}

$("note-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const area = $("note-text");
  const text = area.value.trim();
  const error = $("note-error");
  if (!text) {
    error.textContent = t("phone.note_empty");
    error.hidden = false;
    area.setAttribute("aria-invalid", "true");
    area.focus();
    return;
  }
  error.hidden = true;
  area.removeAttribute("aria-invalid");
  const checked = /** @type {HTMLInputElement|null} */ (document.querySelector('input[name="prompt"]:checked'));
  const promptId = checked?.value || chosenPrompt(conn.state);
  conn.send(OP.ADD_NOTE, { prompt_id: promptId, text });
  area.value = "";
  sessionStorage.removeItem(draftKey);
  updateCount();
  announce(conn.status === "online" ? t("phone.posting") : t("phone.saved_offline"));
  area.focus();
  render();
});

$("note-text").addEventListener("input", () => {
  sessionStorage.setItem(draftKey, $("note-text").value);
  updateCount();
});
$("note-text").value = sessionStorage.getItem(draftKey) || "";

$("profile-form").addEventListener("input", () => { profileDirty = true; });
$("profile-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("name").value.trim();
  const perspective = $("perspective").value || null;
  const args = { name: name || null };
  if (!$("perspective-field").hidden) args.perspective = perspective;
  conn.send(OP.SET_PROFILE, args);
  profileDirty = false;
  setText($("profile-saved"), t("phone.profile_saving"));
});

conn.on("state", render).on("outbox", render).on("status", render);
conn.on("ack", (entry, result) => {
  if (entry.op === OP.ADD_NOTE) {
    if (result.note_id) posted.set(entry.op_id, { noteId: result.note_id, entry });
    announce(t("phone.posted"));
  } else if (entry.op === OP.VOTE && result.mine) {
    conn.patchState((s) => ({ ...s, votes: { ...s.votes, mine: result.mine } }));
  } else if (entry.op === OP.SET_PROFILE) {
    setText($("profile-saved"), t("phone.profile_saved"));
  }
  showNotice("");
  render();
});
conn.on("state", (state) => {
  // Forget acknowledged posts once their note is here.
  for (const [opId, { noteId }] of posted) {
    if (state.notes.some((n) => n.id === noteId)) posted.delete(opId);
  }
});
conn.on("nack", (entry, error) => {
  showNotice(error.message || t("error.generic"));
  if (entry.op === OP.ADD_NOTE && !$("note-text").value) {
    $("note-text").value = entry.args.text; // give the words back to try again
    updateCount();
  }
  if (entry.op === OP.SET_PROFILE) setText($("profile-saved"), "");
  render();
});
conn.on("error", (error) => showNotice(error?.message || t("error.generic")));
conn.on("fatal", (code, error) => {
  fatal = true;
  const key = error?.code === "removed" ? "phone.fatal.removed"
    : { 4403: "phone.fatal.locked", 4410: "phone.fatal.erased" }[code] || "phone.fatal.gone";
  showNotice(t(key) + (error?.message && code === 4401 ? ` ${error.message}` : ""));
  render();
});

bindStatus(conn);
conn.start();
