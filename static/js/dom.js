// Small DOM helpers. User text goes in through textContent only, never innerHTML.

/**
 * Make an element: el("button", {class: "btn", type: "button", onclick: fn}, "Label", child).
 * Attributes: `class`, `text` (textContent), `dataset` (object), `on<event>` (listener),
 * booleans (true → empty attribute, false/null/undefined → left out), anything else as a
 * string attribute. Children: nodes or strings (as text nodes); null/false are skipped.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node|string|number|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  append(node, ...children);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * An SVG element, same rules as el().
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node|string|number|null|undefined|false)} children
 * @returns {SVGElement}
 */
export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  append(node, ...children);
  return node;
}

/** @param {Element} node @param {Record<string, any>} attrs */
function setAttrs(node, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "dataset") Object.assign(/** @type {HTMLElement} */ (node).dataset, value);
    else if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
}

/**
 * @param {Node} parent
 * @param {...(Node|string|number|null|undefined|false)} children
 */
export function append(parent, ...children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replace all children of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, ...children);
}

/**
 * Give a <select> these options ([value, label] pairs), redrawn only when they changed,
 * keeping the chosen value where it is still among them (a redraw must not undo a
 * choice the user is making).
 * @param {HTMLSelectElement} select
 * @param {Array<[string, string]>} options
 */
export function setOptions(select, options) {
  const key = JSON.stringify(options);
  if (select.dataset.key === key) return;
  const value = select.value;
  select.dataset.key = key;
  replace(select, ...options.map(([v, label]) => el("option", { value: v, text: label })));
  if (options.some(([v]) => v === value)) select.value = value;
}

/**
 * Set a node's text only when it differs (no needless change for screen readers, no
 * reflow); a missing node is skipped.
 * @param {Node|null|undefined} node
 * @param {string} text
 */
export function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

/** @param {string} id @returns {any} */
export function $(id) {
  return document.getElementById(id);
}

/** The page's config: `<script type="application/json" id="config">`. */
export function readConfig() {
  const node = document.getElementById("config");
  return node ? JSON.parse(node.textContent || "{}") : {};
}

/**
 * Keep a list of keyed children in step with `items` without rebuilding the ones that
 * stay: new nodes come from `make(item)`; every node, new or kept, then goes through
 * `update(node, item)` (after it is in the document).
 * Nodes keep their place, so a list that only grows never moves what is already there.
 * @template T
 * @param {Element} parent
 * @param {T[]} items
 * @param {(item: T) => string} keyOf
 * @param {(item: T) => Element} make
 * @param {(node: Element, item: T) => void} [update]
 * @returns {Element[]} the nodes that were made new
 */
export function syncList(parent, items, keyOf, make, update) {
  /** @type {Map<string, Element>} */
  const existing = new Map();
  for (const child of Array.from(parent.children)) {
    const key = /** @type {HTMLElement} */ (child).dataset.key;
    if (key !== undefined) existing.set(key, child);
  }
  const made = [];
  let cursor = parent.firstElementChild;
  for (const item of items) {
    const key = keyOf(item);
    let node = existing.get(key);
    if (node) {
      existing.delete(key);
    } else {
      node = make(item);
      /** @type {HTMLElement} */ (node).dataset.key = key;
      made.push(node);
    }
    if (node !== cursor) parent.insertBefore(node, cursor);
    else cursor = cursor.nextElementSibling;
    if (update) update(node, item);
  }
  for (const node of existing.values()) node.remove();
  return made;
}

/**
 * Say something to screen readers through the page's polite live region. What is said
 * within the same 50 ms is said together, in order: a second announcement (an event
 * that came with the ack, say) must not swallow the first ("… is samengevoegd …").
 */
let announceTimer = 0;
/** @type {string[]} */
let toSay = [];
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  clearTimeout(announceTimer);
  if (text) toSay.push(text);
  // Clear first so the same words twice are announced twice.
  region.textContent = "";
  announceTimer = window.setTimeout(() => {
    region.textContent = toSay.join(" ");
    toSay = [];
  }, 50);
}
