// The landing page: start a workshop (POST /api/workshops), then show the links to keep.
import { $, el, announce, readConfig } from "./dom.js";
import { setCatalogue, t } from "./i18n.js";
import { planBody } from "./planlist.js";
import { planEditor } from "./planeditor.js";
import { planFile } from "./planfile.js";
import { templatePicker } from "./templatepicker.js";
import { perspectivesProblem, splitList } from "./ui.js";

const config = readConfig();
setCatalogue(config.i18n, config.lang);

const form = /** @type {HTMLFormElement} */ ($("start-form"));
const errorBox = $("start-error");
const editor = planEditor();
/** The title a template put in the title field (replaced when another is chosen). */
let templateTitle = "";

templatePicker(config.templates, (activities, title) => {
  editor.set(activities);
  const field = $("title");
  if (!field.value.trim() || field.value === templateTitle) field.value = title;
  templateTitle = title;
});
planFile(config.lang, (data) => created(data));

function fail(message, field) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  if (field) {
    field.setAttribute("aria-invalid", "true");
    field.focus();
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  for (const f of form.querySelectorAll("[aria-invalid]")) f.removeAttribute("aria-invalid");
  const title = $("title").value.trim();
  if (!title) return fail(t("landing.need_title"), $("title"));
  const problem = editor.problem();
  if (problem) return fail(problem.message, problem.field);
  const votes = Number($("votes").value);
  if (!(Number.isInteger(votes) && votes >= 1 && votes <= 100)) return fail(t("landing.bad_votes"), $("votes"));
  const perspectives = splitList($("perspectives").value);
  const wrong = perspectivesProblem(perspectives);
  if (wrong) return fail(wrong, $("perspectives"));
  const body = planBody({
    title,
    activities: editor.parts(),
    settings: {
      votes_per_participant: votes,
      max_votes_per_item: Math.min(3, votes),
      anonymous: $("anonymous").checked,
      perspectives,
      language: config.lang,
    },
  }, (n) => t("plan.part_n", { n }));
  const button = $("start-submit");
  button.disabled = true;
  let response = null;
  let data = null;
  try {
    response = await fetch(`/api/workshops?lang=${encodeURIComponent(config.lang)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    data = await response.json().catch(() => null);
  } catch {
    response = null;
  }
  button.disabled = false;
  if (!response) return fail(t("landing.offline"));
  if (response.status !== 201 || !data) return fail(data?.error?.message || t("error.generic"));
  created(data);
});

/** A join code (6 to 10 digits) in groups of 3 or 4: "123 456", "123 4567", "123 456 7890". */
function spacedCode(code) {
  const groups = Math.ceil(code.length / 4);
  const size = Math.floor(code.length / groups);
  const longer = code.length % groups; // the last groups take one digit more
  const out = [];
  let at = 0;
  for (let i = 0; i < groups; i += 1) {
    const n = size + (i >= groups - longer ? 1 : 0);
    out.push(code.slice(at, at + n));
    at += n;
  }
  return out.join(" ");
}

function created(data) {
  const abs = (url) => new URL(url, location.href).href;
  try {
    localStorage.setItem(`samenspel:links:${data.id}`,
      JSON.stringify({ facilitator: abs(data.urls.facilitator), projector: abs(data.urls.projector) }));
  } catch {
    // the links are on screen; keeping them is a convenience
  }
  $("facilitator-link").value = abs(data.urls.facilitator);
  $("projector-link").value = abs(data.urls.projector);
  $("created-code").textContent = spacedCode(data.code);
  $("go-control").href = data.urls.facilitator;
  $("go-projector").href = data.urls.projector;
  form.hidden = true;
  $("plan-file").disabled = true;
  const box = $("created");
  box.hidden = false;
  box.focus();
  announce(t("landing.created_heading"));
}

for (const button of document.querySelectorAll("[data-copy]")) {
  button.addEventListener("click", async () => {
    const input = /** @type {HTMLInputElement} */ ($(button.dataset.copy));
    input.select();
    let ok = false;
    try {
      await navigator.clipboard.writeText(input.value);
      ok = true;
    } catch {
      ok = false;
    }
    $("copy-status").textContent = ok ? t("action.copied") : t("action.copy_manual");
  });
}
