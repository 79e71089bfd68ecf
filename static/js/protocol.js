// The wire protocol's names (docs/protocol.md), as frozen constants and nothing else: no
// DOM, no socket, no imports, so any module (and a test under Node) can read them.
// The connection that speaks this protocol is static/js/connection.js.
// tests/e2e/test_protocol_module.py holds these lists against the server's.

/** Frame types, as in server/protocol.py (CLIENT_TYPES + SERVER_TYPES). */
export const MSG = Object.freeze({
  HELLO: "hello", OP: "op", PING: "ping",
  WELCOME: "welcome", EVENTS: "events", ACK: "ack", NACK: "nack", ERROR: "error",
  PRESENCE: "presence", PONG: "pong", WAIT: "wait", STATUS: "status",
});
export const CLIENT_TYPES = Object.freeze(["hello", "op", "ping"]);
export const SERVER_TYPES = Object.freeze(
  ["welcome", "events", "ack", "nack", "error", "presence", "pong", "wait", "status"]);

/** Ops, as in server/rules.py OPS. */
export const OP = Object.freeze({
  ADD_NOTE: "add_note", EDIT_NOTE: "edit_note", DELETE_NOTE: "delete_note",
  SET_PROFILE: "set_profile", VOTE: "vote", SET_PHASE: "set_phase", TIMER: "timer",
  MODERATE_NOTE: "moderate_note", CLUSTER: "cluster", UNCLUSTER: "uncluster",
  RENAME_CLUSTER: "rename_cluster", DELETE_CLUSTER: "delete_cluster",
  UPDATE_SETTINGS: "update_settings", SET_LOCK: "set_lock",
  REMOVE_PARTICIPANT: "remove_participant", HIDE_PARTICIPANT_NOTES: "hide_participant_notes",
  SET_DONE: "set_done", REACT: "react",
  ADD_PROMPT: "add_prompt", EDIT_PROMPT: "edit_prompt",
  MERGE_CLUSTERS: "merge_clusters", SIGN_UP: "sign_up",
  ADD_PAPER_NOTE: "add_paper_note", APPROVE_NOTES: "approve_notes",
  SET_ACTIVITY: "set_activity", ADD_ACTIVITY: "add_activity", EDIT_ACTIVITY: "edit_activity",
  REMOVE_ACTIVITY: "remove_activity", MOVE_ACTIVITY: "move_activity",
  SUGGEST_THEMES: "suggest_themes", APPLY_THEMES: "apply_themes", UNDO_THEMES: "undo_themes",
  SIMILAR_NOTES: "similar_notes",
});

/** Event kinds. */
export const EVENT = Object.freeze({
  NOTE_ADDED: "note_added", NOTE_EDITED: "note_edited", NOTE_DELETED: "note_deleted",
  NOTE_MODERATED: "note_moderated", CLUSTER_CHANGED: "cluster_changed",
  CLUSTER_DELETED: "cluster_deleted", PHASE_CHANGED: "phase_changed",
  TIMER_CHANGED: "timer_changed", SETTINGS_CHANGED: "settings_changed",
  VOTES_CHANGED: "votes_changed", PARTICIPANT_CHANGED: "participant_changed",
  WORKSHOP_CHANGED: "workshop_changed", PARTICIPANT_REMOVED: "participant_removed",
  PARTICIPANT_DONE: "participant_done", NOTE_REACTED: "note_reacted",
  PROMPTS_CHANGED: "prompts_changed",
  CLUSTERS_MERGED: "clusters_merged", SIGNUPS_CHANGED: "signups_changed",
  NOTE_APPROVED: "note_approved",
  ACTIVITY_CHANGED: "activity_changed", PLAN_CHANGED: "plan_changed",
});

/** The reactions on a note, in their order (server/rules.py REACTIONS). */
export const REACTIONS = Object.freeze(["\u{1F44D}", "\u2764\uFE0F", "\u{1F4A1}", "\u2753"]);

export const PHASES = Object.freeze(["collect", "cluster", "vote", "results", "closed"]);

/** WebSocket close codes the server uses, as in server/protocol.py CLOSE_CODES. */
export const CLOSE = Object.freeze({
  MALFORMED: 4400, WRONG_KEY: 4401, LOCKED: 4403, NOT_FOUND: 4404, TOO_SLOW: 4408,
  ERASED: 4410, TOO_MANY: 4429, POLICY: 1008, RESTART: 1012, TRY_AGAIN: 1013,
});

/** Nack codes that mean "not now" rather than "no": the op is sent again later. */
export const RETRY_CODES = Object.freeze(["try_again", "too_fast"]);
