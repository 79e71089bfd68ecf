// "Kies een opzet" on the landing page: the templates are drawn by the page (radio
// buttons, each with its description and its parts; server/plans as GET /api/templates
// lists them) and come in its config; choosing one hands its activities to the plan
// editor (and its title to an empty or untouched title field). "Leeg beginnen": null.
import { $, announce } from "./dom.js";
import { t } from "./i18n.js";

/**
 * @param {{id: string, title: string, activities: any[]}[]} templates
 * @param {(activities: any[]|null, title: string) => void} onChoose
 */
export function templatePicker(templates, onChoose) {
  const byId = new Map((templates || []).map((tpl) => [tpl.id, tpl]));
  $("template-list").addEventListener("change", (event) => {
    const input = /** @type {HTMLInputElement} */ (event.target);
    if (input.name !== "template") return;
    const chosen = byId.get(input.value) || null;
    onChoose(chosen ? chosen.activities : null, chosen ? chosen.title : "");
    if (chosen) announce(t("plan.template_chosen", { title: chosen.title }));
  });
}
