// The wall (/p/{id}): readable from the back of the room, calm, live.
// collect: the questions, the join code and QR, notes appearing; cluster: clusters forming;
// vote: how many have voted; results: the ranking as a bar chart.
import { $, el, replace, setText, syncList } from "./dom.js";
import { t, num } from "./i18n.js";
import { clusters as orderedClusters, notesByPrompt, notesIn, voteItems } from "./state.js";
import { groupLabel, hasCommonGround, legend, redraw, resultList, resultRows } from "./results.js";
import { CLOSE } from "./protocol.js";
import { drawDoneProgress, reactionCounts } from "./reactions.js";
import { drawPosition, watchActivity } from "./activityline.js";
import { announceNewNotes, bindStatus, Countdown, phaseName, untitled, watchPhase, onFrame, startScreen } from "./ui.js";

const { config, conn } = startScreen("projector");
const countdown = new Countdown();
let onPhase = watchPhase();
// Another activity: its notes come all at once (no arrival animation), and its phase is
// said as part of "Nieuw onderdeel", not as a phase change of its own.
const onActivity = watchActivity(() => {
  firstDraw = true;
  onPhase = watchPhase();
});
const VIEWS = ["collect", "cluster", "vote", "results", "closed"];
/** Notes drawn once already: only notes that come later get the arrival animation. */
let firstDraw = true;

const render = onFrame(() => draw());

function draw() {
  const state = conn.state;
  if (!state) return;
  const phase = state.workshop.phase;
  onActivity(state);
  onPhase(phase);
  document.body.dataset.phase = phase;
  setText($("ws-title"), state.workshop.title);
  drawPosition($("wall-part"), state);
  setText($("wall-phase"), phaseName(phase));
  setText($("stage-heading"), phaseName(phase));
  countdown.update(state.workshop.timer);
  drawDoneProgress(state);
  $("wall-join").hidden = phase !== "collect";
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== phase;
  $("quiet-hint").hidden = !(phase === "collect" && state.note_counts);
  if (phase === "collect") drawCollect(state);
  else if (phase === "cluster") drawCluster(state);
  else if (phase === "vote") drawVote(state);
  else if (phase === "results") drawResults(state);
  else if (phase === "closed") drawClosed(state);
  firstDraw = false;
}

/** Who wrote a note, as the wall may show it: the name (not anonymous), and the author's
 * group where the facilitator chose so (show_provenance; small groups read "anders"). */
function byline(note, state) {
  const name = note.author?.name || "";
  const group = state.workshop.settings.show_provenance && note.perspective ? groupLabel(note.perspective) : "";
  return { name, group };
}

function fillByline(box, by) {
  const key = JSON.stringify(by);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  replace(box,
    by.name ? el("span", { class: "by-name", text: by.name }) : null,
    by.group ? el("span", { class: "group-tag", text: by.group }) : null);
  box.hidden = !by.name && !by.group;
}

/** A sticky note; it fades in when it arrives after the first draw. */
function noteCard(note, state) {
  const card = el("li", { class: "wall-note" }, el("p", { class: "wall-note-text", text: note.text }),
    el("p", { class: "wall-note-by" }), el("p", { class: "wall-note-reactions" }));
  fillByline(card.querySelector(".wall-note-by"), byline(note, state));
  fillReactions(card.querySelector(".wall-note-reactions"), note);
  if (!firstDraw) card.classList.add("arrive");
  return card;
}

/** Text and label follow edits, renamed groups and the provenance setting. */
function updateNoteCard(node, note, state) {
  setText(node.querySelector(".wall-note-text"), note.text);
  fillByline(node.querySelector(".wall-note-by"), byline(note, state));
  fillReactions(node.querySelector(".wall-note-reactions"), note);
}

/** The note's reactions beside it (👍 3 ❤️ 1), redrawn only when they change. */
function fillReactions(box, note) {
  const key = JSON.stringify(note.reactions || {});
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  const counts = reactionCounts(note);
  replace(box, counts);
  box.hidden = !counts;
}

