// What a screen keeps across reloads: its session (workshop, token, state, seq and the
// outbox of unanswered ops) in localStorage, and the ids that make a resent op count once.

/**
 * An op waiting for its answer; kept (also across reloads) until the server answers it.
 * @typedef {{op_id: string, op: string, args: object, at: number}} OutboxEntry
 */

/**
 * What a connection saves under its storage key.
 * @typedef {{workshop?: string|null, token?: string|null, you?: object|null, seq?: number|null,
 *            state?: any, outbox?: OutboxEntry[]}} Saved
 */

/**
 * A client-made op id: a UUID where the browser has one (secure contexts), else random hex.
 * @returns {string}
 */
export function newOpId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * @param {string} key
 * @returns {Saved|null} null when nothing (readable) is kept
 */
export function readSaved(key) {
  try {
    const raw = localStorage.getItem(key);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

/**
 * @param {string} key
 * @param {Saved|null} value null drops what is kept
 */
export function writeSaved(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Private mode or a full store: the session goes on in memory.
  }
}
