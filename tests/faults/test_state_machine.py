"""The whole protocol as a hypothesis state machine, against the real server and Redis.

Two participants, the facilitator and a wall; rules for notes (add, edit, delete,
moderate), dots, clusters, phases, settings, reconnects with `since` (and page reloads),
an answer lost with its socket, and an op_id delivered twice. After every step:
- no acknowledged note is missing, unless an acked delete removed it; no note appears
  that no acked add_note made;
- the stored ballots are exactly the acked dots (minus the dots given back when their
  item was clustered, hidden or deleted), within the limits; totals are the sum of the ballots;
- every note is in at most one cluster, and only in one that exists;
- each screen's applied state equals a fresh welcome of the same role and identity.

The async clients run on an event loop of their own, in a thread; the (synchronous)
state machine hands them coroutines with asyncio.run_coroutine_threadsafe.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from server.store import Store
from tests.support import Client, ServerProcess, comparable, create_workshop, differences

T = TypeVar("T")
BUDGET = 3
PER_ITEM = 2
PHASES = ("collect", "cluster", "vote", "results", "closed")
TEXTS = st.sampled_from(["Meer groen", "Een bankje bij de bushalte", "Fietspad <b>veilig</b>",
                         "Zebrapad 🦓", "Speeltuin", "  ", "x" * 281])
PROMPTS = st.sampled_from(["q1", "q2", "q1", "q2", "q9"])
NOTE_IDS = st.lists(Bundle("notes"), min_size=1, max_size=3)


class LoopThread:
    """An asyncio loop in a thread of its own, for a synchronous caller."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sm-loop",
                                       daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def fast_server(redis_url: str, logs_dir: Path) -> Iterator[ServerProcess]:
    # A short fan-out tick: each step waits for its barrier event on every screen.
    proc = ServerProcess(redis_url, logs_dir, name="state-machine", env={"TICK_SECONDS": "0.005"})
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


