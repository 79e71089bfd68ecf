"""A screen's state (its welcome plus the events it got) against a fresh welcome of the
same screen: the check that the live fan-out and a new welcome agree."""

from __future__ import annotations

from tests.support.client import Client, close_all
from tests.support.compare import comparable, differences
from tests.support.processes import ServerProcess


async def fresh_equal(server: ServerProcess, screens: list[Client]) -> None:
    """Each screen's state (welcome + events) equals a fresh welcome of the same screen,
    taken once the server's room has every change the screens had acked."""
    acked = max((a.get("seq") or 0 for c in screens for a in c.answers), default=0)
    for c in screens:
        fresh = Client(server, name=f"fresh-{c.name}")
        fields = {**c.hello_fields, "since": None}
        if fields["role"] == "participant":
            fields["token"] = c.token
        while (await fresh.hello(**fields))["seq"] < acked:
            await fresh.drop()   # the room had not applied the last change yet: again

        def same(c: Client = c, fresh: Client = fresh) -> bool:
            return comparable(c.state) == comparable(fresh.state)  # type: ignore[arg-type]

        try:
            await c.wait_for(same, 10, what="the fresh welcome")
        except TimeoutError:
            a, b = comparable(c.state), comparable(fresh.state)  # type: ignore[arg-type]
            raise AssertionError((c.name, differences(a, b))) from None
        assert c.violations == [], c.name
        await close_all(fresh)
