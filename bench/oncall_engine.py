"""The on-call rotation engine (oncall/rotation.py) on one core, no cache: prints the figures for bench/README.md.

    python bench/oncall_engine.py

A follow-the-sun schedule is three layers (Toronto, Dublin, Sydney), each a weekly rotation of eight people
restricted to 09:00-17:00 Monday to Friday in its own zone. Times are the best of several runs.
"""

from __future__ import annotations

import platform
import random
import sys
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oncall.rotation import (
    Layer,
    Override,
    Restriction,
    Rotation,
    Schedule,
    TurnLength,
    fairness,
    final_schedule,
    gaps,
    on_call_at,
)

YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
REGIONS = (("apac", "Australia/Sydney"), ("eu", "Europe/Dublin"), ("na", "America/Toronto"))


def follow_the_sun(seed: int, overrides: int) -> Schedule:
    rng = random.Random(seed)
    business = Restriction.business_hours(time(9), time(17))
    layers = tuple(
        Layer(
            name,
            Rotation(
                tuple(f"{name}-{seed}-{i}" for i in range(8)),
                TurnLength(1, "weeks"),
                time(9),
                date(2025, 12, 29),
                zone,
            ),
            business,
        )
        for name, zone in REGIONS
    )
    covers = []
    for _ in range(overrides):
        start = YEAR_START + timedelta(minutes=rng.randrange(365 * 24 * 60))
        covers.append(
            Override(start, start + timedelta(hours=rng.choice((2, 4, 8, 24))), f"cover-{rng.randrange(20)}")
        )
    return Schedule(layers, tuple(covers))


def best_ms(run, repeat: int = 7) -> float:
    timings = []
    for _ in range(repeat):
        began = clock.perf_counter()
        run()
        timings.append(clock.perf_counter() - began)
    return min(timings) * 1000


def main() -> None:
    print(f"python {platform.python_version()} on {platform.machine()}, one core, no cache")

    schedule = follow_the_sun(1, 50)
    year_end = YEAR_START + timedelta(days=365)
    shifts = final_schedule(schedule, YEAR_START, year_end)
    ms = best_ms(lambda: final_schedule(schedule, YEAR_START, year_end))
    print(
        f"final schedule, 1 year, 3 layers x 8 people weekly, 50 overrides: {ms:.1f} ms ({len(shifts)} shifts)"
    )
    print(f"  gaps over the year: {best_ms(lambda: gaps(schedule, YEAR_START, year_end)):.1f} ms")
    zones = {
        person: zone
        for layer, (_, zone) in zip(schedule.layers, REGIONS, strict=True)
        for person in layer.rotation.participants
    }
    print(
        "  fairness over the year: "
        f"{best_ms(lambda: fairness(schedule, YEAR_START, year_end, zone_of_person=zones), repeat=3):.1f} ms"
    )

    schedules = [follow_the_sun(seed, 50) for seed in range(1000)]
    now = datetime(2026, 6, 10, 14, 7, tzinfo=UTC)
    ms = best_ms(lambda: [on_call_at(s, now) for s in schedules])
    print(f"who is on call now, 1,000 schedules (50 overrides each): {ms:.1f} ms ({ms:.0f} µs per schedule)")

    print("cost by interval length (50 overrides):")
    for months in (1, 3, 12):
        end = YEAR_START + timedelta(days=round(months * 365 / 12))
        print(
            f"  {months:>2} months: {best_ms(lambda end=end: final_schedule(schedule, YEAR_START, end)):6.1f} ms"
        )

    print("cost by overrides (1 year):")
    for count in (0, 50, 500):
        with_overrides = follow_the_sun(1, count)
        ms = best_ms(lambda s=with_overrides: final_schedule(s, YEAR_START, year_end))
        print(f"  {count:>3} overrides: {ms:6.1f} ms")


if __name__ == "__main__":
    main()
