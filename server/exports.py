"""Exports of a workshop for its facilitator: JSON, CSV and Markdown.

User text stays text: the CSV guards against spreadsheet formulas, the Markdown escapes
markup (and HTML) so that a Markdown viewer shows what was typed, never renders it.
"""

from __future__ import annotations

import csv
import io
import re
import time
from typing import Any

from server.language import DEFAULT_LANGUAGE
from server.room import Room
from server.views import FACILITATOR, public_items, view_state


def export_data(room: Room, *, include_hidden: bool = True) -> dict[str, Any]:
    """Everything a facilitator takes home: the full state plus derived results."""
    state = view_state(room, FACILITATOR)
    state["participants"] = {
        "count": len(room["participants"]),
        # Per perspective, with the small-group guard of the results.
        "by_perspective": _group_counts(room),
    }
    if not include_hidden:
        # What was shared: neither hidden notes nor notes still waiting for approval.
        state["notes"] = [n for n in state["notes"] if not n["hidden"] and not n["pending"]]
    for note in state["notes"]:
        if room["workshop"]["settings"]["anonymous"]:
            note["author"] = None
        elif note["author"]:
            note["author"].pop("participant_id", None)
    state["votes"].pop("mine", None)
    state["sign_up_list"] = _sign_ups(room, state)
    state["exported_at"] = int(time.time() * 1000)
    return state


def export_session(room: Room, activities: list[tuple[dict[str, Any], Room]]) -> dict[str, Any]:
    """The JSON export: the current activity as version 1 had the whole workshop (so that
    no reader breaks), and `activities`, every activity of the plan in order with its
    own prompts, notes, clusters and votes (results: ranking, common ground, divided)."""
    data = export_data(room)
    data["activities"] = []
    for entry, one in activities:
        part = export_data(one)
        data["activities"].append({"id": entry["id"], "title": entry["title"],
                                   "phase": one["workshop"]["phase"],
                                   **{k: part[k] for k in ("prompts", "notes", "clusters",
                                                           "votes", "sign_up_list")}})
    return data


def _sign_ups(room: Room, state: dict[str, Any]) -> list[dict[str, Any]]:
    """Who offered to help with which item ("ik doe mee"), for the facilitator only: the
    item's title beside its id, the name, and a contact only where one was given with
    consent (none is stored otherwise). Offers on items that are gone are left out."""
    items = public_items(room)
    titles = {c["id"]: c["title"] for c in state["clusters"]}
    titles.update({n["id"]: n["text"] for n in state["notes"] if n["id"] in items})
    return [{"item_id": row["item_id"], "item": titles[row["item_id"]], "name": row["name"],
             "contact": row["contact"]}
            for row in state.get("sign_up_list", []) if row["item_id"] in titles]


def _group_counts(room: Room) -> dict[str, int]:
    from server.results import group_of, group_sizes

    settings = room["workshop"]["settings"]
    if not settings["perspectives"]:
        return {}
    sizes = group_sizes(room["participants"])
    out: dict[str, int] = {}
    for p in room["participants"].values():
        if p.get("perspective"):
            g = group_of(p["perspective"], sizes, settings["perspectives"])
            out[g] = out.get(g, 0) + 1
    return out


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "|")


