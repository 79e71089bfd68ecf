// The wall (/p/{id}): readable from the back of the room, calm, live.
// collect: the questions, the join code and QR, notes appearing; cluster: clusters forming;
// vote: how many have voted; results: the ranking as a bar chart.
import { $, el, replace, syncList, announce, readConfig } from "./dom.js";
import { setCatalogue, t, num } from "./i18n.js";
import { Connection } from "./protocol.js";
import { clusters as orderedClusters, notesByPrompt, notesIn, rankingRows, itemTitle, voteItems } from "./state.js";
import { barChart } from "./chart.js";
import { bindStatus, Countdown, phaseName, untitled, watchPhase } from "./ui.js";

const config = readConfig();
setCatalogue(config.i18n, config.lang);

const conn = new Connection({
  role: "projector",
  workshop: config.workshop,
  key: config.key,
  lang: config.lang,
  storageKey: `samenspel:projector:${config.workshop}`,
});
const countdown = new Countdown();
const onPhase = watchPhase();
const VIEWS = ["collect", "cluster", "vote", "results", "closed"];
/** Notes drawn once already: only notes that come later get the arrival animation. */
let firstDraw = true;
let heard = [];
let heardTimer = 0;

let queued = false;
function render() {
  if (queued) return;
  queued = true;
  requestAnimationFrame(() => {
    queued = false;
    draw();
  });
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function draw() {
  const state = conn.state;
  if (!state) return;
  const phase = state.workshop.phase;
  onPhase(phase);
  document.body.dataset.phase = phase;
  setText($("ws-title"), state.workshop.title);
  setText($("wall-phase"), phaseName(phase));
  setText($("stage-heading"), phaseName(phase));
  countdown.update(state.workshop.timer);
  $("wall-join").hidden = phase !== "collect";
  for (const name of VIEWS) $(`view-${name}`).hidden = name !== phase;
  if (phase === "collect") drawCollect(state);
  else if (phase === "cluster") drawCluster(state);
  else if (phase === "vote") drawVote(state);
  else if (phase === "results") drawResults(state, $("results-chart"));
  else if (phase === "closed") drawClosed(state);
  firstDraw = false;
}

/** A sticky note; it fades in when it arrives after the first draw. */
function noteCard(note, state) {
  const card = el("li", { class: "wall-note" }, el("p", { class: "wall-note-text", text: note.text }));
  const by = [];
  if (note.author?.name) by.push(note.author.name);
  if (state.workshop.settings.show_provenance && note.perspective) {
    by.push(note.perspective === "other" ? t("results.group_other") : note.perspective);
  }
  if (by.length) card.append(el("p", { class: "wall-note-by", text: by.join(" · ") }));
  if (!firstDraw) card.classList.add("arrive");
  return card;
}

function updateNoteCard(node, note) {
  const text = node.querySelector(".wall-note-text");
  if (text.textContent !== note.text) text.textContent = note.text;
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
  view.dataset.columns = String(Math.min(state.prompts.length, 3));
  syncList(view, state.prompts, (p) => p.id,
    (p) => el("section", { class: "prompt-column", "aria-label": p.text },
      el("h3", { class: "prompt-text", text: p.text }),
      el("ul", { class: "wall-notes" })),
    (node, p) => {
      setText(node.querySelector(".prompt-text"), p.text);
      const notes = byPrompt.get(p.id) || [];
      const list = node.querySelector(".wall-notes");
      list.dataset.density = density(notes.length, state.prompts.length);
      const made = syncList(list, notes, (n) => n.id, (n) => noteCard(n, state), updateNoteCard);
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
          const li = el("li", { class: "cluster-note", text: n.text });
          if (!firstDraw) li.classList.add("arrive");
          return li;
        },
        (li, n) => setText(li, n.text));
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

function drawChart(box, state) {
  const rows = rankingRows(state, untitled);
  const key = JSON.stringify([rows, state.workshop.settings.show_groups_on_wall && state.votes.by_perspective]);
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  replace(box, rows.length
    ? barChart(rows, { fontSize: 34, maxLabel: 52, limit: 8,
      groups: state.workshop.settings.show_groups_on_wall ? state.votes.by_perspective : null })
    : el("p", { class: "wall-empty", text: t("results.empty") }));
}

function drawResults(state, box) {
  drawChart(box, state);
  // Common ground (support across groups) only means something where there are groups.
  const titles = (state.votes?.common_ground || []).slice(0, 5)
    .map((id) => itemTitle(state, id, untitled)).filter((x) => x !== null);
  $("common-ground-box").hidden = !titles.length || !(state.workshop.settings.perspectives || []).length;
  const list = $("common-ground");
  const key = JSON.stringify(titles);
  if (list.dataset.key !== key) {
    list.dataset.key = key;
    replace(list, ...titles.map((title) => el("li", { text: title })));
  }
}

function drawClosed(state) {
  const view = $("view-closed");
  let box = view.querySelector(".chart");
  if (state.votes?.ranking?.length) {
    if (!box) {
      box = el("div", { class: "chart" });
      view.append(box);
    }
    drawChart(box, state);
  }
}

conn.on("state", (state, info) => {
  if (info.events) {
    for (const ev of info.events) {
      if (ev.kind === "note_added" && ev.data.note) heard.push(ev.data.note.text);
    }
    if (heard.length) {
      clearTimeout(heardTimer);
      heardTimer = window.setTimeout(() => {
        announce(heard.length === 1 ? t("wall.new_note", { text: heard[0] })
          : t("control.new_notes", { count: heard.length }));
        heard = [];
      }, 1500);
    }
  }
  render();
});
conn.on("fatal", () => {
  replace($("stage"), el("p", { class: "wall-empty", text: t("wall.gone") }));
});

bindStatus(conn);
conn.start();
