"""Small template filters for the war-room pages."""

from django import template

register = template.Library()


@register.filter
def words(value) -> str:
    """A stored code in words: "partial_outage" -> "partial outage"."""
    return str(value or "").replace("_", " ")
