// Where the room is in the session plan, on every screen: the line "Onderdeel 2 van 5:
// Ideeën" (hidden for a plan of one), and one announcement for screen readers when the
// facilitator moves everyone to another activity, however the new one arrived (an
// `activity_changed` event, or a welcome after the phone slept).
import { announce, setText } from "./dom.js";
import { t } from "./i18n.js";
import { position, positionText } from "./planlist.js";

/**
 * Draw the position line into `node` (hidden when there is nothing to say).
 * @param {HTMLElement|null} node
 * @param {any} state
 */
export function drawPosition(node, state) {
  if (!node) return;
  const text = positionText(state, t);
  setText(node, text);
  node.hidden = !text;
}

/**
 * A function to call with each state: when the current activity differs from the last
 * one seen, it says so in the live region and calls `onChange(id, before)` (where a
 * screen puts away what belonged to the activity before). The first state says nothing.
 * @param {(id: string|null, before: string|null) => void} [onChange]
 */
export function watchActivity(onChange) {
  /** @type {string|null|undefined} */
  let last;
  return (state) => {
    const id = state?.workshop?.activity_id ?? null;
    if (last !== undefined && id !== last) {
      const at = position(state);
      if (at) announce(t("plan.changed", at));
      onChange?.(id, last);
    }
    last = id;
  };
}
