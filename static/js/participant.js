// The phone (/j/{code}): post notes, own notes, profile, dots, results.
import { $, el, replace, setText, syncList, announce } from "./dom.js";
import { t } from "./i18n.js";
import { LIMITS } from "./limits.js";
import { askDelete, editForm, noteButton } from "./noteedit.js";
import { CLOSE, OP } from "./protocol.js";
import { myNotes, notesByPrompt } from "./state.js";
import { phoneRanking, redraw, resultRows } from "./results.js";
import { doneNow, keepFocus, reactionBar, reactionsNow, settling } from "./reactions.js";
import { receiptItems, receiptRows, rememberOwn } from "./receipt.js";
import { SignUps } from "./signup.js";
import { drawPosition, watchActivity } from "./activityline.js";
import { similarHint } from "./similar.js";
import { bindStatus, Countdown, phaseName, showNotice, untitled, watchPhase, onFrame, startScreen } from "./ui.js";
import { short, VoteList } from "./vote.js";

const { config, conn } = startScreen("participant");
const countdown = new Countdown();
// A draft and the chosen question belong to one activity (its questions are its own).
const activityKey = () => conn.state?.workshop?.activity_id ?? config.activity_id ?? "";
const draftKey = () => `samenspel:draft:${config.code}:${activityKey()}`;
const promptKey = () => `samenspel:prompt:${config.code}:${activityKey()}`;

/** Acknowledged posts whose note_added may still be on its way (no flicker between). */
const posted = new Map();
/** Note ids being edited (their form stays open across renders). */
const editing = new Set();
/** Note id whose deletion asks "are you sure?". */
let confirmDelete = null;
let profileDirty = false;
let fatal = false;

let onPhase = watchPhase();
// Another activity (an event, or a welcome after sleeping): nothing of the one before
// stays on screen: no open edit or question, its draft put away (kept for coming back).
const onActivity = watchActivity(() => {
  onPhase = watchPhase();
  editing.clear();
  posted.clear();
  confirmDelete = null;
  $("prompt-choice").dataset.ids = "";
  $("note-text").value = sessionStorage.getItem(draftKey()) || "";
  similar.clear();
  showNotice("");
});
/** Taps on "klaar" and reactions not seen back yet (laid over the state). */
const unsettled = settling(conn, [OP.SET_DONE, OP.REACT]);
const voteList = new VoteList(conn, () => render());
const signUps = new SignUps(conn, () => render());
const similar = similarHint(conn, $("note-text"), () => currentPrompt());

// ----------------------------------------------------------------- rendering
const render = onFrame(() => draw());

function draw() {
  const state = conn.state;
  if (!state) return;
  const ws = state.workshop;
  const phase = ws.phase;
  onActivity(state);
  onPhase(phase);
  document.body.dataset.phase = phase;
  setText($("ws-title"), ws.title);
  drawPosition($("phone-part"), state);
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
  $("done").hidden = phase === "closed" || fatal;

  if (collecting) drawWrite(state);
  if (!$("mine").hidden) drawMine(state, phase);
  drawOthers(state, phase);
  if (!$("done").hidden) drawDone(state);
  if (!$("vote").hidden) voteList.draw(state);
  if (showResults) drawResults(state);
  // "Ik doe mee" in the results and after; "what became of my note" from sorting on.
  const helping = (phase === "results" || phase === "closed") && !fatal;
  $("helpers").hidden = !helping;
  if (helping) signUps.draw($("helper-items"), state, untitled);
  drawReceipt(state, phase);
  if (!$("profile").hidden) drawProfile(state);
}

function promptText(state, id) {
  return state.prompts.find((p) => p.id === id)?.text ?? "";
}

/** The question the note being written is for. */
function currentPrompt() {
  const checked = /** @type {HTMLInputElement|null} */ (document.querySelector('input[name="prompt"]:checked'));
  return checked?.value || (conn.state ? chosenPrompt(conn.state) : null);
}

