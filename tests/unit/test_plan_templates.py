"""Every session plan template in the repository (server/plans/<id>.json) is loaded and
validated: it is a plan the server takes, in Dutch and in English (issue 10, acceptance
3), and it ships with the package."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from server.errors import DomainError
from server.plan_args import clean_workshop
from server.plan_templates import template, template_ids, templates
from server.rules import MAX_ACTIVITIES, MAX_PROMPT, MAX_PROMPTS

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "server/plans").glob("*.json"))
REQUIRED = {"droom-durf-doe", "1-2-4-alle", "start-stop-doorgaan", "kansen-zorgen",
            "wijkavond"}


def test_the_templates_the_issue_asks_for_are_there() -> None:
    assert REQUIRED <= set(template_ids())
    assert [f.stem for f in FILES] == list(template_ids())


@pytest.mark.parametrize("path", FILES, ids=[f.stem for f in FILES])
def test_each_template_file_is_a_plan_we_take(path: Path) -> None:
    data = json.loads(path.read_text("utf-8"))
    assert data["id"] == path.stem
    assert set(data) == {"id", "nl", "en"}
    shapes = []
    for lang in ("nl", "en"):
        text = data[lang]
        assert text["title"].strip() and text["description"].strip(), lang
        assert 1 <= len(text["activities"]) <= MAX_ACTIVITIES
        for activity in text["activities"]:
            assert set(activity) <= {"title", "prompts", "settings"}
            assert activity["title"].strip()
            assert 1 <= len(activity["prompts"]) <= MAX_PROMPTS
            assert all(0 < len(p.strip()) <= MAX_PROMPT for p in activity["prompts"])
        # What POST /api/workshops makes of it: every activity, cleaned without a change.
        clean = clean_workshop({"template": path.stem}, lang)
        assert clean["title"] == text["title"]
        assert [a["title"] for a in clean["activities"]] == [a["title"] for a in
                                                             text["activities"]]
        assert [a["prompts"] for a in clean["activities"]] == [a["prompts"] for a in
                                                               text["activities"]]
        for given, made in zip(text["activities"], clean["activities"], strict=True):
            for key, value in (given.get("settings") or {}).items():
                assert made["settings"][key] == value, (lang, key)
            assert made["settings"]["language"] == lang
        shapes.append([(len(a["prompts"]), a.get("settings")) for a in text["activities"]])
    # Dutch and English are the same plan: as many activities, questions, settings.
    assert shapes[0] == shapes[1]


def test_the_timed_rounds_of_1_2_4_alle() -> None:
    rounds = [a["settings"].get("timer_seconds") for a in template("1-2-4-alle", "nl")[
        "activities"]]
    assert rounds == [60, 120, 240, 300]


def test_the_api_list_in_each_language() -> None:
    for lang in ("nl", "en"):
        listed = templates(lang)
        assert {t["id"] for t in listed} == set(template_ids())
        assert all(t["language"] == lang for t in listed)
    assert template("wijkavond", "en")["title"] != template("wijkavond", "nl")["title"]


def test_an_unknown_template_is_refused() -> None:
    for wrong in ("nope", "../rules", "", 7, None, [], {"id": "wijkavond"}):
        with pytest.raises(DomainError) as info:
            clean_workshop({"template": wrong}, "nl")
        assert info.value.code == "unknown_template"


def test_the_templates_ship_with_the_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert "plans/*.json" in project["tool"]["setuptools"]["package-data"]["server"]
