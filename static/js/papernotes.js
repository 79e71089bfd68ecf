// Notes from paper cards on the control screen: pick the question and (where the
// workshop has groups) the writer's group once, then type card after card; Enter posts
// and clears the field for the next one, so a pile of cards goes in by keyboard alone.
// Self-contained: give it the connection and call draw(state) on every render; it needs
// templates/_partials/paper_notes.html.
import { $, el, replace, setText, announce } from "./dom.js";
import { t } from "./i18n.js";
import { OP } from "./protocol.js";

/** @param {any} conn the screen's connection */
export function paperNotes(conn) {
  const form = /** @type {HTMLFormElement} */ ($("paper-form"));
  const text = /** @type {HTMLInputElement} */ ($("paper-text"));
  const prompt = /** @type {HTMLSelectElement} */ ($("paper-prompt"));
  const group = /** @type {HTMLSelectElement} */ ($("paper-group"));
  let added = 0;
  let drawnPrompts = "";
  let drawnGroups = "";

  function say(words, warn = false) {
    const status = $("paper-status");
    status.classList.toggle("warn", warn);
    setText(status, words);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const state = conn.state;
    if (!state) return;
    const value = text.value.trim();
    const max = state.workshop.settings.max_note_length;
    if (!value) {
      text.setAttribute("aria-invalid", "true");
      say(t("paper.empty"), true);
      return;
    }
    if (value.length > max) {
      text.setAttribute("aria-invalid", "true");
      say(t("paper.too_long", { max }), true);
      return;
    }
    text.removeAttribute("aria-invalid");
    // The activity it is for: typed in as the room moves on, it is refused, not misfiled.
    const activity = conn.state?.workshop?.activity_id;
    conn.send(OP.ADD_PAPER_NOTE, { prompt_id: prompt.value, text: value,
      perspective: group.value || null, ...(activity ? { activity_id: activity } : {}) });
    added += 1;
    text.value = "";
    text.focus();
    say(t("paper.added", { n: added }));
  });
  conn.on("nack", (entry, error) => {
    if (entry.op !== OP.ADD_PAPER_NOTE) return;
    // The card did not go in: put its text back unless a new one is being typed.
    if (!text.value) text.value = entry.args.text;
    text.setAttribute("aria-invalid", "true");
    say(error?.message || t("error.generic"), true);
    announce(error?.message || t("error.generic"));
  });

  function draw(state) {
    if (!state) return;
    $("paper-section").hidden = state.workshop.phase === "closed";
    const prompts = JSON.stringify(state.prompts.map((p) => [p.id, p.text]));
    if (prompts !== drawnPrompts) {
      drawnPrompts = prompts;
      const current = prompt.value;
      replace(prompt, ...state.prompts.map((p, i) => el("option", { value: p.id,
        text: `${i + 1}. ${p.text}` })));
      if (state.prompts.some((p) => p.id === current)) prompt.value = current;
      $("paper-prompt-field").hidden = state.prompts.length < 2;
    }
    const perspectives = state.workshop.settings.perspectives || [];
    const groups = JSON.stringify(perspectives);
    if (groups !== drawnGroups) {
      drawnGroups = groups;
      const current = group.value;
      replace(group, el("option", { value: "", text: t("paper.no_group") }),
        ...perspectives.map((p) => el("option", { value: p, text: p })));
      if (perspectives.includes(current)) group.value = current;
      $("paper-group-field").hidden = !perspectives.length;
    }
    text.maxLength = state.workshop.settings.max_note_length;
  }

  return { draw };
}
