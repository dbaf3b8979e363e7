"""Retry timing: exponential growth, jitter within bounds, a cap, and giving up. No database."""

import random
from datetime import timedelta

import pytest

from opsportal.notifications.backoff import BASE, CAP, MAX_ATTEMPTS, gives_up, retry_delay


def test_retry_delay_grows_exponentially_within_jitter_bounds():
    rng = random.Random(7)
    for attempt in range(1, 8):
        ceiling = min(CAP, BASE * 2 ** (attempt - 1))
        for _ in range(50):
            delay = retry_delay(attempt, rng=rng)
            assert min(BASE / 2, ceiling) <= delay <= ceiling


def test_retry_delay_never_exceeds_the_cap():
    rng = random.Random(1)
    assert all(retry_delay(30, rng=rng) <= CAP for _ in range(100))


def test_retry_delay_is_jittered_not_lockstep():
    rng = random.Random(3)
    assert len({retry_delay(5, rng=rng) for _ in range(20)}) > 10


def test_retry_delay_extremes_of_the_jitter():
    class Fixed(random.Random):
        def __init__(self, value):
            super().__init__()
            self.value = value

        def random(self):
            return self.value

    assert retry_delay(1, rng=Fixed(0.0)) == timedelta(seconds=15)
    assert retry_delay(3, rng=Fixed(1.0)) == timedelta(minutes=2)


def test_retry_delay_counts_from_one():
    with pytest.raises(ValueError):
        retry_delay(0)


def test_gives_up_at_the_cap():
    assert not gives_up(MAX_ATTEMPTS - 1)
    assert gives_up(MAX_ATTEMPTS)
    assert gives_up(3, max_attempts=3)
