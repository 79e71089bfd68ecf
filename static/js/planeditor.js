// The landing page's plan editor: the activities ("onderdelen") of a session before it
// starts: add, remove, move up and down (buttons: no dragging needed), a title and
// questions each. A plan of one is drawn as the page was before plans (its questions
// only, the ids `prompt-1`…); from two on each part gets its legend, title and buttons.
// The list is drawn again from the model after each change to its shape, and focus goes
// where the hand is (the same button at the part's new place, the next part, a new field).
import { $, el, replace, setText, announce } from "./dom.js";
import { t } from "./i18n.js";
import { LIMITS } from "./limits.js";
import { moved } from "./planlist.js";

/** @typedef {{title: string, prompts: string[], settings?: any}} Part */

const titleId = (i) => `part-${i + 1}-title`;

export function planEditor() {
  /** @type {Part[]} */
  let parts = [{ title: "", prompts: [""] }];
  const list = $("part-list");
  // A plan of one keeps the ids it had before plans; from two on, each part its own.
  const promptId = (i, j) => (parts.length === 1 ? `prompt-${j + 1}` : `part-${i + 1}-prompt-${j + 1}`);
  const addPromptId = (i) => (parts.length === 1 ? "add-prompt" : `part-${i + 1}-add-prompt`);

  /** @param {string|null} focusId */
  function draw(focusId = null) {
    const many = parts.length > 1;
    const box = $("plan-editor");
    box.dataset.parts = String(parts.length);
    setText($("plan-legend"), t(many ? "plan.parts_legend" : "landing.prompts_legend"));
    setText($("prompts-hint"), t(many ? "plan.parts_hint" : "landing.prompts_hint"));
    replace(list, ...parts.map((part, i) => partItem(part, i, many)));
    const full = parts.length >= LIMITS.activities;
    $("add-part").hidden = full;
    $("parts-full").hidden = !full;
    if (focusId) $(focusId)?.focus();
  }

  /** @param {Part} part @param {number} i @param {boolean} many */
  function partItem(part, i, many) {
    const n = i + 1;
    const name = part.title.trim() || t("plan.part_n", { n });
    const questions = el("ol", { class: "prompt-list", id: many ? `part-${n}-prompts` : "prompt-list" },
      ...part.prompts.map((text, j) => questionRow(part, i, j, text)));
    const addQuestion = el("button", { type: "button", class: "btn", id: addPromptId(i),
      text: t("landing.add_prompt"), hidden: part.prompts.length >= LIMITS.prompts,
      onclick: () => {
        if (part.prompts.length >= LIMITS.prompts) return;
        part.prompts.push("");
        draw(promptId(i, part.prompts.length - 1));
      } });
    if (!many) return el("li", { class: "part-edit" }, el("div", { class: "part-box" }, questions, addQuestion));
    const title = el("input", { id: titleId(i), type: "text", maxlength: LIMITS.title, autocomplete: "off",
      class: "part-title" });
    title.value = part.title;
    title.addEventListener("input", () => { part.title = title.value; });
    const button = (key, aria, id, onclick, hidden = false) => el("button", { type: "button",
      class: "btn btn-small", id, text: t(key), "aria-label": t(aria, { n, title: name }), hidden, onclick });
    const up = `part-${n}-up`;
    const down = `part-${n}-down`;
    return el("li", { class: "part-edit" },
      el("fieldset", { class: "part-box" },
        el("legend", { class: "part-legend", text: t("plan.part_n", { n }) }),
        el("div", { class: "field" }, el("label", { for: titleId(i), text: t("plan.part_title_label") }), title),
        questions, addQuestion,
        el("div", { class: "row part-buttons" },
          button("plan.move_up", "plan.move_up_aria", up, () => move(i, i - 1, "up"), i === 0),
          button("plan.move_down", "plan.move_down_aria", down, () => move(i, i + 1, "down"), i === parts.length - 1),
          button("action.remove", "plan.remove_aria", `part-${n}-remove`, () => remove(i)))));
  }

  /** @param {Part} part @param {number} i @param {number} j @param {string} text */
  function questionRow(part, i, j, text) {
    const id = promptId(i, j);
    const input = el("input", { id, name: "prompt", type: "text", maxlength: LIMITS.prompt, autocomplete: "off",
      "aria-describedby": parts.length > 1 ? null : "prompts-hint" });
    input.value = text;
    input.addEventListener("input", () => { part.prompts[j] = input.value; });
    const remove = part.prompts.length > 1 ? el("button", { type: "button", class: "btn btn-small",
      text: t("action.remove"), "aria-label": t("landing.remove_prompt", { n: j + 1 }),
      onclick: () => {
        part.prompts.splice(j, 1);
        draw(promptId(i, Math.min(j, part.prompts.length - 1)));
      } }) : null;
    return el("li", { class: "prompt-row" },
      el("label", { for: id, text: t("landing.prompt_label", { n: j + 1 }) }),
      el("div", { class: "row" }, input, remove));
  }

  /** @param {number} from @param {number} to @param {"up"|"down"} way */
  function move(from, to, way) {
    if (to < 0 || to >= parts.length) return;
    parts = moved(parts, from, to);
    const n = to + 1;
    // The same button at the part's new place; at an end, the other one.
    const atEnd = (way === "up" && to === 0) || (way === "down" && to === parts.length - 1);
    draw(`part-${n}-${atEnd ? (way === "up" ? "down" : "up") : way}`);
    announce(t("plan.moved", { title: parts[to].title.trim() || t("plan.part_n", { n }), n }));
  }

  /** @param {number} i */
  function remove(i) {
    parts.splice(i, 1);
    draw(parts.length > 1 ? titleId(Math.min(i, parts.length - 1)) : promptId(0, 0));
    announce(t("plan.removed"));
  }

  $("add-part").addEventListener("click", () => {
    if (parts.length >= LIMITS.activities) return;
    parts.push({ title: "", prompts: [""] });
    draw(titleId(parts.length - 1));
    announce(t("plan.added", { n: parts.length }));
  });

  draw();
  return {
    /** The parts as they are now (copies). @returns {Part[]} */
    parts: () => parts.map((p) => ({ ...p, prompts: [...p.prompts] })),
    /** Start from these parts (a template's), or one empty part. @param {Part[]|null} given */
    set(given) {
      parts = given?.length
        ? given.slice(0, LIMITS.activities).map((p) => ({ title: p.title || "", prompts: [...(p.prompts?.length ? p.prompts : [""])],
          settings: p.settings }))
        : [{ title: "", prompts: [""] }];
      draw();
    },
    /** The first part without a question: {message, field}, or null. */
    problem() {
      const i = parts.findIndex((p) => !p.prompts.some((q) => q.trim()));
      if (i < 0) return null;
      const message = parts.length > 1 ? t("plan.need_prompt", { n: i + 1 }) : t("landing.need_prompt");
      return { message, field: $(promptId(i, 0)) };
    },
  };
}
