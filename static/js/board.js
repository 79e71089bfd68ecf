// The facilitator's board: every note, with hide / edit / delete, and clustering by drag
// and drop (SortableJS, mouse and touch) or by keyboard (checkboxes and a "move to" menu).
import Sortable from "../vendor/sortablejs/sortable.esm.js";
import { $, el, setOptions, setText, syncList, announce } from "./dom.js";
import { t } from "./i18n.js";
import { noteItem, updateNote } from "./boardnote.js";
import { mergeRow, updateMergeRow } from "./merge.js";
import { LIMITS } from "./limits.js";
import { OP } from "./protocol.js";
import { clusters as orderedClusters } from "./state.js";
import { reactionTotal } from "./reactions.js";
import { untitled } from "./ui.js";

export class Board {
  /**
   * @param {import("./connection.js").Connection} conn
   * @param {(text: string) => void} notice
   */
  constructor(conn, notice) {
    this.conn = conn;
    this.notice = notice;
    /** @type {Set<string>} selected note ids (keyboard clustering, multi-drag) */
    this.selected = new Set();
    /** @type {Set<string>} notes whose edit form is open */
    this.editing = new Set();
    this.confirmDelete = null;
    this.dragging = false;
    /** real cluster id → the key its card was made under (a pending id), so it stays */
    this.alias = new Map();
    /** pending id → a title typed before the server had answered for the new cluster */
    this.titleLater = new Map();
    this.state = null;
    this.lists = new WeakSet();
    this.sortable($("new-cluster-drop"));
    $("move-apply").addEventListener("click", () => this.moveSelected());
    $("select-none").addEventListener("click", () => {
      this.selected.clear();
      this.draw(this.state);
    });
    $("sort-reactions").addEventListener("change", () => this.draw(this.state));
  }

  /** Lists made sortable share one group, so a note can go from any list to any other. */
  sortable(list) {
    if (this.lists.has(list)) return;
    this.lists.add(list);
    Sortable.create(list, {
      group: "notes",
      animation: 150,
      delay: 120,
      delayOnTouchOnly: true,
      filter: "input, button, textarea, select, a",
      preventOnFilter: false,
      ghostClass: "drag-ghost",
      chosenClass: "drag-chosen",
      onStart: () => { this.dragging = true; },
      onEnd: (evt) => {
        this.dragging = false;
        if (evt.to !== evt.from) this.dropped(evt.item.dataset.key, evt.to.dataset.target);
        this.draw(this.state);
      },
    });
  }

  dropped(noteId, target) {
    if (!noteId || !target) return;
    const ids = this.selected.has(noteId) ? [...this.selected] : [noteId];
    this.move(ids, target);
  }

  /** The stored id of a cluster card's cluster: a pending id once the server acked it
   * (its event may still be on the way), or null before that. */
  realId(id) {
    if (!id.startsWith("pending:")) return id;
    for (const [real, key] of this.alias) if (key === id) return real;
    return null;
  }

  /** The server made the cluster shown under `key`: keep its card, and send a title
   * typed meanwhile. */
  clusterMade(real, key) {
    this.alias.set(real, key);
    const title = this.titleLater.get(key);
    this.titleLater.delete(key);
    if (title !== undefined) this.conn.send(OP.RENAME_CLUSTER, { cluster_id: real, title });
  }

  /** target: "new", "loose", or a cluster id. */
  move(ids, target) {
    if (!ids.length) return;
    if (target.startsWith("pending:")) {
      const real = this.realId(target);
      if (!real) {
        this.notice(t("control.wait_cluster"));
        return;
      }
      target = real;
    }
    const name = this.targetName(target);
    if (target === "loose") this.conn.send(OP.UNCLUSTER, { note_ids: ids });
    else this.conn.send(OP.CLUSTER, { note_ids: ids, cluster_id: target === "new" ? null : target });
    this.selected.clear();
    announce(t("control.moved", { count: ids.length, target: name }));
  }

  targetName(target) {
    if (target === "new") return t("control.target_new");
    if (target === "loose") return t("control.target_loose");
    const list = orderedClusters(this.state);
    const index = list.findIndex((c) => c.id === target);
    return index >= 0 ? list[index].title || untitled(index + 1) : "";
  }

  moveSelected() {
    const target = $("move-target").value;
    if (!this.selected.size) {
      this.notice(t("control.select_first"));
      return;
    }
    this.move([...this.selected], target);
    this.draw(this.state);
  }

