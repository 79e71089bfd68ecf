// The socket's life under a Connection: open it, reconnect with backoff, notice a dead
// socket (no welcome, an op or a ping unanswered), and follow the browser's online,
// offline and sleep. What is said over the socket is static/js/connection.js.
import { Emitter } from "./emitter.js";
import { MSG } from "./protocol.js";

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
const HELLO_WAIT_MS = 12000;   // no welcome by then: try again
const ACK_WAIT_MS = 15000;     // an op unanswered this long: the socket is dead
const IDLE_PING_MS = 25000;    // quiet this long: ask the server whether it is still there
const PONG_WAIT_MS = 10000;

/**
 * @typedef {"connecting"|"waiting"|"online"|"offline"} Status
 * ("waiting": the server holds a new phone's hello for its turn, see the `wait` frame)
 */

/**
 * A reconnecting socket. Subclasses say what to send first (hello()), what to do with a
 * frame (receive()) and with a close (closed()), and what to keep (save()).
 * Events: "status" (Status), "store" (true while the server cannot save).
 */
export class Link extends Emitter {
  /** @param {{url?: string}} opts */
  constructor(opts) {
    super();
    this.opts = opts;
    /** @type {Status} */
    this.status = "connecting";
    /** @type {WebSocket|null} */
    this.ws = null;
    /** The welcome came: ops may go. */
    this.ready = false;
    this.stopped = false;
    this.attempt = 0;
    this.retryTimer = 0;
    this.openedAt = 0;
    this.lastHeard = 0;
    this.pingSentAt = 0;
    /** @type {Map<string, number>} op_id → when it was sent on the current socket */
    this.inflight = new Map();
    /** The server's store is down, frozen or full (`status` frame, or a 1013 close):
     * nothing can be saved now; the screens say so calmly. */
    this.storeDown = false;
  }

  // The subclass's part (static/js/connection.js).
  /** @returns {object} the first frame on a new socket */
  hello() { return {}; }
  /** @param {any} _msg a parsed frame */
  receive(_msg) {}
  /** @param {number} _code @param {string} _reason */
  closed(_code, _reason) {}
  /** Keep what must survive a reload. */
  save() {}

  /** Follow the network and the page's visibility, and watch the socket every 2 s. */
  listen() {
    window.addEventListener("online", () => this.wake());
    window.addEventListener("offline", () => this.drop("offline"));
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.wake(true);
      else this.save();
    });
    window.addEventListener("pagehide", () => this.save());
    window.setInterval(() => this.watch(), 2000);
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

  /** @param {boolean} down */
  setStoreDown(down) {
    if (down === this.storeDown) return;
    this.storeDown = down;
    this.emit("store", down);
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

  /** The socket closed: forget it and what was in flight on it. */
  dropSocket() {
    this.ws = null;
    this.ready = false;
    this.inflight.clear();
  }

  /** @param {number} [delay] ms; without it, the next step of the backoff */
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

  /**
   * The network is gone (or the socket is stuck): close, and wait for "online".
   * @param {string} reason
   */
  drop(reason) {
    const ws = this.ws;
    if (ws) {
      ws.onclose = null;
      ws.onmessage = null;
      try {
        ws.close(1000, reason);
      } catch {
        // already closing
      }
      this.dropSocket();
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
}
