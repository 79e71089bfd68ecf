// The control screen's people panel: how many take part and are online, the groups as
// counts, joins in the last minute, and everyone with "hide their notes" and "remove".
import { $, el, setText, announce } from "./dom.js";
import { t, num } from "./i18n.js";
import { EVENT, OP } from "./protocol.js";
import { redraw, OTHER } from "./results.js";

/**
 * @param {import("./connection.js").Connection} conn
 * @param {() => void} render draws the control screen again
 * @returns {{draw: (state: any) => void, countJoins: (state: any, info: any) => void}}
 */
export function peoplePanel(conn, render) {
  function drawPeople(state) {
    const p = state.participants || {};
    const words = t("control.people_count", { online: num(p.online ?? 0), count: p.count ?? 0, total: num(p.count ?? 0) });
    setText($("people-count"), words);
    // Groups as counts only: never who is in which group. A group of fewer than 3 people
    // comes as "other" from the server, and counts with those who chose no group.
    const perspectives = state.workshop.settings.perspectives || [];
    const groups = $("people-groups");
    groups.hidden = !perspectives.length;
    if (perspectives.length) {
      const counts = new Map();
      for (const x of p.list || []) {
        const g = x.perspective && x.perspective !== OTHER ? x.perspective : OTHER;
        counts.set(g, (counts.get(g) || 0) + 1);
      }
      const named = [...perspectives.filter((g) => counts.has(g)),
        ...[...counts.keys()].filter((g) => g !== OTHER && !perspectives.includes(g))];
      const parts = named.map((g) => `${g} ${num(counts.get(g))}`);
      if (counts.has(OTHER)) parts.push(`${t("control.people_other")} ${num(counts.get(OTHER))}`);
      const text = `${t("control.people_groups")} ${parts.length ? parts.join(" · ") : t("control.people_groups_none")}`;
      setText(groups, text);
    }
    const joins = joinsLastMinute();
    const joinWords = joins ? t("control.joins_per_minute", { count: joins, total: num(joins) }) : "";
    setText($("people-joins"), joinWords);
    drawPeopleList(state);
  }

  // Joins per minute, by this screen's clock: the welcome gives how long ago each of the
  // last minute's participants joined, and every join event after it counts as now.
  let joinTimes = [];
  let joinsSeeded = null;

  function countJoins(state, info) {
    const recent = state.participants?.recent_joins;
    if (info.welcome && Array.isArray(recent) && recent !== joinsSeeded) {
      joinsSeeded = recent;
      joinTimes = recent.map((age) => Date.now() - age);
    }
    for (const e of info.events || []) {
      if (e.kind === EVENT.PARTICIPANT_CHANGED && e.data?.joined) joinTimes.push(Date.now());
    }
  }

  function joinsLastMinute() {
    const since = Date.now() - 60000;
    joinTimes = joinTimes.filter((at) => at > since);
    return joinTimes.length;
  }
  window.setInterval(() => render(), 5000); // the figure falls as the minute passes

  // Everyone who takes part, those with the most notes first (a flood shows on top), with
  // "hide all their notes" and "remove" (asked first, in the row). At most PEOPLE_SHOWN.
  const PEOPLE_SHOWN = 50;
  let confirmRemove = null;

  function drawPeopleList(state) {
    const people = state.participants?.list || [];
    const notes = new Map();
    for (const n of state.notes) {
      const id = n.author?.participant_id;
      if (!id) continue;
      if (!notes.has(id)) notes.set(id, []);
      notes.get(id).push(n);
    }
    const rows = people.map((x) => {
      const own = notes.get(x.participant_id) || [];
      const first = own[0]?.text;
      const label = x.name || (first ? t("control.person_by_note", { text: first.length > 30 ? `${first.slice(0, 30)}…` : first })
        : t("control.no_name"));
      return { id: x.participant_id, label, count: own.length,
        hidden: own.length > 0 && own.every((n) => n.hidden), joined: x.joined_at || 0 };
    }).sort((a, b) => b.count - a.count || b.joined - a.joined || (a.id < b.id ? -1 : 1));
    const shown = rows.slice(0, PEOPLE_SHOWN);
    const more = rows.length - shown.length;
    const list = $("people-list");
    const focused = list.contains(document.activeElement) ? document.activeElement?.dataset.key : null;
    const changed = redraw(list, [shown, more, confirmRemove], () => {
      if (!rows.length) return [el("li", { class: "muted", text: t("control.people_none") })];
      const items = shown.map((r) => personRow(r));
      if (more) items.push(el("li", { class: "muted", text: t("control.people_more", { count: more, total: num(more) }) }));
      return items;
    });
    if (changed && focused) list.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
  }

  function personRow(r) {
    const title = r.label.charAt(0).toUpperCase() + r.label.slice(1);
    const what = el("span", { class: "person-what" }, el("span", { class: "person-name", text: title }),
      ` · ${t("control.person_notes", { count: r.count, total: num(r.count) })}`);
    if (confirmRemove === r.id) {
      const yes = el("button", { type: "button", class: "btn btn-small btn-danger", "data-key": `yes:${r.id}`,
        text: t("control.person_remove_yes"), onclick: () => {
          confirmRemove = null;
          conn.send(OP.REMOVE_PARTICIPANT, { participant_id: r.id });
          announce(t("control.person_removed"));
          $("people-heading").setAttribute("tabindex", "-1");
          $("people-heading").focus();
        } });
      const no = el("button", { type: "button", class: "btn btn-small", "data-key": `no:${r.id}`, text: t("action.no"),
        onclick: () => { confirmRemove = null; render(); } });
      window.setTimeout(() => { if (document.activeElement !== no) yes.focus(); }, 0);
      return el("li", { class: "person confirming", "data-participant": r.id }, what,
        el("p", { class: "confirm-text", role: "alert", text: t("control.person_remove_confirm", { name: title }) }),
        el("div", { class: "row" }, yes, no));
    }
    const hide = el("button", { type: "button", class: "btn btn-small person-hide", "data-key": `hide:${r.id}`,
      text: t(r.hidden ? "control.person_show" : "control.person_hide"),
      "aria-label": t(r.hidden ? "control.person_show_aria" : "control.person_hide_aria", { name: r.label }),
      onclick: () => conn.send(OP.HIDE_PARTICIPANT_NOTES, { participant_id: r.id, hidden: !r.hidden }) });
    hide.hidden = !r.count;
    const remove = el("button", { type: "button", class: "btn btn-small btn-danger person-remove", "data-key": `remove:${r.id}`,
      text: t("control.person_remove"), "aria-label": t("control.person_remove_aria", { name: r.label }),
      onclick: () => { confirmRemove = r.id; render(); } });
    return el("li", { class: "person", "data-participant": r.id }, what, el("div", { class: "row" }, hide, remove));
  }


  return { draw: drawPeople, countJoins };
}
