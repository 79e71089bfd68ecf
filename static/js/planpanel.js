// The control screen's programme: the session plan as an ordered list, the current
// activity marked (aria-current="step"), "Ga naar" per activity and "Volgende
// onderdeel", and add / remove / move / edit during the session (ops of PLAN_API.md;
// every screen follows from `plan_changed` and `activity_changed`). An activity with a
// suggested timer offers to start it. Errors (say, removing a part that holds notes)
// come as the server's words in the status line.
import { $, el, replace, setText, syncList } from "./dom.js";
import { t } from "./i18n.js";
import { LIMITS } from "./limits.js";
import { OP } from "./protocol.js";
import { promptLines, suggestedMinutes } from "./planlist.js";
import { phaseName } from "./ui.js";

/** The plan's ops (PLAN_API.md). */
const PLAN_OP = Object.freeze({
  SET: OP.SET_ACTIVITY, ADD: OP.ADD_ACTIVITY, EDIT: OP.EDIT_ACTIVITY, REMOVE: OP.REMOVE_ACTIVITY,
  MOVE: OP.MOVE_ACTIVITY,
});
export const PLAN_OPS = Object.freeze(Object.values(PLAN_OP));

/** @param {import("./connection.js").Connection} conn */
export function planPanel(conn) {
  const list = $("plan-list");
  const status = $("plan-status");
  /** The activity whose edit form is open (null: none). */
  let editing = null;

  /** The facilitator's plan (with questions), or the activities list of any role. */
  const planOf = (state) => state.workshop.plan || state.workshop.activities || [];

  function say(words, warn = false) {
    status.classList.toggle("warn", warn);
    setText(status, words);
  }

  /** @param {any} a */
  function row(a) {
    const li = el("li", { class: "plan-item" },
      el("div", { class: "plan-item-head" },
        el("span", { class: "plan-n", "aria-hidden": "true" }),
        el("span", { class: "plan-title" }),
        el("span", { class: "plan-state" })),
      el("div", { class: "row plan-buttons" }),
      el("div", { class: "plan-edit" }));
    li.dataset.id = a.id;
    return li;
  }

  function button(id, text, aria, onclick, cls = "btn btn-small") {
    return el("button", { type: "button", class: cls, id, text, "aria-label": aria, onclick });
  }

  /** @param {Element} li @param {any} a @param {number} i @param {number} total @param {boolean} current @param {boolean} closed */
  function update(li, a, i, total, current, closed) {
    const n = i + 1;
    const title = a.title || t("plan.part_n", { n });
    li.classList.toggle("current", current);
    if (current) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
    setText(li.querySelector(".plan-n"), String(n));
    setText(li.querySelector(".plan-title"), title);
    setText(li.querySelector(".plan-state"), current ? t("plan.now")
      : a.phase ? t("plan.phase_of", { phase: phaseName(a.phase) }) : "");
    const key = JSON.stringify([a.id, n, total, title, current, closed, editing === a.id]);
    const buttons = li.querySelector(".plan-buttons");
    if (buttons.dataset.key !== key) {
      buttons.dataset.key = key;
      const id = a.id;
      replace(buttons,
        !current && !closed ? button(`plan-go-${id}`, t("plan.go_to"), t("plan.go_to_aria", { n, title }),
          () => go(id), "btn btn-small btn-primary") : null,
        i > 0 ? button(`plan-up-${id}`, t("plan.move_up"), t("plan.move_up_aria", { n, title }),
          () => send(PLAN_OP.MOVE, { activity_id: id, to: i - 1 })) : null,
        i < total - 1 ? button(`plan-down-${id}`, t("plan.move_down"), t("plan.move_down_aria", { n, title }),
          () => send(PLAN_OP.MOVE, { activity_id: id, to: i + 1 })) : null,
        button(`plan-edit-${id}`, t("plan.edit"), t("plan.edit_aria", { n, title }), () => openEdit(id)),
        !current && total > 1 ? button(`plan-remove-${id}`, t("action.remove"), t("plan.remove_aria", { n, title }),
          () => send(PLAN_OP.REMOVE, { activity_id: id })) : null);
      const box = li.querySelector(".plan-edit");
      replace(box, editing === id ? editForm(a, current, n) : null);
    }
  }

  /** The edit form of one activity: its title, and (not for the current one) its questions.
   * @param {any} a @param {boolean} current @param {number} n its place (from 1) */
  function editForm(a, current, n) {
    const titleId = `plan-edit-title-${a.id}`;
    const promptsId = `plan-edit-prompts-${a.id}`;
    const title = el("input", { id: titleId, type: "text", maxlength: LIMITS.title, autocomplete: "off" });
    title.value = a.title || "";
    const prompts = current ? null : el("textarea", { id: promptsId, rows: 3 });
    if (prompts) prompts.value = (a.prompts || []).join("\n");
    const form = el("form", { class: "plan-edit-form", novalidate: true },
      el("label", { for: titleId, text: t("plan.part_title_label") }), title,
      current ? el("p", { class: "hint", text: t("plan.edit_current_hint") })
        : el("label", { for: promptsId, text: t("plan.prompts_label") }), prompts,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "btn btn-primary btn-small", text: t("action.save") }),
        el("button", { type: "button", class: "btn btn-small", text: t("action.cancel"),
          onclick: () => closeEdit(a.id) })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const args = { activity_id: a.id };
      const text = title.value.trim();
      if (!text) {
        title.setAttribute("aria-invalid", "true");
        say(t("plan.need_part_title", { n }), true);
        title.focus();
        return;
      }
      if (text !== a.title) args.title = text;
      if (prompts) {
        const lines = promptLines(prompts.value).slice(0, LIMITS.prompts);
        if (!lines.length) {
          prompts.setAttribute("aria-invalid", "true");
          say(t("control.prompt_empty"), true);
          prompts.focus();
          return;
        }
        if (JSON.stringify(lines) !== JSON.stringify(a.prompts || [])) args.prompts = lines;
      }
      if (Object.keys(args).length > 1) send(PLAN_OP.EDIT, args);
      closeEdit(a.id);
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeEdit(a.id);
    });
    return form;
  }

  function openEdit(id) {
    editing = id;
    redraw();
    $(`plan-edit-title-${id}`)?.focus();
  }

  function closeEdit(id) {
    editing = null;
    redraw();
    $(`plan-edit-${id}`)?.focus();
  }

  function go(id) {
    say("");
    conn.send(PLAN_OP.SET, { activity_id: id });
  }

  function send(op, args) {
    say(t("plan.saving"));
    conn.send(op, args);
  }

  let last = null;
  function redraw() {
    if (last) draw(last);
  }

  // "Onderdeel toevoegen": at the end of the plan.
  const addForm = /** @type {HTMLFormElement} */ ($("plan-add-form"));
  addForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const title = /** @type {HTMLInputElement} */ ($("plan-add-title"));
    const prompts = /** @type {HTMLTextAreaElement} */ ($("plan-add-prompts"));
    const lines = promptLines(prompts.value).slice(0, LIMITS.prompts);
    const total = planOf(conn.state || { workshop: {} }).length;
    if (!title.value.trim()) {
      say(t("plan.need_part_title", { n: total + 1 }), true);
      title.focus();
      return;
    }
    if (!lines.length) {
      say(t("plan.need_prompt", { n: total + 1 }), true);
      prompts.focus();
      return;
    }
    send(PLAN_OP.ADD, { title: title.value.trim(), prompts: lines, after: null });
    title.value = "";
    prompts.value = "";
  });

  $("plan-next").addEventListener("click", () => {
    const state = conn.state;
    if (!state) return;
    const plan = planOf(state);
    const i = plan.findIndex((a) => a.id === state.workshop.activity_id);
    if (i >= 0 && i < plan.length - 1) go(plan[i + 1].id);
  });
  $("plan-timer-start").addEventListener("click", () => {
    const seconds = Number($("plan-timer-start").dataset.seconds);
    if (seconds > 0) conn.send(OP.TIMER, { action: "start", seconds });
  });

  /** @param {any} state */
  function draw(state) {
    last = state;
    const plan = planOf(state);
    const ws = state.workshop;
    const closed = ws.phase === "closed";
    const focused = document.activeElement?.id;
    if (editing && !plan.some((a) => a.id === editing)) editing = null;
    syncList(list, plan, (a) => a.id, row,
      (li, a) => update(li, a, plan.indexOf(a), plan.length, a.id === ws.activity_id, closed));
    // A moved row loses focus in some browsers: give it back to the same button.
    if (focused && document.activeElement === document.body) $(focused)?.focus();
    const i = plan.findIndex((a) => a.id === ws.activity_id);
    const next = i >= 0 && i < plan.length - 1 ? plan[i + 1] : null;
    const nextButton = $("plan-next");
    nextButton.hidden = !next || closed;
    if (next) setText(nextButton, t("plan.next", { title: next.title || t("plan.part_n", { n: i + 2 }) }));
    $("plan-last").hidden = !!next || plan.length < 2;
    $("plan-add").hidden = plan.length >= LIMITS.activities;
    // The current activity's suggested timer (its settings are the workshop's now),
    // while no timer runs or waits.
    const minutes = suggestedMinutes(ws.settings);
    const timerOn = ws.timer?.running || ws.timer?.remaining_ms != null;
    $("plan-timer").hidden = !minutes || timerOn || closed;
    if (minutes) {
      setText($("plan-timer-text"), t("plan.timer_offer", { minutes }));
      const start = $("plan-timer-start");
      setText(start, t("plan.timer_start", { minutes }));
      start.dataset.seconds = String(Math.round(Number(ws.settings.timer_seconds)));
    }
  }

  return {
    draw,
    /** A plan op was taken. @param {{op: string}} entry */
    saved(entry) {
      if (entry.op !== PLAN_OP.SET) say(t("plan.saved"));
    },
    /** A plan op was refused: the server's words. @param {string} words */
    failed(words) {
      say(words, true);
    },
    /** Another activity is on: close an open edit form. */
    activityChanged() {
      editing = null;
    },
  };
}
