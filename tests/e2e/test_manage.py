"""Managing a workshop from the control screen: settings reach the phones, the lock keeps
newcomers out, erase ends every screen; and the friendly pages for wrong codes and keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import LAPTOP, PHONE, WALL, Screens, shot
from tests.e2e.pages import Control, Landing, Phone, Wall, online
from tests.e2e.test_a11y import assert_accessible
from tests.support import CREATED, http_sync

pytestmark = pytest.mark.e2e


def test_settings_lock_and_erase(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop(prompts=["Wat gaat goed?"])
    control_page = screens.page("control", LAPTOP, allow=("status of 404",))
    control = Control(control_page).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    phone.post("Een idee")

    # Settings: more dots, shorter notes.
    page = control.page
    page.fill("#set-votes", "7")
    page.fill("#set-length", "50")
    page.click("#settings-form button[type=submit]")
    expect(page.locator("#settings-status")).to_have_text("De instellingen zijn opgeslagen.")
    expect(phone.page.locator("#note-count")).to_have_text("Nog 50 tekens over.")
    control.phase("Stemmen")
    expect(phone.page.locator("#dots-left")).to_contain_text("nog 7 van de 7")

    # Lock: a new phone cannot join, the ones inside go on.
    page.check("#lock")
    newcomer = screens.page("newcomer", PHONE)
    newcomer.goto(f"/j/{created['code']}")
    expect(newcomer.locator("#notice")).to_contain_text("geen nieuwe mensen")
    phone.vote("Een idee", 1)
    expect(phone.my_dots("Een idee")).to_have_text("1 stip van jou")

    # Erase: every screen learns it at once.
    page.click("#erase")
    page.click("#erase-box .btn-danger")
    expect(page.locator("h1")).to_have_text("De sessie is gewist.")
    expect(phone.page.locator("#notice")).to_contain_text("gewist")
    expect(wall.page.locator(".wall-empty")).to_be_visible()
    response = page.goto(f"/f/{created['id']}")
    assert response is not None and response.status == 404
    kept = phone.page.evaluate("Object.keys(localStorage).filter(k => k.includes('participant'))")
    assert kept == []


KEPT = """id => [
  ...Object.keys(localStorage).filter(k => k.includes(id)).map(k => "local " + k),
  ...Object.keys(sessionStorage).filter(k => k.includes(id)).map(k => "session " + k),
]"""


def staff_device(screens: Screens) -> tuple[Page, str, dict[str, str]]:
    """A laptop that started a workshop on the landing page (which keeps its links), opened
    the control screen, the wall in a second tab (closed again), and made new links once
    (the flag for the announcement). Returns the control page, the workshop id, the links."""
    page = screens.page("control", LAPTOP, allow=("status of 401", "status of 404"))
    landing = Landing(page).open()
    links = landing.start("Op een gedeelde laptop", ["Wat vindt u?"])
    wid = links["facilitator"].split("/f/", 1)[1].split("?", 1)[0]
    CREATED.append(wid)
    landing.go_to_control()
    wall = page.context.new_page()
    screens.watch("wall tab", wall)
    Wall(wall).open(links["projector"])
    wall.close()
    page.evaluate("id => sessionStorage.setItem(`samenspel:rotated:${id}`, 'x')", wid)
    kept = page.evaluate(KEPT, wid)
    assert {f"local samenspel:{k}:{wid}" for k in ("links", "facilitator", "projector")} <= set(
        kept), kept
    names = {c["name"] for c in page.context.cookies()}
    assert {f"sf_{wid}", f"sp_{wid}"} <= names, names
    return page, wid, links


def test_forget_this_device(screens: Screens) -> None:
    """"Dit apparaat vergeten": by keyboard, asked first; then the links, the saved state and
    the cookies are gone from this browser, a reload finds no access, and the workshop
    itself goes on (its link still opens it)."""
    page, wid, links = staff_device(screens)
    page.focus("#forget")
    expect(page.locator("#forget")).to_have_accessible_name("Dit apparaat vergeten")
    page.keyboard.press("Enter")
    expect(page.locator("#forget-box .confirm-text")).to_contain_text("Weet je het zeker?")
    expect(page.locator("#forget-no")).to_be_visible()
    assert_accessible(page, "control, forget asked")
    page.keyboard.press("Enter")          # "Ja, vergeten" has the focus
    expect(page.locator("h1")).to_have_text("Dit apparaat is de sessie vergeten.")
    expect(page.locator("h1")).to_be_focused()
    assert page.evaluate(KEPT, wid) == []
    names = {c["name"] for c in page.context.cookies()}
    assert not {f"sf_{wid}", f"sp_{wid}"} & names, names
    response = page.reload()
    assert response is not None and response.status == 401
    expect(page.locator("body")).to_contain_text("Open dit scherm met de link")
    response = page.goto(f"/p/{wid}")
    assert response is not None and response.status == 401
    assert page.evaluate(KEPT, wid) == []
    # The workshop goes on: its control link opens it again.
    Control(page).open(links["facilitator"])
    assert http_sync("GET", f"{screens.base_url}/j/{links['code']}").status == 200


def test_erase_forgets_the_device_too(screens: Screens) -> None:
    page, wid, _links = staff_device(screens)
    page.click("#erase")
    page.click("#erase-box .btn-danger")
    expect(page.locator("h1")).to_have_text("De sessie is gewist.")
    assert page.evaluate(KEPT, wid) == []
    names = {c["name"] for c in page.context.cookies()}
    assert not {f"sf_{wid}", f"sp_{wid}"} & names, names


def test_friendly_pages_for_wrong_codes_and_keys(
    screens: Screens, make_workshop: Callable[..., dict[str, Any]]
) -> None:
    created = make_workshop()
    page = screens.page("visitor", PHONE, allow=("status of 404", "status of 401"))
    response = page.goto("/join?code=12 34 5")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Niet gevonden")
    page.fill("#join-code", created["code"])
    page.click(".join-form button[type=submit]")
    # A typed right code leads to the phone page with the join secret (docs/protocol.md).
    expect(page).to_have_url(re.compile(rf"/j/{created['code']}\?s=[\w-]+$"))

    response = page.goto(f"/f/{created['id']}")
    assert response is not None and response.status == 401
    response = page.goto(f"/f/{created['id']}?key=wrong")
    assert response is not None and response.status == 401
    expect(page.locator("body")).to_contain_text("Deze link klopt niet")
    response = page.goto(f"/p/{created['id']}?key={created['view_key']}")
    assert response is not None and response.status == 200
    assert page.url.endswith(f"/p/{created['id']}")  # the key left the address bar


def test_new_secret_links(screens: Screens, make_workshop: Callable[..., dict[str, Any]]) -> None:
    """"Nieuwe links maken": asked first; then the old links stop working (the wall opened
    with one says to reopen it), the control screen goes on with the new cookie and shows
    the new links; phones are not touched."""
    created = make_workshop(prompts=["Wat gaat goed?"])
    control = Control(screens.page("control", LAPTOP)).open(created["urls"]["facilitator"])
    wall = Wall(screens.page("wall", WALL)).open(created["urls"]["projector"])
    phone = Phone(screens.page("phone", PHONE)).open(created["code"])
    page = control.page
    second = page.context.new_page()  # the control screen in a second tab
    screens.watch("control tab 2", second)
    Control(second).open(f"/f/{created['id']}")

    page.click("#rotate")
    confirm = page.locator("#rotate-box .confirm-text")
    expect(confirm).to_contain_text("De oude links werken dan meteen niet meer.")
    expect(confirm).to_contain_text("open het daarna opnieuw met de nieuwe link")
    page.click("#rotate-no")  # changed my mind: nothing happens
    expect(page.locator("#rotate")).to_be_focused()
    expect(wall.page.locator("#conn")).to_have_attribute("data-state", "online")

    page.click("#rotate")
    page.click("#rotate-yes")
    expect(page.locator("#info")).to_contain_text("Er zijn nieuwe geheime links.")
    online(page)
    assert "key=" not in page.url
    new_control = page.input_value("#saved-facilitator")
    new_wall = page.input_value("#saved-projector")
    assert created["facilitator_key"] not in new_control and "key=" in new_control
    assert created["view_key"] not in new_wall and "key=" in new_wall
    shot(page, "control-new-links")

    # The second tab (old cookie) and the wall opened with the old link stop, and say what
    # to do.
    expect(second.locator("#notice")).to_have_text(
        "Deze link van de bediening werkt niet meer: er zijn nieuwe links gemaakt. Open de "
        "bediening met de nieuwe link.")
    expect(wall.page.locator(".wall-empty")).to_have_text(
        "Dit scherm heeft een nieuwe link nodig. Open het grote scherm opnieuw met de nieuwe "
        "link uit de bediening.")
    # The old links no longer open anything; the new wall link does.
    visitor = screens.page("visitor", WALL, allow=("status of 401",))
    for old in (created["urls"]["facilitator"], created["urls"]["projector"]):
        response = visitor.goto(old)
        assert response is not None and response.status == 401
    Wall(visitor).open(new_wall)

    # Phones go on; the control screen (new cookie) and the new wall see their notes.
    phone.post("Na de nieuwe links")
    expect(control.note("Na de nieuwe links")).to_be_visible()
    expect(Wall(visitor).note("Na de nieuwe links")).to_be_visible()
