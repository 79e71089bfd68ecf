// Results as every screen shows them (docs/results.md): the plain ranking, the common-ground
// ranking beside it, the "divided" label with the numbers per group, and the dots per group.
// The server computes every figure; this module only reads `state.votes` and draws HTML
// (real text, so it scales, wraps, and is read by screen readers and checked by axe).
import { el, replace } from "./dom.js";
import { t, num } from "./i18n.js";
import { itemTitle } from "./state.js";

export const OTHER = "other";

// One colour per group, in the order of the workshop's perspectives; "other" is grey.
// Every colour has at least 4.5:1 contrast on white (the colour is never the only cue:
// every figure is also written out with the group's name).
const GROUP_COLOURS = ["#1d4ed8", "#b45309", "#047857", "#9d174d", "#6d28d9", "#0e7490",
  "#854d0e", "#be123c"];
const OTHER_COLOUR = "#57534e";

/** The words for a group: its name, or "anders" / "other" for the mixed group. */
export function groupLabel(name) {
  return name === OTHER ? t("results.group_other") : name;
}

/**
 * The groups that placed dots, in the workshop's order, "other" last; each with its
 * colour and the dots it cast (`cast`), for the shares.
 * @returns {{name: string, label: string, colour: string, cast: number,
 *   dots: Record<string, number>}[]}
 */
export function groupsOf(state) {
  const by = state.votes?.by_perspective || {};
  const order = state.workshop.settings.perspectives || [];
  const names = [...order.filter((p) => p in by),
    ...Object.keys(by).filter((p) => p !== OTHER && !order.includes(p)).sort()];
  if (OTHER in by) names.push(OTHER);
  return names.map((name) => {
    const dots = by[name] || {};
    const index = order.indexOf(name);
    return {
      name, label: groupLabel(name), dots,
      colour: name === OTHER ? OTHER_COLOUR : GROUP_COLOURS[(index < 0 ? names.indexOf(name) : index) % GROUP_COLOURS.length],
      cast: Object.values(dots).reduce((a, b) => a + b, 0),
    };
  }).filter((g) => g.cast > 0);
}

/** Common ground needs two named groups (3 people or more) that placed dots. */
export function hasCommonGround(state) {
  return groupsOf(state).filter((g) => g.name !== OTHER).length >= 2;
}

/**
 * One row per ranked item: title, total, divided, and its dots per group (with the share
 * of that group's dots; "other" is a mixture, so it gets no share).
 */
export function resultRows(state, untitled, order = state.votes?.ranking || []) {
  const v = state.votes || {};
  const divided = new Set(v.divided || []);
  const groups = groupsOf(state);
  return order
    .map((id) => ({
      id,
      title: itemTitle(state, id, untitled),
      total: v.totals?.[id] || 0,
      helpers: v.sign_ups?.[id] || 0, // "ik doe mee": how many, never who
      divided: divided.has(id),
      groups: groups.map((g) => ({
        name: g.name, label: g.label, colour: g.colour, dots: g.dots[id] || 0,
        share: g.name === OTHER ? null : Math.round(((g.dots[id] || 0) / g.cast) * 100),
      })),
    }))
    .filter((row) => row.title !== null);
}

/** "Bewoner 9 (75%)", or "anders 2". */
function figureText(f) {
  return f.share === null ? t("results.figure_other", { group: f.label, n: num(f.dots) })
    : t("results.figure", { group: f.label, n: num(f.dots), pct: num(f.share) });
}

/**
 * The groups line: [verdeeld] Bewoner 9 (75%) · Ambtenaar 0 (0%) · anders 2. Swatches only
 * where the bars are drawn per group (they tie a name to its piece of the bar).
 */
export function groupsLine(row, withBadge, swatches, withOther = true) {
  const line = el("p", { class: "result-groups" });
  if (withBadge && row.divided) {
    line.append(el("span", { class: "badge divided", text: t("results.divided") }), " ");
  }
  // "other" is a mixture: it is named only where it placed dots on this item.
  row.groups.filter((f) => f.name !== OTHER || (withOther && f.dots > 0)).forEach((f, i) => {
    if (i) line.append(el("span", { class: "sep", "aria-hidden": "true", text: " · " }));
    let swatch = null;
    if (swatches) {
      swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      swatch.style.backgroundColor = f.colour;
    }
    line.append(el("span", { class: "figure", dataset: { group: f.name } }, swatch, figureText(f)));
  });
  // A screen reader hears "Dots per group: …" (the separators are hidden).
  line.prepend(el("span", { class: "sr-only", text: `${t("results.per_group")}: ` }));
  return line;
}

