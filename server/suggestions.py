"""The sorting help's questions (version 1.1): suggest_themes and similar_notes. They
change nothing: each is answered from the workshop's room in this process (the notes as
the asker may see them) by the model in the worker thread (server/sort_worker.py), with
an ack whose seq is null. Whatever the model answers is checked here against the room:
only notes that were asked about, each in one theme and one duplicate group at most.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from server.errors import DomainError
from server.room import Room
from server.rules import (
    MAX_CLUSTER_TITLE,
    MAX_SUGGEST_NOTES,
    SIMILAR_LIMIT,
    SIMILAR_MIN_CHARS,
    SORTING_PHASES,
)
from server.sort_worker import Pair, SortWorker
from server.view_state import Viewer, note_visible

log = logging.getLogger("samenspel.sorting")

# A question the worker has not answered by then nacks try_again (never a hang).
SUGGEST_SECONDS = 20.0
SIMILAR_SECONDS = 2.0


def _phase_ok(room: Room, op: str) -> None:
    phases = SORTING_PHASES[op]
    if room["workshop"]["phase"] not in phases:
        raise DomainError("wrong_phase", phase=", ".join(phases))


def _prompt_ok(room: Room, prompt_id: str | None) -> None:
    if prompt_id is not None and prompt_id not in {p["id"] for p in room["prompts"]}:
        raise DomainError("no_prompt")


def _shown(note: dict[str, Any]) -> bool:
    """Visible to everyone: not hidden, not waiting for approval."""
    return not note.get("hidden") and not note.get("pending")


def _ordered(notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(notes, key=lambda n: (n.get("created_at") or 0, n["id"]))


def suggest_input(room: Room, prompt_id: str | None) -> tuple[list[Pair], list[Any]]:
    """(unsorted notes, existing clusters with their visible notes) for the model."""
    notes = [n for n in room["notes"].values()
             if _shown(n) and (prompt_id is None or n["prompt_id"] == prompt_id)]
    unsorted = [(n["id"], n["text"]) for n in _ordered(notes)
                if not n.get("cluster_id")][:MAX_SUGGEST_NOTES]
    members: dict[str, list[Pair]] = {cid: [] for cid in room["clusters"]}
    for n in _ordered([n for n in room["notes"].values() if _shown(n)]):
        if n.get("cluster_id") in members:
            members[n["cluster_id"]].append((n["id"], n["text"]))
    ordered = sorted(room["clusters"].values(), key=lambda c: (c.get("order", 0), c["id"]))
    clusters = [(c["id"], c.get("title") or "", members[c["id"]]) for c in ordered]
    return unsorted, clusters


def checked_suggestion(room: Room, asked: list[Pair], answer: Any) -> dict[str, Any]:
    """The model's answer as the contract has it, with only notes that were asked about,
    each note in one theme and one duplicate group at most; a new theme has two notes
    at least, a theme for an existing cluster carries that cluster's title."""
    allowed = {nid for nid, _ in asked}
    placed: set[str] = set()
    themes: list[dict[str, Any]] = []
    for theme in answer.themes:
        ids = [i for i in dict.fromkeys(theme.note_ids) if i in allowed and i not in placed]
        cid = theme.cluster_id if theme.cluster_id in room["clusters"] else None
        if len(ids) < (1 if cid else 2):
            continue
        placed.update(ids)
        title = (room["clusters"][cid].get("title") or "") if cid else str(theme.title)
        out = {"title": title[:MAX_CLUSTER_TITLE], "note_ids": ids, "reason": str(theme.reason)}
        if cid:
            out["cluster_id"] = cid
        themes.append(out)
    grouped: set[str] = set()
    duplicates: list[list[str]] = []
    for group in answer.duplicates:
        ids = [i for i in dict.fromkeys(group) if i in allowed and i not in grouped]
        if len(ids) >= 2:
            grouped.update(ids)
            duplicates.append(ids)
    return {"themes": themes, "duplicates": duplicates}


async def suggest_themes(room: Room, args: dict[str, Any], worker: SortWorker) -> dict[str, Any]:
    _phase_ok(room, "suggest_themes")
    _prompt_ok(room, args["prompt_id"])
    unsorted, clusters = suggest_input(room, args["prompt_id"])
    if not unsorted:
        return {"themes": [], "duplicates": []}
    if worker.busy:
        raise DomainError("sorting_busy")
    language = room["workshop"]["settings"].get("language") or "nl"
    try:
        answer = await asyncio.wait_for(
            worker.suggest(unsorted, clusters, language), SUGGEST_SECONDS)
    except TimeoutError:
        raise DomainError("try_again") from None
    except Exception:  # the model failed: say so, never leave the question unanswered
        log.exception("suggest_themes failed")
        raise DomainError("internal") from None
    return checked_suggestion(room, unsorted, answer)


def _visible_chars(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


async def similar_notes(room: Room, args: dict[str, Any], viewer: Viewer,
                        worker: SortWorker) -> dict[str, Any]:
    """Up to SIMILAR_LIMIT notes like `text` that this participant may see, never its own."""
    _phase_ok(room, "similar_notes")
    _prompt_ok(room, args["prompt_id"])
    text: str = args["text"]
    candidates = [
        (n["id"], n["text"]) for n in _ordered(list(room["notes"].values()))
        if not viewer.owns(n) and _shown(n) and note_visible(room, n, viewer)
        and (args["prompt_id"] is None or n["prompt_id"] == args["prompt_id"])
    ]
    if not worker.loaded:
        worker.load()  # a hint only: none until the model is there (ask again soon)
        return {"notes": [], "loading": True}
    if not candidates or _visible_chars(text) < SIMILAR_MIN_CHARS or worker.busy:
        return {"notes": []}
    try:
        found = await asyncio.wait_for(
            worker.similar(text, candidates, SIMILAR_LIMIT), SIMILAR_SECONDS)
    except TimeoutError:
        return {"notes": []}
    except Exception:  # a hint only: none when the model failed
        log.exception("similar_notes failed")
        return {"notes": []}
    by_id = dict(candidates)
    out: list[dict[str, Any]] = []
    for hit in found:
        if hit.note_id in by_id and all(o["note_id"] != hit.note_id for o in out):
            score = min(1.0, max(0.0, float(hit.score)))
            out.append({"note_id": hit.note_id, "text": by_id[hit.note_id],
                        "score": round(score, 3)})
    return {"notes": out[:SIMILAR_LIMIT]}
