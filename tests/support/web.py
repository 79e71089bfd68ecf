"""Plain HTTP to the real server: urllib without proxies, run in a thread when awaited.

`create_workshop` remembers every workshop it makes in CREATED, so that the session's
cleanup (tests/conftest.py) can erase them from a shared Redis.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from typing import Any

import orjson

# Workshops created through `create_workshop` in this test session (for cleanup on a
# shared Redis).
CREATED: list[str] = []


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER_NO_REDIRECT = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _NoRedirect()
)


class HttpResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return orjson.loads(self.body)

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status} {self.body[:200]!r}>"


def http_sync(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    follow: bool = True,
    timeout: float = 10.0,
) -> HttpResponse:
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else orjson.dumps(body)
        hdrs.setdefault("content-type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)  # noqa: S310
    opener = _OPENER if follow else _OPENER_NO_REDIRECT
    try:
        with opener.open(req, timeout=timeout) as resp:
            return HttpResponse(resp.status, {k.lower(): v for k, v in resp.headers.items()},
                                resp.read())
    except urllib.error.HTTPError as err:
        return HttpResponse(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


async def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
               **kw: Any) -> HttpResponse:
    return await asyncio.to_thread(http_sync, method, url, body, headers, **kw)


async def create_workshop(
    base_url: str,
    title: str = "Samen de wijk",
    prompts: list[str] | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """POST /api/workshops; returns the 201 body (id, code, keys, urls)."""
    body: dict[str, Any] = {"title": title, "prompts": prompts or ["Wat gaat goed?"]}
    if settings is not None:
        body["settings"] = settings
    resp = await http("POST", f"{base_url}/api/workshops", body)
    assert resp.status == 201, resp
    created: dict[str, Any] = resp.json()
    CREATED.append(created["id"])
    return created

