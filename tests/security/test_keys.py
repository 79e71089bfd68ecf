"""Promise: keys and tokens are secrets (docs/security.md, Secrets).

- A facilitator key or view key opens only its own workshop: on the socket (4401), the
  exports and report (401), erase and rotate (401), the pages (401).
- No key or token ever reaches the server log, after a whole workshop that loads pages
  with ?key=, swaps keys for cookies, exports, rotates and erases.
- The facilitator can rotate both keys: old links, keys and cookies stop working (4401,
  401), connected staff sockets are closed with 4401 (phones stay), the new keys work.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from server.store import Store, digest
from tests.support import Client, Refused, ServerProcess, close_all, create_workshop, http


async def refused_hello(server: ServerProcess, **hello: Any) -> int | None:
    c = Client(server, name="intruder")
    with pytest.raises(Refused) as refused:
        await c.hello(**hello)
    return refused.value.code


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def status(server: ServerProcess, method: str, path: str,
                 headers: dict[str, str] | None = None) -> int:
    return (await http(method, server.url + path, headers=headers, follow=False)).status


# ----------------------------------------------------------- across workshops
async def test_keys_do_not_open_another_workshop(server: ServerProcess) -> None:
    a = await create_workshop(server.url, title="A")
    b = await create_workshop(server.url, title="B")
    b_phone = Client(server, name="b-phone")
    await b_phone.join(b["code"])
    b_token = b_phone.token
    await b_phone.drop()

    for role, key in [("facilitator", b["facilitator_key"]), ("projector", b["view_key"]),
                      ("projector", b["facilitator_key"]), ("facilitator", a["view_key"])]:
        code = await refused_hello(server, role=role, workshop=a["id"], key=key, since=None)
        assert code == 4401, (role, code)
    code = await refused_hello(server, role="participant", code=a["code"], token=b_token)
    assert code == 4401

    aid = a["id"]
    for key in (b["facilitator_key"], b["view_key"], a["view_key"]):
        for path in (f"/api/workshops/{aid}/export.json", f"/api/workshops/{aid}/export.csv",
                     f"/api/workshops/{aid}/export.md", f"/f/{aid}/report"):
            assert await status(server, "GET", path, bearer(key)) == 401, (path, key)
            assert await status(server, "GET", f"{path}?key={key}") == 401, (path, key)
            assert await status(server, "GET", path, {"Cookie": f"sf_{aid}={key}"}) == 401
        assert await status(server, "DELETE", f"/api/workshops/{aid}", bearer(key)) == 401
        assert await status(server, "POST", f"/api/workshops/{aid}/keys", bearer(key)) == 401
        assert await status(server, "GET", f"/f/{aid}?key={key}") == 401
        assert await status(server, "GET", f"/f/{aid}", {"Cookie": f"sf_{aid}={key}"}) == 401
    for key in (b["facilitator_key"], b["view_key"]):
        assert await status(server, "GET", f"/p/{aid}?key={key}") == 401
        assert await status(server, "GET", f"/p/{aid}", {"Cookie": f"sp_{aid}={key}"}) == 401
        assert await status(server, "GET", f"/p/{aid}", {"Cookie": f"sf_{aid}={key}"}) == 401
    # A's own keys still open A, and A was neither erased nor rotated by B's keys.
    assert await status(server, "GET", f"/api/workshops/{aid}/export.json",
                        bearer(a["facilitator_key"])) == 200
    fac = Client(server, name="a-fac")
    await fac.staff("facilitator", aid, a["facilitator_key"])
    wall = Client(server, name="a-wall")
    await wall.staff("projector", aid, a["view_key"])
    await close_all(fac, wall)


# --------------------------------------------------------------- nothing logged
@pytest.fixture(scope="module")
def logged(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    """A server of its own: its log holds only this module's traffic."""
    with ServerProcess(redis_url, logs_dir, name="keys-log") as proc:
        yield proc


