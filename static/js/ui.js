// Pieces every screen shares: the connection badge, the notice, the countdown, the phase
// names, the new-note announcer.
import { $, announce, readConfig } from "./dom.js";
import { setCatalogue, t } from "./i18n.js";
import { Connection } from "./connection.js";
import { LIMITS } from "./limits.js";
import { EVENT } from "./protocol.js";

/**
 * Show the connection's state in #conn (role=status, so a change is announced).
 * @param {Connection} conn
 */
export function bindStatus(conn) {
  const box = $("conn");
  const text = $("conn-text");
  if (!box || !text) return;
  const render = () => {
    const waiting = conn.outbox.length;
    // Online, but the store could not take an op just now (`try_again`); or the server
    // says it cannot save now (a `status` frame, which the wall gets too, or a hello
    // refused with 1013): what waits goes again by itself. Say so calmly; nothing is lost.
    const delayed = conn.storeDown || (conn.status === "online" && conn.delayed.size > 0);
    box.dataset.state = delayed ? "waiting" : conn.status;
    let words = delayed ? t("conn.try_again")
      : conn.status === "waiting" ? t("conn.busy") : t(`conn.${conn.status}`);
    if (waiting && conn.status !== "online") words += ` ${t("conn.waiting", { count: waiting })}`;
    if (text.textContent !== words) text.textContent = words;
  };
  conn.on("status", render).on("outbox", render).on("delay", render).on("store", render);
  render();
}

/**
 * Say something in the page's #notice box (an error, mostly), or clear it with "".
 * @param {string} [text]
 */
export function showNotice(text) {
  const box = $("notice");
  if (!box) return;
  box.textContent = text || "";
  box.hidden = !text;
}

/**
 * Tell screen readers about new notes, once a burst has passed (`wait` ms after the last
 * one): "3 new notes", or with `quoteOne` a single note's own words.
 * @param {Connection} conn
 * @param {{wait: number, quoteOne?: boolean}} opts
 */
export function announceNewNotes(conn, { wait, quoteOne = false }) {
  /** @type {string[]} */
  let heard = [];
  let timer = 0;
  conn.on("state", (_state, info) => {
    let events = info.events || [];
    // Another activity: notes of the one before are not news any more.
    const moved = events.findLastIndex((e) => e.kind === EVENT.ACTIVITY_CHANGED);
    if (moved >= 0) {
      heard = [];
      clearTimeout(timer);
      events = events.slice(moved + 1);
    }
    const added = events.filter((e) => e.kind === EVENT.NOTE_ADDED && e.data?.note);
    if (!added.length) return;
    heard.push(...added.map((e) => e.data.note.text));
    clearTimeout(timer);
    timer = window.setTimeout(() => {
      announce(quoteOne && heard.length === 1 ? t("wall.new_note", { text: heard[0] })
        : t("control.new_notes", { count: heard.length }));
      heard = [];
    }, wait);
  });
}

/** 75000 → "1:15"; an hour or more → "1:02:03". */
export function clock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/**
 * The countdown in #timer / #timer-value. The server's `remaining_ms` is counted down on
 * this device's own clock from the moment it arrived, so a wrong phone clock does no harm.
 */
export class Countdown {
  constructor() {
    this.box = $("timer");
    this.value = $("timer-value");
    this.key = "";
    this.deadline = 0;
    this.running = false;
    this.doneAnnounced = false;
    window.setInterval(() => this.tick(), 250);
  }

  /** @param {{running: boolean, ends_at: number|null, remaining_ms: number|null}} timer */
  update(timer) {
    if (!this.box) return;
    const key = JSON.stringify(timer || null);
    if (key === this.key) return;
    this.key = key;
    const remaining = timer?.remaining_ms;
    if (timer?.running && remaining != null) {
      this.running = true;
      this.deadline = Date.now() + remaining;
      this.doneAnnounced = false;
      this.box.hidden = false;
      this.box.dataset.state = "running";
      announce(t("timer.started", { time: clock(remaining) }));
    } else if (remaining != null) {
      this.running = false;
      this.box.hidden = false;
      this.box.dataset.state = "paused";
      this.value.textContent = clock(remaining);
    } else {
      this.running = false;
      this.box.hidden = true;
      this.box.dataset.state = "off";
    }
    this.tick();
  }

