// The control screen's questions: reword one, or add one, during the session. Every
// screen follows from the `prompts_changed` event (the phone's choice, the wall's
// columns, the exports). The server refuses an empty or too long question and a
// seventh one (its message comes as the control screen's notice); the screen checks the
// same first, so that a slip gets its words at once, beside the field.
import { $, el, setText, syncList } from "./dom.js";
import { t } from "./i18n.js";
import { LIMITS } from "./limits.js";
import { OP } from "./protocol.js";

/** @param {import("./connection.js").Connection} conn */
export function promptsPanel(conn) {
  const addForm = /** @type {HTMLFormElement} */ ($("prompt-add-form"));
  const addInput = /** @type {HTMLInputElement} */ ($("prompt-add-text"));
  const status = $("prompts-status");

  /** Words beside a field, and the field marked (or unmarked) as wrong. */
  function problem(input, words) {
    if (words) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    status.classList.toggle("warn", !!words);
    setText(status, words || "");
    if (words) input.focus();
  }

  /** The cleaned text, or null after saying what is wrong. @param {HTMLInputElement} input */
  function checked(input) {
    const text = input.value.trim();
    if (!text) {
      problem(input, t("control.prompt_empty"));
      return null;
    }
    if (text.length > LIMITS.prompt) {
      problem(input, t("control.prompt_too_long", { max: LIMITS.prompt }));
      return null;
    }
    problem(input, "");
    return text;
  }

  function row(prompt) {
    const id = `prompt-edit-${prompt.id}`;
    const input = el("input", { id, type: "text", class: "prompt-edit", maxlength: LIMITS.prompt,
      autocomplete: "off" });
    input.value = prompt.text;
    input.addEventListener("input", () => { input.dataset.dirty = "1"; });
    const form = el("form", { class: "prompt-row", novalidate: true },
      el("label", { for: id, class: "prompt-label" }),
      el("div", { class: "row" }, input,
        el("button", { type: "submit", class: "btn btn-small", text: t("action.save") })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = checked(input);
      if (text === null) return;
      delete input.dataset.dirty;
      const current = conn.state?.prompts.find((p) => p.id === prompt.id);
      if (current && current.text === text) {
        setText(status, t("control.prompt_unchanged"));
        return;
      }
      setText(status, t("control.prompt_saving"));
      conn.send(OP.EDIT_PROMPT, { prompt_id: prompt.id, text });
    });
    return form;
  }

  addForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if ((conn.state?.prompts.length ?? 0) >= LIMITS.prompts) {
      problem(addInput, t("control.prompts_full", { max: LIMITS.prompts }));
      return;
    }
    const text = checked(addInput);
    if (text === null) return;
    setText(status, t("control.prompt_saving"));
    conn.send(OP.ADD_PROMPT, { text });
    addInput.value = "";
  });

  return {
    /** @param {any} state */
    draw(state) {
      const closed = state.workshop.phase === "closed";
      const prompts = state.prompts || [];
      syncList($("prompt-rows"), prompts, (p) => p.id, row, (form, p) => {
        const index = prompts.indexOf(p);
        setText(form.querySelector("label"), t("control.prompt_n", { n: index + 1 }));
        const input = /** @type {HTMLInputElement} */ (form.querySelector("input"));
        // Keep what the facilitator is typing; otherwise show the current text.
        if (document.activeElement !== input && !input.dataset.dirty) input.value = p.text;
        input.disabled = closed;
        /** @type {HTMLButtonElement} */ (form.querySelector("button")).disabled = closed;
      });
      const full = prompts.length >= LIMITS.prompts;
      addForm.hidden = full || closed;
      setText($("prompts-count"), t(full ? "control.prompts_full" : "control.prompts_count",
        { count: prompts.length, max: LIMITS.prompts }));
    },
    /** The server took the change: say so. */
    saved() {
      status.classList.remove("warn");
      setText(status, t("control.prompt_saved"));
    },
    /** The server refused it (say, a seventh question): its words, beside the panel. */
    failed(words) {
      status.classList.add("warn");
      setText(status, words);
    },
  };
}
