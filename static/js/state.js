// The client's model of a workshop: a pure applyEvents(state, events), and selectors that
// every screen shares. Data shapes: docs/protocol.md ("events"). Nothing here touches the
// DOM or the network, so it is easy to reason about and to test.

/** @typedef {{id: string, prompt_id: string, text: string, cluster_id: string|null,
 *   hidden: boolean, created_at: number, author: any, perspective?: string|null}} Note */

/**
 * The state after `events` (in seq order). Returns a new object; `state` is not changed.
 * @param {any} state
 * @param {{seq: number, kind: string, data: any}[]} events
 */
export function applyEvents(state, events) {
  const s = structuredClone(state);
  for (const ev of events) applyOne(s, ev.kind, ev.data || {});
  return s;
}

/** The state with a presence frame's counts. */
export function applyPresence(state, participants) {
  return {
    ...state,
    participants: { ...state.participants, ...participants },
  };
}

function myId(s) {
  return s.me?.participant_id ?? null;
}

function isMine(s, note) {
  const me = myId(s);
  return me !== null && note.author?.participant_id === me;
}

function upsertNote(s, note) {
  const index = s.notes.findIndex((n) => n.id === note.id);
  if (index >= 0) s.notes[index] = withMyReactions(s, note, s.notes[index]);
  else s.notes.push(withMyReactions(s, note, null));
}

/** A note cut for all phones at once has no my_reactions: a phone keeps its own (only
 * its own note_reacted changes them). */
function withMyReactions(s, note, before) {
  if (!s.me || "my_reactions" in note) return note;
  return { ...note, my_reactions: [...(before?.my_reactions || [])] };
}

function removeNote(s, id) {
  s.notes = s.notes.filter((n) => n.id !== id);
}

/** Dots on these items were given back: drop them from totals, mine and the orders. */
function removeItems(s, items) {
  if (!items || !items.length) return;
  const gone = new Set(items);
  const v = s.votes;
  for (const id of gone) {
    if (v.totals) delete v.totals[id];
    if (v.mine) delete v.mine[id];
    for (const byGroup of Object.values(v.by_perspective || {})) delete byGroup[id];
  }
  for (const list of ["ranking", "common_ground", "divided"]) {
    if (Array.isArray(v[list])) v[list] = v[list].filter((id) => !gone.has(id));
  }
}

function assign(s, mapping) {
  for (const [noteId, clusterId] of Object.entries(mapping || {})) {
    const note = s.notes.find((n) => n.id === noteId);
    if (note) note.cluster_id = clusterId;
  }
}

/** Totals and orders from a votes object; keep `mine`, which only our own events carry. */
function replaceVotes(s, votes) {
  if (!votes) return;
  s.votes = { ...votes, mine: s.votes?.mine || {} };
}

/** Everything but our own notes is replaced (a visibility setting or the phase changed). */
function replaceOthersNotes(s, notes) {
  if (!Array.isArray(notes)) return;
  const own = s.notes.filter((n) => isMine(s, n));
  const ownIds = new Set(own.map((n) => n.id));
  const before = new Map(s.notes.map((n) => [n.id, n]));
  const others = notes.filter((n) => !ownIds.has(n.id))
    .map((n) => withMyReactions(s, n, before.get(n.id)));
  s.notes = [...own, ...others]
    .sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1));
}

