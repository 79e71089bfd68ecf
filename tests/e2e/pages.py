"""Page objects: one per screen, in the words of the screen (what a person does)."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Locator, Page, expect


def online(page: Page) -> None:
    expect(page.locator("#conn")).to_have_attribute("data-state", "online")


def exact(page: Page, selector: str, text: str) -> Locator:
    """Elements matching `selector` that hold exactly this text somewhere inside."""
    return page.locator(selector).filter(has=page.get_by_text(text, exact=True))


class Landing:
    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self) -> Landing:
        self.page.goto("/")
        return self

    def start(self, title: str, prompts: list[str], *, votes: int = 5, anonymous: bool = True,
              perspectives: str = "") -> dict[str, str]:
        p = self.page
        p.fill("#title", title)
        for i, prompt in enumerate(prompts, 1):
            if i > 1:
                p.click("#add-prompt")
            p.fill(f"#prompt-{i}", prompt)
        p.fill("#votes", str(votes))
        p.set_checked("#anonymous", anonymous)
        p.fill("#perspectives", perspectives)
        p.click("#start-submit")
        expect(p.locator("#created")).to_be_visible()
        return {
            "facilitator": p.input_value("#facilitator-link"),
            "projector": p.input_value("#projector-link"),
            "code": (p.text_content("#created-code") or "").replace(" ", ""),
        }

    def choose_template(self, template_id: str) -> None:
        """Pick a format ("Kies een opzet"): its parts fill the plan editor."""
        self.page.check(f"#template-{template_id}")

    def part_titles(self) -> list[str]:
        """The plan editor's part titles, in order (a plan of one has none)."""
        return [self.page.input_value(f"#part-{n}-title")
                for n in range(1, self.page.locator(".part-title").count() + 1)]

    def created(self) -> dict[str, str]:
        expect(self.page.locator("#created")).to_be_visible()
        p = self.page
        return {
            "facilitator": p.input_value("#facilitator-link"),
            "projector": p.input_value("#projector-link"),
            "code": (p.text_content("#created-code") or "").replace(" ", ""),
        }

    def go_to_control(self) -> Control:
        self.page.click("#go-control")
        control = Control(self.page)
        online(self.page)
        return control

    def join(self, code: str) -> Phone:
        self.page.fill("#join-code", code)
        self.page.click(".join-form button[type=submit]")
        phone = Phone(self.page)
        online(self.page)
        return phone


class Phone:
    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, code: str) -> Phone:
        self.page.goto(f"/j/{code}")
        online(self.page)
        return self

    def post(self, text: str, prompt: str | None = None) -> None:
        if prompt is not None:
            self.page.locator(".prompt-choice label", has_text=prompt).click()
        self.page.fill("#note-text", text)
        self.page.click("#post-note")

    def my_note(self, text: str) -> Locator:
        return exact(self.page, "#my-notes .note", text)

    def pending_notes(self) -> Locator:
        return self.page.locator("#my-notes .note.pending")

    def edit(self, old: str, new: str) -> None:
        self.my_note(old).get_by_role("button", name=re.compile("aanpassen|edit", re.I)).click()
        area = self.page.locator("#my-notes textarea")
        area.fill(new)
        self.page.locator("#my-notes .edit-form button[type=submit]").click()

    def delete(self, text: str) -> None:
        note = self.my_note(text)
        note.get_by_role("button", name=re.compile("verwijderen|delete", re.I)).click()
        self.page.locator("#my-notes .btn-danger").click()

    def set_profile(self, name: str, perspective: str | None = None) -> None:
        self.page.fill("#name", name)
        if perspective is not None:
            self.page.select_option("#perspective", perspective)
        self.page.click("#profile-form button[type=submit]")
        expect(self.page.locator("#profile-saved")).to_have_text(re.compile("Opgeslagen|Saved"))

    def item(self, title: str) -> Locator:
        return exact(self.page, "#vote-items .vote-item", title)

    def vote(self, title: str, delta: int = 1) -> None:
        button = ".plus" if delta > 0 else ".minus"
        for _ in range(abs(delta)):
            self.item(title).locator(button).click()

    def my_dots(self, title: str) -> Locator:
        return self.item(title).locator(".dot-count")

    def ranking(self) -> list[str]:
        return self.page.locator("#ranking .rank-title").all_text_contents()


