"""Template filters and tags for the public page."""

from functools import lru_cache

from django import template
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

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


# What each day's tooltip lists after the uptime, in this order, and in these words.
_TOOLTIP_PARTS = (
    ("major_outage", "major outage"),
    ("partial_outage", "partial outage"),
    ("degraded_performance", "degraded"),
    ("under_maintenance", "maintenance"),
)


@lru_cache(maxsize=1024)
def _day_label(day, language) -> str:
    # Every component row shows the same 90 days: format (and escape) each once, not 18,000 times.
    return escape(date_format(day, "M j"))


@lru_cache(maxsize=64)
def _bar_class(worst) -> str:
    return escape(f"b-{worst or 'none'}")


# Most days of most components are alike (a whole day operational), so a page repeats the same few thousand
# bars: each is built once per process, found again by what it shows. Bounded: cleared when full.
_bars_built: dict[tuple, str] = {}
BARS_REMEMBERED = 50_000


def _day_bar(index, bar, language) -> str:
    key = (index, bar.day, bar.worst, bar.observed, tuple(bar.minutes.items()), language)
    built = _bars_built.get(key)
    if built is None:
        spent = bar.minutes
        title = f"{_day_label(bar.day, language)}: {percent(bar.uptime)}"
        for status, words in _TOOLTIP_PARTS:
            if spent.get(status):
                title += f"; {words} {minutes(spent[status])}"
        built = f'<rect x="{index * 5}" width="4" height="24" class="{_bar_class(bar.worst)}"><title>{title}</title></rect>'
        if len(_bars_built) >= BARS_REMEMBERED:
            _bars_built.clear()
        _bars_built[key] = built
    return built


# Each component's finished days, drawn once per process: found again by the very FinishedDays object the
# selector keeps between renders (held here too, so its id cannot be reused while remembered). Bounded, and
# emptied when the days move on (yesterday's drawings would only hold memory).
_finished_drawn: dict[int, tuple[object, str, str]] = {}
_finished_drawn_from: list = []
FINISHED_DRAWN_REMEMBERED = 2_000


def _finished_bars(finished, language) -> str:
    drawn = _finished_drawn.get(id(finished))
    if drawn is None or drawn[0] is not finished or drawn[1] != language:
        markup = "".join([_day_bar(index, bar, language) for index, bar in enumerate(finished.bars)])
        first_day = finished.bars[0].day if finished.bars else None
        if len(_finished_drawn) >= FINISHED_DRAWN_REMEMBERED or _finished_drawn_from != [first_day]:
            _finished_drawn.clear()
            _finished_drawn_from[:] = [first_day]
        drawn = _finished_drawn[id(finished)] = (finished, language, markup)
    return drawn[2]


@register.simple_tag
def uptime_day_bars(bars, today=None) -> SafeString:
    """The 90 `<rect>`s of a component's uptime bar, one string instead of 90 template loops: at 200
    components the loop was most of the page's render. Same markup as the template it replaced.

    `bars` is a list of days, or a component's finished days (`FinishedDays`) followed by `today`: then only
    today's bar is drawn afresh."""
    language = get_language()
    if today is None:
        markup = "".join([_day_bar(index, bar, language) for index, bar in enumerate(bars)])
    else:
        markup = _finished_bars(bars, language) + _day_bar(len(bars.bars), today, language)
    return mark_safe(markup)  # noqa: S308 -- built from escaped labels and numbers only


@register.simple_tag
def component_row(row) -> SafeString:
    """A component's `<li>` on the public page: its name, status, uptime and 90 bars. One string build per row
    instead of an included template (200 rows of template nodes were a third of the page's render), with the
    same markup (tests/statuspage/public/test_uptime_page.py keeps that template as the reference)."""
    component = row.component
    name = escape(component.name)
    uptime = percent(row.uptime)
    description = (
        f' <span class="muted small">— {escape(component.description)}</span>'
        if component.description
        else ""
    )
    return mark_safe(  # noqa: S308 -- every field escaped above; the bars are escaped where drawn
        f"""<li class="component">
  <div class="component-head">
    <span class="component-name">{name}{description}</span>
    <span class="status status-{escape(component.status)}">{escape(component.get_status_display())}</span>
  </div>
  <div class="uptime">
    <svg class="uptime-bars" viewBox="0 0 450 24" preserveAspectRatio="none" role="img" aria-label="{name}: {uptime} uptime over the past 90 days">
      {uptime_day_bars(row.finished, row.today)}
    </svg>
    <div class="uptime-legend muted small"><span>90 days ago</span><span>{uptime} uptime</span><span>Today</span></div>
  </div>
</li>
"""
    )
