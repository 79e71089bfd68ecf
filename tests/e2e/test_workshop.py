"""One whole workshop across separate browsers: a facilitator starts it on the landing
page, a projector opens, three phones join by code and post, the facilitator hides one
note and clusters the rest (by drag and drop, and one by keyboard), the phones vote, and
the wall shows the ranking. Each screen shows what the contract allows, no more.
Screenshots of every screen in every phase go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens, shot
from tests.e2e.pages import Landing, Phone, Wall, exact

pytestmark = pytest.mark.e2e

Q1 = "Wat moet er beter in het park?"
Q2 = "Wat wil je zelf doen?"


def test_whole_workshop(screens: Screens) -> None:
    # --- the facilitator starts a workshop on the landing page
    host = screens.page("landing", {**LAPTOP, "viewport": {"width": 1440, "height": 1300}})
    landing = Landing(host).open()
    shot(host, "landing")
    links = landing.start("Plannen voor het park", [Q1, Q2], votes=5, anonymous=True)
    shot(host, "landing-created")
    assert re.fullmatch(r"\d{6}", links["code"])
    assert "/f/" in links["facilitator"] and "key=" in links["facilitator"]
    control = landing.go_to_control()
    assert "key=" not in host.url  # the key went into a cookie

    wall = Wall(screens.page("wall", WALL)).open(links["projector"])
    expect(wall.page.locator(".wall-code")).to_have_text(re.compile(links["code"][:3]))

    # --- three phones join by code
    phones = []
    for i in range(3):
        page = screens.page(f"phone{i}", PHONE)
        phones.append(Landing(page).open().join(links["code"]))
    a, b, c = phones
    a.post("Meer bankjes bij de vijver", Q1)
    a.post("Ik help met opruimen", Q2)
    b.post("Betere verlichting", Q1)
    b.post("Koop mijn fiets!", Q1)
    c.post("Een moestuin", Q2)
    c.post("Meer prullenbakken", Q1)
    c.set_profile("Noor")
    control.start_timer(5)

    column1 = exact(wall.page, ".prompt-column", Q1)
    column2 = exact(wall.page, ".prompt-column", Q2)
    for text in ("Meer bankjes bij de vijver", "Betere verlichting", "Meer prullenbakken"):
        expect(column1.locator(".wall-note-text", has_text=text)).to_be_visible()
    for text in ("Ik help met opruimen", "Een moestuin"):
        expect(column2.locator(".wall-note-text", has_text=text)).to_be_visible()
    expect(wall.page.locator("#timer")).to_be_visible()
    expect(a.page.locator("#timer")).to_be_visible()

    # --- moderation: a hidden note leaves the wall and the other phones at once
    control.hide("Koop mijn fiets!")
    expect(wall.note("Koop mijn fiets!")).to_have_count(0)
    a.page.locator("#others-details summary").click()
    expect(a.page.locator("#others-list")).to_contain_text("Betere verlichting")
    expect(a.page.locator("#others-list")).not_to_contain_text("Koop mijn fiets!")
    expect(b.my_note("Koop mijn fiets!")).to_contain_text(re.compile("verborgen", re.I))
    # Anonymous: the name is for the facilitator only.
    expect(control.note("Een moestuin")).to_contain_text("Noor")
    expect(wall.page.locator("body")).not_to_contain_text("Noor")
    expect(a.page.locator("body")).not_to_contain_text("Noor")
    shot(a.page, "phone-collect", full_page=True)
    shot(control.page, "control-collect", full_page=True)
    shot(wall.page, "wall-collect")

    # --- clustering: drag and drop, and one note by keyboard
    control.next_phase()
    expect(a.page.locator("#write")).to_be_hidden()
    control.drag_to_new("Meer bankjes bij de vijver")
    expect(control.clusters()).to_have_count(1)
    control.drag_to_cluster("Meer prullenbakken", 0)
    control.drag_to_new("Een moestuin")
    expect(control.clusters()).to_have_count(2)
    control.drag_to_cluster("Ik help met opruimen", 1)
    control.rename(0, "Voorzieningen")
    control.rename(1, "Samen doen")
    expect(control.page.locator("#move-target option", has_text="Samen doen")).to_have_count(1)
    control.select("Betere verlichting")
    control.move_selected("Thema: Voorzieningen")
    expect(control.clusters().nth(0).locator(".fnote")).to_have_count(3)
    assert sorted(control.cluster_notes(0)) == [
        "Betere verlichting", "Meer bankjes bij de vijver", "Meer prullenbakken"]
    assert sorted(control.cluster_notes(1)) == ["Een moestuin", "Ik help met opruimen"]
    themes = {name: exact(wall.page, ".wall-cluster", name).locator(".cluster-note")
              for name in ("Voorzieningen", "Samen doen")}
    expect(themes["Voorzieningen"]).to_have_count(3)
    expect(themes["Samen doen"]).to_have_count(2)
    shot(a.page, "phone-cluster", full_page=True)
    shot(control.page, "control-cluster", full_page=True)
    shot(wall.page, "wall-cluster")

    # --- voting: phones see their own dots; the wall sees how many voted, no totals
    control.next_phase()
    expect(a.item("Voorzieningen")).to_be_visible()
    expect(a.item("Koop mijn fiets!")).to_have_count(0)  # hidden notes are no items
    a.vote("Voorzieningen", 3)
    a.vote("Samen doen", 2)
    expect(a.page.locator("#dots-left")).to_contain_text("al je 5 stippen")
    expect(a.item("Voorzieningen").locator(".plus")).to_be_disabled()
    b.vote("Voorzieningen", 2)
    b.vote("Samen doen", 1)
    c.vote("Samen doen", 2)
    c.vote("Voorzieningen", 1)
    expect(c.my_dots("Samen doen")).to_have_text("2 stippen van jou")
    expect(wall.page.locator("#vote-count")).to_have_text("3 van de 3 mensen hebben gestemd")
    expect(wall.page.locator("#view-vote .result")).to_have_count(0)
    expect(control.page.locator("#vote-progress")).to_contain_text("3 van de 3")
    expect(a.page.locator("#vote-progress")).to_have_text("3 van de 3 mensen hebben gestemd")
    shot(a.page, "phone-vote", full_page=True)
    shot(control.page, "control-vote", full_page=True)
    shot(wall.page, "wall-vote")

    # --- results: the ranking on the wall, the phones and the control screen
    control.next_phase()
    expect(wall.page.locator("#results-chart .result-list")).to_be_visible()
    assert wall.chart_labels() == ["Voorzieningen", "Samen doen"]
    expect(wall.page.locator("#results-chart .result-total")).to_have_text(
        ["6 stippen", "5 stippen"])
    expect(a.page.locator("#ranking .rank-title")).to_have_text(["Voorzieningen", "Samen doen"])
    expect(a.page.locator("#ranking")).to_contain_text("3 van jou")
    expect(control.page.locator("#chart .result-list")).to_be_visible()
    shot(a.page, "phone-results", full_page=True)
    shot(control.page, "control-results", full_page=True)
    shot(wall.page, "wall-results")

    control.close_session()
    expect(a.page.locator("#now-text")).to_contain_text("afgelopen")
    expect(wall.page.locator(".thanks")).to_be_visible()
    shot(wall.page, "wall-closed")
    shot(a.page, "phone-closed", full_page=True)


def test_phone_in_english_and_back(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat gaat goed?"])
    page = screens.page("phone", PHONE, locale="en-GB")
    phone = Phone(page).open(created["code"])
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#post-note")).to_have_text("Post note")
    phone.post("A note in English")
    expect(phone.my_note("A note in English")).to_be_visible()
    page.get_by_role("link", name="Nederlands").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.locator("#post-note")).to_have_text("Briefje plaatsen")
    expect(phone.my_note("A note in English")).to_be_visible()  # same participant
