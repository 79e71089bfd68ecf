// Merging themes on the control screen (cluster and vote phases): drag a theme by its
// handle onto another theme, or choose "Samenvoegen met …" in its card and press the
// button (keyboard, touch). Sends merge_clusters; in the vote phase the dots go along.
import { el, announce, setOptions } from "./dom.js";
import { t } from "./i18n.js";
import { OP } from "./protocol.js";
import { clusters as orderedClusters } from "./state.js";
import { untitled } from "./ui.js";

/** The drag's data type: only a theme's handle starts it, so notes never merge. */
const TYPE = "application/x-samenspel-cluster";
const PHASES = ["cluster", "vote"];

/** A theme's name as the board shows it. */
function nameOf(state, id) {
  const list = orderedClusters(state);
  const index = list.findIndex((c) => c.id === id);
  return index >= 0 ? list[index].title || untitled(index + 1) : "";
}

/**
 * The merge row of one cluster card: a drag handle, and a select with a button.
 * @param {import("./board.js").Board} board
 * @param {HTMLElement} card
 */
export function mergeRow(board, card) {
  const idOf = () => (card.dataset.id ? board.realId(card.dataset.id) : null);
  const handle = el("span", { class: "merge-handle", draggable: "true", "aria-hidden": "true",
    text: t("control.merge_drag") });
  handle.addEventListener("dragstart", (e) => {
    const id = idOf();
    if (!id || !e.dataTransfer) {
      e.preventDefault();
      return;
    }
    e.dataTransfer.setData(TYPE, id);
    e.dataTransfer.effectAllowed = "move";
    card.classList.add("merging");
  });
  handle.addEventListener("dragend", () => card.classList.remove("merging"));
  card.addEventListener("dragover", (e) => {
    if (!e.dataTransfer?.types.includes(TYPE)) return;
    e.preventDefault();
    card.classList.add("merge-over");
  });
  card.addEventListener("dragleave", () => card.classList.remove("merge-over"));
  card.addEventListener("drop", (e) => {
    card.classList.remove("merge-over");
    const from = e.dataTransfer?.getData(TYPE);
    if (!from) return;
    e.preventDefault();
    e.stopPropagation();
    merge(board, from, idOf());
  });
  const selectId = `merge-${Math.random().toString(36).slice(2)}`;
  const select = el("select", { id: selectId, class: "merge-target" });
  const button = el("button", { type: "button", class: "btn btn-small merge-apply", text: t("control.merge"),
    onclick: () => merge(board, idOf(), select.value || null) });
  return el("div", { class: "merge-row" }, handle,
    el("label", { for: selectId, class: "merge-label", text: t("control.merge_with") }), select, button);
}

/** Fill a card's merge row for the current state (the other themes, the phase). */
export function updateMergeRow(board, card, cluster) {
  const row = card.querySelector(".merge-row");
  if (!row) return;
  const state = board.state;
  row.hidden = !PHASES.includes(state.workshop.phase) || !!cluster.pending;
  const name = nameOf(state, cluster.id);
  const others = orderedClusters(state).filter((c) => c.id !== cluster.id && !c.pending);
  const options = [["", t("control.merge_choose")], ...others.map((c) => [c.id, nameOf(state, c.id)])];
  const select = row.querySelector("select");
  setOptions(select, options);
  select.setAttribute("aria-label", t("control.merge_aria", { name }));
  row.querySelector("button").setAttribute("aria-label", t("control.merge_button_aria", { name }));
  row.querySelector("button").disabled = others.length === 0;
}

function merge(board, from, into) {
  if (!from || !into) {
    board.notice(t(from ? "control.merge_choose_first" : "control.wait_cluster"));
    return;
  }
  if (from === into) return; // dropped on itself: nothing to do
  const names = { from: nameOf(board.state, from), into: nameOf(board.state, into) };
  board.conn.send(OP.MERGE_CLUSTERS, { cluster_id: from, into_id: into });
  announce(t("control.merged", names));
}