class Workshop(RuleBasedStateMachine):
    server: ClassVar[ServerProcess]
    loop: ClassVar[LoopThread]
    store: ClassVar[Store]
    stats: ClassVar[Counter[str]] = Counter()

    notes = Bundle("notes")
    clusters = Bundle("clusters")

    def __init__(self) -> None:
        super().__init__()
        self.clients: list[Client] = []
        self.history: list[tuple[int, str, str, dict[str, Any], dict[str, Any]]] = []
        self.made: set[str] = set()          # note ids of acked add_note
        self.deleted: set[str] = set()       # note ids of acked delete_note
        self.ballots: dict[str, Counter[str]] = {}   # the acked dots, as the model has them
        self.phase = "collect"
        self.items: set[str] = set()         # what may get dots, as last read from Redis

    # ------------------------------------------------------------------ helpers
    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run(coro)

    @property
    def fac(self) -> Client:
        return self.clients[0]

    def op(self, who: int, op: str, args: dict[str, Any], op_id: str | None = None
           ) -> dict[str, Any]:
        client = self.clients[who]
        op_id = op_id or client.new_op_id()

        async def send() -> dict[str, Any]:
            while True:
                answer = await client.op(op, args, op_id=op_id)
                if answer["type"] == "nack" and answer["error"]["code"] == "too_fast":
                    await asyncio.sleep(0.2)   # a screen's pause before it resends
                    continue
                return answer

        answer = self.run(send())
        self.history.append((who, op_id, op, args, answer))
        self.stats[f"{op}:" + ("ack" if answer["type"] == "ack" else answer["error"]["code"])] += 1
        return answer

    def refund(self, items: list[str]) -> None:
        for ballot in self.ballots.values():
            for item in items:
                ballot.pop(item, None)

    # -------------------------------------------------------------------- setup
    @initialize(target=notes, anonymous=st.booleans(), private=st.booleans(),
                live=st.booleans(), count=st.integers(0, 4),
                phase=st.sampled_from(["collect", "cluster", "vote", "vote"]))
    def open_workshop(self, anonymous: bool, private: bool, live: bool, count: int,
                      phase: str) -> Any:
        """A workshop with two phones, the facilitator and a wall; a few first notes,
        and a phase to start from (a vote needs notes and the vote phase)."""
        async def setup() -> list[Client]:
            w = await create_workshop(self.server.url, prompts=["Wat gaat goed?", "Wat mist?"],
                                      settings={"votes_per_participant": BUDGET,
                                                "max_votes_per_item": PER_ITEM,
                                                "anonymous": anonymous,
                                                "private_writing": private,
                                                "show_live_votes": live})
            self.w = w
            fac = Client(self.server, name="facilitator")
            await fac.staff("facilitator", w["id"], w["facilitator_key"])
            wall = Client(self.server, name="wall")
            await wall.staff("projector", w["id"], w["view_key"])
            p1, p2 = Client(self.server, name="p1"), Client(self.server, name="p2")
            await p1.join(w["code"])
            await p2.join(w["code"])
            return [fac, wall, p1, p2]

        self.clients = self.run(setup())
        for p in self.clients[2:]:
            assert p.pid is not None
            self.ballots[p.pid] = Counter()
        made = [self.op(2 + i % 2, "add_note", {"prompt_id": "q1", "text": f"idee {i}"})
                for i in range(count)]
        self.made.update(a["result"]["note_id"] for a in made)
        self.set_phase(phase)
        return multiple(*(a["result"]["note_id"] for a in made))

    def teardown(self) -> None:
        async def close() -> None:
            await asyncio.gather(*(c.drop() for c in self.clients), return_exceptions=True)

        if self.clients:
            self.run(close())

    # -------------------------------------------------------------------- notes
    @rule(target=notes, who=st.sampled_from([2, 3]), prompt=PROMPTS, text=TEXTS)
    def add_note(self, who: int, prompt: str, text: str) -> Any:
        answer = self.op(who, "add_note", {"prompt_id": prompt, "text": text})
        if answer["type"] == "ack":
            note_id = answer["result"]["note_id"]
            self.made.add(note_id)
            return note_id
        return multiple()

    @rule(target=notes, who=st.sampled_from([2, 3]), text=TEXTS)
    def add_note_answer_lost(self, who: int, text: str) -> Any:
        """The op goes out, the socket drops before the answer; the outbox resends it."""
        client = self.clients[who]
        op_id = client.new_op_id()
        args = {"prompt_id": "q1", "text": text}

        async def lose() -> None:
            await client.send({"type": "op", "op_id": op_id, "op": "add_note", "args": args})
            await client.drop()
            await client.resume()

        self.run(lose())
        answer = self.op(who, "add_note", args, op_id=op_id)
        if answer["type"] == "ack":
            self.made.add(answer["result"]["note_id"])
            return answer["result"]["note_id"]
        return multiple()

    @rule(who=st.sampled_from([0, 2, 3]), note=notes, text=TEXTS)
    def edit_note(self, who: int, note: str, text: str) -> None:
        self.op(who, "edit_note", {"note_id": note, "text": text})

    @rule(who=st.sampled_from([0, 2, 3]), note=notes)
    def delete_note(self, who: int, note: str) -> None:
        if self.op(who, "delete_note", {"note_id": note})["type"] == "ack":
            self.deleted.add(note)
            self.refund([note])

    @rule(note=notes, hidden=st.booleans())
    def moderate(self, note: str, hidden: bool) -> None:
        answer = self.op(0, "moderate_note", {"note_id": note, "hidden": hidden})
        if answer["type"] == "ack" and hidden:
            self.refund([note])  # a hidden note is no item (a clustered one has no dots)

    # -------------------------------------------------------------------- votes
    def _vote(self, who: int, item: str, delta: int) -> None:
        answer = self.op(who, "vote", {"item_id": item, "delta": delta})
        if answer["type"] == "ack":
            pid = self.clients[who].pid
            assert pid is not None
            self.ballots[pid][item] += delta
            if not self.ballots[pid][item]:
                del self.ballots[pid][item]
            assert dict(self.ballots[pid]) == answer["result"]["mine"]

    # Dots only while voting (test_vote_close_race covers the refusals around it), on
    # the items there are (as the last check read them from Redis) and on a note that
    # is no item (clustered, hidden or deleted).
    def _dots(self, who: int, data: st.DataObject) -> None:
        choices = sorted(self.items) + sorted(self.made - self.items)[:1]
        dots = data.draw(st.lists(st.tuples(st.sampled_from(choices), st.sampled_from(
            [1, 1, -1])), min_size=1, max_size=4), label="dots")
        for item, delta in dots:
            self._vote(who, item, delta)

    @precondition(lambda self: self.phase == "vote" and bool(self.items | self.made))
    @rule(data=st.data())
    def vote_p1(self, data: st.DataObject) -> None:
        self._dots(2, data)

    @precondition(lambda self: self.phase == "vote" and bool(self.items | self.made))
    @rule(data=st.data())
    def vote_p2(self, data: st.DataObject) -> None:
        self._dots(3, data)

    # ----------------------------------------------------------------- clusters
    @rule(target=clusters, ids=NOTE_IDS, title=st.sampled_from([None, "Groen", "Verkeer"]))
    def cluster_new(self, ids: list[str], title: str | None) -> Any:
        ids = list(dict.fromkeys(ids))
        answer = self.op(0, "cluster", {"note_ids": ids, "cluster_id": None, "title": title})
        if answer["type"] == "ack":
            self.refund(ids)
            return answer["result"]["cluster_id"]
        return multiple()

    @rule(ids=NOTE_IDS, cluster=clusters)
    def cluster_into(self, ids: list[str], cluster: str) -> None:
        ids = list(dict.fromkeys(ids))
        answer = self.op(0, "cluster", {"note_ids": ids, "cluster_id": cluster})
        if answer["type"] == "ack":
            self.refund(ids)

    @rule(ids=NOTE_IDS)
    def uncluster(self, ids: list[str]) -> None:
        ids = list(dict.fromkeys(ids))
        self.op(0, "uncluster", {"note_ids": ids})

    @rule(cluster=clusters)
    def delete_cluster(self, cluster: str) -> None:
        if self.op(0, "delete_cluster", {"cluster_id": cluster})["type"] == "ack":
            self.refund([cluster])

    # --------------------------------------------------------- the facilitator
    @rule(phase=st.sampled_from(PHASES))
    def set_phase(self, phase: str) -> None:
        if self.op(0, "set_phase", {"phase": phase})["type"] == "ack":
            self.phase = phase

    @rule()
    def advance_phase(self) -> None:
        """The usual course of a workshop: collect, cluster, vote, results, closed."""
        self.set_phase(PHASES[(PHASES.index(self.phase) + 1) % len(PHASES)])

    @rule(setting=st.sampled_from(["show_live_votes", "private_writing", "anonymous"]),
          value=st.booleans())
    def update_settings(self, setting: str, value: bool) -> None:
        self.op(0, "update_settings", {setting: value})

    # ------------------------------------------------------------- the network
    @rule(who=st.sampled_from([0, 1, 2, 3]), reload=st.booleans())
    def reconnect(self, who: int, reload: bool) -> None:
        """A new socket: with `since` (resume), or without (a page reload)."""
        client = self.clients[who]
        self.run(client.resume(since=None if reload else -1))
        self.stats["reconnect"] += 1

    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        """An op_id delivered again gets the first answer and changes nothing."""
        if not self.history:
            return
        who, op_id, op, args, first = data.draw(st.sampled_from(self.history))
        before = self.run(self.store.load(self.w["id"]))
        again = self.op(who, op, args, op_id=op_id)
        assert again == first, (op, args, first, again)
        after = self.run(self.store.load(self.w["id"]))
        assert before is not None and after is not None
        assert before["seq"] == after["seq"], "a repeated op_id changed the workshop"

    # -------------------------------------------------------------- invariants
    @invariant()
    def stored_state_is_what_was_acked(self) -> None:
        if not self.clients:
            return
        self.stats[f"steps in {self.phase}"] += 1
        room = self.run(self.store.load(self.w["id"]))
        assert room is not None
        stored = set(room["notes"])
        missing = (self.made - self.deleted) - stored
        assert not missing, f"acked notes missing: {missing}"
        assert stored <= self.made, f"notes nobody acked: {stored - self.made}"
        ballots = {pid: dict(b) for pid, b in self.ballots.items() if b}
        assert room["ballots"] == ballots
        summed: Counter[str] = Counter()
        for ballot in room["ballots"].values():
            assert 0 < sum(ballot.values()) <= BUDGET
            assert all(0 < n <= PER_ITEM for n in ballot.values())
            summed.update(ballot)
        assert room["totals"] == dict(summed)
        for note in room["notes"].values():
            assert note["cluster_id"] is None or note["cluster_id"] in room["clusters"]
        for item in room["totals"]:
            assert item in room["clusters"] or (
                item in room["notes"] and room["notes"][item]["cluster_id"] is None)
        assert room["workshop"]["phase"] == self.phase
        self.items = set(room["clusters"]) | {
            nid for nid, n in room["notes"].items() if not n["hidden"] and not n["cluster_id"]}

    @invariant()
    def every_screen_equals_a_fresh_welcome(self) -> None:
        if not self.clients:
            return
        # A barrier that every role sees: then each screen has applied every step.
        if self.phase == "closed":
            mark = self.op(0, "update_settings", {"language": "nl"})
        else:
            mark = self.op(0, "timer", {"action": "reset"})
        assert mark["type"] == "ack", mark

        async def check() -> list[str]:
            await asyncio.gather(*(c.wait_seq(mark["seq"]) for c in self.clients))
            fresh = await asyncio.gather(*(c.twin() for c in self.clients))
            problems = []
            for c, f in zip(self.clients, fresh, strict=True):
                assert c.state is not None and f.state is not None
                problems += [f"{c.name}: {line}" for line in
                             differences(comparable(c.state), comparable(f.state))]
                problems += [f"{c.name}: {v}" for v in c.violations]
                cids = [x["id"] for x in c.state["clusters"]]
                if len(cids) != len(set(cids)):
                    problems.append(f"{c.name}: a cluster twice: {cids}")
                problems += [f"{c.name}: note {n['id']} in cluster {n['cluster_id']}, which "
                             f"it does not have" for n in c.state["notes"]
                             if n["cluster_id"] is not None and n["cluster_id"] not in cids]
            await asyncio.gather(*(f.drop() for f in fresh))
            return problems

        problems = self.run(check())
        assert problems == [], "\n".join(problems)
        # And what the screens were told is what Redis holds (a refused op left no trace).
        room = self.run(self.store.load(self.w["id"]))
        assert room is not None and self.fac.state is not None
        told = {n["id"]: (n["text"], n["cluster_id"], n["hidden"]) for n in self.fac.state["notes"]}
        assert told == {nid: (n["text"], n["cluster_id"], n["hidden"])
                        for nid, n in room["notes"].items()}
        assert {c["id"]: c["title"] for c in self.fac.state["clusters"]} == {
            cid: c["title"] for cid, c in room["clusters"].items()}
        assert self.fac.state["votes"]["totals"] == room["totals"]


@pytest.mark.slow
def test_protocol_state_machine(fast_server: ServerProcess, redis_url: str) -> None:
    loop = LoopThread()
    store = Store.from_url(redis_url, retention_ms=3600_000, stream_maxlen=10_000)
    Workshop.server, Workshop.loop, Workshop.store = fast_server, loop, store
    Workshop.stats = Counter()
    started = time.monotonic()
    try:
        run_state_machine_as_test(Workshop, settings=settings(
            max_examples=25, stateful_step_count=25, deadline=None, database=None,
            # No shrinking: each step is a few round trips, and shrinking a failure would
            # take minutes. The failing run's steps are printed as they are.
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck)))
    finally:
        loop.run(store.close())
        loop.close()
    stats = Workshop.stats
    print(f"\n[state machine] 25 examples x up to 25 steps in {time.monotonic() - started:.1f}s;"
          f" ops: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.items())))
