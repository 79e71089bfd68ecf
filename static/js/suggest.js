// Sorting help on the control screen (issue 11): "Stel thema's voor" asks the server
// (suggest_themes: nothing leaves it); the proposal lists each theme with its name, its
// notes and the reason in words. The facilitator renames a theme, drops a note or a whole
// theme, then "Toepassen" applies them all in one step (apply_themes); "Ongedaan maken"
// puts everything back in one step (undo_themes). Notes that say the same thing are
// listed apart, each group with "Stapelen" (one theme together, also via apply_themes).
// Self-contained: call draw(state) on every render and acked(entry, result) on every ack;
// it needs the #suggest-section of templates/facilitator.html. Keyboard: every action is
// a button; after a drop the focus goes to the next thing in the list, and each step is
// said in the live region (announce).
import { $, el, replace, setText, announce } from "./dom.js";
import { t } from "./i18n.js";
import { OP } from "./protocol.js";
import { clusters as orderedClusters } from "./state.js";
import { untitled } from "./ui.js";

const PHASES = ["collect", "cluster"];
const MAX_TITLE = 80;
/** Notes one apply_themes may move (server/rules.py MAX_IDS): the rest waits for the next. */
const MAX_NOTES = 500;

/** @param {any} conn the control screen's connection */
export function suggestPanel(conn) {
  /** @type {{themes: any[], duplicates: string[][], texts: Map<string, string>} | null} */
  let proposal = null;
  // The last apply's undo id, kept across a reload of the control screen.
  const undoKey = `samenspel:undo:${conn.workshop || conn.opts?.workshop || ""}`;
  let undoId = sessionStorage.getItem(undoKey);
  const keepUndo = (id) => {
    undoId = id;
    if (id) sessionStorage.setItem(undoKey, id);
    else sessionStorage.removeItem(undoKey);
  };
  let asking = false;
  let uid = 0;
  /** What to say once the apply in flight is acked ("gestapeld" for a stack). */
  let doneWords = "";

  const section = $("suggest-section");
  const askButton = $("suggest-ask");
  const undoButton = $("suggest-undo");
  const box = $("suggest-proposal");

  function say(words) {
    setText($("suggest-status"), words);
  }

  function clusterName(state, id) {
    const list = orderedClusters(state);
    const index = list.findIndex((c) => c.id === id);
    return index >= 0 ? list[index].title || untitled(index + 1) : "";
  }

  askButton.addEventListener("click", async () => {
    if (asking) return;
    asking = true;
    askButton.disabled = true;
    askButton.setAttribute("aria-busy", "true");
    say(t("suggest.asking"));
    try {
      const result = await conn.ask(OP.SUGGEST_THEMES, { prompt_id: null });
      const texts = new Map((conn.state?.notes || []).map((n) => [n.id, n.text]));
      proposal = {
        themes: result.themes.map((th) => ({ ...th, key: `t${++uid}` })),
        duplicates: result.duplicates.map((g) => [...g]),
        texts,
      };
      const words = proposal.themes.length || proposal.duplicates.length
        ? t("suggest.found", { count: proposal.themes.length, groups: proposal.duplicates.length })
        : t("suggest.none");
      say(words);  // (a status region: it is read out, once)
      drawProposal(conn.state);
    } catch (error) {
      say(error?.message || t(error?.code === "offline" ? "suggest.offline" : "error.generic"));
    } finally {
      asking = false;
      askButton.disabled = false;
      askButton.removeAttribute("aria-busy");
    }
  });

  undoButton.addEventListener("click", () => {
    if (!undoId) return;
    conn.send(OP.UNDO_THEMES, { undo_id: undoId });
    keepUndo(null);  // sent once (the outbox sends it again if need be): no second press
    undoButton.hidden = true;
    askButton.focus();
  });

  /** The notes of a proposed theme that may still go: there, visible, and (for the
   * loose ones the proposal was about) not sorted by hand meanwhile. */
  function stillLoose(state, ids) {
    const notes = new Map(state.notes.map((n) => [n.id, n]));
    return ids.filter((id) => notes.has(id) && !notes.get(id).hidden && !notes.get(id).cluster_id);
  }

  function apply(themes, words, done = "") {
    const state = conn.state;
    if (!state) return;
    const clusters = new Set(state.clusters.map((c) => c.id));
    const out = [];
    let room = MAX_NOTES;
    for (const theme of themes) {
      const ids = stillLoose(state, theme.note_ids).slice(0, room);
      if (!ids.length) continue;
      room -= ids.length;
      if (theme.cluster_id && clusters.has(theme.cluster_id)) {
        out.push({ title: "", note_ids: ids, cluster_id: theme.cluster_id });
      } else if (!theme.cluster_id) {
        out.push({ title: theme.title.trim().slice(0, MAX_TITLE), note_ids: ids });
      }
    }
    if (!out.length) {
      say(t("suggest.nothing_left"));
      return;
    }
    conn.send(OP.APPLY_THEMES, { themes: out });
    doneWords = done;
    say(words);
  }

  function dropNote(theme, id, item) {
    theme.note_ids = theme.note_ids.filter((x) => x !== id);
    const next = item.nextElementSibling || item.previousElementSibling;
    announce(t("suggest.note_dropped", { text: proposal.texts.get(id) || "" }));
    if (!theme.note_ids.length) {
      dropTheme(theme);
      return;
    }
    item.remove();
    next?.querySelector("button")?.focus();
  }

  function dropTheme(theme) {
    const index = proposal.themes.indexOf(theme);
    proposal.themes.splice(index, 1);
    announce(t("suggest.theme_dropped", { title: theme.title }));
    drawProposal(conn.state);
    const cards = box.querySelectorAll(".suggest-theme");
    const target = cards[Math.min(index, cards.length - 1)];
    (target?.querySelector("input, button") || $("suggest-apply") || askButton).focus();
  }

  function noteRow(theme, id) {
    const text = proposal.texts.get(id) || "";
    const li = el("li", { class: "suggest-note" }, el("span", { class: "suggest-note-text", text }));
    li.append(el("button", { type: "button", class: "btn btn-small suggest-drop-note",
      text: t("suggest.drop_note"), "aria-label": t("suggest.drop_note_aria", { text }),
      onclick: () => dropNote(theme, id, li) }));
    return li;
  }

  function themeCard(state, theme, n) {
    const nameId = `suggest-name-${theme.key}`;
    const card = el("li", { class: "suggest-theme" });
    if (theme.cluster_id) {
      card.append(el("h3", { class: "suggest-title",
        text: t("suggest.into", { title: clusterName(state, theme.cluster_id) || theme.title }) }));
    } else {
      card.append(el("label", { for: nameId, class: "suggest-name-label", text: t("suggest.name", { n }) }),
        el("input", { id: nameId, type: "text", class: "suggest-name", value: theme.title,
          maxlength: String(MAX_TITLE), autocomplete: "off",
          oninput: (e) => { theme.title = e.currentTarget.value; } }));
    }
    card.append(el("p", { class: "suggest-reason hint", text: theme.reason }),
      el("ul", { class: "suggest-notes plain-list" }, ...theme.note_ids.map((id) => noteRow(theme, id))),
      el("button", { type: "button", class: "btn btn-small suggest-drop-theme",
        text: t("suggest.drop_theme"),
        "aria-label": t("suggest.drop_theme_aria", { title: theme.title || t("suggest.name", { n }) }),
        onclick: () => dropTheme(theme) }));
    return card;
  }

  function duplicateRow(group) {
    const texts = group.map((id) => proposal.texts.get(id) || "");
    return el("li", { class: "suggest-dup" },
      el("ul", { class: "plain-list" }, ...texts.map((text) => el("li", { text }))),
      el("button", { type: "button", class: "btn btn-small suggest-stack", text: t("suggest.stack"),
        "aria-label": t("suggest.stack_aria", { text: texts[0] }),
        onclick: () => {
          proposal.duplicates = proposal.duplicates.filter((g) => g !== group);
          apply([{ title: texts[0], note_ids: group }], t("suggest.applying", { count: 1 }),
            t("suggest.stacked", { count: group.length }));
          drawProposal(conn.state);
          askButton.focus();
        } }));
  }

  function drawProposal(state) {
    if (!proposal || !state) {
      replace(box);
      return;
    }
    const parts = [];
    if (proposal.themes.length) {
      parts.push(el("h3", { id: "suggest-themes-heading", text: t("suggest.themes_heading") }),
        el("ol", { class: "suggest-themes plain-list", "aria-labelledby": "suggest-themes-heading" },
          ...proposal.themes.map((theme, i) => themeCard(state, theme, i + 1))),
        el("div", { class: "row" },
          el("button", { type: "button", id: "suggest-apply", class: "btn btn-primary", text: t("suggest.apply"),
            onclick: () => {
              const count = proposal.themes.length;
              apply(proposal.themes, t("suggest.applying", { count }));
              proposal.themes = [];
              drawProposal(conn.state);
              askButton.focus();
            } }),
          el("button", { type: "button", class: "btn", text: t("suggest.discard"),
            onclick: () => {
              proposal = null;
              drawProposal(conn.state);
              say("");
              askButton.focus();
            } })));
    }
    if (proposal.duplicates.length) {
      parts.push(el("h3", { id: "suggest-dups-heading", text: t("suggest.dups_heading") }),
        el("p", { class: "hint", text: t("suggest.dups_hint") }),
        el("ul", { class: "suggest-dups plain-list", "aria-labelledby": "suggest-dups-heading" },
          ...proposal.duplicates.map(duplicateRow)));
    }
    replace(box, ...parts);
  }

  return {
    /** @param {any} state */
    draw(state) {
      section.hidden = !PHASES.includes(state.workshop.phase);
      undoButton.hidden = !undoId;
    },
    /** An op was acked: a proposal applied (its undo id) or undone. */
    acked(entry, result) {
      if (entry.op === OP.APPLY_THEMES && result.undo_id) {
        keepUndo(result.undo_id);
        say(doneWords || t("suggest.applied", { count: result.cluster_ids.length }));
        doneWords = "";
      } else if (entry.op === OP.UNDO_THEMES) {
        keepUndo(null);
        say(t("suggest.undone"));
        askButton.focus();
      }
    },
    /** Another activity of the session plan is on: a proposal (and the undo) for the
     * notes of the one before is put away. */
    activityChanged() {
      proposal = null;
      replace(box);
      say("");
      keepUndo(null);
    },
    /** An op was refused: an undo that can no longer be done is forgotten. */
    nacked(entry, error) {
      if (entry.op === OP.UNDO_THEMES && error.code === "undo_stale") {
        keepUndo(null);
        say(error.message);
      }
    },
  };
}
