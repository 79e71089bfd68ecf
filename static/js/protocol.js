// The wire protocol (docs/protocol.md): message types, and a Connection that says hello,
// resumes with `since`, keeps an outbox of unacknowledged ops, and reconnects by itself.
import { applyEvents, applyPresence } from "./state.js";

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
});

/** Event kinds. */
export const EVENT = Object.freeze({
  NOTE_ADDED: "note_added", NOTE_EDITED: "note_edited", NOTE_DELETED: "note_deleted",
  NOTE_MODERATED: "note_moderated", CLUSTER_CHANGED: "cluster_changed",
  CLUSTER_DELETED: "cluster_deleted", PHASE_CHANGED: "phase_changed",
  TIMER_CHANGED: "timer_changed", SETTINGS_CHANGED: "settings_changed",
  VOTES_CHANGED: "votes_changed", PARTICIPANT_CHANGED: "participant_changed",
  WORKSHOP_CHANGED: "workshop_changed", PARTICIPANT_REMOVED: "participant_removed",
});

export const PHASES = Object.freeze(["collect", "cluster", "vote", "results", "closed"]);

/** WebSocket close codes the server uses. */
export const CLOSE = Object.freeze({
  MALFORMED: 4400, WRONG_KEY: 4401, LOCKED: 4403, NOT_FOUND: 4404, TOO_SLOW: 4408,
  ERASED: 4410, TOO_MANY: 4429, RESTART: 1012, TRY_AGAIN: 1013,
});

// Nacks that mean "not now" rather than "no": the op stays in the outbox and is sent again.
export const RETRY_CODES = new Set(["try_again", "too_fast"]);
/** How long a "not now" op waits before it is sent again. */
export const RETRY_MS = 3000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
const HELLO_WAIT_MS = 12000;   // no welcome by then: try again
const ACK_WAIT_MS = 15000;     // an op unanswered this long: the socket is dead
const IDLE_PING_MS = 25000;    // quiet this long: ask the server whether it is still there
const PONG_WAIT_MS = 10000;

