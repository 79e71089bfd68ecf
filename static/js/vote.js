// The phone's dots (vote phase): how many are left, and + / − per item.
import { $, el, replace, setText, syncList } from "./dom.js";
import { t, num } from "./i18n.js";
import { OP } from "./protocol.js";
import { dotsLeft, myDots, voteItems } from "./state.js";
import { untitled } from "./ui.js";

/**
 * A title short enough for a button's label.
 * @param {string} text
 */
export function short(text) {
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

export class VoteList {
  /**
   * @param {import("./connection.js").Connection} conn
   * @param {() => void} render draws the phone again (after a dot is placed or taken back)
   */
  constructor(conn, render) {
    this.conn = conn;
    this.render = render;
  }

  /** @param {any} state */
  draw(state) {
    const mine = myDots(state, this.conn.outbox);
    const view = { ...state, votes: { ...state.votes, mine } };
    const left = dotsLeft(view);
    const total = state.workshop.settings.votes_per_participant;
    const perItem = state.workshop.settings.max_votes_per_item;
    const dots = $("dots-left");
    setText(dots, left ? t("phone.dots_left", { count: left, total }) : t("phone.dots_none", { total }));
    dots.classList.toggle("none-left", left === 0);
    const voters = state.votes?.voters ?? 0;
    const people = state.participants?.count ?? 0;
    setText($("vote-progress"), people
      ? t("wall.voted", { count: voters, voters: num(voters), total: num(people) }) : "");
    const items = voteItems(view, untitled);
    syncList($("vote-items"), items, (item) => item.id, (item) => this.item(item),
      (node, item) => this.update(node, item, mine[item.id] || 0, left, perItem));
  }

  /** @param {any} item @returns {HTMLElement} */
  item(item) {
    const titleId = `item-${item.id}`;
    const li = el("li", { class: `vote-item ${item.kind}` });
    li.append(el("h3", { id: titleId, class: "item-title", text: item.title }));
    if (item.kind === "cluster") li.append(el("ul", { class: "item-notes" }));
    const minus = el("button", { type: "button", class: "btn btn-round minus",
      "aria-label": t("phone.vote_minus", { item: short(item.title) }),
      onclick: () => this.vote(item.id, -1) }, el("span", { "aria-hidden": "true", text: "−" }));
    const plus = el("button", { type: "button", class: "btn btn-round plus",
      "aria-label": t("phone.vote_plus", { item: short(item.title) }),
      onclick: () => this.vote(item.id, 1) }, el("span", { "aria-hidden": "true", text: "+" }));
    const count = el("p", { class: "my-dots" },
      el("span", { class: "dot-row", "aria-hidden": "true" }),
      el("span", { class: "dot-count" }));
    li.append(el("div", { class: "vote-controls" }, minus, count, plus));
    return li;
  }

  /**
   * @param {any} node @param {any} item @param {number} mineHere my dots on this item
   * @param {number} left @param {number} perItem
   */
  update(node, item, mineHere, left, perItem) {
    setText(node.querySelector(".item-title"), item.title);
    const notes = node.querySelector(".item-notes");
    if (notes) {
      const shown = item.notes.slice(0, 3).map((n) => n.text);
      const key = JSON.stringify([shown, item.notes.length]);
      if (notes.dataset.key !== key) {
        notes.dataset.key = key;
        replace(notes, ...shown.map((text) => el("li", { text })),
          item.notes.length > 3 ? el("li", { class: "more", text: t("phone.more_notes", { count: item.notes.length - 3 }) }) : null);
      }
    }
    setText(node.querySelector(".dot-count"), t("phone.my_dots", { count: mineHere }));
    setText(node.querySelector(".dot-row"), "●".repeat(mineHere));
    node.classList.toggle("has-dots", mineHere > 0);
    node.querySelector(".minus").disabled = mineHere <= 0;
    node.querySelector(".plus").disabled = left <= 0 || mineHere >= perItem;
  }

  /** @param {string} itemId @param {number} delta */
  vote(itemId, delta) {
    this.conn.send(OP.VOTE, { item_id: itemId, delta });
    this.render();
  }
}