function applyOne(s, kind, d) {
  if ("note_counts" in d) {
    // The quiet wall (wall_during_collect "count"): counts per prompt, or null when the
    // wall shows notes again.
    if (d.note_counts === null) delete s.note_counts;
    else s.note_counts = d.note_counts;
  }
  switch (kind) {
    case "note_added":
    case "note_edited":
    case "note_approved":
      if (d.note) upsertNote(s, d.note);
      else if (d.note_id) removeNote(s, d.note_id); // waiting for approval again
      break;
    case "note_moderated":
      if (d.note) upsertNote(s, d.note);
      else removeNote(s, d.note_id);
      removeItems(s, d.removed_items); // hiding gives the dots back, as deleting does
      replaceVotes(s, d.votes); // a note with dots was hidden or shown: the results change
      break;
    case "note_deleted":
      removeNote(s, d.note_id);
      removeItems(s, d.removed_items);
      replaceVotes(s, d.votes);
      break;
    case "cluster_changed":
      if (d.cluster) {
        const index = s.clusters.findIndex((c) => c.id === d.cluster.id);
        if (index >= 0) s.clusters[index] = d.cluster;
        else s.clusters.push(d.cluster);
      }
      assign(s, d.assign);
      removeItems(s, d.removed_items);
      replaceVotes(s, d.votes);
      break;
    case "cluster_deleted":
      s.clusters = s.clusters.filter((c) => c.id !== d.cluster_id);
      assign(s, d.assign);
      removeItems(s, d.removed_items);
      replaceVotes(s, d.votes);
      break;
    case "clusters_merged": {
      // One cluster went into another: its notes and (in the vote phase) its dots.
      s.clusters = s.clusters.filter((c) => c.id !== d.cluster_id);
      const index = s.clusters.findIndex((c) => c.id === d.cluster.id);
      if (index >= 0) s.clusters[index] = d.cluster;
      else s.clusters.push(d.cluster);
      assign(s, d.assign);
      replaceVotes(s, d.votes);
      if (d.mine) s.votes.mine = d.mine; // our own dots moved along
      signUpLists(s, d);
      break;
    }
    case "signups_changed":
      s.votes = { ...s.votes, sign_ups: d.sign_ups || {} };
      signUpLists(s, d);
      break;
    case "phase_changed":
      s.workshop.phase = d.phase;
      // A new phase: nobody is done in it yet.
      s.participants = { ...s.participants, done: 0 };
      if (s.me) s.me = { ...s.me, done: false };
      replaceVotes(s, d.votes);
      replaceOthersNotes(s, d.notes);
      break;
    case "settings_changed":
      if (d.settings) s.workshop.settings = d.settings;
      replaceVotes(s, d.votes);
      replaceOthersNotes(s, d.notes);
      break;
    case "votes_changed":
      if ("item_id" in d) {
        // Our own vote: our dots, and the totals only where we may see them.
        s.votes.mine = d.mine || {};
        s.votes.voters = d.voters;
        if (d.totals) {
          // The totals come with the vote: keep them, not the vote's own fields.
          const { item_id: _item, delta: _delta, mine: _mine, ...summary } = d;
          replaceVotes(s, summary);
        }
      } else {
        replaceVotes(s, d);
      }
      break;
    case "participant_changed":
      s.participants = { ...s.participants, count: d.count ?? s.participants?.count };
      if (d.participant) applyParticipant(s, d.participant);
      // A group reached or dropped below 3 people: labels change everywhere.
      if (Array.isArray(d.list)) s.participants.list = d.list;
      replaceOthersNotes(s, d.notes);
      break;
    case "timer_changed":
      s.workshop.timer = d.timer;
      break;
    case "workshop_changed":
      if ("locked" in d) s.workshop.locked = d.locked;
      break;
    case "prompts_changed":
      // A question added or reworded: the whole list, in order (replace).
      if (Array.isArray(d.prompts)) s.prompts = d.prompts.map((p) => ({ ...p }));
      break;
    case "participant_removed": {
      // Removed with its notes and dots: the fresh results come with it.
      const gone = new Set(d.note_ids || []);
      s.notes = s.notes.filter((n) => !gone.has(n.id));
      removeItems(s, d.removed_items);
      replaceVotes(s, d.votes);
      s.participants = { ...s.participants, count: d.count ?? s.participants?.count };
      if ("participants_done" in d) s.participants.done = d.participants_done;
      for (const [noteId, counts] of Object.entries(d.reactions || {})) {
        const index = s.notes.findIndex((n) => n.id === noteId);
        if (index >= 0) s.notes[index] = { ...s.notes[index], reactions: { ...counts } };
      }
      if (Array.isArray(s.sign_up_list) && d.participant_id) {
        s.sign_up_list = s.sign_up_list.filter((x) => x.participant_id !== d.participant_id);
      }
      if (Array.isArray(d.list)) s.participants.list = d.list;
      else if (Array.isArray(s.participants.list) && d.participant_id) {
        s.participants.list = s.participants.list.filter((x) => x.participant_id !== d.participant_id);
      }
      replaceOthersNotes(s, d.notes);
      break;
    }
    case "participant_done":
      s.participants = { ...s.participants, done: d.participants_done };
      if (s.me && "done" in d) s.me = { ...s.me, done: d.done };
      break;
    case "note_reacted": {
      const index = s.notes.findIndex((n) => n.id === d.note_id);
      if (index >= 0) {
        const note = { ...s.notes[index], reactions: { ...d.reactions } };
        if (Array.isArray(d.my_reactions)) note.my_reactions = [...d.my_reactions];
        s.notes[index] = note;
      }
      break;
    }
    case "activity_changed":
      // Another activity of the session plan: its part of the state replaces ours.
      applyActivity(s, d);
      break;
    case "plan_changed":
      // The plan was edited: where the room is in it (and the plan, for the facilitator).
      s.workshop = { ...s.workshop, ...structuredClone(d) };
      break;
    default:
      break; // an event kind from a newer server: nothing to do here
  }
}

/** activity_changed: workshop, prompts, notes, clusters and votes replace ours (a phone's
 * notes cut for all phones carry no my_reactions: it has none on them there). */