/** The bar: one piece per group (in the legend's order), or one plain piece. */
function bar(row, max, stacked) {
  const track = el("span", { class: "result-bar", "aria-hidden": "true" });
  if (stacked && row.groups.length) {
    for (const f of row.groups) {
      if (!f.dots) continue;
      const piece = el("span", { class: "piece" });
      piece.style.width = `${(f.dots / max) * 100}%`;
      piece.style.backgroundColor = f.colour;
      track.append(piece);
    }
  } else {
    const piece = el("span", { class: "piece plain" });
    piece.style.width = `${(row.total / max) * 100}%`;
    track.append(piece);
  }
  return track;
}

/**
 * A ranked list of results.
 * @param {ReturnType<typeof resultRows>} rows
 * @param {{groups?: boolean, bars?: boolean, divided?: boolean, totals?: boolean,
 *   other?: boolean, id?: string}} opts
 *   groups: the dots per group for every item (and stacked bars); divided: the label with
 *   the numbers per group on divided items (always with its numbers); totals: the total
 *   dots of each item; other: "anders" among the groups (common ground leaves it out: it
 *   is a mixture, and takes no part in it)
 */
export function resultList(rows, opts = {}) {
  const max = Math.max(1, ...rows.map((r) => r.total));
  const list = el("ol", { class: "result-list", id: opts.id });
  rows.forEach((row, i) => {
    const item = el("li", { class: `result${row.divided ? " is-divided" : ""}`, dataset: { item: row.id } },
      el("p", { class: "result-head" },
        el("span", { class: "result-rank", "aria-hidden": "true", text: String(i + 1) }),
        el("span", { class: "result-title", text: row.title }),
        opts.totals === false ? null
          : el("span", { class: "result-total", text: t("results.dots", { count: row.total, n: num(row.total) }) })));
    if (opts.bars !== false) item.append(bar(row, max, !!opts.groups));
    if (row.helpers && opts.totals !== false) {
      item.append(el("p", { class: "result-helpers", text: t("results.helpers", { count: row.helpers, n: num(row.helpers) }) }));
    }
    const showGroups = row.groups.length > 0 && (opts.groups || (opts.divided !== false && row.divided));
    if (showGroups) {
      item.append(groupsLine(row, opts.divided !== false, !!opts.groups && opts.bars !== false, opts.other !== false));
    }
    else if (row.divided && opts.divided !== false) {
      item.append(el("p", { class: "result-groups" }, el("span", { class: "badge divided", text: t("results.divided") })));
    }
    list.append(item);
  });
  return list;
}

/** The colour key for stacked bars: a swatch and the group's name. */
export function legend(state) {
  const groups = groupsOf(state);
  const list = el("ul", { class: "result-legend", "aria-label": t("results.legend") });
  for (const g of groups) {
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.backgroundColor = g.colour;
    list.append(el("li", {}, swatch, g.label));
  }
  return list;
}

/** Replace a box's content only when its key changed (no flicker, no lost scroll). */
export function redraw(box, key, make) {
  const k = JSON.stringify(key);
  if (box.dataset.key === k) return false;
  box.dataset.key = k;
  replace(box, ...[make()].flat());
  return true;
}

/**
 * The phone's ranking: a bar, the dots, "yours" and "divided" (with the numbers per group)
 * per row.
 * @param {ReturnType<typeof resultRows>} rows
 * @param {Record<string, number>} mine this participant's dots per item
 * @returns {HTMLElement[]}
 */
export function phoneRanking(rows, mine) {
  const max = Math.max(1, ...rows.map((r) => r.total));
  return rows.map((row) => {
    const bar = el("span", { class: "bar" });
    bar.style.width = `${Math.round((row.total / max) * 100)}%`;
    return el("li", { class: "rank-row" },
      el("span", { class: "rank-title", text: row.title }),
      el("span", { class: "bar-track", "aria-hidden": "true" }, bar),
      el("span", { class: "rank-total", text: t("results.dots", { count: row.total, n: num(row.total) }) }),
      mine[row.id] ? el("span", { class: "rank-mine", text: t("results.yours", { count: mine[row.id] }) }) : null,
      // "verdeeld" always comes with the numbers per group (docs/results.md).
      row.divided ? (row.groups.length ? groupsLine(row, true, false)
        : el("p", { class: "result-groups" }, el("span", { class: "badge divided", text: t("results.divided") }))) : null);
  });
}
