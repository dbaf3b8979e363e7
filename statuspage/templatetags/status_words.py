"""`{{ value|status_label }}`: a stored status in the operator's words, on the portal and the public page alike."""

from django import template

from statuspage.words import status_words

register = template.Library()


@register.filter
def status_label(value) -> str:
    return status_words(value)
