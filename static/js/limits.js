// The server's limits (server/rules.py, via server/limits.py), from the page's config JSON:
// the screens check and show them, the server checks them again. One place for each.
import { readConfig } from "./dom.js";

/**
 * @type {Readonly<{title: number, prompt: number, prompts: number, name: number,
 *   perspective: number, perspectives: number, cluster_title: number, timer_minutes: number,
 *   note_length: number, activities: number}>}
 */
export const LIMITS = Object.freeze({ ...readConfig().limits });
