// "Kies een opzet" on the landing page: the templates (GET /api/templates, in the page's
// language) as radio buttons, each with its description and its parts listed; "Leeg
// beginnen" is drawn by the page itself. Choosing one hands its activities to the plan
// editor (and its title to an empty or untouched title field).
import { $, el, setText, announce } from "./dom.js";
import { t } from "./i18n.js";

/**
 * @param {string} lang
 * @param {(activities: any[]|null, title: string) => void} onChoose
 */
export async function templatePicker(lang, onChoose) {
  const list = $("template-list");
  const status = $("templates-status");
  /** @type {Map<string, any>} */
  const byId = new Map();
  list.addEventListener("change", (event) => {
    const input = /** @type {HTMLInputElement} */ (event.target);
    if (input.name !== "template") return;
    const chosen = byId.get(input.value) || null;
    onChoose(chosen ? chosen.activities : null, chosen ? chosen.title : "");
    if (chosen) announce(t("plan.template_chosen", { title: chosen.title }));
  });
  let templates = [];
  try {
    const response = await fetch(`/api/templates?lang=${encodeURIComponent(lang)}`);
    if (!response.ok) throw new Error(String(response.status));
    templates = (await response.json()).templates || [];
  } catch {
    setText(status, t("plan.templates_failed"));
    return;
  }
  for (const tpl of templates) {
    byId.set(tpl.id, tpl);
    const id = `template-${tpl.id}`;
    const about = `${id}-about`;
    list.append(el("li", { class: "template-option", dataset: { key: tpl.id } },
      el("div", { class: "radio" },
        el("input", { type: "radio", name: "template", id, value: tpl.id, "aria-describedby": about }),
        el("label", { for: id, text: tpl.title })),
      el("div", { class: "hint template-about", id: about },
        el("p", { class: "template-description", text: tpl.description || "" }),
        el("p", { class: "template-parts-label", text: t("plan.template_parts") }),
        el("ol", { class: "template-parts" },
          ...(tpl.activities || []).map((a) => el("li", { text: a.title }))))));
  }
  status.hidden = true;
}
