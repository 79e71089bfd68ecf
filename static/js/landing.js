// The landing page: start a workshop (POST /api/workshops), then show the links to keep.
import { $, el, announce, readConfig } from "./dom.js";
import { setCatalogue, t } from "./i18n.js";
import { LIMITS } from "./limits.js";
import { perspectivesProblem, splitList } from "./ui.js";

const config = readConfig();
setCatalogue(config.i18n, config.lang);

const form = /** @type {HTMLFormElement} */ ($("start-form"));
const list = $("prompt-list");
const errorBox = $("start-error");

function promptInputs() {
  return /** @type {HTMLInputElement[]} */ (Array.from(list.querySelectorAll("input")));
}

$("add-prompt").addEventListener("click", () => {
  const n = promptInputs().length + 1;
  if (n > LIMITS.prompts) return;
  const id = `prompt-${n}`;
  const input = el("input", { id, name: "prompt", type: "text", maxlength: LIMITS.prompt, autocomplete: "off",
    "aria-describedby": "prompts-hint" });
  const remove = el("button", { type: "button", class: "btn btn-small", text: t("action.remove"),
    "aria-label": t("landing.remove_prompt", { n }),
    onclick: () => {
      row.remove();
      renumber();
      promptInputs().at(-1)?.focus();
    } });
  const row = el("li", { class: "prompt-row" },
    el("label", { for: id, text: t("landing.prompt_label", { n }) }),
    el("div", { class: "row" }, input, remove));
  list.append(row);
  renumber();
  input.focus();
});

function renumber() {
  promptInputs().forEach((input, i) => {
    const n = i + 1;
    const label = input.closest("li").querySelector("label");
    input.id = `prompt-${n}`;
    label.htmlFor = input.id;
    label.textContent = t("landing.prompt_label", { n });
    const remove = input.closest("li").querySelector("button");
    if (remove) remove.setAttribute("aria-label", t("landing.remove_prompt", { n }));
  });
  $("add-prompt").hidden = promptInputs().length >= LIMITS.prompts;
}

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
  const prompts = promptInputs().map((i) => i.value.trim()).filter(Boolean);
  if (!title) return fail(t("landing.need_title"), $("title"));
  if (!prompts.length) return fail(t("landing.need_prompt"), promptInputs()[0]);
  const votes = Number($("votes").value);
  if (!(Number.isInteger(votes) && votes >= 1 && votes <= 100)) return fail(t("landing.bad_votes"), $("votes"));
  const perspectives = splitList($("perspectives").value);
  const problem = perspectivesProblem(perspectives);
  if (problem) return fail(problem, $("perspectives"));
  const body = {
    title,
    prompts,
    settings: {
      votes_per_participant: votes,
      max_votes_per_item: Math.min(3, votes),
      anonymous: $("anonymous").checked,
      perspectives,
      language: config.lang,
    },
  };
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
