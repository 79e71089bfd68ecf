// Editing and deleting a note in place, the same on the phone (own notes) and on the
// control screen (every note): an edit form, and "delete? yes / no" asked in the row.
import { el } from "./dom.js";
import { t } from "./i18n.js";

/**
 * The edit form: a labelled text area with save and cancel; the area gets the focus.
 * @param {{id: string, text: string, label: string, maxlength?: number, small?: boolean,
 *          onSave: (text: string) => void, onCancel: () => void}} opts
 *   onSave gets the trimmed text (perhaps empty: the caller decides)
 * @returns {HTMLFormElement}
 */
export function editForm({ id, text, label, maxlength, small = false, onSave, onCancel }) {
  const size = small ? " btn-small" : "";
  const area = /** @type {HTMLTextAreaElement} */ (el("textarea", { id, rows: 3, maxlength }));
  area.value = text;
  const form = el("form", { class: "edit-form", onsubmit: (/** @type {Event} */ e) => {
    e.preventDefault();
    onSave(area.value.trim());
  } },
  el("label", { for: id, text: label }),
  area,
  el("div", { class: "row" },
    el("button", { type: "submit", class: `btn btn-primary${size}`, text: t("action.save") }),
    el("button", { type: "button", class: `btn${size}`, text: t("action.cancel"), onclick: onCancel })));
  requestAnimationFrame(() => area.focus());
  return /** @type {HTMLFormElement} */ (form);
}

/**
 * "Delete this note?" with yes and no, for a note's row of actions.
 * @param {{question: string, small?: boolean, onYes: () => void, onNo: () => void}} opts
 * @returns {HTMLElement[]}
 */
export function askDelete({ question, small = false, onYes, onNo }) {
  const size = small ? " btn-small" : "";
  return [
    el("span", { class: "confirm-text", text: question }),
    el("button", { type: "button", class: `btn btn-danger${size}`, text: t("action.delete_yes"), onclick: onYes }),
    el("button", { type: "button", class: `btn${size}`, text: t("action.no"), onclick: onNo }),
  ];
}

/**
 * The edit or delete button of a note.
 * @param {"edit"|"delete"} action
 * @param {{label: string, small?: boolean, onclick: () => void}} opts label: the aria-label
 * @returns {HTMLElement}
 */
export function noteButton(action, { label, small = false, onclick }) {
  return el("button", { type: "button", class: small ? "btn btn-small" : "btn",
    text: t(`action.${action}`), "aria-label": label, onclick });
}