async def test_no_key_or_token_in_the_log(logged: ServerProcess) -> None:
    s = logged
    w = await create_workshop(s.url, settings={"anonymous": False})
    wid, fkey, vkey = w["id"], w["facilitator_key"], w["view_key"]
    secrets_seen = {fkey, vkey, w["join_secret"]}
    # Pages with the key in the URL, swapped for cookies; then the pages by cookie.
    for path in (w["urls"]["facilitator"], w["urls"]["projector"], w["urls"]["join"]):
        resp = await http("GET", s.url + path, follow=False)
        assert resp.status == 303, (path, resp)
    assert (await http("GET", f"{s.url}/f/{wid}",
                       headers={"Cookie": f"sf_{wid}={fkey}"})).status == 200
    assert (await http("GET", f"{s.url}/p/{wid}",
                       headers={"Cookie": f"sp_{wid}={vkey}"})).status == 200
    # Sockets, even one that puts the key in its URL.
    fac = Client(s, name="fac")
    fac.ws_url += f"?key={fkey}"
    await fac.staff("facilitator", wid, fkey)
    wall = Client(s, name="wall")
    await wall.staff("projector", wid, vkey)
    phones = []
    for i in range(3):
        p = Client(s, name=f"phone{i}")
        await p.join(w["code"])
        secrets_seen.add(str(p.token))
        await p.ok("add_note", {"prompt_id": "q1", "text": f"idee {i}"})
        phones.append(p)
    await phones[0].resume()                     # a phone comes back with its token
    again = Client(s, name="reload")
    await again.join(w["code"], token=phones[1].token)
    await again.drop()
    # Wrong keys and tokens are secrets too (a typo of the real one).
    for wrong in (fkey[:-2] + "xx", vkey[::-1]):
        secrets_seen.add(wrong)
        with pytest.raises(Refused):
            await Client(s, name="typo").staff("facilitator", wid, wrong)
        assert (await http("GET", f"{s.url}/f/{wid}?key={wrong}")).status == 401
    forged = "forged-" + "abcdefghijklmnop"
    secrets_seen.add(forged)
    with pytest.raises(Refused):
        await Client(s, name="forged").join(w["code"], token=forged)
    # Exports and the report, by every way of giving the key.
    for path in ("/api/workshops/{id}/export.json?key={k}", "/api/workshops/{id}/export.csv",
                 "/f/{id}/report?key={k}"):
        resp = await http("GET", s.url + path.format(id=wid, k=fkey), headers=bearer(fkey))
        assert resp.status == 200, (path, resp)
    # Rotation: the new keys are secrets too.
    fresh = (await http("POST", f"{s.url}/api/workshops/{wid}/keys", headers=bearer(fkey))).json()
    secrets_seen |= {fresh["facilitator_key"], fresh["view_key"], fresh["join_secret"]}
    assert (await http("GET", s.url + fresh["urls"]["facilitator"], follow=False)).status == 303
    await fac.wait_closed(5)
    await wall.wait_closed(5)
    fac2 = Client(s, name="fac2")
    await fac2.staff("facilitator", wid, fresh["facilitator_key"])
    await close_all(fac2, *phones)
    resp = await http("DELETE", f"{s.url}/api/workshops/{wid}?key={fresh['facilitator_key']}")
    assert resp.status == 204

    s.stop()      # flush and close the log
    log = s.log_text()
    assert '"WebSocket /ws"' in log    # the log does record the traffic
    for secret in secrets_seen:
        assert secret not in log, f"a secret is in the log: {secret[:6]}…"
    assert "key=" not in log, log[-3000:]


