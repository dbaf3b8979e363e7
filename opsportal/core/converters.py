"""URL converters: `<id:...>` is a row id, a whole number that fits the 64-bit column (a longer one is not a
row we could hold, so the path simply does not match and the door answers 404, not a database overflow)."""

from __future__ import annotations

from opsportal.core.bounds import MAX_ID


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("beyond any row id")  # Django reads this as "no match"
        return number

    def to_url(self, value) -> str:
        return str(int(value))
