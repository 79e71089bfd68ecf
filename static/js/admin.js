// The control screen's care for the workshop itself: erase it, make new secret links,
// forget this device, and the links kept in this browser. Each asks first, in the page
// (no blocking dialog), then calls the API with the HttpOnly cookie.
import { $, el, replace, announce } from "./dom.js";
import { t } from "./i18n.js";
import { forgetWorkshop, showNotice } from "./ui.js";

/**
 * @param {{api: string, workshop: string}} config the page's config
 * @param {import("./connection.js").Connection} conn
 */
export function bindAdmin(config, conn) {
  const rotatedKey = `samenspel:rotated:${config.workshop}`;

  /** @param {string} path @param {string} method */
  const call = (path, method) => fetch(`${config.api}${path}`, { method, credentials: "same-origin" })
    .catch(() => null);

  /** The words for a failed call: the server's, or a general one. @param {Response|null} response */
  async function failure(response) {
    const body = response ? await response.json().catch(() => null) : null;
    return body?.error?.message || t("error.generic");
  }

  /**
   * This browser lets go of the workshop: no socket, nothing kept, and a bare page that
   * says so. (The server's answer already dropped the cookies.)
   * @param {string|null} id the heading's id, to give it the focus
   * @param {string} heading @param {string} text
   */
  function letGo(id, heading, text) {
    conn.stop();
    conn.forget();
    forgetWorkshop(config.workshop);
    replace(document.body, el("main", { class: "simple-main" },
      el("h1", id ? { tabindex: "-1", id, text: heading } : { text: heading }),
      el("p", { text }),
      el("p", {}, el("a", { href: "/", text: t("error.home") }))));
    if (id) $(id).focus();
  }

  /**
   * Ask first in #{name}-box, beside its first child (the button, which steps aside);
   * "yes" runs `act`, which answers null when done, or what went wrong.
   * @param {string} name "rotate" or "forget"
   * @param {() => Promise<string|null>} act
   */
  function askFirst(name, act) {
    const box = $(`${name}-box`);
    const yes = el("button", { type: "button", class: "btn btn-primary", id: `${name}-yes`, text: t(`control.${name}_yes`) });
    const no = el("button", { type: "button", class: "btn", id: `${name}-no`, text: t("action.no") });
    const first = box.firstElementChild;
    const ask = el("div", { class: "confirm-box" },
      el("p", { class: "confirm-text", role: "alert", text: t(`control.${name}_confirm`) }),
      el("div", { class: "row" }, yes, no));
    first.hidden = true;
    box.append(ask);
    yes.focus();
    no.addEventListener("click", () => {
      ask.remove();
      first.hidden = false;
      first.focus();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      no.disabled = true;
      const problem = await act();
      if (problem === null) return;
      showNotice(problem);
      yes.disabled = false;
      no.disabled = false;
    });
  }

  // Erase: ask first (in place of the button), then DELETE.
  $("erase").addEventListener("click", () => {
    const box = $("erase-box");
    const button = $("erase");
    const yes = el("button", { type: "button", class: "btn btn-danger", id: "erase-yes", text: t("control.erase_yes") });
    const no = el("button", { type: "button", class: "btn", id: "erase-no", text: t("action.no") });
    // The question says what goes (every note, dot, question and name, on every screen).
    const ask = el("div", {}, el("p", { class: "confirm-text", role: "alert", text: t("control.erase_confirm") }),
      el("div", { class: "row" }, yes, no));
    replace(box, ask);
    yes.focus();
    const keep = () => {
      replace(box, button);
      button.focus();
    };
    no.addEventListener("click", keep);
    ask.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !yes.disabled) keep();
    });
    yes.addEventListener("click", async () => {
      yes.disabled = true;
      const response = await call("", "DELETE");
      if (response && response.status === 204) {
        letGo(null, t("control.erased"), t("control.erased_text"));
        return;
      }
      showNotice(await failure(response));
      yes.disabled = false;
    });
  });

  // New secret links: the answer holds the new keys. The old links (and the wall that was
  // opened with one) stop working at once. Going to the new control link swaps this
  // browser's cookie; the new links are kept here to copy.
  $("rotate").addEventListener("click", () => askFirst("rotate", async () => {
    const response = await call("/keys", "POST");
    const body = response ? await response.json().catch(() => null) : null;
    if (response && response.ok && body?.urls?.facilitator) {
      const abs = (url) => new URL(url, location.href).href;
      try {
        localStorage.setItem(`samenspel:links:${config.workshop}`,
          JSON.stringify({ facilitator: abs(body.urls.facilitator), projector: abs(body.urls.projector) }));
        sessionStorage.setItem(rotatedKey, "1");
      } catch { /* the links are also in the address bar's history; keeping them is a help */ }
      conn.stop(); // the server closes this socket now: no "wrong key" message meanwhile
      location.assign(body.urls.facilitator);
      return null;
    }
    return body?.error?.message || t("error.generic");
  }));

  // Forget this device: the server drops the HttpOnly cookies and this page drops what the
  // browser keeps (links, saved state). The workshop itself goes on.
  $("forget").addEventListener("click", () => askFirst("forget", async () => {
    const response = await call("/forget", "POST");
    if (response && response.status === 204) {
      letGo("forgotten", t("control.forgotten"), t("control.forgotten_text"));
      return null;
    }
    return failure(response);
  }));

  /** Right after new links were made: say what changed, and where the new links are. */
  function announceRotated() {
    let rotated = null;
    try {
      rotated = sessionStorage.getItem(rotatedKey);
      sessionStorage.removeItem(rotatedKey);
    } catch { rotated = null; }
    if (!rotated) return;
    replace($("info"), el("p", { text: t("control.rotated") }),
      el("p", {}, el("a", { href: "#saved-links", text: t("control.rotated_link") })));
  }

  /** Links kept by the landing page right after creating the workshop (this browser only). */
  function drawSavedLinks() {
    let links = null;
    try { links = JSON.parse(localStorage.getItem(`samenspel:links:${config.workshop}`) || "null"); } catch { links = null; }
    if (!links) return;
    const rows = [];
    for (const [name, url] of [["facilitator", links.facilitator], ["projector", links.projector]]) {
      if (!url) continue;
      const id = `saved-${name}`;
      const input = el("input", { id, type: "text", readonly: true, value: new URL(url, location.href).href });
      rows.push(el("div", { class: "field" },
        el("label", { for: id, text: t(`landing.${name}_link`) }),
        el("div", { class: "row" }, input,
          el("button", { type: "button", class: "btn btn-small", text: t("action.copy"),
            onclick: () => copy(input) }))));
    }
    replace($("saved-links"), ...rows);
  }

  drawSavedLinks();
  announceRotated();
}

/** Copy an input's text, and say whether it worked. @param {HTMLInputElement} input */
async function copy(input) {
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    announce(t("action.copied"));
  } catch {
    announce(t("action.copy_manual"));
  }
}
