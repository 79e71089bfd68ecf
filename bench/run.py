"""Run the benchmark suite and write a markdown table and JSON of the results.

    python -m bench.run                      # the full suite (about half an hour)
    python -m bench.run --quick              # a < 60 s smoke test for CI
    python -m bench.run --only brainstorm,votes --n 500 --repeat 3

Servers under test are started here as subprocesses (uvicorn, `server.app:create_app`,
1, 2 or 4 processes on distinct ports sharing one Redis), fresh for every run of every
scenario, as is the baseline (bench/baseline.py). Without --redis-url (or
BENCH_REDIS_URL) a throwaway Valkey without persistence is started.

Exit status: 1 when any correctness check failed (a lost note, a missing ack, totals
that do not match, a ballot over budget, a phone that never resynced, a failed run);
timings never fail the run: they are compared with the targets in the report only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from bench import scenarios
from bench.pool import BenchError, Pool
from bench.servers import ROOT, ServerSet, throwaway_valkey
from bench.stats import fmt_ms
from server.embedded import EmbeddedValkey

Job = tuple[str, str, int, Callable[..., dict[str, Any]], dict[str, Any], int]

SCENARIOS = ("baseline", "brainstorm", "votes", "human", "reconnect", "join", "rooms",
             "scale", "hall")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small CI smoke test (< 60 s)")
    p.add_argument("--only", default="", help=f"comma list of {', '.join(SCENARIOS)}")
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL"),
                   help="Redis for the servers (default: a throwaway Valkey)")
    p.add_argument("--fsync", action="store_true",
                   help="throwaway Valkey with appendfsync always, as the embedded one")
    p.add_argument("--workers", type=int, default=4, help="load-generator processes")
    p.add_argument("--procs", default="1", help="server processes for the main scenarios")
    p.add_argument("--n", type=int, default=2000, help="participants: brainstorm, storms")
    p.add_argument("--rate", type=float, default=20.0, help="notes per second in all")
    p.add_argument("--duration", type=float, default=30.0, help="brainstorm seconds")
    p.add_argument("--vote-n", type=int, default=1000)
    p.add_argument("--human-spread", type=float, default=30.0)
    p.add_argument("--join-window", type=float, default=10.0)
    p.add_argument("--rooms", default="50x40", help="many rooms: RxM")
    p.add_argument("--rooms-duration", type=float, default=20.0)
    p.add_argument("--hall", default="5000x2", help="a bigger hall: PHONESxPROCESSES")
    p.add_argument("--scale-procs", default="1,2,4")
    p.add_argument("--scale-sizes", default="250,500,1000,2000")
    p.add_argument("--scale-duration", type=float, default=15.0)
    p.add_argument("--repeat", type=int, default=1, help="runs per scenario (medians)")
    p.add_argument("--server-root", default=str(ROOT),
                   help="source tree to run the server from (to compare a change)")
    p.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                   help="extra environment for the server processes, e.g. TICK_SECONDS=0.05")
    p.add_argument("--ws-impl", default="websockets-sansio",
                   help="uvicorn --ws for the server (experiments; the contract is websockets)")
    p.add_argument("--profile", action="store_true",
                   help="py-spy record the servers in each brainstorm, storm, join (OUT/profiles)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results"),
                   help="folder for results.md and results.json")
    args = p.parse_args(argv)
    if args.quick:
        args.n, args.rate, args.duration = 40, 10.0, 2.0
        args.vote_n, args.human_spread, args.join_window = 40, 1.5, 1.5
        args.rooms, args.rooms_duration = "3x10", 2.0
        args.hall = "40x2"
        args.procs = "2"
        args.workers = min(args.workers, 2)
        args.repeat = 1
        scenarios.IDLE_S = 0.5
        scenarios.SUMMARY_WAIT_S = 0.7
        if not args.only:
            args.only = "baseline,brainstorm,votes,human,reconnect,join,rooms"
    return args


def machine() -> dict[str, Any]:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for mod in ("websockets", "uvicorn", "uvloop", "starlette", "redis", "orjson"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception:
            versions[mod] = "?"
    git = ""
    try:
        git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                             capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "server"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        git += " (server/ modified)" if dirty else ""
    except (OSError, subprocess.SubprocessError):
        git = git or "?"
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "memory_gib": psutil.virtual_memory().total / 2**30,
        "python": platform.python_version(), "os": platform.platform(), "git": git,
        "versions": versions, "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def jobs(args: argparse.Namespace) -> list[Job]:
    only = set(filter(None, args.only.split(","))) or set(SCENARIOS)
    procs = int(args.procs)
    rooms_r, rooms_m = (int(x) for x in args.rooms.lower().split("x"))
    out: list[Job] = []
    bs = {"rooms_n": 1, "size": args.n, "rate": args.rate, "duration": args.duration}
    if "baseline" in only:
        out.append((f"baseline/brainstorm/n{args.n}", "baseline", 1, scenarios.brainstorm, bs,
                    args.repeat))
    if "brainstorm" in only:
        out.append((f"brainstorm/p{procs}/n{args.n}", "app", procs, scenarios.brainstorm, bs,
                    args.repeat))
    if "votes" in only:
        out.append((f"votes/p{procs}/n{args.vote_n}", "app", procs, scenarios.vote_storm,
                    {"size": args.vote_n, "spread": 0.0}, args.repeat))
    if "human" in only:
        out.append((f"human/p{procs}/n{args.vote_n}", "app", procs, scenarios.vote_storm,
                    {"size": args.vote_n, "spread": args.human_spread}, args.repeat))
    if "reconnect" in only:
        out.append((f"reconnect/p{procs}/n{args.n}", "app", procs, scenarios.reconnect_storm,
                    {"size": args.n}, args.repeat))
    if "join" in only:
        out.append((f"join/p{procs}/n{args.n}", "app", procs, scenarios.join_storm,
                    {"size": args.n, "window": args.join_window}, args.repeat))
    if "rooms" in only:
        out.append((f"rooms/p{procs}/{rooms_r}x{rooms_m}", "app", procs, scenarios.brainstorm,
                    {"rooms_n": rooms_r, "size": rooms_m, "rate": args.rate,
                     "duration": args.rooms_duration}, args.repeat))
        if not args.quick:
            out.append((f"baseline/rooms/{rooms_r}x{rooms_m}", "baseline", 1,
                        scenarios.brainstorm, {"rooms_n": rooms_r, "size": rooms_m,
                                               "rate": args.rate,
                                               "duration": args.rooms_duration}, args.repeat))
    if "hall" in only:  # a brainstorm in one big room, phones spread over the processes
        hall_n, hall_k = (int(x) for x in args.hall.lower().split("x"))
        out.append((f"hall/p{hall_k}/n{hall_n}", "app", hall_k, scenarios.brainstorm,
                    {**bs, "size": hall_n}, args.repeat))
    if "scale" in only:
        for n in (int(x) for x in args.scale_sizes.split(",")):
            kw = {"rooms_n": 1, "size": n, "rate": args.rate, "duration": args.scale_duration}
            out.append((f"scale/baseline/n{n}", "baseline", 1, scenarios.brainstorm, kw,
                        args.repeat))
            for k in (int(x) for x in args.scale_procs.split(",")):
                out.append((f"scale/p{k}/n{n}", "app", k, scenarios.brainstorm, kw,
                            args.repeat))
    return out


def run_job(job: Job, pool: Pool, redis_url: str | None, log_dir: Path,
            args: argparse.Namespace) -> list[dict[str, Any]]:
    key, kind, procs, fn, kwargs, repeat = job
    profile_dir = str(Path(args.out) / "profiles") if args.profile else None
    env = dict(kv.split("=", 1) for kv in args.server_env)
    runs = []
    for i in range(repeat):
        servers = ServerSet(kind, procs, redis_url, log_dir, Path(args.server_root), env,
                            args.ws_impl)
        t0 = time.monotonic()
        try:
            servers.start()
            ctx = scenarios.Ctx(pool, servers, redis_url, profile_dir, f"{key}-{i + 1}")
            res = fn(ctx, **kwargs)
            if not servers.alive():
                res["checks"].append({"check": "server processes still alive", "ok": False,
                                      "detail": "a server process died"})
        except Exception as exc:
            res = {"error": repr(exc), "trace": traceback.format_exc(),
                   "checks": [{"check": "scenario ran", "ok": False, "detail": repr(exc)}]}
            raise_pool = isinstance(exc, BenchError)
            res["pool_broken"] = raise_pool
        finally:
            servers.stop()
        res["wall_s"] = time.monotonic() - t0
        res["loadavg_after"] = os.getloadavg()[0]
        res["run"] = i + 1
        bad = [c for c in res["checks"] if not c["ok"]]
        mark = "ok" if not bad else "FAILED: " + "; ".join(
            c["check"] + " " + c["detail"] for c in bad)
        print(f"  {key} run {i + 1}/{repeat}: {headline(key, res)} [{res['wall_s']:.0f}s] {mark}",
              flush=True)
        runs.append(res)
        if res.get("pool_broken"):
            break
    return runs


def headline(key: str, r: dict[str, Any]) -> str:
    if "error" in r:
        return f"error {r['error']}"
    if "wall_ms" in r:
        return (f"ack p99 {fmt_ms(r['ack_ms']['p99'])}, wall p99 {fmt_ms(r['wall_ms']['p99'])}, "
                f"last phone p99 {fmt_ms(r['last_phone_ms']['p99'])}, "
                f"server cpu {r['server']['cpu_mean']:.0f}%")
    if "votes_acked" in r:
        return (f"{r['votes_acked']}/{r['votes_sent']} acked, ack p99 "
                f"{fmt_ms(r['ack_ms']['p99'])}, {r['votes_per_s'] or 0:.0f} votes/s, applied "
                f"+{r['applied_after_last_sent_s']:.2f}s after last sent")
    if "resynced" in r:
        return (f"{r['resynced']}/{r['participants']} resynced, all in "
                f"{r['all_resynced_s'] or 0:.2f}s, server peak rss "
                f"{r['server']['rss_peak_mb'] or 0:.0f} MB")
    if "joined" in r:
        return (f"{r['joined']}/{r['participants']} joined, p99 {fmt_ms(r['join_ms']['p99'])},"
                f" last at {r['last_joined_s'] or 0:.2f}s")
    return ""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log_dir = out / "logs"
    log_dir.mkdir(exist_ok=True)
    started = time.monotonic()
    valkey: EmbeddedValkey | None = None
    redis_url = args.redis_url
    if not redis_url:
        valkey = throwaway_valkey(fsync=args.fsync)
        valkey.start()
        redis_url = valkey.url
    meta = machine()
    meta["command"] = " ".join(["python -m bench.run", *map(shlex.quote, sys.argv[1:])])
    meta["server_root"] = args.server_root
    meta["server_env"] = args.server_env
    meta["ws_impl"] = args.ws_impl
    meta["redis"] = (f"throwaway Valkey ({'appendfsync always' if args.fsync else 'no AOF'})"
                     if valkey else redis_url.split("@")[-1])
    meta["args"] = vars(args)
    print(f"bench: {meta['cpu']} x{meta['nproc']}, redis {meta['redis']}, "
          f"{args.workers} load workers", flush=True)
    results: dict[str, list[dict[str, Any]]] = {}
    pool = Pool(args.workers)
    try:
        for job in jobs(args):
            print(f"- {job[0]}", flush=True)
            runs = run_job(job, pool, redis_url, log_dir, args)
            results[job[0]] = runs
            if any(r.get("pool_broken") for r in runs):
                pool.close()
                pool = Pool(args.workers)
    finally:
        pool.close()
        if valkey is not None:
            valkey.stop()
    meta["elapsed_s"] = time.monotonic() - started
    # The baseline's own misses (it has no batching and falls behind when the machine
    # cannot keep up) are reported, never counted against Samenspel.
    failed = [(k, c) for k, runs in results.items() if "baseline" not in k
              for r in runs for c in r["checks"] if not c["ok"]]
    doc = {"meta": meta, "results": results, "failed_checks": len(failed)}
    (out / "results.json").write_text(json.dumps(doc, indent=1, default=str))
    from bench.report import markdown

    (out / "results.md").write_text(markdown(doc))
    print(f"wrote {out / 'results.md'} and results.json in {meta['elapsed_s']:.0f}s", flush=True)
    if failed:
        print(f"{len(failed)} correctness check(s) FAILED:", flush=True)
        for k, c in failed:
            print(f"  {k}: {c['check']}: {c['detail']}", flush=True)
        return 1
    print("all correctness checks passed", flush=True)
    return 0


def med(runs: list[dict[str, Any]], *path: str) -> float | None:
    vals = []
    for r in runs:
        v: Any = r
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        if isinstance(v, int | float):
            vals.append(float(v))
    return statistics.median(vals) if vals else None


if __name__ == "__main__":
    sys.exit(main())
