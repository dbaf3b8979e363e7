"""Time zone names we accept: the IANA list (zoneinfo.available_timezones()), nothing else. ZoneInfo itself also
loads "localtime", "posixrules", "Factory" and "right/…" files, which mean different things on different machines."""

from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError

# Found among the zone files on some machines, but not places: "localtime" is whatever this machine is set to.
NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


@functools.cache
def iana_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - NOT_PLACES


def is_iana_time_zone(name: object) -> bool:
    return isinstance(name, str) and name in iana_time_zones()


def validate_time_zone(value: str) -> None:
    if not is_iana_time_zone(value):
        raise ValidationError(
            f"{value!r} is not an IANA time zone name (e.g. Europe/Dublin).", code="time_zone"
        )
