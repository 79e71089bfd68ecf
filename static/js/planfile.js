// "Opzet laden" on the landing page: a plan file (the JSON of /f/{id}/plan.json) is read
// in the browser and sent as it is as the body of POST /api/workshops: the server checks
// it (not one of ours, too many parts, too big) and says what is wrong, in its words.
import { $, setText } from "./dom.js";
import { t } from "./i18n.js";

/** Larger than any plan of 12 parts; a bigger file is refused here, before sending. */
const MOST_BYTES = 256 * 1024;

/**
 * @param {string} lang
 * @param {(data: any) => void} created the session is made: show its links
 */
export function planFile(lang, created) {
  const input = /** @type {HTMLInputElement} */ ($("plan-file"));
  const error = $("plan-file-error");
  const say = (words) => {
    setText(error, words);
    error.hidden = !words;
    if (words) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    say("");
    if (!file) return;
    if (file.size > MOST_BYTES) return say(t("plan.load_too_big"));
    let body = "";
    try {
      body = await file.text();
    } catch {
      return say(t("plan.load_unreadable"));
    }
    let response = null;
    let data = null;
    try {
      response = await fetch(`/api/workshops?lang=${encodeURIComponent(lang)}`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body,
      });
      data = await response.json().catch(() => null);
    } catch {
      return say(t("landing.offline"));
    }
    if (response.status !== 201 || !data) {
      input.value = "";
      return say(data?.error?.message || t("plan.load_unreadable"));
    }
    created(data);
  });
}