# ------------------------------------------------------------------- rotation
async def test_rotating_keys_locks_out_old_links_and_staff_sockets(server: ServerProcess) -> None:
    w = await create_workshop(server.url)
    wid, old_f, old_v = w["id"], w["facilitator_key"], w["view_key"]
    fac = Client(server, name="fac")
    await fac.staff("facilitator", wid, old_f)
    wall = Client(server, name="wall")
    await wall.staff("projector", wid, old_v)
    wall_by_fkey = Client(server, name="wall-by-fkey")
    await wall_by_fkey.staff("projector", wid, old_f)
    phone = Client(server, name="phone")
    await phone.join(w["code"])
    await phone.ok("add_note", {"prompt_id": "q1", "text": "voor het draaien"})

    # Only the facilitator key rotates.
    for headers in ({}, bearer(old_v), bearer("nope")):
        resp = await http("POST", f"{server.url}/api/workshops/{wid}/keys", headers=headers)
        assert resp.status == 401 and resp.json()["error"]["code"] == "wrong_key", resp
    resp = await http("POST", f"{server.url}/api/workshops/{wid}/keys", headers=bearer(old_f))
    assert resp.status == 200, resp
    fresh = resp.json()
    new_f, new_v = fresh["facilitator_key"], fresh["view_key"]
    assert len({old_f, old_v, new_f, new_v}) == 4
    assert len(new_f) >= 32 and len(new_v) >= 32      # 192 bits, URL-safe base64

    # Connected staff sockets are closed with 4401; the phone stays.
    for c in (fac, wall, wall_by_fkey):
        assert await c.wait_closed(5) == 4401, c.name
    await phone.ping()
    await phone.ok("add_note", {"prompt_id": "q1", "text": "na het draaien"})

    # Old keys, links and cookies stop working.
    for role, key in [("facilitator", old_f), ("projector", old_v), ("projector", old_f)]:
        assert await refused_hello(server, role=role, workshop=wid, key=key) == 4401
    for link in (w["urls"]["facilitator"], w["urls"]["projector"]):
        assert await status(server, "GET", link) == 401, link
    assert await status(server, "GET", f"/f/{wid}", {"Cookie": f"sf_{wid}={old_f}"}) == 401
    assert await status(server, "GET", f"/p/{wid}", {"Cookie": f"sp_{wid}={old_v}"}) == 401
    for path in (f"/api/workshops/{wid}/export.json", f"/f/{wid}/report"):
        assert await status(server, "GET", path, bearer(old_f)) == 401
    assert await status(server, "DELETE", f"/api/workshops/{wid}", bearer(old_f)) == 401
    assert await status(server, "POST", f"/api/workshops/{wid}/keys", bearer(old_f)) == 401

    # The new keys and links work.
    for link in (fresh["urls"]["facilitator"], fresh["urls"]["projector"]):
        assert await status(server, "GET", link) == 303, link
    assert await status(server, "GET", f"/api/workshops/{wid}/export.json", bearer(new_f)) == 200
    fac2 = Client(server, name="fac2")
    welcome = await fac2.staff("facilitator", wid, new_f)
    assert [n["text"] for n in welcome["state"]["notes"]] == ["voor het draaien",
                                                              "na het draaien"]
    wall2 = Client(server, name="wall2")
    await wall2.staff("projector", wid, new_v)
    await close_all(fac2, wall2, phone)


# ------------------------------------------------------------------- storage
async def test_keys_and_tokens_are_stored_only_as_digests(server: ServerProcess,
                                                          store: Store) -> None:
    w = await create_workshop(server.url)
    phone = Client(server, name="phone")
    await phone.join(w["code"])
    await phone.ok("add_note", {"prompt_id": "q1", "text": "iets"})
    await phone.drop()
    raw = [w["facilitator_key"], w["view_key"], str(phone.token)]
    for secret in raw:
        assert len(secret) >= 32        # 192 random bits, URL-safe base64
    dump = []
    async for key in store.redis.scan_iter(match=f"ws:{{{w['id']}}}:*", count=1000):
        kind = await store.redis.type(key)
        if kind == "hash":
            dump.append(orjson.dumps(await store.redis.hgetall(key)).decode())
        elif kind == "stream":
            dump.append(orjson.dumps(await store.redis.xrange(key)).decode())
    text = "\n".join(dump)
    assert digest(w["facilitator_key"]) in text and digest(str(phone.token)) in text
    for secret in raw:
        assert secret not in text
