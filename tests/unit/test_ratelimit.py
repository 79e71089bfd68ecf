"""Addresses are keyed hashes (no address in Redis), and the per-socket token bucket."""

from __future__ import annotations

import time

from server.ratelimit import TokenBucket, subject


def test_subject_is_a_salted_hash_of_the_address() -> None:
    a = subject("192.0.2.7", "salt-one")
    assert "192.0.2.7" not in a and len(a) == 32
    assert a == subject("192.0.2.7", "salt-one")
    # Another day, another salt: yesterday's hashes say nothing about today's.
    assert a != subject("192.0.2.7", "salt-two")
    assert a != subject("192.0.2.8", "salt-one")


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(rate=10, burst=5)
    assert all(bucket.take() for _ in range(5))
    assert not bucket.take()
    time.sleep(0.25)
    assert bucket.take()
