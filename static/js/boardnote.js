// A note on the control screen's board: select it (keyboard clustering), hide, edit or
// delete it, and the line under it (author, group, question, dots, hidden). The board
// (static/js/board.js) keeps which notes are selected, edited or asked about.
import { el, replace, setText, announce } from "./dom.js";
import { t } from "./i18n.js";
import { askDelete, editForm, noteButton } from "./noteedit.js";
import { OP, REACTIONS } from "./protocol.js";
import { clusters as orderedClusters } from "./state.js";

/** @typedef {import("./board.js").Board} Board */

/**
 * A note on the board, made new.
 * @param {Board} board @param {any} note
 * @returns {HTMLElement}
 */
export function noteItem(board, note) {
  const li = el("li", { class: "fnote" });
  li.dataset.mode = "view";
  buildNote(board, li, note);
  return li;
}

/**
 * (Re)build a note in its mode: view, edit, or "delete?".
 * @param {Board} board @param {HTMLElement} li @param {any} note
 */
function buildNote(board, li, note) {
  const mode = board.editing.has(note.id) ? "edit" : board.confirmDelete === note.id ? "confirm" : "view";
  li.dataset.mode = mode;
  li.dataset.id = note.id;
  if (mode === "edit") {
    replace(li, editForm({ id: `edit-${note.id}`, text: note.text, label: t("control.edit_label"), small: true,
      onSave: (text) => {
        board.editing.delete(note.id);
        if (text && text !== note.text) board.conn.send(OP.EDIT_NOTE, { note_id: note.id, text });
        rebuild(board, li);
      },
      onCancel: () => { board.editing.delete(note.id); rebuild(board, li); } }));
    return;
  }
  const boxId = `sel-${note.id}`;
  const box = el("input", { type: "checkbox", id: boxId, class: "fnote-select",
    onchange: (e) => {
      const checked = /** @type {HTMLInputElement} */ (e.currentTarget).checked;
      if (checked) board.selected.add(note.id);
      else board.selected.delete(note.id);
      li.classList.toggle("selected", checked);
      board.drawMoveBar(orderedClusters(board.state));
    } });
  const actions = el("div", { class: "fnote-actions" });
  if (mode === "confirm") {
    actions.append(...askDelete({ question: t("control.delete_confirm"), small: true,
      onYes: () => {
        board.confirmDelete = null;
        board.conn.send(OP.DELETE_NOTE, { note_id: note.id });
        announce(t("control.deleted"));
      },
      onNo: () => { board.confirmDelete = null; rebuild(board, li); } }));
  } else {
    actions.append(
      el("button", { type: "button", class: "btn btn-small hide-toggle",
        onclick: () => {
          const current = board.state.notes.find((n) => n.id === note.id);
          if (!current) return;
          board.conn.send(OP.MODERATE_NOTE, { note_id: note.id, hidden: !current.hidden });
        } }),
      noteButton("edit", { label: t("control.edit_aria"), small: true,
        onclick: () => { board.editing.add(note.id); rebuild(board, li); } }),
      noteButton("delete", { label: t("control.delete_aria"), small: true,
        onclick: () => { board.confirmDelete = note.id; rebuild(board, li); } }));
  }
  replace(li,
    el("div", { class: "fnote-main" }, box, el("label", { for: boxId, class: "fnote-text" })),
    el("p", { class: "fnote-meta" }),
    actions);
  updateNote(board, li, note);
}

/** @param {Board} board @param {HTMLElement} li */
function rebuild(board, li) {
  const note = board.state.notes.find((n) => n.id === li.dataset.id);
  if (note) buildNote(board, li, note);
}

/**
 * Bring a note up to date (its text, selection, hidden, the line under it).
 * @param {Board} board @param {HTMLElement} li @param {any} note
 */
export function updateNote(board, li, note) {
  const mode = board.editing.has(note.id) ? "edit" : board.confirmDelete === note.id ? "confirm" : "view";
  if (li.dataset.mode !== mode) {
    buildNote(board, li, note);
    return;
  }
  if (mode === "edit") return;
  const label = li.querySelector(".fnote-text");
  setText(label, note.text);
  const box = li.querySelector(".fnote-select");
  box.checked = board.selected.has(note.id);
  li.classList.toggle("selected", box.checked);
  li.classList.toggle("is-hidden", !!note.hidden);
  li.classList.toggle("paper", note.source === "paper");
  li.classList.toggle("waiting", !!note.pending);
  const parts = [];
  if (note.author?.name) parts.push(note.author.name);
  // The author's group only where the wall shows it too (show_provenance): the control
  // screen does not pair people with their group either.
  const group = note.perspective ?? note.author?.perspective;
  if (board.state.workshop.settings.show_provenance && group) {
    parts.push(group === "other" ? t("results.group_other") : group);
  }
  if (note.source === "paper") {
    // A paper card: its mark, and the group typed with it (no person behind it).
    parts.push(t("control.paper_badge"));
    if (note.perspective && !board.state.workshop.settings.show_provenance) parts.push(note.perspective);
  }
  if (note.pending) parts.push(t("control.pending_badge"));
  if (board.state.prompts.length > 1 && note.cluster_id) {
    const index = board.state.prompts.findIndex((p) => p.id === note.prompt_id);
    if (index >= 0) parts.push(t("control.question_n", { n: index + 1 }));
  }
  const reacted = REACTIONS.filter((e) => (note.reactions?.[e] || 0) > 0);
  if (reacted.length) parts.push(reacted.map((e) => `${e} ${note.reactions[e]}`).join(" "));
  const dots = !note.cluster_id && board.state.votes?.totals?.[note.id];
  if (dots) parts.push(t("results.dots", { count: dots, n: dots }));
  if (note.hidden) parts.push(t("control.hidden_badge"));
  const meta = li.querySelector(".fnote-meta");
  const words = parts.join(" · ");
  setText(meta, words);
  meta.hidden = !words;
  const toggle = li.querySelector(".hide-toggle");
  if (toggle) {
    toggle.textContent = note.hidden ? t("control.unhide") : t("control.hide");
    toggle.setAttribute("aria-label", note.hidden ? t("control.unhide_aria") : t("control.hide_aria"));
  }
  for (const button of li.querySelectorAll(".fnote-actions button")) {
    button.setAttribute("aria-describedby", `sel-${note.id}-text`);
  }
  label.id = `sel-${note.id}-text`;
}
