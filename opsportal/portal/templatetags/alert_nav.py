"""The portal menu's alert count: how many alert groups are triggered (nobody has acknowledged them)."""

from django import template

from oncall.alert_selectors import triggered_count

register = template.Library()


@register.simple_tag
def triggered_alert_count() -> int:
    return triggered_count()
