"""The scenarios: brainstorm (and many rooms), vote storm, reconnect storm, join storm.

Each takes a Ctx (the worker pool, the servers under test, the Redis URL) and returns a
dict of figures plus `checks`: correctness conditions (every note delivered, totals
match, nobody over budget, ...). Timing figures are never checks.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import redis
from redis.cluster import RedisCluster

from bench.pool import BenchError, Pool
from bench.servers import Sampler, ServerSet, cpu_seconds, rss
from bench.stats import hist_from_sparse, hist_merge, hist_summary, new_hist, summary

IDLE_S = 2.0  # quiet time after setup, before memory is read (less in --quick)
SUMMARY_WAIT_S = 2.0  # after a vote storm, for the wall's coalesced summary (less in --quick)
PROMPTS = ["Wat maakt onze buurt beter?", "Wat moet er als eerste gebeuren?"]


@dataclass
class Ctx:
    pool: Pool
    servers: ServerSet
    redis_url: str | None
    profile_dir: str | None = None  # py-spy the servers during the measured phase
    label: str = ""

    @property
    def baseline(self) -> bool:
        return self.servers.kind == "baseline"


@dataclass
class Room:
    name: str
    workshop: str
    code: str
    fkey: str
    vkey: str
    wall: dict[str, Any]
    fac: dict[str, Any]
    phones: list[dict[str, Any]] = field(default_factory=list)


# ------------------------------------------------------------------ helpers

def redis_client(url: str) -> redis.Redis | RedisCluster:
    """A client for the bench's own checks: a cluster's (`--redis-url` naming a node of
    a Redis Cluster, as the server detects it) or one Redis's."""
    r = redis.Redis.from_url(url, decode_responses=True)
    if r.info("cluster").get("cluster_enabled"):
        r.close()
        return RedisCluster.from_url(url, decode_responses=True)
    return r

