"""The limits the screens show and check before they send (the server checks them again).

Written once, in server/rules.py and server/protocol.py; every page gets them in its
config JSON (`limits`), and the templates and static/js/limits.js read them from there.
"""

from __future__ import annotations

from typing import Final

from server import rules

PAGE_LIMITS: Final[dict[str, int]] = {
    "title": rules.MAX_TITLE,
    "prompt": rules.MAX_PROMPT,
    "prompts": rules.MAX_PROMPTS,
    "name": rules.MAX_NAME,
    "perspective": rules.MAX_PERSPECTIVE,
    "perspectives": rules.MAX_PERSPECTIVES,
    "cluster_title": rules.MAX_CLUSTER_TITLE,
    "contact": rules.MAX_CONTACT,
    "timer_minutes": rules.MAX_TIMER_SECONDS // 60,
    "note_length": rules.DEFAULT_SETTINGS["max_note_length"],
    "activities": rules.MAX_ACTIVITIES,
}