function applyActivity(s, d) {
  for (const key of ["workshop", "prompts", "clusters", "participants", "me",
    "sign_up_list", "my_sign_ups"]) {
    if (key in d) s[key] = structuredClone(d[key]);
  }
  s.notes = (d.notes || []).map((n) => (s.me ? { ...n, my_reactions: [...(n.my_reactions || [])] }
    : { ...n }));
  s.votes = { ...structuredClone(d.votes), mine: { ...(d.votes?.mine || {}) } };
  if (s.me && !("me" in d)) s.me = { ...s.me, done: false };
}

/** The facilitator's list of who offers to help, a participant's own offers (replace). */
function signUpLists(s, d) {
  if (Array.isArray(d.sign_up_list)) s.sign_up_list = d.sign_up_list;
  if (d.my_sign_ups) s.my_sign_ups = d.my_sign_ups;
}

function applyParticipant(s, p) {
  const id = p.participant_id;
  for (const row of s.sign_up_list || []) {
    if (row.participant_id === id) row.name = p.name ?? null;
  }
  if (s.me && s.me.participant_id === id) {
    s.me = { participant_id: id, name: p.name ?? null, perspective: p.perspective ?? null,
      done: s.me.done ?? false };
  }
  if (Array.isArray(s.participants.list)) {
    const entry = { participant_id: id, name: p.name ?? null, perspective: p.perspective ?? null,
      joined_at: p.joined_at ?? null };
    const index = s.participants.list.findIndex((x) => x.participant_id === id);
    if (index >= 0) s.participants.list[index] = entry;
    else s.participants.list.push(entry);
  }
  for (const note of s.notes) {
    if (note.author && note.author.participant_id === id) {
      note.author = { ...note.author, name: p.name ?? null, perspective: p.perspective ?? null };
    }
  }
}

// ------------------------------------------------------------------ selectors

/** Clusters in their order. */
export function clusters(state) {
  return [...(state.clusters || [])].sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : 1));
}

/** Visible notes of one cluster (or of none, with null). */
export function notesIn(state, clusterId, { withHidden = false } = {}) {
  return state.notes.filter((n) => (n.cluster_id ?? null) === clusterId && (withHidden || !n.hidden));
}

/** The notes of each prompt, in the order they came. */
export function notesByPrompt(state, { withHidden = false } = {}) {
  const out = new Map(state.prompts.map((p) => [p.id, []]));
  for (const note of state.notes) {
    if (note.hidden && !withHidden) continue;
    if (!out.has(note.prompt_id)) out.set(note.prompt_id, []);
    out.get(note.prompt_id).push(note);
  }
  return out;
}

/**
 * The items one can put dots on: clusters (with their notes) and the visible notes that
 * are in no cluster. `untitled(n)` names a cluster without a title.
 * @returns {{id: string, kind: "cluster"|"note", title: string, notes: Note[]}[]}
 */
export function voteItems(state, untitled) {
  const items = [];
  clusters(state).forEach((c, index) => {
    const notes = notesIn(state, c.id).filter((n) => !n.pending);
    const hasDots = (state.votes?.totals?.[c.id] || 0) + (state.votes?.mine?.[c.id] || 0) > 0;
    if (notes.length || hasDots) {
      items.push({ id: c.id, kind: "cluster", title: c.title || untitled(index + 1), notes });
    }
  });
  for (const note of notesIn(state, null)) {
    if (note.pending) continue; // waiting for approval: no item yet
    items.push({ id: note.id, kind: "note", title: note.text, notes: [note] });
  }
  return items;
}

/** How to call an item (a cluster's title or a note's text), for results. */
export function itemTitle(state, itemId, untitled) {
  const list = clusters(state);
  const index = list.findIndex((c) => c.id === itemId);
  if (index >= 0) return list[index].title || untitled(index + 1);
  const note = state.notes.find((n) => n.id === itemId);
  return note ? note.text : null;
}

export function dotsUsed(state) {
  return Object.values(state.votes?.mine || {}).reduce((a, b) => a + b, 0);
}

export function dotsLeft(state) {
  return Math.max(0, (state.workshop.settings.votes_per_participant || 0) - dotsUsed(state));
}

/**
 * The participant's notes with what is still in the outbox laid over them: notes being
 * posted (pending), edits and deletions not yet confirmed.
 * @param {any} state
 * @param {{op_id: string, op: string, args: any}[]} outbox
 * @param {Map<string, {noteId: string, entry: any}>} [posted] acknowledged posts whose
 *   note_added may still be on its way
 */
