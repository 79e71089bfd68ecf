// One live connection to a workshop (docs/protocol.md): says hello, resumes with `since`,
// keeps an outbox of unanswered ops (also across reloads, static/js/saved.js) and sends it
// again after every reconnect; the socket's life (backoff, watchdog) is static/js/link.js.
import { Link } from "./link.js";
import { CLOSE, MSG, RETRY_CODES } from "./protocol.js";
import { newOpId, readSaved, writeSaved } from "./saved.js";
import { applyEvents, applyPresence } from "./state.js";

/** How long a "not now" op waits before it is sent again. */
export const RETRY_MS = 3000;

/** @typedef {import("./saved.js").OutboxEntry} OutboxEntry */
/** @typedef {import("./link.js").Status} Status */

/**
 * Events: "status" (Status), "state" (state, info), "ack" (entry, result, seq),
 * "nack" (entry, error), "outbox" (entries), "fatal" (code, error), "error" (error),
 * "delay" (how many ops wait after a `try_again` nack; error or null),
 * "store" (true when the server says it cannot save now: a `status` frame).
 */
export class Connection extends Link {
  /**
   * @param {{role: string, code?: string, joinSecret?: string, workshop?: string, key?: string,
   *          lang?: string, storageKey: string, url?: string}} opts
   */
  constructor(opts) {
    super(opts);
    this.opts = opts;
    const saved = readSaved(opts.storageKey) || {};
    this.workshop = saved.workshop ?? opts.workshop ?? null;
    this.token = saved.token ?? null;
    this.you = saved.you ?? null;
    /** @type {any} */
    this.state = saved.state ?? null;
    /** @type {number|null} */
    this.seq = Number.isInteger(saved.seq) && this.state ? saved.seq : null;
    /** @type {OutboxEntry[]} */
    this.outbox = Array.isArray(saved.outbox) ? saved.outbox : [];
    this.saveTimer = 0;
    /** @type {any} the last `error` frame, to say why a close came */
    this.lastError = null;
    this.forgotten = false;
    /** Events applied but not yet shown (see events()). */
    this.heldEvents = [];
    this.holdTimer = 0;
    /** @type {Set<string>} ops the store could not take just now (`try_again`): they wait
     * in the outbox and are sent again; the screens say so, calmly ("delay" event). */
    this.delayed = new Set();
    /** @type {Map<string, {resolve: Function, reject: Function}>} questions (ask()) */
    this.questions = new Map();
  }

  start() {
    this.listen();
    if (this.state) this.emit("state", this.state, { cached: true });
    this.emit("outbox", this.outbox);
    this.connect();
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

  /** @param {any} msg */
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
      case MSG.STATUS: // (a `wait` frame falls through: it says the store is up)
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

  /** @param {{seq: number, kind: string, data: any}[]} events */
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

  /** @param {string} opId @param {boolean} ok @param {any} msg the ack or nack */
  answered(opId, ok, msg) {
    const question = this.questions.get(opId);
    if (question) {
      this.questions.delete(opId);
      if (ok) question.resolve(msg.result || {});
      else question.reject(msg.error || { code: "internal", message: "" });
      return;
    }
    const index = this.outbox.findIndex((e) => e.op_id === opId);
    this.inflight.delete(opId);
    if (this.inflight.size === 0) this.flushState();
    if (index < 0) return;
    const entry = this.outbox[index];
    if (!ok && RETRY_CODES.includes(msg.error?.code)) {
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
   * @param {string} op
   * @param {object} args
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

  /**
   * Ask a question that changes nothing (suggest_themes, similar_notes): sent once, never
   * kept in the outbox nor sent again. Resolves with the ack's result; rejects with the
   * nack's error, or {code: "offline"} when there is no socket (or it goes meanwhile).
   * @param {string} op @param {object} args @returns {Promise<any>}
   */
  ask(op, args) {
    return new Promise((resolve, reject) => {
      if (!this.ws || !this.ready || this.ws.readyState !== WebSocket.OPEN) {
        reject({ code: "offline", message: "" });
        return;
      }
      const opId = newOpId();
      this.questions.set(opId, { resolve, reject });
      this.ws.send(JSON.stringify({ type: MSG.OP, op_id: opId, op, args }));
    });
  }

  dropSocket() {
    super.dropSocket();
    for (const question of this.questions?.values() ?? []) question.reject({ code: "offline", message: "" });
    this.questions?.clear();
  }

  /** @param {OutboxEntry} entry */
  transmit(entry) {
    if (!this.ws || !this.ready || this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(JSON.stringify({ type: MSG.OP, op_id: entry.op_id, op: entry.op, args: entry.args }));
    this.inflight.set(entry.op_id, Date.now());
  }

  /** What a close code means for this screen (docs/protocol.md, close codes). */
  closed(code, reason = "") {
    this.flushState();
    this.dropSocket();
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
          this.fatal(code, { code: "removed", message: "" });
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
        this.fatal(code);
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

  /** Stop for good and tell the screen why. @param {number} code @param {any} [error] */
  fatal(code, error = this.lastError) {
    this.stopped = true;
    this.setStatus("offline");
    this.emit("fatal", code, error);
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
    writeSaved(this.opts.storageKey, null);
  }

  saveSoon() {
    if (this.saveTimer) return;
    this.saveTimer = window.setTimeout(() => this.save(), 300);
  }

  save() {
    clearTimeout(this.saveTimer);
    this.saveTimer = 0;
    if (this.forgotten) return;
    writeSaved(this.opts.storageKey, {
      workshop: this.workshop, token: this.token, you: this.you, seq: this.seq,
      state: this.state, outbox: this.outbox,
    });
  }
}
