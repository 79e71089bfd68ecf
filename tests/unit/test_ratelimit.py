"""Addresses are keyed hashes (no address in Redis), and the per-socket token bucket."""

from __future__ import annotations

import time

from server.ratelimit import TokenBucket, network, subject
from server.store import code_length


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
    time.sleep(0.25)   # the scenario: a quarter second passes, refilling 2.5 tokens
    assert bucket.take()


def test_an_ipv6_address_counts_as_its_64() -> None:
    assert network("2001:db8:1:2::1") == network("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert network("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert network("2001:db8:1:3::1") != network("2001:db8:1:2::1")
    assert network("192.0.2.7") == "192.0.2.7" != network("192.0.2.8")
    assert network("::ffff:192.0.2.7") == "192.0.2.7"
    assert network(None) == "-" and network("unix-socket") == "unix-socket"


def test_codes_are_long_enough_for_one_in_100000() -> None:
    odds = 100_000
    lengths = {n: code_length(n, odds) for n in (1, 10, 11, 100, 101, 1000, 1001, 10_000,
                                                 10_001, 100_000, 10**7)}
    assert lengths == {1: 6, 10: 6, 11: 7, 100: 7, 101: 8, 1000: 8, 1001: 9, 10_000: 9,
                       10_001: 10, 100_000: 10, 10**7: 10}
    for n, digits in lengths.items():
        if n <= 100_000:
            assert n / 10**digits <= 1 / odds
