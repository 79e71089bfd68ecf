// The approval queue on the control screen (setting approval_required): the notes that
// wait, oldest first, each with approve and hide, one key each, and "approve all"; the
// count waiting also in the header. Self-contained: give it the connection and call
// draw(state) on every render; it needs templates/_partials/approval_queue.html.
import { $, el, setText, syncList, announce } from "./dom.js";
import { t } from "./i18n.js";
import { OP } from "./protocol.js";

/** The notes that wait for approval, oldest first (hidden ones are out of the queue). */
export function waiting(state) {
  return (state?.notes || []).filter((n) => n.pending && !n.hidden)
    .sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
}

/** @param {any} conn the screen's connection */
export function approvalQueue(conn) {
  /** Notes sent off (approved or hidden) whose event has not come back: out of the queue. */
  const handled = new Set();
  const list = $("approval-list");
  let shown = [];

  function act(noteId, approve) {
    const index = shown.findIndex((n) => n.id === noteId);
    handled.add(noteId);
    if (approve) conn.send(OP.APPROVE_NOTES, { note_ids: [noteId] });
    else conn.send(OP.MODERATE_NOTE, { note_id: noteId, hidden: true });
    announce(t(approve ? "approval.approved" : "approval.hidden"));
    draw(conn.state);
    // On to the next note (or the one before, at the end), so the keys go on working.
    const items = list.querySelectorAll("li[data-id]");
    const next = items[Math.min(index, items.length - 1)];
    if (next) /** @type {HTMLElement} */ (next).focus();
    else $("approval-all").focus();
  }

  function item(note) {
    const short = note.text.length > 60 ? `${note.text.slice(0, 60)}…` : note.text;
    return el("li", { class: "approval-item", tabindex: "0", "data-id": note.id,
      "aria-describedby": "approval-hint" },
    el("p", { class: "approval-text", text: note.text }),
    el("p", { class: "approval-meta" }),
    el("div", { class: "row" },
      el("button", { type: "button", class: "btn btn-small btn-primary", "data-act": "approve",
        "aria-label": t("approval.approve_aria", { text: short }), text: t("approval.approve"),
        onclick: () => act(note.id, true) }),
      el("button", { type: "button", class: "btn btn-small", "data-act": "hide",
        "aria-label": t("approval.hide_aria", { text: short }), text: t("approval.hide"),
        onclick: () => act(note.id, false) })));
  }

  list.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const li = /** @type {HTMLElement} */ (event.target).closest?.("li[data-id]");
    if (!li) return;
    const key = event.key.toLowerCase();
    if (key === t("approval.key_approve")) act(li.dataset.id, true);
    else if (key === t("approval.key_hide")) act(li.dataset.id, false);
    else return;
    event.preventDefault();
  });
  $("approval-all").addEventListener("click", () => {
    const ids = shown.map((n) => n.id);
    if (!ids.length) return;
    for (const id of ids) handled.add(id);
    conn.send(OP.APPROVE_NOTES, { note_ids: ids });
    announce(t("approval.approved_all", { count: ids.length, n: ids.length }));
    draw(conn.state);
  });
  conn.on("nack", (entry) => {
    // Refused (say, the note was hidden meanwhile): whatever still waits comes back.
    if (entry.op === OP.APPROVE_NOTES) for (const id of entry.args.note_ids) handled.delete(id);
    if (entry.op === OP.MODERATE_NOTE) handled.delete(entry.args.note_id);
  });

  function draw(state) {
    if (!state) return;
    const all = waiting(state);
    const still = new Set(all.map((n) => n.id));
    for (const id of handled) if (!still.has(id)) handled.delete(id);
    shown = all.filter((n) => !handled.has(n.id));
    const on = !!state.workshop.settings.approval_required;
    $("approval-section").hidden = !on && !shown.length;
    const words = t("approval.count", { count: shown.length, n: shown.length });
    setText($("approval-count"), words);
    const badge = $("approval-waiting");
    if (badge) {
      badge.hidden = !shown.length;
      setText(badge, words);
    }
    $("approval-all").disabled = !shown.length;
    $("approval-empty").hidden = shown.length > 0;
    const prompts = state.prompts || [];
    syncList(list, shown, (n) => n.id, item, (node, n) => {
      setText(node.querySelector(".approval-text"), n.text);
      const index = prompts.findIndex((p) => p.id === n.prompt_id);
      const meta = [n.author?.name, prompts.length > 1 && index >= 0 ? t("control.question_n", { n: index + 1 }) : null]
        .filter(Boolean).join(" · ");
      const box = node.querySelector(".approval-meta");
      setText(box, meta);
      /** @type {HTMLElement} */ (box).hidden = !meta;
    });
  }

  return { draw };
}
