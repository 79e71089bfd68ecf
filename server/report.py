"""The printable report (`GET /f/{id}/report`): what a municipality keeps of a workshop.

One HTML page with print CSS (A4): title, date, questions, participants (per
perspective, small groups merged), every visible note grouped by cluster, the plain and
common-ground rankings with an SVG chart, the divided items and a short method. It is
built from the same export data as the JSON export, so the figures are the same.
Hidden notes are listed only with `?hidden=1`.
"""

from __future__ import annotations

import json
import time
from functools import cache
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from server.api import authorize, error
from server.exports import export_data
from server.language import pick_language, request_language
from server.results import OTHER

BAR_MAX = 420  # px of the longest bar in the chart


@cache
def words(lang: str) -> dict[str, str]:
    name = f"locales/report.{pick_language(lang)}.json"
    data: dict[str, str] = json.loads(resources.files("server").joinpath(name).read_text("utf-8"))
    return data


def report_context(data: dict[str, Any], lang: str, include_hidden: bool) -> dict[str, Any]:
    w = words(lang)
    # A note still waiting for approval was never shared: it is no part of the report.
    notes = [n for n in data["notes"]
             if (include_hidden or not n["hidden"]) and not n.get("pending")]
    votes = data["votes"]
    totals: dict[str, int] = votes["totals"]
    clusters = data["clusters"]
    names: dict[str, str] = {c["id"]: c["title"] or w["untitled"] for c in clusters}
    names.update({n["id"]: n["text"] for n in notes})
    groups = [
        {"cluster": c, "notes": [n for n in notes if n.get("cluster_id") == c["id"]],
         "dots": totals.get(c["id"], 0)}
        for c in clusters
    ]
    loose = [n for n in notes if not n.get("cluster_id")]
    top = max(totals.values(), default=0) or 1

    def rows(order: list[str]) -> list[dict[str, Any]]:
        # Only items with a name are ranked, numbered from 1 (a hidden note is no item).
        order = [item for item in order if item in names]
        return [
            {"rank": i, "item": item, "name": names.get(item, item), "dots": totals.get(item, 0),
             "width": max(2, round(BAR_MAX * totals.get(item, 0) / top)),
             "divided": item in votes["divided"],
             "groups": {g: d.get(item, 0) for g, d in votes["by_perspective"].items()}}
            for i, item in enumerate(order, 1)
        ]

    by_persp = data["participants"].get("by_perspective", {})
    perspective_names = [
        *data["workshop"]["settings"]["perspectives"], *([OTHER] if OTHER in by_persp else [])
    ]
    return {
        "w": w,
        "workshop": data["workshop"],
        "date": time.strftime("%Y-%m-%d", time.gmtime(data["workshop"]["created_at"] / 1000)),
        "prompts": data["prompts"],
        "participants": data["participants"]["count"],
        "by_perspective": [(p, by_persp.get(p, 0)) for p in perspective_names
                           if by_persp.get(p, 0)],
        "groups": groups,
        "loose": loose,
        "voters": votes["voters"],
        "ranking": rows(votes["ranking"]),
        "common_ground": rows(votes["common_ground"]),
        "divided": rows(votes["divided"]),
        "group_names": [g for g in votes["by_perspective"]],
        "include_hidden": include_hidden,
        "hidden_count": sum(1 for n in data["notes"] if n["hidden"]),
        "sign_ups": _by_item(data.get("sign_up_list", [])),
        "pending_count": sum(1 for n in data["notes"] if n.get("pending") and not n["hidden"]),
        "bar_max": BAR_MAX,
    }


def _by_item(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Who offered to help, per item in the order of the first offer."""
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        groups.setdefault(row["item_id"], {"item": row["item"], "rows": []})["rows"].append(row)
    return list(groups.values())


async def report(request: Request) -> Response:
    workshop_id = await authorize(request)
    if isinstance(workshop_id, Response):
        return workshop_id
    room, activities = await request.app.state.store.load_activities(workshop_id)
    lang = request_language(request)
    if room is None:
        return error("no_workshop", 404, lang)
    if not request.query_params.get("lang"):
        lang = pick_language(room["workshop"]["settings"].get("language"))
    include_hidden = request.query_params.get("hidden") == "1"
    context = report_context(export_data(room), lang, include_hidden)
    # Every activity of the session plan in order, each with its own results (a version
    # 1 workshop: one, the workshop itself, shown as before).
    context["activities"] = [
        {"title": entry["title"], **report_context(export_data(one), lang, include_hidden)}
        for entry, one in activities]
    response: Response = request.app.state.templates.TemplateResponse(
        request, "report.html", {"lang": lang, **context}
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def report_routes() -> list[BaseRoute]:
    return [Route("/f/{id}/report", report, methods=["GET"])]
