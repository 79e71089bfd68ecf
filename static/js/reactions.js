// "I'm done" and reactions on notes (👍 ❤️ 💡 ❓): the pieces the phone, the wall and the
// control screen share. The server counts; a screen lays its own unanswered taps over the
// counts (the outbox, and taps answered whose event is still on its way), so a tap shows
// at once and never twice.
import { $, el, setText } from "./dom.js";
import { num, t } from "./i18n.js";
import { OP, REACTIONS } from "./protocol.js";

/** The catalogue key of each reaction, in REACTIONS' order. */
const NAMES = ["thumbs", "heart", "idea", "question"];

/** @param {string} emoji */
export function reactionName(emoji) {
  return t(`reaction.${NAMES[REACTIONS.indexOf(emoji)] ?? "thumbs"}`);
}

/**
 * Ops that were answered but whose event has not come back yet: they stay laid over the
 * state until the connection's seq has passed theirs (no flicker back and forth).
 * @param {import("./connection.js").Connection} conn
 * @param {string[]} ops
 */
export function settling(conn, ops) {
  /** @type {{entry: any, seq: number}[]} */
  let list = [];
  conn.on("ack", (entry, _result, seq) => {
    if (ops.includes(entry.op) && seq != null && (conn.seq === null || seq > conn.seq)) {
      list.push({ entry, seq });
    }
  });
  return () => {
    list = list.filter((s) => conn.seq === null || s.seq > conn.seq);
    return [...list.map((s) => s.entry), ...conn.outbox];
  };
}

/**
 * A note's reactions as this phone shows them: the counts and its own, with its taps
 * not yet seen back laid over.
 * @param {any} note @param {{op: string, args: any}[]} entries
 * @returns {{mine: Set<string>, counts: Record<string, number>}}
 */
export function reactionsNow(note, entries) {
  const mine = new Set(note.my_reactions || []);
  const counts = { ...(note.reactions || {}) };
  for (const { op, args } of entries) {
    if (op !== OP.REACT || args.note_id !== note.id) continue;
    const had = mine.has(args.emoji);
    if (args.on && !had) {
      mine.add(args.emoji);
      counts[args.emoji] = (counts[args.emoji] || 0) + 1;
    } else if (!args.on && had) {
      mine.delete(args.emoji);
      counts[args.emoji] = Math.max(0, (counts[args.emoji] || 0) - 1);
    }
  }
  return { mine, counts };
}

/**
 * One button per reaction: one tap (or Enter/Space) puts it on or takes it off; each is
 * named with its count for screen readers ("duim omhoog, 3") and says whether it is on.
 * @param {any} note
 * @param {{mine: Set<string>, counts: Record<string, number>}} now
 * @param {(emoji: string, on: boolean) => void} onToggle
 * @param {string} label what the group is about (the note, shortened)
 */
export function reactionBar(note, now, onToggle, label) {
  return el("div", { class: "reactions", role: "group", "aria-label": t("reaction.group", { text: label }) },
    ...REACTIONS.map((emoji) => {
      const count = now.counts[emoji] || 0;
      const on = now.mine.has(emoji);
      return el("button", {
        type: "button", class: "reaction", "aria-pressed": on ? "true" : "false",
        "aria-label": t("reaction.aria", { name: reactionName(emoji), count: num(count) }),
        dataset: { focus: `react|${note.id}|${emoji}` },
        onclick: () => onToggle(emoji, !on),
      }, el("span", { class: "reaction-emoji", "aria-hidden": "true", text: emoji }),
      el("span", { class: "reaction-count", "aria-hidden": "true", text: count ? num(count) : "" }));
    }));
}

/**
 * The counts of a note as words and emoji, for the wall and the control screen (no
 * buttons): visible emoji with their numbers, and the same in words for screen readers.
 * Null when nobody reacted.
 * @param {any} note
 */
export function reactionCounts(note) {
  const shown = REACTIONS.filter((emoji) => (note.reactions?.[emoji] || 0) > 0);
  if (!shown.length) return null;
  return el("span", { class: "reaction-counts" },
    el("span", { "aria-hidden": "true", text: shown.map((e) => `${e} ${num(note.reactions[e])}`).join("  ") }),
    el("span", { class: "sr-only", text: reactionWords(note) }));
}

/** "duim omhoog, 3; hartje, 1" (empty when nobody reacted). */
export function reactionWords(note) {
  return REACTIONS.filter((emoji) => (note.reactions?.[emoji] || 0) > 0)
    .map((emoji) => t("reaction.aria", { name: reactionName(emoji), count: num(note.reactions[emoji]) }))
    .join("; ");
}

/** All reactions on a note together (the control screen sorts loose notes by it). */
export function reactionTotal(note) {
  return Object.values(note.reactions || {}).reduce((a, b) => a + b, 0);
}

/**
 * Rebuild part of a page without losing the keyboard's place: the element that had the
 * focus (by its data-focus) has it again afterwards.
 * @param {HTMLElement} box @param {() => void} build
 */
export function keepFocus(box, build) {
  const active = /** @type {HTMLElement|null} */ (document.activeElement);
  const key = active && box.contains(active) ? active.dataset.focus : undefined;
  build();
  if (key) {
    const again = /** @type {HTMLElement|null} */ (box.querySelector(`[data-focus="${CSS.escape(key)}"]`));
    again?.focus();
  }
}

/** Whether this phone said it is done, with its taps not yet seen back laid over. */
export function doneNow(state, entries) {
  let done = !!state?.me?.done;
  for (const { op, args } of entries) if (op === OP.SET_DONE) done = !!args.done;
  return done;
}

/**
 * "23 van 31 klaar" and a quiet bar, on the wall and the control screen; hidden while
 * nobody takes part and in a closed workshop.
 * @param {any} state
 */
export function drawDoneProgress(state) {
  const box = $("done-progress");
  if (!box) return;
  const total = state.participants?.count ?? 0;
  const done = Math.min(total, state.participants?.done ?? 0);
  box.hidden = total === 0 || state.workshop.phase === "closed";
  if (box.hidden) return;
  setText($("done-count"), t("done.progress", { count: done, done: num(done), total: num(total) }));
  $("done-bar").style.width = `${total ? Math.round((done / total) * 100) : 0}%`;
}
