"""Common ground on the screens (docs/results.md), in real Chromium against the real server.

Three residents (Bewoner) and three civil servants (Ambtenaar) vote on their phones, and
one entrepreneur (Ondernemer: a group of one). The plain winner is loved by the residents
only; another item is liked by both groups. The wall and the control screen show the
common-ground ranking beside the plain one, with the shared item first, and the plain
winner labelled "verdeeld" with the numbers per group. The group of one never shows by
name on any screen: it reads "anders". Screenshots: test-artifacts/screenshots/cg-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens, shot
from tests.e2e.pages import Control, Landing, Phone, Wall, online
from tests.e2e.test_a11y import assert_accessible

pytestmark = pytest.mark.e2e

QUESTION = "Wat is nodig in de wijk?"
WINNER = "Meer parkeerplekken in de straat"  # the residents' favourite, nobody else's
SHARED = "Een veilige oversteek bij de school"  # both groups back it
OFFICE = "Een loket in de wijk"  # the civil servants' favourite
SMALL = "Langer open op zaterdag"  # the entrepreneur's note
SMALL_GROUP = "Ondernemer"


def row(page: Page, box: str, title: str) -> Any:
    """The result row of `title` in a ranking box."""
    return page.locator(f"{box} .result").filter(
        has=page.locator(".result-title", has_text=re.compile(f"^{re.escape(title)}$")))


def assert_no_small_group(page: Page, where: str) -> None:
    """The group of one is never named: not in any visible text of the page, nor in a
    label for screen readers. (The phone's menu of groups to choose from lists every
    group the facilitator named: that is a choice, not a figure about people.)"""
    found = page.evaluate("""(name) => {
        const out = [];
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            const parent = n.parentElement;
            if (!parent || parent.closest("select, script")) continue;
            if (n.textContent.includes(name) && parent.getClientRects().length) {
                out.push(parent.outerHTML.slice(0, 120));
            }
        }
        for (const node of document.querySelectorAll("[aria-label], [title], [alt]")) {
            for (const attr of ["aria-label", "title", "alt"]) {
                const value = node.getAttribute(attr) || "";
                if (value.includes(name)) out.push(`${attr}: ${node.outerHTML.slice(0, 120)}`);
            }
        }
        return out;
    }""", SMALL_GROUP)
    assert not found, f"{where} names the group of one: {found}"


def assert_readable(page: Page, where: str) -> None:
    """From 10 m: no text in the results smaller than 2.4% of the wall's height (26 px on
    1080 lines, 17 px on 720), and nothing cut off below the screen's edge."""
    problems = page.evaluate("""() => {
        const min = window.innerHeight * 0.024;
        const out = [];
        const view = document.querySelector("#view-results");
        for (const node of view.querySelectorAll("*")) {
            const own = Array.from(node.childNodes).some(
                (c) => c.nodeType === 3 && c.textContent.trim());
            if (!own || !node.getClientRects().length) continue;
            const size = parseFloat(getComputedStyle(node).fontSize);
            const words = node.textContent.trim().slice(0, 40);
            if (size < min) out.push(`${size}px < ${min.toFixed(1)}px: ${words}`);
            const rect = node.getBoundingClientRect();
            if (rect.bottom > window.innerHeight + 1 || rect.right > window.innerWidth + 1) {
                out.push(`off screen: ${node.textContent.trim().slice(0, 40)}`);
            }
        }
        for (const box of view.querySelectorAll(".results-fit")) {
            if (box.scrollHeight > box.clientHeight + 1) out.push(`cut off: #${box.id}`);
        }
        return out;
    }""")
    assert not problems, f"{where}:\n" + "\n".join(problems)


