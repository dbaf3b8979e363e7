"""Template filters for the public page."""

from django import template

register = template.Library()


@register.filter
def percent(value, digits: int = 2) -> str:
    """0.99953 -> '99.95%'; None -> 'no data'. Never rounds a real outage up to 100%."""
    if value is None:
        return "no data"
    scaled = value * 100
    text = f"{scaled:.{int(digits)}f}"
    if text.startswith("100") and value < 1:
        text = f"{100 - 10 ** -int(digits):.{int(digits)}f}"
    return f"{text}%"


@register.filter
def minutes(value) -> str:
    value = round(value or 0)
    return f"{value // 60} h {value % 60} min" if value >= 60 else f"{value} min"