export function myNotes(state, outbox, posted = new Map()) {
  const mine = state ? state.notes.filter((n) => isMine(state, n)) : [];
  // `pending` here: not yet sent or confirmed. A note the server holds for the
  // facilitator's approval (its own `pending`) is `waiting`.
  const byId = new Map(mine.map((n) => [n.id, { ...n, pending: false, waiting: !!n.pending }]));
  const pendingNew = [];
  // Its note_added may come before its ack (the protocol allows either order): a post
  // whose note is in the state already is not shown twice. `twins` (set when it was
  // sent) is how many notes of mine had its prompt and text then; later ones of that
  // prompt and text are its own and those of the posts before it, in order.
  const twin = (n) => `${n.prompt_id}\u0000${n.text}`;
  const have = new Map();
  for (const n of mine) have.set(twin(n), (have.get(twin(n)) || 0) + 1);
  const base = new Map();
  for (const entry of outbox) {
    if (entry.op === "add_note" && Number.isInteger(entry.twins)) {
      const key = twin(entry.args);
      if (!base.has(key)) base.set(key, { twins: entry.twins, seen: 0 });
      const b = base.get(key);
      b.seen += 1;
      if ((have.get(key) || 0) >= b.twins + b.seen) continue;
    }
    if (entry.op === "add_note") {
      pendingNew.push({ id: `pending:${entry.op_id}`, prompt_id: entry.args.prompt_id,
        text: entry.args.text, cluster_id: null, hidden: false, created_at: entry.at,
        author: null, pending: true });
    } else if (entry.op === "edit_note" && byId.has(entry.args.note_id)) {
      Object.assign(byId.get(entry.args.note_id), { text: entry.args.text, pending: true });
    } else if (entry.op === "delete_note") {
      byId.delete(entry.args.note_id);
    }
  }
  // A post that was acknowledged but whose note_added has not come yet stays "pending".
  for (const [opId, { noteId, entry }] of posted) {
    if (state && state.notes.some((n) => n.id === noteId)) continue;
    pendingNew.push({ id: `pending:${opId}`, prompt_id: entry.args.prompt_id,
      text: entry.args.text, cluster_id: null, hidden: false, created_at: entry.at,
      author: null, pending: true });
  }
  return [...byId.values(), ...pendingNew];
}

/** Own dots with the votes still in the outbox counted in (optimistic). */
export function myDots(state, outbox) {
  const mine = { ...(state?.votes?.mine || {}) };
  for (const entry of outbox) {
    if (entry.op !== "vote") continue;
    const id = entry.args.item_id;
    mine[id] = Math.max(0, (mine[id] || 0) + entry.args.delta);
    if (!mine[id]) delete mine[id];
  }
  return mine;
}

/**
 * The facilitator's board with the ops that are sent but not yet seen back laid over it,
 * so that a drop or a click shows at once. A new cluster is called `pending:<op_id>`.
 * @param {any} state
 * @param {{op_id: string, op: string, args: any}[]} entries
 */
export function overlay(state, entries) {
  if (!entries.length) return state;
  const notes = new Map(state.notes.map((n) => [n.id, { ...n }]));
  let list = state.clusters.map((c) => ({ ...c }));
  let order = Math.max(0, ...list.map((c) => c.order));
  let workshop = state.workshop;
  for (const { op_id: opId, op, args } of entries) {
    if (op === "cluster") {
      let id = args.cluster_id;
      if (!id) {
        id = `pending:${opId}`;
        order += 1;
        list.push({ id, title: args.title || "", order, pending: true });
      }
      for (const nid of args.note_ids) if (notes.has(nid)) notes.get(nid).cluster_id = id;
    } else if (op === "uncluster") {
      for (const nid of args.note_ids) if (notes.has(nid)) notes.get(nid).cluster_id = null;
    } else if (op === "delete_cluster") {
      list = list.filter((c) => c.id !== args.cluster_id);
      for (const n of notes.values()) if (n.cluster_id === args.cluster_id) n.cluster_id = null;
    } else if (op === "merge_clusters") {
      list = list.filter((c) => c.id !== args.cluster_id);
      for (const n of notes.values()) if (n.cluster_id === args.cluster_id) n.cluster_id = args.into_id;
    } else if (op === "rename_cluster") {
      const c = list.find((x) => x.id === args.cluster_id);
      if (c) c.title = args.title;
    } else if (op === "moderate_note" && notes.has(args.note_id)) {
      notes.get(args.note_id).hidden = args.hidden;
    } else if (op === "edit_note" && notes.has(args.note_id)) {
      notes.get(args.note_id).text = args.text;
    } else if (op === "delete_note") {
      notes.delete(args.note_id);
    } else if (op === "set_lock") {
      workshop = { ...workshop, locked: args.locked };
    }
  }
  return { ...state, workshop, notes: [...notes.values()], clusters: list };
}