  tick() {
    if (!this.running || !this.value) return;
    const left = this.deadline - Date.now();
    const text = clock(left);
    if (this.value.textContent !== text) this.value.textContent = text;
    const done = left <= 0;
    this.box.dataset.state = done ? "done" : left < 60000 ? "ending" : "running";
    if (done && !this.doneAnnounced) {
      this.doneAnnounced = true;
      announce(t("timer.done"));
    }
  }
}

/** The words of a phase: "phase.collect" … */
export function phaseName(phase) {
  return t(`phase.${phase}`);
}

/** Tell once, in the live region, that the phase changed. */
export function watchPhase(onChange) {
  let last = null;
  return (phase) => {
    if (last !== null && phase !== last) {
      announce(t("phase.changed", { phase: phaseName(phase) }));
      onChange?.(phase, last);
    }
    last = phase;
  };
}

/** The name of a cluster without a title: "Groep 3". */
export function untitled(n) {
  return t("cluster.untitled", { n });
}

/** "Bewoner, Ambtenaar; Ondernemer" → ["Bewoner", "Ambtenaar", "Ondernemer"] (no doubles). */
export function splitList(text) {
  return text.split(/[,;\n]/).map((s) => s.trim()).filter(Boolean)
    .filter((s, i, all) => all.indexOf(s) === i);
}

/**
 * What is wrong with a list of groups, in plain words (or "" when nothing is). "anders" and
 * "other" are the name of the mixed group of small groups, so they cannot be a group.
 * @param {string[]} names
 */
export function perspectivesProblem(names) {
  const most = LIMITS.perspectives;
  if (names.length > most) return t("perspectives.too_many", { max: most });
  if (names.some((n) => Array.from(n).length > LIMITS.perspective)) return t("perspectives.too_long", { max: LIMITS.perspective });
  const reserved = ["other", "anders", t("results.group_other").toLowerCase()];
  const bad = names.find((n) => reserved.includes(n.toLowerCase()));
  if (bad) return t("perspectives.reserved", { name: bad });
  return "";
}

/**
 * A screen's start: its config (with the catalogue of its language) and its connection.
 * A phone is known by its join code; the staff screens by workshop id and key.
 * @param {"participant"|"facilitator"|"projector"} role
 */
export function startScreen(role) {
  const config = readConfig();
  setCatalogue(config.i18n, config.lang);
  const who = role === "participant"
    ? { code: config.code, joinSecret: config.join_secret }
    : { workshop: config.workshop, key: config.key };
  const conn = new Connection({
    role,
    ...who,
    lang: config.lang,
    storageKey: `samenspel:${role}:${who.code ?? who.workshop}`,
  });
  return { config, conn };
}

/**
 * Drop everything this browser keeps of one workshop's staff screens: the secret links
 * (kept by the landing page and after new links), the control screen's and the wall's
 * saved state, and the "new links were made" flag. The HttpOnly cookies are the
 * server's to drop (POST /api/workshops/{id}/forget, or the erase itself).
 * @param {string} workshop
 */
export function forgetWorkshop(workshop) {
  for (const [store, names] of [[() => localStorage, ["links", "facilitator", "projector"]],
                                [() => sessionStorage, ["rotated"]]]) {
    for (const name of names) {
      try { store().removeItem(`samenspel:${name}:${workshop}`); } catch { /* no storage */ }
    }
  }
}

/** `draw` at most once per animation frame, however often the returned function runs. */
export function onFrame(draw) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      draw();
    });
  };
}