def http_json(method: str, url: str, body: Any = None,
              headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = orjson.dumps(body) if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={  # noqa: S310
        "content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - loopback only
            raw = r.read()
            return r.status, orjson.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def origin_of(url: str) -> str:
    port = url.split(":")[2].split("/")[0]
    return f"http://127.0.0.1:{port}"


def worker_of(ctx: Ctx, spec: dict[str, Any]) -> int:
    return int(spec["worker"])


def make_room(ctx: Ctx, name: str, n: int, offset: int = 0,
              settings: dict[str, Any] | None = None) -> Room:
    """Create a workshop (HTTP) and the client specs: a wall, a facilitator, n phones,
    spread round-robin over the workers and the server processes."""
    urls = ctx.servers.urls()
    w = ctx.pool.size
    if ctx.baseline:  # rooms by code: the wall and facilitator say "baseline<code>"
        code = f"{offset:06d}"
        wid, fkey, vkey = f"baseline{code}", "k", "k"
    else:
        status, body = http_json("POST", ctx.servers.http(offset) + "/api/workshops", {
            "title": f"bench {name}", "prompts": PROMPTS, "settings": settings or {}})
        if status != 201:
            raise BenchError(f"create workshop: {status} {body!r}")
        wid, code, fkey, vkey = body["id"], body["code"], body["facilitator_key"], body[
            "view_key"]

    def spec(kind: str, i: int, key: str = "") -> dict[str, Any]:
        url = urls[(offset + i) % len(urls)]
        return {"cid": f"{name}:{kind}:{i}", "room": name, "kind": kind, "url": url,
                "origin": origin_of(url), "code": code, "workshop": wid, "key": key,
                "worker": (offset + i) % w}

    room = Room(name, wid, code, fkey, vkey, wall=spec("wall", 0, vkey),
                fac=spec("fac", 1, fkey))
    room.phones = [spec("phone", i) for i in range(n)]
    return room


def open_specs(ctx: Ctx, specs: list[dict[str, Any]], start_at: float | None = None,
               concurrency: int = 20, timeout: float = 300) -> list[dict[str, Any]]:
    per: list[dict[str, Any]] = [
        {"specs": [], "start_at": start_at, "concurrency": concurrency}
        for _ in range(ctx.pool.size)]
    for s in specs:
        per[s["worker"]]["specs"].append(s)
    replies = ctx.pool.all("open", timeout=timeout, per=per)
    return [r for rep in replies for r in rep["results"]]


def require_open(results: list[dict[str, Any]], what: str) -> None:
    bad = [r for r in results if not r["ok"]]
    if bad:
        errors = Counter(str(r.get("error")) for r in bad)
        raise BenchError(f"{len(bad)} of {len(results)} {what} failed to open: {dict(errors)}")


def settle(ctx: Ctx, rooms: list[str], timeout: float = 30) -> bool:
    """Wait until every connected client of these rooms has the same latest seq."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = ctx.pool.all("seqs", timeout=30)
        lo: dict[str, int] = {}
        hi: dict[str, int] = {}
        for rep in replies:
            for room, (a, b) in rep["rooms"].items():
                lo[room] = min(lo.get(room, a), a)
                hi[room] = max(hi.get(room, b), b)
        if all(lo.get(r, 0) == hi.get(r, 0) for r in rooms):
            return True
        time.sleep(0.2)
    return False


def status(ctx: Ctx) -> dict[str, Any]:
    replies = ctx.pool.all("status", timeout=60)
    out: dict[str, Any] = {"closes": Counter(), "errors": Counter(), "retries": Counter(),
                           "violations": 0,
                           "frames": 0, "bytes": 0, "wall_voters": {}, "wall_count": {},
                           "mine": {}, "connected": Counter()}
    for r in replies:
        out["closes"].update(r["closes"])
        out["errors"].update(r["errors"])
        out["retries"].update(r["retries"])
        out["connected"].update(r["connected"])
        out["violations"] += r["violations"]
        out["frames"] += r["frames"]
        out["bytes"] += r["bytes"]
        out["wall_voters"].update(r["wall_voters"])
        out["wall_count"].update(r["wall_count"])
        out["mine"].update(r["mine"])
    return out


def teardown(ctx: Ctx, rooms: list[Room]) -> None:
    ctx.pool.all("close", timeout=120)
    if ctx.baseline:
        return
    for room in rooms:
        for _ in range(5):  # the server may be busy closing thousands of sockets
            with contextlib.suppress(Exception):
                code, _body = http_json(
                    "DELETE", ctx.servers.http(0) + f"/api/workshops/{room.workshop}",
                    headers={"authorization": f"Bearer {room.fkey}"})
                if code in (204, 404):
                    break
            time.sleep(1.0)


def check(checks: list[dict[str, Any]], name: str, ok: bool, detail: Any = "") -> None:
    checks.append({"check": name, "ok": bool(ok), "detail": str(detail)})


def setup_rooms(ctx: Ctx, rooms_n: int, size: int,
                settings: dict[str, Any] | None = None) -> tuple[list[Room], dict[str, Any]]:
    """Rooms with their wall and facilitator, then the phones; returns the rooms and the
    server memory before and after the phones joined (idle)."""
    rooms = [make_room(ctx, f"r{k}", size, offset=k, settings=settings)
             for k in range(rooms_n)]
    staff = [s for r in rooms for s in (r.wall, r.fac)]
    require_open(open_specs(ctx, staff), "walls/facilitators")
    settle(ctx, [r.name for r in rooms])
    time.sleep(0.5)
    rss0 = rss(ctx.servers.pids)
    t0 = time.monotonic()
    phones = [p for r in rooms for p in r.phones]
    results = open_specs(ctx, phones)
    require_open(results, "phones")
    join_s = time.monotonic() - t0
    settled = settle(ctx, [r.name for r in rooms], timeout=60)
    cpu0, t_idle = cpu_seconds(ctx.servers.pids), time.monotonic()
    time.sleep(IDLE_S)  # idle: let buffers drain and the presence round pass
    idle_cpu = 100 * (cpu_seconds(ctx.servers.pids) - cpu0) / (time.monotonic() - t_idle)
    rss1 = rss(ctx.servers.pids)
    mem = {
        "rss_before_mb": rss0 / 2**20, "rss_idle_mb": rss1 / 2**20,
        "idle_kb_per_conn": (rss1 - rss0) / 1024 / max(1, len(phones)),
        "setup_join_s": join_s, "setup_joins_per_s": len(phones) / join_s if join_s else None,
        "idle_cpu_pct": idle_cpu,
        "settled": settled,
    }
    return rooms, mem


def start_profile(ctx: Ctx, seconds: float) -> list[subprocess.Popen[bytes]]:
    """py-spy record (collapsed stacks and a flame graph) of every server process."""
    if not ctx.profile_dir:
        return []
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = Path(ctx.profile_dir)
    out.mkdir(parents=True, exist_ok=True)
    procs = []
    for i, pid in enumerate(ctx.servers.pids):
        stem = out / f"{ctx.label.replace('/', '-')}-{ctx.servers.kind}{i}"
        for fmt, ext in (("raw", "txt"), ("flamegraph", "svg")):
            procs.append(subprocess.Popen(
                [spy, "record", "--pid", str(pid), "--duration", str(int(seconds) + 1),
                 "--rate", "200", "--nonblocking", "--format", fmt, "-o", f"{stem}.{ext}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def stop_profile(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.terminate()
            p.wait(10)


# -------------------------------------------------------------- brainstorm
def brainstorm(ctx: Ctx, *, rooms_n: int, size: int, rate: float, duration: float,
               drain_s: float = 20.0) -> dict[str, Any]:
    """Notes at `rate` per second in total (split evenly over the rooms) for `duration`
    seconds. Latency from sending each note to its ack, to its room's wall, and to the
    last phone of its room; every acked note must reach the wall, the facilitator and
    every phone of its room exactly once."""
    checks: list[dict[str, Any]] = []
    rooms, mem = setup_rooms(ctx, rooms_n, size)
    try:
        ctx.pool.all("collect", timeout=60)  # forget anything from setup
        per_room = max(1, round(rate * duration / rooms_n))
        room_rate = rate / rooms_n
        plan: list[list[dict[str, Any]]] = [[] for _ in range(ctx.pool.size)]
        slots = rooms_n * ctx.pool.size  # spread every (room, worker) over the period
        for k, room in enumerate(rooms):
            by_worker = Counter(p["worker"] for p in room.phones)
            for w, mine in by_worker.items():
                share = mine / len(room.phones)
                count = round(per_room * share)
                if count <= 0:
                    continue
                r = room_rate * share
                plan[w].append({"room": room.name, "rate": r, "count": count,
                                "phase": ((w * rooms_n + k) / slots) / r})
        start_at = time.time() + 1.0
        groups = {"server": ctx.servers.pids, "loadgen": ctx.pool.pids}
        spies = start_profile(ctx, duration + 1.0)
        with Sampler(groups, None if ctx.baseline else ctx.redis_url) as sampler:
            replies = ctx.pool.all("notes", timeout=duration + 90,
                                   per=[{"plan": p, "start_at": start_at} for p in plan])
            records = [r for rep in replies for r in rep["records"]]
            unanswered = [u for rep in replies for u in rep["unanswered"]]
            acked = [r for r in records if r["ok"]]
            sizes = {room.name: len(room.phones) for room in rooms}
            want_phone = sum(sizes[r["room"]] for r in acked)
            t_sent = time.monotonic()
            deadline = t_sent + drain_s
            prog: dict[str, int] = {}
            while time.monotonic() < deadline:
                reps = ctx.pool.all("progress", timeout=30)
                prog = {k: sum(r[k] for r in reps) for k in ("phone", "wall", "fac")}
                if (prog["phone"] >= want_phone and prog["wall"] >= len(acked)
                        and prog["fac"] >= len(acked)):
                    break
                time.sleep(0.2)
            drained = time.monotonic() - t_sent
        stop_profile(spies)
        got = ctx.pool.all("collect", timeout=60)
        st = status(ctx)
    finally:
        teardown(ctx, rooms)

    sent = {r["op_id"]: r for r in acked}
    phone_count: Counter[str] = Counter()
    phone_last: dict[str, float] = {}
    wall: dict[str, float] = {}
    fac: dict[str, float] = {}
    hist = new_hist()
    frames = sum(g["frames"] for g in got)
    nbytes = sum(g["bytes"] for g in got)
    for g in got:
        for uid, (n, last) in g["phone"].items():
            phone_count[uid] += int(n)
            phone_last[uid] = max(phone_last.get(uid, 0.0), last)
        for uid, t in g["wall"].items():
            wall[uid] = min(wall.get(uid, t), t)
        for uid, t in g["fac"].items():
            fac[uid] = min(fac.get(uid, t), t)
        hist_merge(hist, hist_from_sparse(g["hist"]))

    ack_ms = [(r["answered"] - r["sent"]) * 1000 for r in acked]
    wall_ms = [(wall[u] - r["sent"]) * 1000 for u, r in sent.items() if u in wall]
    last_ms = [(phone_last[u] - r["sent"]) * 1000 for u, r in sent.items() if u in phone_last]
    missing_wall = sum(1 for u in sent if u not in wall)
    missing_fac = sum(1 for u in sent if u not in fac)
    short = sum(max(0, sizes[r["room"]] - phone_count.get(u, 0)) for u, r in sent.items())
    extra = sum(max(0, phone_count.get(u, 0) - sizes[r["room"]]) for u, r in sent.items())
    stray = sum(1 for u in phone_count if u not in sent)
    expected = sum(p["count"] for ps in plan for p in ps)
    elapsed = duration + drained
    res: dict[str, Any] = {
        "rooms": rooms_n, "participants": size * rooms_n, "rate": rate, "duration": duration,
        "notes_planned": expected, "notes_sent": sum(rep["sent"] for rep in replies),
        "notes_acked": len(acked), "notes_nacked": Counter(
            str(r["code"]) for r in records if not r["ok"]),
        "unanswered": len(unanswered),
        "ack_ms": summary(ack_ms), "wall_ms": summary(wall_ms),
        "last_phone_ms": summary(last_ms), "phone_ms": hist_summary(hist),
        "deliveries": sum(phone_count.values()), "deliveries_expected": want_phone,
        "missing_wall": missing_wall, "missing_fac": missing_fac,
        "missing_phone_deliveries": short, "duplicate_deliveries": extra,
        "frames_received": frames, "mb_received": nbytes / 2**20,
        "frames_per_s": frames / elapsed if elapsed else None,
        "unexpected_closes": dict(st["closes"]), "errors": dict(st["errors"]),
        "retries": dict(st["retries"]),
        "order_violations": st["violations"], **mem, **sampler.report(),
    }
    check(checks, "every note planned was sent and answered",
          res["notes_sent"] == expected and not unanswered,
          f"planned {expected}, sent {res['notes_sent']}, unanswered {len(unanswered)}")
    check(checks, "every note acked", len(acked) == expected,
          f"{len(acked)}/{expected} acked, nacks {dict(res['notes_nacked'])}")
    check(checks, "every acked note on the wall and the facilitator",
          missing_wall == 0 and missing_fac == 0,
          f"missing wall {missing_wall}, facilitator {missing_fac}")
    check(checks, "every acked note on every phone of its room, once",
          short == 0 and extra == 0 and stray == 0,
          f"missing {short}, duplicates {extra}, unknown {stray} of {want_phone}")
    check(checks, "events never repeated or out of order", st["violations"] == 0,
          st["violations"])
    check(checks, "no socket closed by the server", not st["closes"], dict(st["closes"]))
    # Server CPU per frame that clients received (the unit of fan-out work).
    if frames and res.get("server", {}).get("cpu_mean") is not None and res.get("sampled_s"):
        res["server_us_per_frame"] = (
            res["server"]["cpu_mean"] / 100 * res["sampled_s"] / frames * 1e6)
        res["loadgen_us_per_frame"] = (
            res["loadgen"]["cpu_mean"] / 100 * res["sampled_s"] / frames * 1e6)
    # Per note (in send order): seconds after the first send, ack / wall / last phone ms.
    t_first = min((r["sent"] for r in acked), default=0.0)
    res["series"] = [
        [round(r["sent"] - t_first, 3), round((r["answered"] - r["sent"]) * 1000, 1),
         round((wall[u] - r["sent"]) * 1000, 1) if u in wall else None,
         round((phone_last[u] - r["sent"]) * 1000, 1) if u in phone_last else None, r["room"]]
        for u, r in sorted(sent.items(), key=lambda kv: kv[1]["sent"])][:2000]
    res["checks"] = checks
    return res


# --------------------------------------------------------------- vote storm
def vote_storm(ctx: Ctx, *, size: int, spread: float, dots: int = 5,
               items: int = 20) -> dict[str, Any]:
    """Every participant places `dots` dots (back to back, or spread over `spread` s),
    then one more that the budget must refuse. Totals from a facilitator welcome
    afterwards must equal the acknowledged dots; no ballot in Redis over budget."""
    checks: list[dict[str, Any]] = []
    rooms, mem = setup_rooms(ctx, 1, size)
    room = rooms[0]
    try:
        item_ids: list[str] = []
        for i in range(items):
            p = room.phones[i % len(room.phones)]
            rec = ctx.pool.call(p["worker"], "op", cid=p["cid"], op="add_note",
                                args={"prompt_id": "q1", "text": f"idee {i}"})
            if not rec["ok"]:
                raise BenchError(f"add_note for the vote: {rec}")
            item_ids.append(rec["result"]["note_id"])
        rec = ctx.pool.call(room.fac["worker"], "op", cid=room.fac["cid"], op="set_phase",
                            args={"phase": "vote"})
        if not rec["ok"]:
            raise BenchError(f"set_phase vote: {rec}")
        settle(ctx, [room.name])
        ctx.pool.all("oplog_clear")
        start_at = time.time() + 1.0
        groups = {"server": ctx.servers.pids, "loadgen": ctx.pool.pids}
        spies = start_profile(ctx, spread + 6.0)
        with Sampler(groups, ctx.redis_url) as sampler:
            replies = ctx.pool.all("votes", timeout=spread + 120, room=room.name,
                                   items=item_ids, dots=dots, spread=spread,
                                   start_at=start_at)
            time.sleep(SUMMARY_WAIT_S)  # the wall's summary follows within a tick or two
        stop_profile(spies)
        st = status(ctx)
        fetched = ctx.pool.call(room.fac["worker"], "fetch_welcome",
                                spec={**room.fac, "cid": "probe:fac"})
        ballots: dict[str, str] = {}
        if ctx.redis_url:
            r = redis_client(ctx.redis_url)
            raw = r.hgetall(f"ws:{{{room.workshop}}}:ballots")
            ballots = {str(k): str(v) for k, v in raw.items()}
            r.close()
    finally:
        teardown(ctx, rooms)

    records = [r for rep in replies for r in rep["records"]]
    unanswered = sum(rep["unanswered"] for rep in replies)
    valid = [r for r in records if "p-" not in r["op_id"]]
    probes = [r for r in records if "p-" in r["op_id"]]
    acked = [r for r in valid if r["ok"]]
    first_sent = min(r["sent"] for r in valid)
    last_sent = max(r["sent"] for r in valid)
    last_ack = max((r["answered"] for r in acked), default=last_sent)
    expected = size * dots
    state = (fetched.get("welcome") or {}).get("state") or {}
    totals = (state.get("votes") or {}).get("totals") or {}
    voters = (state.get("votes") or {}).get("voters")
    mine_sum: Counter[str] = Counter()
    for _cid, (_room, mine) in st["mine"].items():
        mine_sum.update(mine or {})
    over = sum(1 for v in ballots.values() if sum(orjson.loads(v).values()) > dots)
    wall_v = st["wall_voters"].get(room.name)
    res: dict[str, Any] = {
        "participants": size, "dots": dots, "spread_s": spread, "items": items,
        "votes_sent": len(valid), "votes_acked": len(acked),
        "nacks": dict(Counter(str(r["code"]) for r in valid if not r["ok"])),
        "unanswered": unanswered, "retries": dict(st["retries"]),
        "ack_ms": summary((r["answered"] - r["sent"]) * 1000 for r in acked),
        "send_window_s": last_sent - first_sent,
        "applied_after_last_sent_s": last_ack - last_sent,
        "first_sent_epoch": first_sent, "last_ack_epoch": last_ack,
        "votes_per_s": len(acked) / (last_ack - first_sent) if last_ack > first_sent else None,
        "totals_sum": sum(totals.values()), "voters": voters,
        "ballots_in_redis": len(ballots), "over_budget": over,
        "probes_refused": sum(1 for r in probes if not r["ok"] and r["code"] == "no_votes_left"),
        "probes": len(probes),
        "wall_voters": wall_v[0] if wall_v else None,
        "wall_all_voters_after_last_sent_s": (wall_v[1] - last_sent) if wall_v else None,
        "unexpected_closes": dict(st["closes"]), **mem, **sampler.report(),
    }
    # A dot answered try_again is sent again 3 s later, as the phones do; the extra dot
    # sent meanwhile may take its place. So: every participant ends with exactly
    # `dots` acked dots, every other attempt is refused no_votes_left.
    every_ack = [r for r in records if r["ok"]]
    per_client = Counter(r["cid"] for r in every_ack)
    refused = [r for r in records if not r["ok"]]
    res["dots_acked_in_all"] = len(every_ack)
    res["reordered_by_retry"] = sum(1 for r in probes if r["ok"])
    exact = sum(1 for v in ballots.values() if sum(orjson.loads(v).values()) == dots)
    check(checks, "every dot answered", unanswered == 0 and len(valid) == expected,
          f"{len(valid)}/{expected} sent, {unanswered} unanswered")
    check(checks, f"every participant has exactly {dots} dots acked",
          len(per_client) == size and set(per_client.values()) == {dots},
          f"{len(per_client)} participants acked, counts {dict(Counter(per_client.values()))}")
    check(checks, "every other attempt refused no_votes_left",
          all(r["code"] == "no_votes_left" for r in refused) and len(refused) == size,
          dict(Counter(str(r["code"]) for r in refused)))
    check(checks, "facilitator totals equal acknowledged dots",
          res["totals_sum"] == len(every_ack) and dict(mine_sum) == {
              k: v for k, v in totals.items() if v},
          f"totals {res['totals_sum']} vs acked {len(every_ack)}")
    if ctx.redis_url:
        check(checks, "no ballot over budget, none short (Redis)",
              over == 0 and exact == size == len(ballots),
              f"{over} over budget, {exact} exact of {len(ballots)} ballots")
    check(checks, "the wall counts every voter", res["wall_voters"] == size,
          f"{res['wall_voters']}/{size}")
    check(checks, "no socket closed by the server", not st["closes"], dict(st["closes"]))
    res["checks"] = checks
    return res


# --------------------------------------------------------- reconnect storm
def reconnect_storm(ctx: Ctx, *, size: int, missed: int = 3) -> dict[str, Any]:
    """Every phone loses its connection at once (no close frame); `missed` events happen
    meanwhile; all reconnect at once with `since`. Time until all are resynced."""
    checks: list[dict[str, Any]] = []
    rooms, mem = setup_rooms(ctx, 1, size)
    room = rooms[0]
    try:
        fac_w = room.fac["worker"]
        groups = {"server": ctx.servers.pids, "loadgen": ctx.pool.pids}
        with Sampler(groups, ctx.redis_url) as sampler:
            ctx.pool.all("drop", timeout=60, kind="phone")
            target = 0
            actions = [("start", {"seconds": 300}), ("pause", {}), ("resume", {})]
            for k in range(missed):
                action, extra = actions[k % len(actions)]
                rec = ctx.pool.call(fac_w, "op", cid=room.fac["cid"], op="timer",
                                    args={"action": action, **extra})
                target = max(target, int(rec.get("seq") or 0))
            start_at = time.time() + 0.5
            replies = ctx.pool.all("reconnect", timeout=180, targets={room.name: target},
                                   start_at=start_at)
        st = status(ctx)
        rss_after = rss(ctx.servers.pids) / 2**20
    finally:
        teardown(ctx, rooms)
    results = [r for rep in replies for r in rep["results"]]
    ok = [r for r in results if r["ok"]]
    done_ms = [(r["done"] - start_at) * 1000 for r in ok]
    res: dict[str, Any] = {
        "participants": size, "missed_events": missed,
        "resynced": len(ok), "failed": len(results) - len(ok),
        "retried": sum(1 for r in ok if r["attempts"] > 1),
        "snapshots": sum(1 for r in ok if r["snapshot"]),
        "resync_ms": summary(done_ms),
        "all_resynced_s": (max(r["done"] for r in ok) - start_at) if ok else None,
        "rss_after_mb": rss_after, "failures": Counter(
            e for r in results if not r["ok"] for e in r["errors"]),
        "unexpected_closes": dict(st["closes"]), **mem, **sampler.report(),
    }
    check(checks, "every phone resynced", len(ok) == size, f"{len(ok)}/{size}")
    check(checks, "events never repeated or out of order", st["violations"] == 0,
          st["violations"])
    res["checks"] = checks
    return res


# -------------------------------------------------------------- join storm
def join_storm(ctx: Ctx, *, size: int, window: float) -> dict[str, Any]:
    """`size` new phones join within `window` seconds (evenly spread)."""
    checks: list[dict[str, Any]] = []
    room = make_room(ctx, "j0", size)
    try:
        require_open(open_specs(ctx, [room.wall, room.fac]), "wall/facilitator")
        for i, p in enumerate(room.phones):
            p["at"] = window * i / size
        start_at = time.time() + 1.0
        groups = {"server": ctx.servers.pids, "loadgen": ctx.pool.pids}
        spies = start_profile(ctx, window + 6.0)
        with Sampler(groups, ctx.redis_url) as sampler:
            results = open_specs(ctx, room.phones, start_at=start_at, timeout=window + 180)
            stop_profile(spies)
            joined = sum(1 for r in results if r["ok"])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # until the wall shows everyone
                st = status(ctx)
                if (st["wall_count"].get(room.name) or (0, 0.0))[0] >= joined:
                    break
                time.sleep(0.25)
        st = status(ctx)
    finally:
        teardown(ctx, [room])
    ok = [r for r in results if r["ok"]]
    wall_c = st["wall_count"].get(room.name)
    res: dict[str, Any] = {
        "participants": size, "window_s": window, "joined": len(ok),
        "failed": len(results) - len(ok),
        "failures": dict(Counter(str(r.get("error")) for r in results if not r["ok"])),
        "retried": sum(1 for r in ok if (r.get("attempts") or 1) > 1),
        "retry_errors": dict(Counter(str(e) for r in results for e in r.get("errors") or [])),
        "join_ms": summary((r["t1"] - r["t0"]) * 1000 for r in ok),
        "last_joined_s": (max(r["t1"] for r in ok) - start_at) if ok else None,
        "wall_count": wall_c[0] if wall_c else None,
        "wall_count_at_s": (wall_c[1] - start_at) if wall_c else None,
        "unexpected_closes": dict(st["closes"]), **sampler.report(),
    }
    check(checks, "every phone joined", len(ok) == size, f"{len(ok)}/{size} {res['failures']}")
    # A phone whose hello failed after the server had stored its join is a second
    # participant when it tries again (it never got its token): the count may be higher.
    check(checks, "the wall counts every participant", (res["wall_count"] or 0) >= size,
          f"{res['wall_count']}/{size}")
    check(checks, "no socket closed by the server", not st["closes"], dict(st["closes"]))
    res["checks"] = checks
    return res
