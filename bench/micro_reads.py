"""CPU of a join's reads through server/batcher.py's CommandBatcher, in this process:
bursts of 200 joins, each making the five reads a join makes (two limit counts, the
code, the join secret, a token), best of 5 × 2,000 joins, process time. Run it against
another tree's server/ to compare (docs/benchmarks.md, "Joins, second pass"):

    python -m bench.micro_reads [--root TREE] [--redis-url redis://127.0.0.1:6379/13]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import secrets
import sys
import time

import redis.asyncio as aioredis
import uvloop

BURST, BURSTS, REPEAT = 200, 10, 5


async def measure(redis_url: str) -> float:
    batcher_module = importlib.import_module("server.batcher")
    pool = aioredis.BlockingConnectionPool.from_url(redis_url, max_connections=64,
                                                     decode_responses=True)
    r = aioredis.Redis(connection_pool=pool)
    prefix = "bench-reads:" + secrets.token_hex(4)
    await r.set(f"{prefix}:code", "w1")
    await r.hset(f"{prefix}:meta", mapping={"jkey": "secret"})
    batcher = batcher_module.CommandBatcher(r)

    async def join() -> None:
        code = batcher.queue(("GET", f"{prefix}:code"))
        await batcher.call_all([("GET", f"{prefix}:fail"), ("GET", f"{prefix}:guess")])
        await code
        await batcher.call("HGET", f"{prefix}:meta", "jkey")
        await batcher.call("HGET", f"{prefix}:tokens", "digest")

    try:
        for _ in range(3):  # the pool's connections made first
            await asyncio.gather(*(join() for _ in range(BURST)))
        best = float("inf")
        for _ in range(REPEAT):
            start = time.process_time()
            for _ in range(BURSTS):
                await asyncio.gather(*(join() for _ in range(BURST)))
            best = min(best, time.process_time() - start)
        return best / (BURST * BURSTS)
    finally:
        await r.delete(f"{prefix}:code", f"{prefix}:meta")
        await r.aclose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", help="source tree whose server/ to measure (default: this)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = p.parse_args()
    if args.root:
        sys.path.insert(0, args.root)
        sys.modules.pop("server", None)
    per_join = uvloop.run(measure(args.redis_url))
    where = sys.modules["server.batcher"].__file__
    print(f"{where}: a join's reads, best CPU per join {per_join * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
