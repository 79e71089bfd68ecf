// "Ik doe mee": in the results (and after the session, on the receipt page) a participant
// offers to help with an item, and may leave a way to be reached with an explicit consent
// line that says who sees it and for what. Without the tick no contact is sent at all.
// Everyone sees how many offered per item (never who); only the facilitator sees who.
import { el, replace, announce } from "./dom.js";
import { t, num } from "./i18n.js";
import { LIMITS } from "./limits.js";
import { OP } from "./protocol.js";
import { voteItems } from "./state.js";

/** Own offers with the sign_up ops still in the outbox laid over them. */
export function mySignUps(state, outbox) {
  const mine = { ...(state?.my_sign_ups || {}) };
  for (const entry of outbox) {
    if (entry.op !== OP.SIGN_UP) continue;
    if (entry.args.on) mine[entry.args.item_id] = { contact: entry.args.contact, pending: true };
    else delete mine[entry.args.item_id];
  }
  return mine;
}

/** Items in the order of the results (ranked first), then the rest as on the board. */
function orderedItems(state, untitled) {
  const items = voteItems(state, untitled);
  const ranking = state.votes?.ranking || [];
  const at = (id) => { const i = ranking.indexOf(id); return i < 0 ? ranking.length : i; };
  return items.map((item, i) => ({ item, i })).sort((a, b) => at(a.item.id) - at(b.item.id) || a.i - b.i)
    .map(({ item }) => item);
}

export class SignUps {
  /**
   * @param {import("./connection.js").Connection} conn
   * @param {() => void} render
   */
  constructor(conn, render) {
    this.conn = conn;
    this.render = render;
    /** the item whose form is open, and the form (kept across draws: typed text stays) */
    this.open = null;
    this.form = null;
  }

  /** Draw the list into `box` (an <ul>). */
  draw(box, state, untitled) {
    const mine = mySignUps(state, this.conn.outbox);
    const counts = state.votes?.sign_ups || {};
    const items = orderedItems(state, untitled);
    const key = JSON.stringify([items.map((i) => [i.id, i.title]), counts, mine, this.open]);
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    replace(box, ...items.map((item) => this.row(item, counts[item.id] || 0, mine[item.id])));
  }

  row(item, count, mine) {
    const li = el("li", { class: "signup-item", dataset: { item: item.id } },
      el("p", { class: "signup-title", text: item.title }),
      el("p", { class: "signup-count", text: count ? t("signup.count", { count, n: num(count) }) : t("signup.none") }));
    if (mine) {
      li.append(el("p", { class: "signup-mine", text: mine.contact ? t("signup.yours_contact", { contact: mine.contact })
        : t("signup.yours") }),
      el("button", { type: "button", class: "btn", text: t("signup.withdraw"),
        "aria-label": t("signup.withdraw_aria", { name: item.title }),
        onclick: () => {
          this.conn.send(OP.SIGN_UP, { item_id: item.id, on: false, contact: null, consent: false });
          announce(t("signup.withdrawn"));
          this.render();
        } }));
    } else if (this.open === item.id) {
      li.append(this.formFor(item));
    } else {
      li.append(el("button", { type: "button", class: "btn btn-primary signup-open", text: t("signup.button"),
        "aria-label": t("signup.button_aria", { name: item.title }),
        onclick: () => { this.open = item.id; this.form = null; this.render(); } }));
    }
    return li;
  }

  formFor(item) {
    if (this.form && this.form.dataset.item === item.id) return this.form;
    const id = `signup-${item.id}`;
    const contact = el("input", { id: `${id}-contact`, type: "text", maxlength: LIMITS.contact,
      autocomplete: "email", "aria-describedby": `${id}-hint` });
    const consent = el("input", { id: `${id}-consent`, type: "checkbox" });
    const error = el("p", { class: "field-error", id: `${id}-error`, hidden: true });
    const form = el("form", { class: "signup-form", dataset: { item: item.id }, novalidate: true },
      el("label", { for: contact.id, text: t("signup.contact_label") }),
      el("p", { class: "hint", id: `${id}-hint`, text: t("signup.contact_hint") }),
      contact,
      el("div", { class: "check" }, consent, el("label", { for: consent.id, text: t("signup.consent") })),
      error,
      el("div", { class: "row" },
        el("button", { type: "submit", class: "btn btn-primary", text: t("signup.confirm") }),
        el("button", { type: "button", class: "btn", text: t("action.cancel"),
          onclick: () => { this.open = null; this.form = null; this.render(); } })));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = contact.value.trim();
      if (text && !consent.checked) {
        // Without the tick the contact would not be kept: say so instead of dropping it.
        error.textContent = t("signup.consent_needed");
        error.hidden = false;
        consent.focus();
        return;
      }
      this.conn.send(OP.SIGN_UP, { item_id: item.id, on: true,
        contact: text && consent.checked ? text : null, consent: consent.checked });
      this.open = null;
      this.form = null;
      announce(t("signup.done"));
      this.render();
    });
    this.form = form;
    return form;
  }
}
