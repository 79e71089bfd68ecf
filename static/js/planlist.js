// A session plan as data (no DOM, no network): where the room is in it, a list moved
// about, the body that starts a session, an activity's suggested timer. Shared by the
// landing page's editor, the control screen's programme, the wall and the phone; tested
// under Node (tests/js/planlist.test.mjs).

/**
 * Where the room is: {n, total, title} (n counts from 1), or null for a plan of one
 * activity (nothing to say then) or a state from before plans.
 * @param {any} state
 */
export function position(state) {
  const ws = state?.workshop;
  const list = ws?.activities;
  if (!Array.isArray(list) || list.length < 2) return null;
  let index = list.findIndex((a) => a.id === ws.activity_id);
  if (index < 0 && Number.isInteger(ws.activity_index)) index = ws.activity_index;
  if (index < 0 || index >= list.length) return null;
  return { n: index + 1, total: list.length, title: list[index].title || "" };
}

/**
 * "Onderdeel 2 van 5: Ideeën", or "" for a plan of one activity.
 * @param {any} state
 * @param {(key: string, params?: Record<string, any>) => string} t
 */
export function positionText(state, t) {
  const at = position(state);
  return at ? t("plan.position", at) : "";
}

/**
 * A copy of `list` with the item at `from` moved to `to` (both 0-based, clamped).
 * @template T
 * @param {T[]} list
 * @param {number} from
 * @param {number} to
 * @returns {T[]}
 */
export function moved(list, from, to) {
  const out = [...list];
  if (from < 0 || from >= out.length) return out;
  const [item] = out.splice(from, 1);
  out.splice(Math.max(0, Math.min(to, out.length)), 0, item);
  return out;
}

/** Questions from a text of one per line (empty lines dropped). @param {string} text */
export function promptLines(text) {
  return text.split("\n").map((s) => s.trim()).filter(Boolean);
}

/**
 * The body of POST /api/workshops for a plan edited on the landing page. A plan of one
 * activity without its own title or settings is a version 1 body (`prompts`), as before
 * plans; otherwise `activities`, each with a title (`fallbackTitle(n)` where left empty).
 * @param {{title: string, activities: {title: string, prompts: string[], settings?: any}[],
 *   settings: any}} plan
 * @param {(n: number) => string} fallbackTitle
 */
export function planBody({ title, activities, settings }, fallbackTitle) {
  const clean = activities.map((a) => ({
    title: (a.title || "").trim(),
    prompts: a.prompts.map((p) => p.trim()).filter(Boolean),
    settings: a.settings && Object.keys(a.settings).length ? a.settings : undefined,
  }));
  if (clean.length === 1 && !clean[0].title && !clean[0].settings) {
    return { title, prompts: clean[0].prompts, settings };
  }
  return {
    title,
    activities: clean.map((a, i) => ({
      title: a.title || fallbackTitle(i + 1),
      prompts: a.prompts,
      ...(a.settings ? { settings: a.settings } : {}),
    })),
    settings,
  };
}

/**
 * The timer an activity suggests, in whole minutes (at least 1), or 0 when none.
 * @param {any} settings an activity's settings
 */
export function suggestedMinutes(settings) {
  const seconds = Number(settings?.timer_seconds);
  return Number.isFinite(seconds) && seconds > 0 ? Math.max(1, Math.round(seconds / 60)) : 0;
}