function chosenPrompt(state) {
  const saved = sessionStorage.getItem(promptKey());
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
            onchange: () => sessionStorage.setItem(promptKey(), prompt.id) }),
          el("label", { for: id, text: prompt.text })));
      }
      replace(box, fieldset);
    }
  }
  const area = $("note-text");
  const max = state.workshop.settings.max_note_length || LIMITS.note_length;
  if (area.maxLength !== max) area.maxLength = max;
  updateCount();
}

function updateCount() {
  const area = $("note-text");
  const max = conn.state?.workshop.settings.max_note_length || LIMITS.note_length;
  setText($("note-count"), t("phone.chars_left", { count: Math.max(0, max - area.value.length) }));
}

function drawMine(state, phase) {
  // A post still waiting in the outbox for an activity that is over is not this one's.
  const now = state.workshop.activity_id;
  const outbox = conn.outbox.filter((e) => !e.args?.activity_id || e.args.activity_id === now);
  const notes = myNotes(state, outbox, posted);
  $("mine-empty").hidden = notes.length > 0;
  const list = $("my-notes");
  const canEdit = phase === "collect";
  const canDelete = phase !== "closed";
  syncList(list, notes, (n) => `${n.id}|${canEdit}|${canDelete}|${editing.has(n.id)}|${confirmDelete === n.id}|${!!n.pending}|${!!n.waiting}`,
    (n) => myNoteItem(state, n, canEdit, canDelete), (node, n) => updateMyNote(node, state, n));
}

