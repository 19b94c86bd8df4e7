"""The rate limiter: a burst of `limit`, then one per period / limit; keys apart; the wait named."""

from api.ratelimit import RateLimiter, retry_header


def test_a_burst_of_the_limit_is_admitted_then_the_next_waits() -> None:
    limiter = RateLimiter(3, period_s=60.0)
    assert [limiter.take("ana", 100.0) for _ in range(3)] == [None, None, None]
    wait = limiter.take("ana", 100.0)
    assert wait is not None and abs(wait - 20.0) < 1e-6  # one event every 20 s after the burst
    assert limiter.take("bo", 100.0) is None  # another key is not held back
    assert limiter.retry_after("ana", 119.0) is not None
    assert limiter.take("ana", 120.0) is None
    assert limiter.take("ana", 120.0) is not None


def test_a_refused_event_is_not_counted_and_an_idle_key_recovers_its_burst() -> None:
    limiter = RateLimiter(2, period_s=10.0)
    limiter.take("k", 0.0)
    limiter.take("k", 0.0)
    for _ in range(50):
        assert limiter.take("k", 1.0) is not None
    assert limiter.take("k", 5.0) is None  # refusals did not push the window out
    assert [limiter.take("k", 100.0) for _ in range(2)] == [None, None]


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert retry_header(0.2) == {"Retry-After": "1"}
    assert retry_header(19.01) == {"Retry-After": "20"}
