"""The machine's addresses on the local network, for phones on the same Wi-Fi.

A laptop that runs `make run` listens on 127.0.0.1 by default: a join link or QR code
made from that address works on the laptop alone. `python -m server` then prints the
addresses below and how to listen on them; the control screen says the same when it was
opened through a loopback address (server/pages.py).

How the addresses are found, without a new dependency and without the app sending
anything:
- the UDP "connect" trick: connecting a UDP socket to an outside address only asks the
  kernel which route (and so which own address) it would use; no packet is sent, and it
  works offline as long as there is a default route;
- socket.getaddrinfo(socket.gethostname()): the addresses the host's own name has
  (often on a laptop: the Wi-Fi address), as the system resolves its own name.
Loopback and link-local addresses are left out (no phone reaches them); IPv4 only, as
that is what a phone on a home or office Wi-Fi uses.
"""

from __future__ import annotations

import ipaddress
import socket
import threading

# Any outside address will do: connect() on UDP only picks the route, sends nothing.
_ROUTE_PROBE = ("192.0.2.1", 9)  # TEST-NET-1 (RFC 5737): never a real host
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _usable(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and not (
        ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


def _route_address() -> str | None:
    """The own address of the default route (no packet is sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_ROUTE_PROBE)
            address: str = probe.getsockname()[0]
            return address
    except OSError:
        return None  # no network, or no default route


def _host_name_addresses(timeout: float) -> list[str]:
    """The addresses of this machine's own name (usually from /etc/hosts or the local
    resolver). In a thread with a deadline: a host name the resolver does not know must
    not hold up the start."""
    found: list[str] = []

    def look_up() -> None:
        try:
            infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        except OSError:
            return
        found.extend(str(info[4][0]) for info in infos)

    worker = threading.Thread(target=look_up, name="lan-addresses", daemon=True)
    worker.start()
    worker.join(timeout)
    return list(found) if not worker.is_alive() else []


def lan_addresses(timeout: float = 2.0) -> list[str]:
    """The machine's LAN addresses (IPv4, no loopback), the default route's first."""
    found: list[str] = []
    for address in [_route_address(), *_host_name_addresses(timeout)]:
        if address and _usable(address) and address not in found:
            found.append(address)
    return found


def is_loopback(host: str | None) -> bool:
    """True for 127.x.x.x, ::1 and localhost: an address only this machine reaches."""
    if not host:
        return False
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def lan_urls(addresses: list[str], port: int, scheme: str = "http") -> list[str]:
    """The base URLs phones could use: one per LAN address."""
    return [f"{scheme}://{address}:{port}" for address in addresses]


def startup_lines(host: str, port: int, public_url: str | None,
                  addresses: list[str]) -> list[str]:
    """What `python -m server` prints about phones reaching it (English: the console)."""
    if public_url:
        lines = [f"Phones join through PUBLIC_URL: {public_url}/"]
        if is_loopback(host):
            lines.append(f"It listens on {host} only: phones reach it through a proxy on "
                         "this computer, or start it with HOST=0.0.0.0.")
        return lines
    urls = lan_urls(addresses, port)
    if is_loopback(host):
        lines = [f"Only this computer can open http://{host}:{port}/ "
                 "(phones cannot: it is a loopback address)."]
        if urls:
            lines.append("This computer's addresses on the local network: "
                         + ", ".join(addresses))
            lines.append("For phones on the same Wi-Fi, start it with: HOST=0.0.0.0 make run"
                         f"  (or PUBLIC_URL={urls[0]} HOST=0.0.0.0 make run)")
            lines.append(f"and open {urls[0]}/ on this computer.")
        else:
            lines.append("No local network address found: connect to the Wi-Fi, then "
                         "start it with: HOST=0.0.0.0 make run")
        return lines
    if host in ("0.0.0.0", "::", ""):
        if urls:
            return ["Phones on the same Wi-Fi: open " + " or ".join(u + "/" for u in urls)
                    + " (also on this computer, so that the QR code carries that address)"]
        return ["No local network address found: connect to the Wi-Fi."]
    return [f"Phones on the same network: open http://{host}:{port}/"]
