// The remote's moderation list (the control screen's compact mode): the newest notes,
// newest first, each with "hide" or "show". Rows are kept by note id, so a button keeps
// the focus while its note changes.
import { $, el, setText, syncList } from "./dom.js";
import { t } from "./i18n.js";
import { OP } from "./protocol.js";

/** How many notes the list shows: what fits a phone's screen or two. */
export const NEWEST_SHOWN = 10;

/**
 * @param {import("./connection.js").Connection} conn
 * @returns {(state: any) => void} draws the list for a state
 */
export function newestList(conn) {
  /** @type {Map<string, any>} the notes as last drawn, by id (for the buttons) */
  let shown = new Map();

  function row(note) {
    const li = el("li", { class: "newest" });
    li.dataset.id = note.id;
    li.append(
      el("p", { class: "newest-words" },
        el("span", { class: "newest-text" }),
        el("span", { class: "newest-meta" })),
      el("button", { type: "button", class: "btn btn-small newest-toggle",
        onclick: () => {
          const current = shown.get(note.id);
          if (current) conn.send(OP.MODERATE_NOTE, { note_id: note.id, hidden: !current.hidden });
        } }));
    return li;
  }

  function update(li, note) {
    li.classList.toggle("is-hidden", !!note.hidden);
    setText(li.querySelector(".newest-text"), note.text);
    const meta = [note.author?.name, note.hidden ? t("control.hidden_badge") : null].filter(Boolean).join(" · ");
    setText(li.querySelector(".newest-meta"), meta);
    const button = li.querySelector(".newest-toggle");
    setText(button, t(note.hidden ? "control.unhide" : "control.hide"));
    button.setAttribute("aria-label", `${t(note.hidden ? "control.unhide_aria" : "control.hide_aria")}: ${note.text}`);
  }

  return (state) => {
    const notes = [...(state.notes || [])]
      .sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? 1 : -1))
      .slice(0, NEWEST_SHOWN);
    shown = new Map(notes.map((n) => [n.id, n]));
    $("newest-empty").hidden = notes.length > 0;
    syncList($("newest-list"), notes, (n) => n.id, row, update);
  };
}
