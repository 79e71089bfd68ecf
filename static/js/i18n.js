// The page's words: the catalogue comes in the config JSON (server/locales/ui.*.json).

/** @type {Record<string, string>} */
let catalogue = {};
let language = "nl";

/** @param {Record<string, string>} cat @param {string} lang */
export function setCatalogue(cat, lang) {
  catalogue = cat || {};
  language = lang || "nl";
}

export function lang() {
  return language;
}

/**
 * The string for `key` with {name} placeholders filled in. With a numeric `count`, the
 * key's plural form (`key.one` / `key.other`) is used where the catalogue has it.
 * @param {string} key
 * @param {Record<string, string|number>} [params]
 */
export function t(key, params = {}) {
  let name = key;
  if (typeof params.count === "number") {
    const plural = `${key}.${params.count === 1 ? "one" : "other"}`;
    if (plural in catalogue) name = plural;
  }
  const template = catalogue[name] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, field) =>
    field in params ? String(params[field]) : whole);
}

/** A number as this language writes it. */
export function num(n) {
  return new Intl.NumberFormat(language).format(n);
}
