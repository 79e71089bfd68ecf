// "Wat is er met mijn briefje gebeurd?": the participant's own notes and what became of
// each: its theme, hidden, or deleted, and from the results on the dots and rank of the
// item it is part of. Only the participant's own notes: its state holds no one else's
// authorship, and this module reads nothing else. Used on the phone and on the receipt
// page (/j/{code}/mijn).
import { el } from "./dom.js";
import { t, num } from "./i18n.js";
import { clusters as orderedClusters } from "./state.js";

/** Own notes this device has seen, so that a note deleted since can still be named
 * calmly (a deleted note is gone from the state: docs/decisions.md). Per workshop. */
const storageKey = (workshop) => `samenspel:mynotes:${workshop}`;

function readKnown(workshop) {
  try {
    return JSON.parse(localStorage.getItem(storageKey(workshop)) || "{}") || {};
  } catch {
    return {};
  }
}

function isOwn(state, note) {
  const me = state.me?.participant_id;
  return !!me && note.author?.participant_id === me;
}

/**
 * Remember the own notes in this state (text, prompt, time); returns every own note this
 * device has seen in this workshop, deleted ones too.
 * @returns {Record<string, {text: string, prompt_id: string, created_at: number}>}
 */
export function rememberOwn(state) {
  const id = state?.workshop?.id;
  if (!id || !state.me) return {};
  // Per activity of a session plan: the notes of the activity before are not "deleted".
  const activity = state.workshop.activity_id;
  const workshop = activity ? `${id}:${activity}` : id;
  const known = readKnown(workshop);
  let changed = false;
  for (const note of state.notes) {
    if (!isOwn(state, note)) continue;
    const seen = known[note.id];
    if (!seen || seen.text !== note.text) {
      known[note.id] = { text: note.text, prompt_id: note.prompt_id, created_at: note.created_at };
      changed = true;
    }
  }
  if (changed) {
    try { localStorage.setItem(storageKey(workshop), JSON.stringify(known)); } catch { /* full or private */ }
  }
  return known;
}

/**
 * One row per own note: status "theme" | "loose" | "hidden" | "deleted"; `theme` its
 * theme's name; from the results on `dots` and `rank` (null: not ranked) of its item.
 * @param {Set<string>} [leaving] ids of own notes whose deletion is still in the outbox
 */
export function receiptRows(state, known, untitled, leaving = new Set()) {
  const own = state.notes.filter((n) => isOwn(state, n));
  const present = new Set(own.map((n) => n.id));
  const list = orderedClusters(state);
  const results = ["results", "closed"].includes(state.workshop.phase);
  const ranking = state.votes?.ranking || [];
  const rows = own.map((note) => {
    const row = { id: note.id, text: note.text, prompt_id: note.prompt_id, created_at: note.created_at,
      status: "loose", theme: null, dots: null, rank: null, of: ranking.length };
    if (leaving.has(note.id)) row.status = "deleted";
    else if (note.hidden) row.status = "hidden";
    else if (note.cluster_id) {
      const index = list.findIndex((c) => c.id === note.cluster_id);
      row.status = "theme";
      row.theme = index >= 0 ? list[index].title || untitled(index + 1) : "";
    }
    if (results && (row.status === "theme" || row.status === "loose")) {
      const item = note.cluster_id || note.id;
      row.dots = state.votes?.totals?.[item] || 0;
      const at = ranking.indexOf(item);
      row.rank = at >= 0 ? at + 1 : null;
    }
    return row;
  });
  for (const [id, seen] of Object.entries(known || {})) {
    if (present.has(id)) continue;
    rows.push({ id, text: seen.text, prompt_id: seen.prompt_id, created_at: seen.created_at,
      status: "deleted", theme: null, dots: null, rank: null, of: ranking.length });
  }
  return rows.sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
}

/** What a row says, in words. */
function statusLines(row) {
  const lines = [];
  if (row.status === "theme") lines.push(t("receipt.theme", { name: row.theme }));
  if (row.status === "loose") lines.push(t("receipt.loose"));
  if (row.status === "hidden") lines.push(t("receipt.hidden"));
  if (row.status === "deleted") lines.push(t("receipt.deleted"));
  if (row.dots !== null) {
    lines.push(row.dots ? t("results.dots", { count: row.dots, n: num(row.dots) }) : t("receipt.no_dots"));
    if (row.rank !== null) lines.push(t("receipt.rank", { rank: num(row.rank), of: num(row.of) }));
  }
  return lines;
}

/**
 * The receipt's list items.
 * @param {(id: string) => string} promptText
 */
export function receiptItems(rows, promptText) {
  return rows.map((row) => el("li", { class: `receipt-note is-${row.status}`, dataset: { note: row.id } },
    el("p", { class: "note-prompt", text: promptText(row.prompt_id) }),
    el("p", { class: "note-text", text: row.text }),
    ...statusLines(row).map((line) => el("p", { class: "receipt-status", text: line }))));
}
