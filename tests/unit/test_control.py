"""The control channel's messages (server/control.py): declared once, to and from JSON;
anything else on the channel is skipped, not acted on."""

from __future__ import annotations

import logging

import pytest

from server.control import Erased, KeysRotated, from_json, to_json


@pytest.mark.parametrize("message", [Erased("w-1"), KeysRotated("w-2")])
def test_a_message_survives_the_wire(message: Erased | KeysRotated) -> None:
    assert from_json(to_json(message)) == message
    assert from_json(to_json(message).decode()) == message


def test_the_wire_shape_is_what_older_processes_read() -> None:
    """A process of the last release reads {"type", "workshop"}: a rolling restart has
    both kinds of process on one channel."""
    assert to_json(Erased("w-1")) == b'{"type":"erased","workshop":"w-1"}'
    assert to_json(KeysRotated("w-1")) == b'{"type":"keys_rotated","workshop":"w-1"}'


@pytest.mark.parametrize("raw", [
    b"not json", b"[1, 2]", b'"erased"', b"{}", b'{"type": "erased"}',
    b'{"type": "erased", "workshop": 7}', b'{"type": "shutdown", "workshop": "w-1"}',
    b'{"type": null, "workshop": "w-1"}',
])
def test_malformed_or_unknown_messages_are_logged_and_skipped(
        raw: bytes, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="samenspel.control"):
        assert from_json(raw) is None
    assert "ignored" in caplog.text
