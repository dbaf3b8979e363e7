"""Shape checks for API input: an input serializer's validated data, or a 400 problem listing the fields."""

from __future__ import annotations


def valid_input(serializer_class, data, *, partial: bool = False) -> dict:
    """`partial`: fields left out are neither required nor defaulted (for PATCH)."""
    serializer = serializer_class(data=data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
