"""Redis Cluster behind REDIS_URL: finding out whether it is one, its client, and what
the store does differently on it.

REDIS_URL may name any node of a Redis or Valkey cluster, a master or a replica. The
store asks that node once at start-up (`CLUSTER INFO`, which one Redis refuses); on a
cluster it uses redis-py's cluster client, which learns every node and slot from it,
else the one-Redis pool as before (so one Redis costs nothing more than the question at
start-up). A node that does not answer at start-up leaves the answer open: the store
asks again on its next use (server/store_core.py), and until then answers `try_again`
and /healthz 503.

No command crosses slots: a workshop's keys share its hash tag (server/keys.py), every
script gets the keys of one workshop only, and the keys that are not per workshop are
each used on their own. The event streams are read per node (`read_streams`).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster

log = logging.getLogger("samenspel.store")

DETECT_TIMEOUT_SECONDS = 2.0
# Connections per node for ops and pages (the batcher sends a loop turn's ops as one
# pipeline per node, so few are in use at once); past it a command fails (try_again).
NODE_CONNECTIONS = 256


# A Redis that is not a cluster node answers CLUSTER INFO with this error.
NOT_A_CLUSTER = "cluster support disabled"


def _verdict(exc: redis.ResponseError) -> bool:
    """What a refused CLUSTER INFO says: not a cluster node; or, when REDIS_URL's user may
    not ask (NOPERM: a least-privilege user without +cluster|info), taken as one Redis."""
    if NOT_A_CLUSTER in str(exc):
        return False
    log.warning("REDIS_URL's user may not run CLUSTER INFO (%s): taken as one Redis; "
                "allow +cluster|info for a cluster (docs/security.md)", type(exc).__name__)
    return False


def detect(url: str) -> bool | None:
    """Is the Redis at url a cluster node? None: it did not answer (ask again later)."""
    client: Any = redis.Redis.from_url(url, socket_timeout=DETECT_TIMEOUT_SECONDS,
                                       socket_connect_timeout=DETECT_TIMEOUT_SECONDS)
    try:
        client.execute_command("CLUSTER", "INFO")
        return True
    except redis.ResponseError as exc:
        return _verdict(exc)
    except (redis.RedisError, OSError) as exc:
        log.error("REDIS_URL does not answer (%s): /healthz says 503 and ops answer "
                  "try_again until it does", type(exc).__name__)
        return None
    finally:
        client.close()


async def detect_async(url: str) -> bool:
    """As `detect`, in the event loop; raises what the connection raised."""
    client: Any = aioredis.Redis.from_url(url, socket_timeout=DETECT_TIMEOUT_SECONDS,
                                          socket_connect_timeout=DETECT_TIMEOUT_SECONDS)
    try:
        await client.execute_command("CLUSTER", "INFO")
        return True
    except redis.ResponseError as exc:
        return _verdict(exc)
    finally:
        await client.aclose()


def cluster_client(url: str, read_timeout: float, connect_timeout: float) -> RedisCluster:
    """redis-py's cluster client, started from the one node the url names. It does not
    insist on every slot being served (a cluster missing a slot still serves the others:
    ops on the missing one answer try_again)."""
    return RedisCluster.from_url(
        url,
        decode_responses=True,
        socket_timeout=read_timeout,
        socket_connect_timeout=connect_timeout,
        require_full_coverage=False,
        max_connections=NODE_CONNECTIONS,
        health_check_interval=10,
    )


async def cluster_ok(cluster: Any) -> bool:
    """Every slot served (`cluster_state:ok`, as a node sees it) and every master
    answers. Raises what the connection raised."""
    info = await cluster.cluster_info()
    if str(info.get("cluster_state")) != "ok":
        return False
    await cluster.ping(target_nodes=RedisCluster.PRIMARIES)
    return True


async def read_streams(cluster: Any, streams: dict[str, str],
                       count: int) -> list[tuple[str, list[Any]]]:
    """XREAD of many streams in many slots, without blocking: one XREAD per stream (a
    workshop's stream is alone in its slot), sent as one pipeline per node, the nodes
    side by side. A stream whose slot is not served now, or whose node fails, is left
    out this time (its workshop's ops answer try_again meanwhile); raises only when no
    stream could be read."""
    await cluster.initialize()  # (learns the slots on first use; then does nothing)
    pipe = cluster.pipeline(transaction=False)
    names = []
    failed: BaseException | None = None
    for name, position in streams.items():
        try:
            node = cluster.get_node_from_key(name)
        except Exception as exc:  # SlotNotCoveredError: no node serves it now
            failed = exc
            continue
        pipe.execute_command("XREAD", "COUNT", count, "STREAMS", name, position,
                             target_nodes=node)
        names.append(name)
    replies = await pipe.execute(raise_on_error=False) if names else []
    out: list[tuple[str, list[Any]]] = []
    for reply in replies:
        if isinstance(reply, BaseException):
            failed = reply
            continue
        for stream, entries in _streams_of(reply):
            out.append((str(stream), entries))
    if failed is not None and not out and len(replies) == sum(
            isinstance(r, BaseException) for r in replies):
        raise failed
    return out


def _streams_of(reply: Any) -> list[Any]:
    # RESP2: [[stream, entries]]; RESP3: {stream: [entries]}.
    if isinstance(reply, dict):
        return [(k, v[0] if v and isinstance(v[0], list) else v) for k, v in reply.items()]
    return list(reply or [])

