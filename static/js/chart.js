// The results as a ranked horizontal bar chart, in SVG drawn here (no library).
// Every label is set with textContent; the SVG scales with its container (viewBox).
import { svg } from "./dom.js";
import { t, num } from "./i18n.js";

// Colours for the dots per perspective: dark enough on white for text and bars.
const GROUP_COLOURS = ["#1d4ed8", "#b45309", "#047857", "#9d174d", "#6d28d9", "#374151"];

function clip(text, max) {
  const chars = Array.from(text.replace(/\s+/g, " "));
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : chars.join("");
}

/**
 * @param {{id: string, title: string, total: number, divided?: boolean}[]} rows ranked
 * @param {{width?: number, rowHeight?: number, fontSize?: number, maxLabel?: number,
 *   limit?: number, groups?: Record<string, Record<string, number>>|null}} [opts]
 * @returns {SVGElement}
 */
export function barChart(rows, opts = {}) {
  const width = opts.width ?? 1000;
  const font = opts.fontSize ?? 28;
  const rowHeight = opts.rowHeight ?? Math.round(font * 3.1);
  const barHeight = Math.round(font * 1.2);
  const shown = rows.slice(0, opts.limit ?? rows.length);
  const groups = opts.groups && Object.keys(opts.groups).length ? opts.groups : null;
  const groupNames = groups ? Object.keys(groups).sort() : [];
  const legendHeight = groups ? Math.round(font * 2) : 0;
  const height = legendHeight + shown.length * rowHeight + 4;
  const max = Math.max(1, ...shown.map((r) => r.total));
  const valueRoom = font * 5;
  const barSpace = width - valueRoom;
  const summary = shown.map((r, i) => `${i + 1}. ${r.title}: ${t("results.dots", { count: r.total, n: num(r.total) })}`).join("; ");

  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`, class: "bar-chart", role: "img",
    "aria-label": `${t("results.chart_label")}. ${summary}`,
  });
  if (groups) {
    let x = 0;
    groupNames.forEach((name, i) => {
      const label = name === "other" ? t("results.group_other") : name;
      root.append(
        svg("rect", { x, y: font * 0.3, width: font, height: font, rx: 4, fill: GROUP_COLOURS[i % GROUP_COLOURS.length] }),
        svg("text", { x: x + font * 1.3, y: font * 1.1, class: "chart-legend", "font-size": font * 0.8, text: label }));
      x += font * 1.6 + Array.from(label).length * font * 0.5 + font;
    });
  }
  shown.forEach((row, i) => {
    const y = legendHeight + i * rowHeight;
    const label = svg("text", { x: 0, y: y + font, class: "chart-label", "font-size": font },
      svg("tspan", { class: "chart-rank", text: `${i + 1}. ` }),
      svg("tspan", { text: clip(row.title, opts.maxLabel ?? 60) }));
    if (row.divided) {
      label.append(svg("tspan", { class: "chart-divided", dx: font * 0.5, text: `· ${t("results.divided")}` }));
    }
    label.append(svg("title", { text: row.title }));
    root.append(label);
    const barY = y + font * 1.4;
    const full = Math.max(4, (row.total / max) * barSpace);
    root.append(svg("rect", { x: 0, y: barY, width: barSpace, height: barHeight, rx: 6, class: "chart-track" }));
    if (groups) {
      let x = 0;
      groupNames.forEach((name, gi) => {
        const n = groups[name]?.[row.id] || 0;
        if (!n) return;
        const w = (n / max) * barSpace;
        root.append(svg("rect", { x, y: barY, width: w, height: barHeight, fill: GROUP_COLOURS[gi % GROUP_COLOURS.length] }));
        x += w;
      });
    } else {
      root.append(svg("rect", { x: 0, y: barY, width: full, height: barHeight, rx: 6, class: "chart-bar" }));
    }
    root.append(svg("text", { x: full + font * 0.4, y: barY + barHeight * 0.82, class: "chart-value",
      "font-size": font, text: num(row.total) }));
  });
  return root;
}
