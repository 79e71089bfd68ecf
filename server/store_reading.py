"""Reading what the store holds: a whole workshop as a room, and its event stream.

Also undoes what Lua's cjson does to empty lists and maps, so that every reader sees the
same shapes as the scripts meant.
"""

from __future__ import annotations

from typing import Any

import orjson

from server import keys
from server.events import Event
from server.room import Room
from server.rules import DEFAULT_SETTINGS, WIDE_SETTINGS
from server.store_core import StoreCore


def _list(value: Any) -> list[Any]:
    # Lua's cjson writes an empty list as {}.
    return value if isinstance(value, list) else []


def normalize_settings(settings: dict[str, Any]) -> dict[str, Any]:
    out = {**DEFAULT_SETTINGS, **settings}
    out["perspectives"] = _list(out.get("perspectives"))
    return out


def normalize_event(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Undo what Lua's cjson does to empty lists and empty maps."""
    if "removed_items" in data:
        data["removed_items"] = _list(data["removed_items"])
    if kind == "votes_changed" and not isinstance(data.get("mine"), dict):
        data["mine"] = {}
    if kind == "settings_changed":
        data["settings"] = normalize_settings(data["settings"])
        data["changed"] = _list(data.get("changed"))
    if "assign" in data and not isinstance(data["assign"], dict):
        data["assign"] = {}
    if kind == "clusters_merged":
        for field in ("assign", "ballots", "signups"):
            if not isinstance(data.get(field), dict):
                data[field] = {}
    if kind == "activity_changed":
        # The new current activity, whole, as ops.lua parked it (raw stored values).
        data["settings"] = normalize_settings(data["settings"])
        for field in ("notes", "clusters", "ballots"):
            data[field] = pairs_of(data.get(field), decode=True)
        data["totals"] = {k: int(v) for k, v in pairs_of(data.get("totals")).items()}
    if kind == "participant_removed":
        data["note_ids"] = _list(data.get("note_ids"))
        data["hidden_note_ids"] = _list(data.get("hidden_note_ids"))
        if not isinstance(data.get("totals"), dict):
            data["totals"] = {}
    return data


def pairs_of(flat: Any, *, decode: bool = False) -> dict[str, Any]:
    """A flat HGETALL list [key, value, ...] as stored in a parked activity, as a dict."""
    items = _list(flat)
    return {items[i]: orjson.loads(items[i + 1]) if decode else items[i + 1]
            for i in range(0, len(items) - 1, 2)}


def plan_of_meta(meta: dict[str, str]) -> list[dict[str, Any]]:
    """The session plan [{id, title, prompts, phase}] (a workshop stored before plans
    existed: one activity, "a1", the workshop itself)."""
    if meta.get("plan"):
        plan: list[dict[str, Any]] = orjson.loads(meta["plan"])
        return plan
    return [{"id": "a1", "title": meta["title"], "prompts": orjson.loads(meta["prompts"]),
             "phase": meta["phase"]}]


def parse_entry(entry_id: str, fields: dict[str, str]) -> Event:
    """A stream entry (`<seq>-0`, fields k, a, d) as an Event."""
    kind = fields["k"]
    return Event(
        seq=int(entry_id.split("-", 1)[0]),
        kind=kind,
        actor=fields.get("a", ""),
        data=normalize_event(kind, orjson.loads(fields["d"])),
    )


def room_of(meta: dict[str, str], notes: dict[str, str], clusters: dict[str, str],
            parts: dict[str, str], ballots: dict[str, str],
            totals: dict[str, str], signups: dict[str, str] | None = None) -> Room:
    """The stored hashes of a workshop as the facilitator's full room."""
    plan = plan_of_meta(meta)
    return {
        "plan": plan,
        "workshop": {
            "activity_id": meta.get("activity") or plan[0]["id"],
            "id": meta["id"],
            "code": meta["code"],
            "title": meta["title"],
            "phase": meta["phase"],
            "locked": meta.get("locked") == "1",
            "timer": orjson.loads(meta["timer"]),
            "settings": normalize_settings(orjson.loads(meta["settings"])),
            "created_at": int(meta["created_at"]),
            "updated_at": int(meta.get("updated_at") or meta["created_at"]),
        },
        "prompts": orjson.loads(meta["prompts"]),
        "notes": {nid: orjson.loads(v) for nid, v in notes.items()},
        "clusters": {cid: orjson.loads(v) for cid, v in clusters.items()},
        "participants": {pid: orjson.loads(v) for pid, v in parts.items()},
        "ballots": {pid: orjson.loads(v) for pid, v in ballots.items()},
        "totals": {item: int(n) for item, n in totals.items()},
        "online": 0,
        "seq": int(meta["seq"]),
        "signups": {pid: orjson.loads(v) for pid, v in (signups or {}).items()},
    }


def parked_room(room: Room, entry: dict[str, Any], raw: str) -> Room:
    """A parked activity (ops.lua's value in the activities hash) as a room of its own,
    sharing the session's participants and sign-ups (for exports and the report)."""
    blob = orjson.loads(raw)
    settings = normalize_settings(orjson.loads(blob["settings"]))
    # The session's own settings are the current ones (they follow into each activity).
    settings.update({k: room["workshop"]["settings"][k] for k in WIDE_SETTINGS})
    workshop = {**room["workshop"], "activity_id": entry["id"], "phase": entry["phase"],
                "timer": orjson.loads(blob["timer"]), "settings": settings}
    return {**room, "workshop": workshop, "prompts": entry["prompts"],
            "notes": pairs_of(blob["notes"], decode=True),
            "clusters": pairs_of(blob["clusters"], decode=True),
            "ballots": pairs_of(blob["ballots"], decode=True),
            "totals": {k: int(v) for k, v in pairs_of(blob["totals"]).items()}}


class ReadingStore(StoreCore):
    async def load_activities(self, workshop_id: str) -> tuple[
            Room | None, list[tuple[dict[str, Any], Room]]]:
        """The room (as `load`), and every activity of the plan in order, each as a room
        (read atomically): [(plan entry {id, title, prompts, phase}, room)]; (None, [])
        for no such workshop."""
        k = keys.workshop_key
        async with self.redis.pipeline(transaction=True) as pipe:
            for part in ("meta", "notes", "clusters", "participants", "ballots", "totals",
                         "signups", "activities"):
                pipe.hgetall(k(workshop_id, part))
            meta, notes, clusters, parts, ballots, totals, signups, parked = await pipe.execute()
        if not meta:
            return None, []
        room = room_of(meta, notes, clusters, parts, ballots, totals, signups)
        out: list[tuple[dict[str, Any], Room]] = []
        for entry in room["plan"]:
            if entry["id"] == room["workshop"]["activity_id"]:
                out.append(({**entry, "prompts": room["prompts"],
                             "phase": room["workshop"]["phase"]}, room))
            elif entry["id"] in parked:
                out.append((entry, parked_room(room, entry, parked[entry["id"]])))
        return room, out


    async def load(self, workshop_id: str) -> Room | None:
        """The whole stored state, read atomically, as the facilitator's full room."""
        k = keys.workshop_key
        async with self.redis.pipeline(transaction=True) as pipe:
            for part in ("meta", "notes", "clusters", "participants", "ballots", "totals",
                         "signups"):
                pipe.hgetall(k(workshop_id, part))
            meta, notes, clusters, parts, ballots, totals, signups = await pipe.execute()
        if not meta:
            return None
        return room_of(meta, notes, clusters, parts, ballots, totals, signups)

    async def stored_seq(self, workshop_id: str) -> int | None:
        """The seq of the workshop's last stored event (None: no such workshop)."""
        seq: str | None = await self.redis.hget(keys.workshop_key(workshop_id, "meta"), "seq")
        return int(seq) if seq is not None else None

    async def events_after(self, workshop_id: str, since: int, count: int = 1000) -> list[Event]:
        """Events with seq > since, in order (at most `count`)."""
        entries: Any = await self.redis.xrange(
            keys.workshop_key(workshop_id, "events"), min=f"({since}-0", count=count
        )
        return [parse_entry(entry_id, fields) for entry_id, fields in entries]

    async def oldest_seq(self, workshop_id: str) -> int | None:
        entries: Any = await self.redis.xrange(keys.workshop_key(workshop_id, "events"), count=1)
        if not entries:
            return None
        entry_id, fields = entries[0]
        return parse_entry(str(entry_id), dict(fields)).seq