/** A client-made op id: a UUID where the browser has one (secure contexts), else random hex. */
export function newOpId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function readStorage(key) {
  try {
    const raw = localStorage.getItem(key);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function writeStorage(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    // Private mode or a full store: the session goes on in memory.
  }
}

/**
 * @typedef {{op_id: string, op: string, args: object, at: number}} OutboxEntry
 * @typedef {"connecting"|"waiting"|"online"|"offline"} Status
 * ("waiting": the server holds a new phone's hello for its turn, see the `wait` frame)
 */

/**
 * One live connection to a workshop. Events: "status" (Status), "state" (state, info),
 * "ack" (entry, result), "nack" (entry, error), "outbox" (entries), "fatal" (code, error),
 * "error" (error), "delay" (how many ops wait after a `try_again` nack; error or null),
 * "store" (true when the server says it cannot save now: a `status` frame).
 */
export class Connection {
  /**
   * @param {{role: string, code?: string, joinSecret?: string, workshop?: string, key?: string,
   *          lang?: string, storageKey: string, url?: string}} opts
   */
  constructor(opts) {
    this.opts = opts;
    const saved = readStorage(opts.storageKey) || {};
    this.workshop = saved.workshop ?? opts.workshop ?? null;
    this.token = saved.token ?? null;
    this.you = saved.you ?? null;
    /** @type {any} */
    this.state = saved.state ?? null;
    /** @type {number|null} */
    this.seq = Number.isInteger(saved.seq) && this.state ? saved.seq : null;
    /** @type {OutboxEntry[]} */
    this.outbox = Array.isArray(saved.outbox) ? saved.outbox : [];
    /** @type {Status} */
    this.status = "connecting";
    /** @type {WebSocket|null} */
    this.ws = null;
    this.ready = false;
    this.stopped = false;
    this.attempt = 0;
    this.retryTimer = 0;
    this.saveTimer = 0;
    this.openedAt = 0;
    this.lastHeard = 0;
    this.pingSentAt = 0;
    this.lastError = null;
    this.forgotten = false;
    /** Events applied but not yet shown (see events()). */
    this.heldEvents = [];
    this.holdTimer = 0;
    /** @type {Map<string, number>} op_id → when it was sent on the current socket */
    this.inflight = new Map();
    /** @type {Set<string>} ops the store could not take just now (`try_again`): they wait
     * in the outbox and are sent again; the screens say so, calmly ("delay" event). */
    this.delayed = new Set();
    /** The server's store is down, frozen or full (`status` frame): nothing can be saved
     * now; the screens say so calmly, as for a delayed op. */
    this.storeDown = false;
    /** @type {Map<string, Function[]>} */
    this.handlers = new Map();
  }

  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(fn);
    return this;
  }

  emit(type, ...args) {
    for (const fn of this.handlers.get(type) || []) {
      try {
        fn(...args);
      } catch (err) {
        console.error(err); // a screen's bug must not break the connection
      }
    }
  }

  start() {
    window.addEventListener("online", () => this.wake());
    window.addEventListener("offline", () => this.drop("offline"));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.wake(true);
      else this.save();
    });
    window.addEventListener("pagehide", () => this.save());
    window.setInterval(() => this.watch(), 2000);
    if (this.state) this.emit("state", this.state, { cached: true });
    this.emit("outbox", this.outbox);
    this.connect();
  }

  url() {
    if (this.opts.url) return this.opts.url;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  /** @param {Status} status */
  setStatus(status) {
    if (status === this.status) return;
    this.status = status;
    this.emit("status", status);
  }

  connect() {
    if (this.stopped || this.ws) return;
    clearTimeout(this.retryTimer);
    if (navigator.onLine === false) {
      this.setStatus("offline");
      return; // the "online" event brings us back
    }
    if (this.status !== "offline") this.setStatus("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.retry();
      return;
    }
    this.ws = ws;
    this.ready = false;
    this.openedAt = Date.now();
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.lastHeard = Date.now();
      ws.send(JSON.stringify(this.hello()));
    };
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this.lastHeard = Date.now();
      this.pingSentAt = 0;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      this.receive(msg);
    };
    ws.onclose = (event) => {
      if (ws !== this.ws) return;
      this.closed(event.code, event.reason);
    };
  }

  hello() {
    const since = this.state && this.seq !== null ? this.seq : null;
    const lang = this.opts.lang || "nl";
    if (this.opts.role === "participant") {
      const hello = { type: MSG.HELLO, role: "participant", code: this.opts.code, token: this.token,
        since, lang };
      // The QR link's secret: lets this phone in even while its address is over the limit
      // for wrong codes.
      if (this.opts.joinSecret) hello.join_secret = this.opts.joinSecret;
      return hello;
    }
    return { type: MSG.HELLO, role: this.opts.role, workshop: this.opts.workshop,
      key: this.opts.key, since, lang };
  }

  receive(msg) {
    switch (msg.type) {
      case MSG.WELCOME: return this.welcome(msg);
      case MSG.EVENTS: return this.events(msg.events || []);
      case MSG.ACK: return this.answered(msg.op_id, true, msg);
      case MSG.NACK: return this.answered(msg.op_id, false, msg);
      case MSG.PRESENCE:
        if (this.state && msg.participants) {
          this.state = applyPresence(this.state, msg.participants);
          this.emit("state", this.state, { presence: true });
        }
        return undefined;
      case MSG.WAIT:
        // Many phones join from this address: the server answers the hello in a moment.
        // Wait for it (the no-welcome watchdog counts from then), saying so calmly.
        this.openedAt = Date.now() + Math.max(0, Number(msg.retry_after_ms) || 0);
        this.setStatus("waiting");
      case MSG.STATUS:
        this.setStoreDown(msg.store === "down");
        return undefined;
      case MSG.ERROR:
        this.lastError = msg.error || null;
        if (this.ready) this.emit("error", msg.error);
        return undefined;
      default:
        return undefined; // pong, or a frame type from a newer server
    }
  }

  welcome(msg) {
    if (this.workshop && msg.workshop && msg.workshop !== this.workshop) {
      this.state = null; // the code now opens another workshop: start afresh
      this.seq = null;
    }
    this.workshop = msg.workshop;
    this.you = msg.you || null;
    if (msg.you?.token) this.token = msg.you.token;
    if (msg.state) {
      this.state = msg.state;
      this.seq = msg.seq;
    } else if (!this.state) {
      // Events would follow, but we have nothing to apply them to: ask for a snapshot.
      this.seq = null;
      this.ws?.close(1000);
      return;
    }
    this.ready = true;
    this.attempt = 0;
    this.lastError = null;
    this.setStoreDown(false); // a `status` frame follows the welcome when it is still down
    this.setStatus("online");
    this.save();
    this.emit("state", this.state, { welcome: true });
    for (const entry of this.outbox) this.transmit(entry);
  }

  events(events) {
    if (!this.state) return;
    const fresh = events.filter((e) => this.seq === null || e.seq > this.seq);
    if (!fresh.length) return;
    this.state = applyEvents(this.state, fresh);
    this.seq = fresh[fresh.length - 1].seq;
    this.saveSoon();
    // The server sends an op's events just before its ack. Hold the screen update for
    // that moment, so that it never shows both the new note and the same note as
    // "still being sent".
    this.heldEvents.push(...fresh);
    if (this.inflight.size === 0) this.flushState();
    else if (!this.holdTimer) this.holdTimer = window.setTimeout(() => this.flushState(), 60);
  }

  flushState() {
    clearTimeout(this.holdTimer);
    this.holdTimer = 0;
    if (!this.heldEvents.length) return;
    const events = this.heldEvents;
    this.heldEvents = [];
    this.emit("state", this.state, { events });
  }

  answered(opId, ok, msg) {
    const index = this.outbox.findIndex((e) => e.op_id === opId);
    this.inflight.delete(opId);
    if (this.inflight.size === 0) this.flushState();
    if (index < 0) return;
    const entry = this.outbox[index];
    if (!ok && RETRY_CODES.has(msg.error?.code)) {
      // Not now: keep it, and send it again in a moment.
      if (msg.error.code === "try_again" && !this.delayed.has(opId)) {
        this.delayed.add(opId);
        this.emit("delay", this.delayed.size, msg.error);
      }
      // too_fast may say when the server will take it (its limits are per participant).
      const hint = Number(msg.error.retry_ms);
      const wait = hint > 0 ? Math.min(Math.max(hint, 200), 30000) : RETRY_MS;
      window.setTimeout(() => {
        if (this.ready && this.outbox.includes(entry) && !this.inflight.has(entry.op_id)) this.transmit(entry);
      }, wait);
      return;
    }
    if (this.delayed.delete(opId)) this.emit("delay", this.delayed.size, null);
    this.outbox.splice(index, 1);
    this.save();
    this.emit("outbox", this.outbox);
    if (ok) this.emit("ack", entry, msg.result || {}, msg.seq);
    else this.emit("nack", entry, msg.error || { code: "internal", message: "" });
  }

  setStoreDown(down) {
    if (down === this.storeDown) return;
    this.storeDown = down;
    this.emit("store", down);
  }

  /** Change the local state (e.g. with an ack's result) and tell the screen. */
  patchState(fn) {
    if (!this.state) return;
    this.state = fn(this.state);
    this.saveSoon();
    this.emit("state", this.state, { local: true });
  }

  /**
   * Send an op. It is kept (also across reloads) until the server answers it, and sent
   * again after every reconnect; the server applies an op_id once.
   * @returns {OutboxEntry}
   */
  send(op, args) {
    const entry = { op_id: newOpId(), op, args, at: Date.now() };
    this.outbox.push(entry);
    this.save();
    this.emit("outbox", this.outbox);
    if (this.ready) this.transmit(entry);
    return entry;
  }

  transmit(entry) {
    if (!this.ws || !this.ready || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ type: MSG.OP, op_id: entry.op_id, op: entry.op, args: entry.args }));
    this.inflight.set(entry.op_id, Date.now());
  }

  closed(code, reason = "") {
    this.flushState();
    this.ws = null;
    this.ready = false;
    this.inflight.clear();
    this.save();
    if (this.stopped) return;
    // 1013: the server could not reach its store for the hello; say so calmly while we
    // try again. Any other close: we no longer know.
    this.setStoreDown(code === CLOSE.TRY_AGAIN);
    switch (code) {
      case CLOSE.WRONG_KEY:
        if (this.opts.role === "participant" && reason === "removed") {
          // The facilitator removed this participant with its notes and dots: do not
          // come back as someone new by itself, and send nothing of the outbox.
          this.forget();
          this.stopped = true;
          this.setStatus("offline");
          this.emit("fatal", code, { code: "removed", message: "" });
          return;
        }
        if (this.opts.role === "participant" && this.token) {
          // The server no longer knows this phone: join afresh, keep what is unsent.
          this.token = null;
          this.state = null;
          this.seq = null;
          this.you = null;
          this.save();
          this.attempt = 0;
          this.retry(100);
          return;
        }
        this.fatal(code);
        return;
      case CLOSE.NOT_FOUND:
      case CLOSE.LOCKED:
        this.fatal(code);
        return;
      case CLOSE.ERASED:
        this.forget();
        this.stopped = true;
        this.setStatus("offline");
        this.emit("fatal", code, this.lastError);
        return;
      case CLOSE.MALFORMED:
        this.seq = null; // perhaps our `since` was the trouble: ask for a snapshot
        this.retry();
        return;
      case CLOSE.TOO_MANY:
        this.setStatus("offline");
        this.retry(30000);
        return;
      default:
        this.retry();
    }
  }

  fatal(code) {
    this.stopped = true;
    this.setStatus("offline");
    this.emit("fatal", code, this.lastError);
  }

  retry(delay) {
    clearTimeout(this.retryTimer);
    if (this.stopped) return;
    if (delay === undefined) {
      const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
      delay = base / 2 + Math.random() * (base / 2);
      this.attempt += 1;
    }
    // The first quick retry still reads "connecting"; after that the user should know.
    this.setStatus(this.attempt > 1 || navigator.onLine === false ? "offline" : "connecting");
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  /** The network is gone (or the socket is stuck): close, and wait for "online". */
  drop(reason) {
    const ws = this.ws;
    if (ws) {
      this.ws = null;
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close(1000, reason);
      } catch {
        // already closing
      }
      this.ready = false;
      this.inflight.clear();
    }
    this.setStoreDown(false);
    if (reason === "offline") {
      clearTimeout(this.retryTimer);
      this.setStatus("offline");
    } else {
      this.retry();
    }
  }

  /** Back online, or back from sleep: connect now, or check that the socket still lives. */
  wake(check = false) {
    if (this.stopped) return;
    if (!this.ws) {
      this.attempt = 0;
      this.connect();
    } else if (check && this.ready) {
      this.ping();
    }
  }

  ping() {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || this.pingSentAt) return;
    this.pingSentAt = Date.now();
    this.ws.send(JSON.stringify({ type: MSG.PING, t: this.pingSentAt }));
  }

  /** Every 2 s: a socket that stopped answering is dropped and made again. */
  watch() {
    if (this.stopped || !this.ws) return;
    const now = Date.now();
    if (!this.ready) {
      if (now - this.openedAt > HELLO_WAIT_MS) this.drop("no welcome");
      return;
    }
    for (const sentAt of this.inflight.values()) {
      if (now - sentAt > ACK_WAIT_MS) {
        this.drop("no answer");
        return;
      }
    }
    if (this.pingSentAt && now - this.pingSentAt > PONG_WAIT_MS) {
      this.drop("no pong");
      return;
    }
    if (now - this.lastHeard > IDLE_PING_MS) this.ping();
  }

  /** Close for good (no reconnect). */
  stop() {
    this.stopped = true;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      ws.close(1000);
    }
    this.setStatus("offline");
  }

  /** Drop everything kept for this workshop (it was erased). */
  forget() {
    this.forgotten = true;
    this.state = null;
    this.outbox = [];
    if (this.delayed.size) {
      this.delayed.clear();
      this.emit("delay", 0, null);
    }
    writeStorage(this.opts.storageKey, null);
  }

  saveSoon() {
    if (this.saveTimer) return;
    this.saveTimer = window.setTimeout(() => this.save(), 300);
  }

  save() {
    clearTimeout(this.saveTimer);
    this.saveTimer = 0;
    if (this.forgotten) return;
    writeStorage(this.opts.storageKey, {
      workshop: this.workshop, token: this.token, you: this.you, seq: this.seq,
      state: this.state, outbox: this.outbox,
    });
  }
}