/** Smaller notes as a column fills up (steps, so that the wall rarely reflows). */
function density(count, columns) {
  const load = count * Math.max(1, columns);
  return load > 60 ? "xs" : load > 30 ? "s" : load > 12 ? "m" : "l";
}

/** Keep the newest notes in view: a full list glides up to its end. */
function followEnd(list) {
  if (list.scrollHeight <= list.clientHeight + 2) return;
  const calm = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  list.scrollTo({ top: list.scrollHeight, behavior: calm ? "auto" : "smooth" });
}

function drawCollect(state) {
  const view = $("view-collect");
  const byPrompt = notesByPrompt(state);
  // The quiet wall (wall_during_collect "count"): how many per question, no text yet.
  const counts = state.note_counts || null;
  view.dataset.columns = String(Math.min(state.prompts.length, 3));
  view.classList.toggle("quiet", !!counts);
  syncList(view, state.prompts, (p) => p.id,
    (p) => el("section", { class: "prompt-column", "aria-label": p.text },
      el("h3", { class: "prompt-text", text: p.text }),
      el("p", { class: "prompt-count", hidden: true }),
      el("ul", { class: "wall-notes" })),
    (node, p) => {
      setText(node.querySelector(".prompt-text"), p.text);
      node.setAttribute("aria-label", p.text); // a reworded question (prompts_changed)
      const count = node.querySelector(".prompt-count");
      count.hidden = !counts;
      if (counts) {
        const n = counts[p.id] ?? 0;
        setText(count, t("wall.note_count", { count: n, n: num(n) }));
      }
      const notes = byPrompt.get(p.id) || [];
      const list = node.querySelector(".wall-notes");
      list.dataset.density = density(notes.length, state.prompts.length);
      const made = syncList(list, notes, (n) => n.id, (n) => noteCard(n, state),
        (card, n) => updateNoteCard(card, n, state));
      if (made.length) requestAnimationFrame(() => followEnd(list));
    });
}

function drawCluster(state) {
  const view = $("view-cluster");
  const list = orderedClusters(state);
  const groups = list.map((c, i) => ({ id: c.id, title: c.title || untitled(i + 1), notes: notesIn(state, c.id) }))
    .filter((g) => g.notes.length);
  const loose = notesIn(state, null);
  const items = [...groups, ...(loose.length ? [{ id: "__loose", title: t("wall.loose"), notes: loose, loose: true }] : [])];
  view.dataset.count = String(items.length);
  syncList(view, items, (g) => g.id,
    (g) => el("section", { class: `wall-cluster${g.loose ? " loose" : ""}` },
      el("h3", { class: "cluster-name" }), el("ul", { class: "cluster-notes" })),
    (node, g) => {
      setText(node.querySelector(".cluster-name"), g.title);
      const list = node.querySelector(".cluster-notes");
      syncList(list, g.notes, (n) => n.id,
        (n) => {
          const li = el("li", { class: "cluster-note" },
            el("span", { class: "cluster-note-text" }), el("span", { class: "wall-note-by" }),
            el("span", { class: "wall-note-reactions" }));
          if (!firstDraw) li.classList.add("arrive");
          return li;
        },
        (li, n) => {
          setText(li.querySelector(".cluster-note-text"), n.text);
          fillByline(li.querySelector(".wall-note-by"), byline(n, state));
          fillReactions(li.querySelector(".wall-note-reactions"), n);
        });
    });
}

function drawVote(state) {
  const v = state.votes || {};
  const voters = v.voters ?? 0;
  const count = state.participants?.count ?? 0;
  setText($("vote-count"), t("wall.voted", { count: voters, voters: num(voters), total: num(count) }));
  $("vote-bar").style.width = `${count ? Math.min(100, Math.round((voters / count) * 100)) : 0}%`;
  const live = state.workshop.settings.show_live_votes && v.ranking?.length;
  $("vote-items").hidden = !!live;
  if (live) {
    drawChart($("vote-live"), state);
  } else {
    replace($("vote-live"));
    syncList($("vote-items"), voteItems(state, untitled), (i) => i.id,
      (i) => el("li", { class: "vote-item-wall", text: i.title }),
      (node, i) => setText(node, i.title));
  }
}