function myNoteItem(state, note, canEdit, canDelete) {
  const li = el("li", { class: "note own" });
  if (editing.has(note.id)) {
    li.append(editForm({ id: `edit-${note.id}`, text: note.text, label: t("phone.edit_label"),
      maxlength: state.workshop.settings.max_note_length,
      onSave: (text) => {
        if (!text) return;
        editing.delete(note.id);
        if (text !== note.text) conn.send(OP.EDIT_NOTE, { note_id: note.id, text });
        render();
      },
      onCancel: () => { editing.delete(note.id); render(); } }));
    return li;
  }
  li.append(
    el("p", { class: "note-prompt", text: promptText(state, note.prompt_id) }),
    el("p", { class: "note-text", text: note.text }),
    el("p", { class: "note-status" }));
  const actions = el("div", { class: "row note-actions" });
  if (confirmDelete === note.id) {
    actions.append(...askDelete({ question: t("phone.delete_confirm"),
      onYes: () => {
        confirmDelete = null;
        conn.send(OP.DELETE_NOTE, { note_id: note.id });
        announce(t("phone.deleted"));
        render();
      },
      onNo: () => { confirmDelete = null; render(); } }));
  } else if (!note.pending) {
    if (canEdit) {
      actions.append(noteButton("edit", { label: t("phone.edit_aria", { text: short(note.text) }),
        onclick: () => { editing.add(note.id); render(); } }));
    }
    if (canDelete) {
      actions.append(noteButton("delete", { label: t("phone.delete_aria", { text: short(note.text) }),
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
    const words = note.pending ? t(conn.status === "online" ? "phone.sending" : "phone.pending")
      : note.hidden ? t("phone.hidden_by_host") : note.waiting ? t("phone.waiting_approval")
      : state.workshop.settings.approval_required ? t("phone.approved") : "";
    setText(status, words);
    node.classList.toggle("waiting", !!note.waiting);
    node.classList.toggle("pending", !!note.pending);
    node.classList.toggle("is-hidden", !!note.hidden);
  }
}

let othersKey = ""; // what drawOthers drew last

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
  const entries = unsettled();
  const react = (note) => (emoji, on) => {
    conn.send(OP.REACT, { note_id: note.id, emoji, on });
    render();
  };
  const shown = state.prompts.map((prompt) => [prompt.text, (byPrompt.get(prompt.id) || []).map(
    (n) => ({ n, now: reactionsNow(n, entries) }))]).filter(([, notes]) => notes.length);
  // Redrawn only when what it shows changed: a redraw replaces the buttons, and a press
  // whose button is replaced between its down and up (Space, a tap) is lost — frequent
  // in a full room, where counts and others' reactions arrive every second.
  const key = JSON.stringify(shown.map(([text, notes]) => [text, notes.map(({ n, now }) => [
    n.id, n.text, n.author?.name || "", [...now.mine], now.counts])]));
  if (key === othersKey) return;
  othersKey = key;
  const parts = [];
  for (const [text, notes] of shown) {
    parts.push(el("h3", { class: "others-prompt", text }),
      el("ul", { class: "note-list compact" }, ...notes.map(({ n, now }) => el("li", { class: "note" },
        el("p", { class: "note-text", text: n.text }),
        n.author?.name ? el("p", { class: "note-author", text: n.author.name }) : null,
        reactionBar(n, now, react(n), short(n.text))))));
  }
  keepFocus(list, () => replace(list, ...parts));
}

function drawDone(state) {
  const done = doneNow(state, unsettled());
  const button = $("done-toggle");
  button.setAttribute("aria-pressed", done ? "true" : "false");
  setText($("done-hint"), t(done ? "done.said" : "done.hint"));
}

function drawResults(state) {
  const rows = resultRows(state, untitled);
  $("results-empty").hidden = rows.length > 0;
  replace($("ranking"), ...phoneRanking(rows, state.votes?.mine || {}));
}

function drawReceipt(state, phase) {
  const known = rememberOwn(state); // also while collecting: a note deleted later is named
  $("receipt").hidden = phase === "collect" || fatal;
  if ($("receipt").hidden) return;
  const leaving = new Set(conn.outbox.filter((e) => e.op === OP.DELETE_NOTE).map((e) => e.args.note_id));
  const rows = receiptRows(state, known, untitled, leaving);
  $("receipt-empty").hidden = rows.length > 0;
  redraw($("receipt-list"), rows, () => receiptItems(rows, (id) => promptText(state, id)));
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
  // The activity it is for: sent from an outbox after the room moved on, the server
  // refuses it (wrong_activity, its words back in the field) instead of misfiling it.
  const activity = conn.state?.workshop?.activity_id;
  const sent = conn.send(OP.ADD_NOTE, { prompt_id: currentPrompt(), text, ...(activity ? { activity_id: activity } : {}) });
  sent.twins = myNotes(conn.state, []).filter((n) => n.prompt_id === sent.args.prompt_id
    && n.text === text).length; // to show it once if its note comes before its ack
  area.value = "";
  similar.clear();
  sessionStorage.removeItem(draftKey());
  updateCount();
  announce(conn.status === "online" ? t("phone.posting") : t("phone.saved_offline"));
  area.focus();
  render();
});

$("note-text").addEventListener("input", () => {
  sessionStorage.setItem(draftKey(), $("note-text").value);
  updateCount();
});
$("note-text").value = sessionStorage.getItem(draftKey()) || "";

$("done-toggle").addEventListener("click", () => {
  conn.send(OP.SET_DONE, { done: !doneNow(conn.state, unsettled()) });
  render();
});

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
    // (Its note_added may have come first: then it is here already.)
    const here = conn.state?.notes.some((n) => n.id === result.note_id);
    if (result.note_id && !here) posted.set(entry.op_id, { noteId: result.note_id, entry });
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
    : { [CLOSE.LOCKED]: "phone.fatal.locked", [CLOSE.ERASED]: "phone.fatal.erased" }[code] || "phone.fatal.gone";
  showNotice(t(key) + (error?.message && code === CLOSE.WRONG_KEY ? ` ${error.message}` : ""));
  render();
});

bindStatus(conn);
conn.start();