class Control:
    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, url: str) -> Control:
        self.page.goto(url)
        online(self.page)
        return self

    def phase(self, name: str) -> None:
        """Click a step of the stepper by its visible name ("Stemmen"); "Afgesloten" asks
        first: say yes."""
        self.page.locator("#phase-steps .step", has_text=name).click()
        if name in ("Afgesloten", "Closed"):
            self.page.click("#close-yes")
        expect(self.page.locator("#phase-steps .step[aria-current=step]")).to_contain_text(name)

    def next_phase(self) -> None:
        self.page.click("#phase-next")

    def close_session(self) -> None:
        """On to "Afgesloten", which asks first: say yes."""
        self.page.click("#phase-next")
        self.page.click("#close-yes")
        expect(self.page.locator("#phase-steps .step[aria-current=step]")).to_contain_text(
            "Afgesloten")

    def note(self, text: str) -> Locator:
        return exact(self.page, ".fnote", text)

    def hide(self, text: str) -> None:
        self.note(text).locator(".hide-toggle").click()
        expect(self.note(text)).to_have_class(re.compile("is-hidden"))

    def select(self, text: str) -> None:
        self.note(text).locator(".fnote-select").check()

    def move_selected(self, target_label: str) -> None:
        self.page.select_option("#move-target", label=target_label)
        self.page.click("#move-apply")

    def clusters(self) -> Locator:
        return self.page.locator("#clusters .cluster")

    def cluster_notes(self, index: int) -> list[str]:
        return self.clusters().nth(index).locator(".fnote-text").all_text_contents()

    def rename(self, index: int, title: str) -> None:
        field = self.clusters().nth(index).locator(".cluster-title")
        field.fill(title)
        field.press("Enter")

    def drag(self, text: str, target: Locator) -> None:
        """Drag a note with the mouse, in small steps as a hand would (SortableJS)."""
        source = self.note(text).locator(".fnote-text")
        a, b = self.both_in_view(source, target)
        mouse = self.page.mouse
        mouse.move(a["x"] + 12, a["y"] + a["height"] / 2)
        mouse.down()
        mouse.move(a["x"] + 24, a["y"] + a["height"] / 2 + 12, steps=5)
        mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=20)
        time.sleep(0.15)   # the gesture: a hand rests over the target before it lets go
        mouse.move(b["x"] + b["width"] / 2 + 3, b["y"] + b["height"] / 2 + 3, steps=3)
        mouse.up()

    def both_in_view(self, source: Locator, target: Locator) -> tuple[Any, Any]:
        """Scroll so that the note and its drop target are both on screen (a hand drags
        only between what it sees): the boxes of both, in viewport coordinates."""
        source.scroll_into_view_if_needed()
        a, b = source.bounding_box(), target.bounding_box()
        assert a and b
        height = (self.page.viewport_size or {"height": 1000})["height"]
        top = min(a["y"], b["y"])
        bottom = max(a["y"] + a["height"], b["y"] + b["height"])
        if top < 0 or bottom > height:
            # Centre the pair (it fits: a note and a drop zone are small).
            self.page.evaluate("dy => window.scrollBy(0, dy)", (top + bottom - height) / 2)
            a, b = source.bounding_box(), target.bounding_box()
            assert a and b
        return a, b

    def touch_drag(self, text: str, target: Locator) -> None:
        """Drag a note with a finger: press, hold a moment, move, lift (raw touch events)."""
        source = self.note(text).locator(".fnote-text")
        source.scroll_into_view_if_needed()
        a = source.bounding_box()
        b = target.bounding_box()
        assert a and b
        cdp = self.page.context.new_cdp_session(self.page)
        x, y = a["x"] + 12, a["y"] + a["height"] / 2
        tx, ty = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
        start = {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]}
        cdp.send("Input.dispatchTouchEvent", start)
        time.sleep(0.3)  # longer than SortableJS's touch delay, so it is a drag, not a scroll
        for i in range(1, 21):
            point = {"x": x + (tx - x) * i / 20, "y": y + (ty - y) * i / 20}
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [point]})
            time.sleep(0.02)   # the gesture: a finger moves at a finger's pace
        time.sleep(0.15)   # ... and rests over the target before it lifts
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        cdp.detach()

    def drag_to_new(self, text: str) -> None:
        self.drag(text, self.page.locator("#new-cluster-drop"))

    def drag_to_cluster(self, text: str, index: int) -> None:
        self.drag(text, self.clusters().nth(index).locator(".note-drop"))

    def person(self, label: str) -> Locator:
        """A row of the participant list, by its name or a note of its writer."""
        details = self.page.locator("#people-details")
        if details.get_attribute("open") is None:
            details.locator("summary").click()
        return self.page.locator("#people-list .person", has_text=label)

    def remove_person(self, label: str) -> None:
        """Remove a participant with the keyboard: its button, then the confirmation."""
        self.person(label).locator(".person-remove").focus()
        self.page.keyboard.press("Enter")
        confirm = self.page.get_by_role("button", name="Ja, verwijder")
        expect(confirm).to_be_focused()
        self.page.keyboard.press("Enter")

    def programme(self) -> Locator:
        """The session plan's rows ("Programma"), in order."""
        return self.page.locator("#plan-list .plan-item .plan-title")

    def current_activity(self) -> Locator:
        return self.page.locator("#plan-list .plan-item[aria-current=step] .plan-title")

    def next_activity(self) -> None:
        """"Volgende onderdeel", and wait until the control screen is there."""
        titles = self.programme().all_text_contents()
        now = titles.index(self.current_activity().text_content() or "")
        self.page.click("#plan-next")
        expect(self.current_activity()).to_have_text(titles[now + 1])

    def go_to_activity(self, title: str) -> None:
        row = self.page.locator("#plan-list .plan-item").filter(
            has=self.page.locator(".plan-title", has_text=title))
        row.get_by_role("button", name=re.compile("^Ga naar|^Go to")).click()
        expect(self.current_activity()).to_have_text(title)

    def start_timer(self, minutes: int) -> None:
        self.page.fill("#timer-minutes", str(minutes))
        self.page.click("#timer-form button[type=submit]")


class Wall:
    def __init__(self, page: Page) -> None:
        self.page = page

    def open(self, url: str) -> Wall:
        self.page.goto(url)
        online(self.page)
        return self

    def note(self, text: str) -> Locator:
        return exact(self.page, ".wall-note", text)

    def notes(self) -> list[str]:
        return self.page.locator(".wall-note-text").all_text_contents()

    def chart_labels(self) -> list[str]:
        """The ranked titles in the results ranking ("Meeste stippen")."""
        return self.page.locator("#results-chart .result-title").all_text_contents()

    def common_ground(self) -> list[str]:
        """The titles in the common-ground ranking beside it."""
        return self.page.locator("#common-ground .result-title").all_text_contents()