/** The most the wall shows of a ranking; fewer where they do not fit (see fit()). */
const WALL_LIMIT = 8;
const CG_LIMIT = 5;

function drawChart(box, state, opts = {}) {
  const groups = !!state.workshop.settings.show_groups_on_wall;
  const rows = resultRows(state, untitled);
  const changed = redraw(box, [rows, groups, opts.limit], () => (rows.length
    ? resultList(rows.slice(0, opts.limit ?? WALL_LIMIT), { groups, divided: true })
    : el("p", { class: "wall-empty", text: t("results.empty") })));
  if (changed) fit(box, rows.length);
}

/**
 * Drop the last items of a ranking until it fits its box (long titles wrap), and say how
 * many are left out. Never fewer than three.
 */
function fit(box, total) {
  const list = box.querySelector(".result-list");
  if (!list) return;
  box.querySelector(".results-more")?.remove();
  const items = () => list.querySelectorAll(":scope > li");
  while (box.scrollHeight > box.clientHeight + 1 && items().length > 3) {
    items()[items().length - 1].remove();
  }
  const left = total - items().length;
  if (left > 0) {
    box.append(el("p", { class: "results-more", text: t("results.more", { count: left }) }));
    while (box.scrollHeight > box.clientHeight + 1 && items().length > 3) {
      items()[items().length - 1].remove();
      box.querySelector(".results-more").textContent = t("results.more", { count: total - items().length });
    }
  }
}

function drawResults(state) {
  const settings = state.workshop.settings;
  const groups = !!settings.show_groups_on_wall;
  const v = state.votes || {};
  const cg = hasCommonGround(state) && (v.ranking || []).length > 0;
  $("common-ground-box").hidden = !cg;
  $("view-results").classList.toggle("with-cg", cg);
  redraw($("results-legend"), [groups, v.by_perspective],
    () => (groups && Object.keys(v.by_perspective || {}).length ? legend(state) : []));
  // The key under the ranking: what "verdeeld" and the numbers in brackets mean (drawn
  // first: the ranking is fitted into the room that is left).
  const divided = (v.divided || []).length > 0;
  const figures = divided || (groups && Object.keys(v.by_perspective || {}).length > 0);
  const key = $("results-key");
  key.hidden = !figures;
  redraw(key, [divided, figures, state.workshop.settings.language], () => [
    divided ? el("span", { class: "key-part" }, el("span", { class: "badge divided", text: t("results.divided") }),
      ` ${t("results.divided_hint")}`) : null,
    figures ? el("span", { class: "key-part", text: t("results.share_hint") }) : null,
  ].filter(Boolean));
  drawChart($("results-chart"), state, { limit: WALL_LIMIT });
  if (cg) {
    const rows = resultRows(state, untitled, v.common_ground || []);
    const box = $("common-ground");
    if (redraw(box, [rows, groups], () => resultList(rows.slice(0, CG_LIMIT), { groups, bars: false, divided: false, totals: false, other: false }))) {
      fit(box, rows.length);
    }
  }
}

function drawClosed(state) {
  const view = $("view-closed");
  let box = view.querySelector(".results-fit");
  if (state.votes?.ranking?.length) {
    if (!box) {
      box = el("div", { class: "results-fit" });
      view.append(box);
    }
    drawChart(box, state);
  }
}

// A resized window (the beamer's resolution changed): fit the rankings again.
window.addEventListener("resize", () => {
  for (const box of document.querySelectorAll(".results-fit")) delete /** @type {HTMLElement} */ (box).dataset.key;
  render();
});

announceNewNotes(conn, { wait: 1500, quoteOne: true });
conn.on("state", render);
conn.on("fatal", (code) => {
  // 4401: the facilitator made new links; this wall needs the new one.
  replace($("stage"), el("p", { class: "wall-empty", role: "alert", text: t(code === CLOSE.WRONG_KEY ? "wall.key_changed" : "wall.gone") }));
});

bindStatus(conn);
conn.start();