def test_common_ground_divided_and_small_groups(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(title="Samen voor de wijk", prompts=[QUESTION],
                            perspectives=["Bewoner", "Ambtenaar", SMALL_GROUP],
                            show_provenance=True)
    code = created["code"]
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    residents = [Phone(screens.page(f"bewoner{i}", PHONE)).open(code) for i in range(3)]
    officials = [Phone(screens.page(f"ambtenaar{i}", PHONE)).open(code) for i in range(3)]
    entrepreneur = Phone(screens.page("ondernemer", PHONE)).open(code)
    phones = [*residents, *officials, entrepreneur]

    # --- perspectives: optional, in plain words; each phone picks one
    hint = entrepreneur.page.locator("#perspective-hint")
    expect(hint).to_contain_text("Niet verplicht")
    expect(entrepreneur.page.locator("#perspective option").first).to_have_text(
        "Zeg ik liever niet")
    for phone in residents:
        phone.set_profile("", "Bewoner")
    for phone in officials:
        phone.set_profile("", "Ambtenaar")
    entrepreneur.set_profile("Sam", SMALL_GROUP)
    expect(control.page.locator("#people-groups")).to_have_text(
        "Per groep: Bewoner 3 · Ambtenaar 3 · anders of geen groep 1")

    residents[0].post(WINNER)
    residents[1].post(SHARED)
    officials[0].post(OFFICE)
    entrepreneur.post(SMALL)

    # --- provenance on the wall: a label per note, the group of one as "anders"
    for text, group in ((WINNER, "Bewoner"), (SHARED, "Bewoner"), (OFFICE, "Ambtenaar"),
                        (SMALL, "anders")):
        expect(wall.note(text).locator(".group-tag")).to_have_text(group)
    expect(control.note(SMALL).locator(".fnote-meta")).to_contain_text("anders")
    shot(wall.page, "cg-wall-provenance")
    for name, page in (("wall", wall.page), ("control", control.page),
                       ("phone", entrepreneur.page)):
        assert_no_small_group(page, f"{name} while collecting")

    # --- votes: residents love WINNER; both groups like SHARED; officials like OFFICE
    control.phase("Stemmen")
    for phone in residents:
        phone.vote(WINNER, 3)
        phone.vote(SHARED, 1)
    for phone in officials:
        phone.vote(SHARED, 1)
        phone.vote(OFFICE, 2)
    entrepreneur.vote(SHARED, 2)
    for phone, dots in ((residents[2], (WINNER, "3 stippen van jou")),
                        (officials[2], (OFFICE, "2 stippen van jou")),
                        (entrepreneur, (SHARED, "2 stippen van jou"))):
        expect(phone.my_dots(dots[0])).to_have_text(dots[1])
    expect(control.page.locator("#vote-progress")).to_contain_text("7 van de 7")
    control.phase("Uitslag")

    # --- the wall: plain ranking and, beside it, common ground with the shared item first
    w = wall.page
    expect(w.locator("#results-chart .result-title")).to_have_text([WINNER, SHARED, OFFICE])
    expect(w.locator("#results-chart .result-total")).to_have_text(
        ["9 stippen", "8 stippen", "6 stippen"])
    expect(w.locator("#common-ground-box")).to_be_visible()
    expect(w.locator("#cg-heading")).to_have_text("Waar alle groepen achter staan")
    expect(w.locator("#cg-explain")).to_have_text(
        "Bovenaan staat wat alle groepen steunen, niet alleen de grootste groep.")
    expect(w.locator("#common-ground .result-title")).to_have_text([SHARED, WINNER, OFFICE])
    # "verdeeld" on the plain winner, with the numbers per group; the shared item is not.
    winner = row(w, "#results-chart", WINNER)
    expect(winner.locator(".badge.divided")).to_have_text("verdeeld")
    expect(winner.locator(".result-groups")).to_contain_text("Bewoner 9 (75%)")
    expect(winner.locator(".result-groups")).to_contain_text("Ambtenaar 0 (0%)")
    expect(row(w, "#results-chart", OFFICE).locator(".result-groups")).to_contain_text(
        "Ambtenaar 6 (67%)")
    expect(row(w, "#results-chart", SHARED).locator(".badge.divided")).to_have_count(0)
    # Dots per group for every item only where the facilitator chose so.
    expect(row(w, "#results-chart", SHARED).locator(".result-groups")).to_have_count(0)
    expect(w.locator("#results-legend li")).to_have_count(0)
    expect(w.locator("#results-key")).to_contain_text("Eén groep vindt dit heel belangrijk")
    assert_no_small_group(w, "wall results")
    shot(w, "cg-wall-results-1920")
    assert_readable(w, "wall 1920x1080")
    assert_accessible(w, "wall results")
    w.set_viewport_size({"width": 1280, "height": 720})
    expect(w.locator("#results-chart .result-title")).to_have_text([WINNER, SHARED, OFFICE])
    shot(w, "cg-wall-results-1280")
    assert_readable(w, "wall 1280x720")

    # --- the control screen: the same, and the dots per group of every item
    c = control.page
    expect(c.locator("#chart .result-title")).to_have_text([WINNER, SHARED, OFFICE])
    expect(c.locator("#common-ground .result-title")).to_have_text([SHARED, WINNER, OFFICE])
    winner = row(c, "#chart", WINNER)
    expect(winner.locator(".badge.divided")).to_have_text("verdeeld")
    expect(winner.locator(".result-groups")).to_contain_text("Bewoner 9 (75%)")
    expect(winner.locator(".result-groups")).to_contain_text("Ambtenaar 0 (0%)")
    shared = row(c, "#chart", SHARED)
    expect(shared.locator(".badge.divided")).to_have_count(0)
    expect(shared.locator(".result-groups")).to_contain_text(
        re.compile(r"Bewoner 3 \(25%\).*Ambtenaar 3 \(33%\).*anders 2"))
    expect(c.locator("#results-legend li")).to_have_text(["Bewoner", "Ambtenaar", "anders"])
    expect(c.locator("#results-key")).to_contain_text("anders: mensen zonder groep")
    assert_no_small_group(c, "control results")
    shot(c, "cg-control-results", full_page=True)
    c.locator("#results-section").scroll_into_view_if_needed()
    shot(c, "cg-control-results-top")
    assert_accessible(c, "control results")

    # --- phones: the ranking, "verdeeld" with its numbers; the group of one is "anders"
    e = entrepreneur.page
    expect(e.locator("#ranking .rank-title")).to_have_text([WINNER, SHARED, OFFICE])
    expect(e.locator("#ranking .rank-row").first.locator(".result-groups")).to_contain_text(
        "Bewoner 9 (75%)")
    for i, phone in enumerate(phones):
        assert_no_small_group(phone.page, f"phone {i} results")
    shot(e, "cg-phone-results", full_page=True)

    # --- the facilitator shows the dots per group on the wall too
    c.check("#set-groups")
    c.click("#settings-form button[type=submit]")
    expect(c.locator("#settings-status")).to_have_text("De instellingen zijn opgeslagen.")
    expect(w.locator("#results-legend li")).to_have_text(["Bewoner", "Ambtenaar", "anders"])
    expect(row(w, "#results-chart", SHARED).locator(".result-groups")).to_contain_text(
        re.compile(r"Bewoner 3 \(25%\).*Ambtenaar 3 \(33%\).*anders 2"))
    expect(row(w, "#results-chart", SHARED).locator(".result-bar .piece")).to_have_count(3)
    expect(w.locator("#common-ground .result-groups")).to_have_count(3)
    shot(w, "cg-wall-groups-1280")
    assert_readable(w, "wall 1280x720 with groups")
    assert_no_small_group(w, "wall results with groups")
    w.set_viewport_size({"width": 1920, "height": 1080})
    expect(w.locator("#results-chart .result")).to_have_count(3)
    shot(w, "cg-wall-groups-1920")
    assert_readable(w, "wall 1920x1080 with groups")
    assert_accessible(w, "wall results with groups")


def test_perspectives_are_checked_in_plain_words(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    """At most 8 groups, and "anders" is not a group name: said before anything is sent."""
    page = screens.page("landing", LAPTOP)
    landing = Landing(page).open()
    page.fill("#title", "Groepen")
    page.fill("#prompt-1", "Wat vind je?")
    page.fill("#perspectives", ", ".join(f"Groep {i}" for i in range(1, 10)))
    page.click("#start-submit")
    expect(page.locator("#start-error")).to_have_text("Je kunt hoogstens 8 groepen maken.")
    expect(page.locator("#perspectives")).to_have_attribute("aria-invalid", "true")
    page.fill("#perspectives", "Bewoner, Anders")
    page.click("#start-submit")
    expect(page.locator("#start-error")).to_contain_text("‘Anders’ kan geen groep zijn")
    links = landing.start("Groepen", ["Wat vind je?"], perspectives="Bewoner, Ambtenaar")
    control = landing.go_to_control()
    expect(page.locator("#set-perspectives")).to_have_value("Bewoner, Ambtenaar")
    page.fill("#set-perspectives", "Bewoner, other")
    page.click("#settings-form button[type=submit]")
    expect(page.locator("#settings-status")).to_contain_text("‘other’ kan geen groep zijn")
    page.fill("#set-perspectives", "Bewoner, Ambtenaar, Ondernemer")
    page.click("#settings-form button[type=submit]")
    expect(page.locator("#settings-status")).to_have_text("De instellingen zijn opgeslagen.")

    # A phone may pick a group, or none; the choice is never required.
    phone = Phone(screens.page("phone", PHONE)).open(links["code"])
    expect(phone.page.locator("#perspective option")).to_have_text(
        ["Zeg ik liever niet", "Bewoner", "Ambtenaar", "Ondernemer"])
    phone.post("Zonder groep")
    expect(phone.my_note("Zonder groep")).to_be_visible()
    online(control.page)
