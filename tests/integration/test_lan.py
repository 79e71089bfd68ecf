"""Phones that can reach the laptop (issue 15). `make run` listens on 127.0.0.1 by
default: a join link or QR code made from a loopback address works on the laptop alone.
Then `python -m server` prints the machine's LAN addresses and the command that listens
on them, and the control screen, opened through a loopback address without PUBLIC_URL,
says so beside the join code with the same addresses (docs/deployment.md).

The addresses the test expects are found the documented way (a UDP socket "connected"
to an outside address, which sends nothing, and getaddrinfo(gethostname())), here in the
test itself, not through server/lan.py.
"""

from __future__ import annotations

import html
import ipaddress
import re
import socket
from pathlib import Path

from server.lan import is_loopback, startup_lines
from tests.support import ServerProcess, create_workshop, http, running


def documented_lan_addresses() -> list[str]:
    """This machine's LAN addresses, found the way docs/deployment.md says."""
    found: list[str] = []
    candidates: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # picks the route; no packet is sent
            candidates.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        candidates += [str(i[4][0]) for i in socket.getaddrinfo(socket.gethostname(), None,
                                                                 socket.AF_INET)]
    except OSError:
        pass
    for address in candidates:
        ip = ipaddress.ip_address(address)
        if ip.is_loopback or ip.is_link_local or ip.is_unspecified or address in found:
            continue
        found.append(address)
    return found


async def control_page(server: ServerProcess, wid: str, key: str,
                       host: str | None = None, query: str = "") -> str:
    """The control screen's HTML, as a browser gets it (key → cookie → page), through
    `host` (the Host header: the address the facilitator typed)."""
    extra = {"host": host} if host else {}
    first = await http("GET", f"{server.url}/f/{wid}?key={key}", headers=extra, follow=False)
    assert first.status == 303, first
    cookie = first.headers["set-cookie"].split(";", 1)[0]
    page = await http("GET", f"{server.url}/f/{wid}{query}",
                      headers={"cookie": cookie, **extra})
    assert page.status == 200, page
    return page.text


def notice(page: str) -> str | None:
    """The text of the control screen's LAN notice, or None."""
    found = re.search(r'<div class="lan-notice" id="lan-notice".*?</div>', page, re.S)
    if found is None:
        return None
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(0)))


async def test_on_loopback_the_control_screen_and_the_console_name_the_lan_address(
    server: ServerProcess,
) -> None:
    addresses = documented_lan_addresses()
    w = await create_workshop(server.url)

    # Opened through 127.0.0.1 (ServerProcess listens there): the notice, with the
    # address the server found and the command.
    text = notice(await control_page(server, w["id"], w["facilitator_key"]))
    assert text is not None, "no LAN notice on a control screen opened through 127.0.0.1"
    assert "127.0.0.1" in text and "HOST=0.0.0.0 make run" in text
    for address in addresses:
        assert f"http://{address}:{server.port}" in text, (address, text)
    if not addresses:
        assert "geen netwerkadres" in text
    # ... also through "localhost" (the same loopback, by name), in English.
    text_en = notice(await control_page(server, w["id"], w["facilitator_key"],
                                        host=f"localhost:{server.port}", query="?lang=en"))
    assert text_en is not None and "localhost" in text_en
    assert "Phones cannot reach this computer" in text_en and "HOST=0.0.0.0 make run" in text_en

    # Opened through a LAN address, the join link works for phones: no notice.
    lan_host = addresses[0] if addresses else "192.168.1.20"
    assert notice(await control_page(server, w["id"], w["facilitator_key"],
                                     host=f"{lan_host}:{server.port}")) is None

    # The console said the same at start: the addresses and the command.
    log = server.log_text()
    assert "Samenspel: Only this computer can open http://127.0.0.1:" in log
    if addresses:
        line = next(x for x in log.splitlines() if "addresses on the local network" in x)
        assert line.split(": ", 2)[-1].split(", ") == addresses
        assert "HOST=0.0.0.0 make run" in log
        assert f"PUBLIC_URL=http://{addresses[0]}:{server.port}" in log
    else:
        assert "No local network address found" in log


async def test_with_public_url_there_is_no_notice(redis_url: str, tmp_path: Path) -> None:
    port_server = ServerProcess(redis_url, tmp_path, name="public")
    port_server.extra_env["PUBLIC_URL"] = "http://192.168.1.20:8000"
    with running(port_server):
        w = await create_workshop(port_server.url)
        page = await control_page(port_server, w["id"], w["facilitator_key"])
        assert notice(page) is None
        assert "http://192.168.1.20:8000/join?code=" in page
        assert "Phones join through PUBLIC_URL: http://192.168.1.20:8000/" in \
            port_server.log_text()


def test_loopback_names_and_what_the_console_says() -> None:
    for host in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST",
                 "app.localhost"):
        assert is_loopback(host), host
    for host in ("192.168.1.20", "10.0.0.5", "0.0.0.0", "samenspel.example", "", None):
        assert not is_loopback(host), host
    lines = startup_lines("0.0.0.0", 8000, None, ["192.168.1.20", "10.0.0.5"])
    assert lines[0].startswith("Phones on the same Wi-Fi: open http://192.168.1.20:8000/ "
                               "or http://10.0.0.5:8000/")
    loop = " ".join(startup_lines("127.0.0.1", 8000, None, ["192.168.1.20"]))
    assert "192.168.1.20" in loop and "HOST=0.0.0.0 make run" in loop
    assert "PUBLIC_URL=http://192.168.1.20:8000" in loop
