// "Lijkt op: …" on the phone (issue 11): while a participant types a note, after a pause
// of about half a second, up to three notes already posted that say something like it
// (similar_notes). A hint only: it sits in a polite live region, never takes the focus,
// and the participant may post all the same. No question for a text under 3 letters or
// digits, and never more than one in flight (the newest text is asked when it returns).
import { $, el, replace } from "./dom.js";
import { t } from "./i18n.js";
import { OP } from "./protocol.js";

const PAUSE_MS = 500;
/** The server's model was still loading (`loading`): ask again after this long. */
const LOADING_MS = 1500;
const MIN_CHARS = 3;

/** Letters and digits in a text (what a question needs at least MIN_CHARS of). */
function letters(text) {
  return (text.match(/[\p{L}\p{N}]/gu) || []).length;
}

/**
 * @param {any} conn the phone's connection
 * @param {HTMLTextAreaElement} area the note's text field
 * @param {() => string|null} promptOf the question the note is for
 */
export function similarHint(conn, area, promptOf) {
  const box = $("similar");
  let timer = 0;
  let inflight = false;
  let shownFor = "";

  function show(notes) {
    box.hidden = notes.length === 0;
    if (!notes.length) {
      replace(box);
      return;
    }
    replace(box, el("p", { class: "similar-label", text: t("phone.similar") }),
      el("ul", { class: "similar-list" }, ...notes.map((n) => el("li", { text: n.text }))),
      el("p", { class: "hint", text: t("phone.similar_hint") }));
  }

  function wanted() {
    const max = conn.state?.workshop.settings.max_note_length || 280;
    return area.value.trim().slice(0, max);
  }

  function ask() {
    const text = wanted();
    if (letters(text) < MIN_CHARS || conn.state?.workshop.phase !== "collect") {
      shownFor = "";
      show([]);
      return;
    }
    if (inflight || text === shownFor) return;
    inflight = true;
    conn.ask(OP.SIMILAR_NOTES, { prompt_id: promptOf(), text })
      .then((result) => {
        if (wanted() !== text) return;
        if (result.loading) {
          clearTimeout(timer);
          timer = window.setTimeout(ask, LOADING_MS);
          return;
        }
        shownFor = text;
        show(result.notes || []);
      })
      .catch(() => {})  // a hint only: nothing to say when it could not be asked
      .finally(() => {
        inflight = false;
        if (wanted() !== text) ask();  // typed on meanwhile: ask for the newest text
      });
  }

  area.addEventListener("input", () => {
    clearTimeout(timer);
    timer = window.setTimeout(ask, PAUSE_MS);
  });

  return {
    /** The note was posted (or writing is over): no hint. */
    clear() {
      clearTimeout(timer);
      shownFor = "";
      show([]);
    },
  };
}