def csv_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: a leading formula character is quoted away."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def export_csv(room: Room, activities: list[tuple[str, Room]] | None = None) -> str:
    """Every note as a row; with a session plan of more than one activity (`activities`:
    (title, room) in order) the notes of each, with the activity's title last."""
    several = activities is not None and len(activities) > 1
    parts = activities if several and activities else [("", room)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["note_id", "question", "text", "cluster", "hidden", "dots", "cluster_dots",
                     "author_name", "author_perspective", "created_at", "source", "pending",
                     "perspective", *(["activity"] if several else [])])
    sign_ups: list[dict[str, Any]] = []
    for title, one in parts:
        data = export_data(one)
        prompts = {p["id"]: p["text"] for p in data["prompts"]}
        clusters = {c["id"]: c["title"] for c in data["clusters"]}
        totals = data["votes"]["totals"]
        for n in data["notes"]:
            author = n.get("author") or {}
            cid = n.get("cluster_id")
            # Only what people typed can start a formula; ids, counts and dates are ours.
            writer.writerow([
                n["id"], csv_cell(prompts.get(n["prompt_id"], "")), csv_cell(n["text"]),
                csv_cell(clusters.get(cid, "")) if cid else "",
                "yes" if n["hidden"] else "no", totals.get(n["id"], 0) if not cid else "",
                totals.get(cid, 0) if cid else "", csv_cell(author.get("name")),
                csv_cell(author.get("perspective")),
                time.strftime("%Y-%m-%d %H:%M", time.gmtime(n["created_at"] / 1000)),
                n["source"], "yes" if n["pending"] else "no", csv_cell(n.get("perspective")),
                *([csv_cell(title)] if several else []),
            ])
        sign_ups += data["sign_up_list"]
    if sign_ups:
        # A second table after a blank line: who offered to help, per item.
        writer.writerow([])
        writer.writerow(["sign_up_item_id", "item", "name", "contact"])
        for row in sign_ups:
            writer.writerow([row["item_id"], csv_cell(row["item"]), csv_cell(row["name"]),
                             csv_cell(row["contact"])])
    return out.getvalue()


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def md(text: str) -> str:
    """Markdown-escape user text; HTML-significant characters become entities."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.splitlines())


def export_markdown(room: Room, lang: str = DEFAULT_LANGUAGE,
                    activities: list[tuple[str, Room]] | None = None) -> str:
    """The workshop as Markdown; with a session plan of more than one activity
    (`activities`: (title, room) in order), each activity in its own section."""
    data = export_data(room, include_hidden=False)
    nl = lang == "nl"
    workshop = data["workshop"]
    lines = [f"# {md(workshop['title'])}", ""]
    lines.append(("Datum: " if nl else "Date: ")
                 + time.strftime("%Y-%m-%d", time.gmtime(workshop["created_at"] / 1000)))
    lines.append(("Deelnemers: " if nl else "Participants: ") + str(data["participants"]["count"]))
    lines.append("")
    if not activities or len(activities) == 1:
        return "\n".join(lines + _activity_markdown(data, nl, "##")) + "\n"
    for i, (title, one) in enumerate(activities, 1):
        lines += [f"## {'Onderdeel' if nl else 'Activity'} {i}: {md(title)}", ""]
        lines += _activity_markdown(export_data(one, include_hidden=False), nl, "###")
    return "\n".join(lines) + "\n"


def _activity_markdown(data: dict[str, Any], nl: bool, h: str) -> list[str]:
    """One activity's questions, ideas per group, rankings and offers (`h`: its headings'
    level; the groups one deeper)."""
    votes = data["votes"]
    totals = votes["totals"]
    clusters = {c["id"]: c for c in data["clusters"]}
    notes = data["notes"]
    paper = " (papier)" if nl else " (paper)"

    def line(n: dict[str, Any]) -> str:
        return md(n["text"]) + (paper if n["source"] == "paper" else "")

    titles = {**{cid: c["title"] or ("Groep zonder naam" if nl else "Untitled group")
                 for cid, c in clusters.items()},
              **{n["id"]: n["text"] for n in notes}}
    lines = [f"{h} " + ("Vragen" if nl else "Questions")]
    lines += [f"- {md(p['text'])}" for p in data["prompts"]]
    lines.append("")
    lines.append(f"{h} " + ("Ideeën per groep" if nl else "Ideas by group"))
    for c in data["clusters"]:
        lines.append(f"{h}# {md(titles[c['id']])} ({totals.get(c['id'], 0)})")
        lines += [f"- {line(n)}" for n in notes if n.get("cluster_id") == c["id"]]
        lines.append("")
    loose = [n for n in notes if not n.get("cluster_id")]
    if loose:
        lines.append(f"{h}# " + ("Losse ideeën" if nl else "Other ideas"))
        lines += [f"- {line(n)} ({totals.get(n['id'], 0)})" for n in loose]
        lines.append("")
    for key, heading in (("ranking", ("Rangorde", "Ranking")),
                         ("common_ground", ("Gedeelde grond", "Common ground"))):
        lines.append(f"{h} " + heading[0 if nl else 1])
        ranked = [item for item in votes[key] if item in titles]  # never a bare id
        for i, item in enumerate(ranked, 1):
            lines.append(f"{i}. {md(titles[item])} ({totals.get(item, 0)})")
        lines.append("")
    if votes["divided"]:
        lines.append(f"{h} " + ("Verdeeld" if nl else "Divided"))
        lines += [f"- {md(titles[item])}" for item in votes["divided"] if item in titles]
        lines.append("")
    return lines + _sign_ups_markdown(data["sign_up_list"], nl, h)


def _sign_ups_markdown(rows: list[dict[str, Any]], nl: bool, h: str = "##") -> list[str]:
    if not rows:
        return []
    lines = [f"{h} " + ("Wie doet mee" if nl else "Who wants to help"), ""]
    by_item: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_item.setdefault(row["item_id"], []).append(row)
    for group in by_item.values():
        lines.append(f"{h}# {md(group[0]['item'])} ({len(group)})")
        for row in group:
            name = md(row["name"]) if row["name"] else ("(zonder naam)" if nl else "(no name)")
            lines.append(f"- {name}" + (f": {md(row['contact'])}" if row["contact"] else ""))
        lines.append("")
    return lines