  /** @param {any} state the overlaid state */
  draw(state) {
    this.state = state;
    if (!state || this.dragging) return;
    const list = orderedClusters(state);
    // Drop selections of notes that are gone.
    const ids = new Set(state.notes.map((n) => n.id));
    for (const id of this.selected) if (!ids.has(id)) this.selected.delete(id);

    syncList($("clusters"), list.map((c, index) => ({ c, index })),
      ({ c }) => this.alias.get(c.id) ?? c.id,
      ({ c, index }) => this.clusterCard(c, index),
      (node, { c, index }) => this.updateCluster(node, c, index));

    const byPrompt = new Map(state.prompts.map((p) => [p.id, []]));
    for (const note of state.notes) {
      if (!note.cluster_id) byPrompt.get(note.prompt_id)?.push(note);
    }
    if (/** @type {HTMLInputElement} */ ($("sort-reactions")).checked) {
      // Most reactions first; equal ones keep the order they came in (sort is stable).
      for (const notes of byPrompt.values()) notes.sort((a, b) => reactionTotal(b) - reactionTotal(a));
    }
    syncList($("loose-lists"), state.prompts, (p) => p.id, (p) => this.looseList(p),
      (node, p) => {
        setText(node.querySelector("h4"), p.text);
        this.fillList(node.querySelector("ul"), byPrompt.get(p.id) || []);
      });
    // A note dropped on "new theme" lives in its new cluster now; clear the drop zone.
    $("new-cluster-drop").replaceChildren();
    this.drawMoveBar(list);
  }

  looseList(prompt) {
    const ul = el("ul", { class: "note-drop loose", dataset: { target: "loose", empty: t("control.loose_empty") } });
    this.sortable(ul);
    return el("section", { class: "loose-group" }, el("h4", { text: prompt.text }), ul);
  }

  clusterCard(cluster, index) {
    const inputId = `cluster-title-${cluster.id}`;
    const input = el("input", { id: inputId, type: "text", class: "cluster-title", maxlength: LIMITS.cluster_title,
      placeholder: untitled(index + 1) });
    input.value = cluster.title;
    const form = el("form", { class: "cluster-head", onsubmit: (e) => {
      e.preventDefault();
      input.blur();
    } },
    el("label", { for: inputId, class: "sr-only", text: t("control.cluster_name") }),
    input);
    input.addEventListener("change", () => {
      const card = input.closest(".cluster");
      const shown = card?.dataset.id;
      const title = input.value.trim();
      if (!shown) return;
      // A theme named right after it was made: its card may still show the pending id.
      const id = this.realId(shown);
      if (!id) {
        this.titleLater.set(shown, title);
        return;
      }
      const current = this.state?.clusters.find((c) => c.id === id);
      if (!current || current.title !== title) this.conn.send(OP.RENAME_CLUSTER, { cluster_id: id, title });
    });
    const dissolve = el("button", { type: "button", class: "btn btn-small", text: t("control.dissolve"),
      onclick: (e) => {
        const shown = /** @type {HTMLElement} */ (e.currentTarget).closest(".cluster")?.dataset.id;
        const id = shown ? this.realId(shown) : null;
        if (!id) {
          this.notice(t("control.wait_cluster"));
          return;
        }
        this.conn.send(OP.DELETE_CLUSTER, { cluster_id: id });
        announce(t("control.dissolved"));
      } });
    const ul = el("ul", { class: "note-drop", dataset: { target: cluster.id, empty: t("control.cluster_empty") } });
    this.sortable(ul);
    const card = el("section", { class: "cluster", dataset: { id: cluster.id } },
      el("div", { class: "cluster-top" }, form, dissolve),
      el("p", { class: "cluster-count" }),
      ul);
    card.insertBefore(mergeRow(this, card), ul);
    return card;
  }

  updateCluster(card, cluster, index) {
    card.dataset.id = cluster.id;
    card.classList.toggle("pending", !!cluster.pending);
    const input = card.querySelector(".cluster-title");
    input.placeholder = untitled(index + 1);
    if (document.activeElement !== input && input.value !== cluster.title) input.value = cluster.title;
    const name = cluster.title || untitled(index + 1);
    card.querySelector(".btn-small").setAttribute("aria-label", t("control.dissolve_aria", { name }));
    card.setAttribute("aria-label", name);
    const notes = this.state.notes.filter((n) => n.cluster_id === cluster.id);
    const dots = this.state.votes?.totals?.[cluster.id];
    const words = t("control.cluster_count", { count: notes.length })
      + (dots ? ` · ${t("results.dots", { count: dots, n: dots })}` : "");
    const count = card.querySelector(".cluster-count");
    setText(count, words);
    updateMergeRow(this, card, cluster);
    const ul = card.querySelector("ul.note-drop");
    ul.dataset.target = cluster.id;
    this.fillList(ul, notes);
  }

  fillList(ul, notes) {
    syncList(ul, notes, (n) => `${n.id}`,
      (n) => noteItem(this, n), (node, n) => updateNote(this, node, n));
  }

  drawMoveBar(list) {
    const count = this.selected.size;
    const words = t("control.selected", { count });
    setText($("selected-count"), words);
    const select = $("move-target");
    const options = [
      ["new", t("control.target_new")],
      ...list.filter((c) => !c.pending).map((c) => [c.id, t("control.target_cluster", { name: c.title || untitled(list.indexOf(c) + 1) })]),
      ["loose", t("control.target_loose")],
    ];
    setOptions(select, options);
    $("move-apply").disabled = count === 0;
    $("select-none").disabled = count === 0;
  }
}
