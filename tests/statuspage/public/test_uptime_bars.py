"""The 90 day bars come from one tag now; they must read exactly as the template loop they replaced."""

from datetime import UTC, datetime, timedelta

from django.template import Context, Template

from statuspage.uptime import daily_uptime

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

# The markup the page had, one template loop per bar (kept here as the reference).
LOOP = (
    "{% load statuspage_tags %}{% for bar in bars %}"
    '<rect x="{% widthratio forloop.counter0 1 5 %}" width="4" height="24" class="b-{{ bar.worst|default:\'none\' }}">'
    '<title>{{ bar.day|date:"M j" }}: {{ bar.uptime|percent }}'
    "{% if bar.minutes.major_outage %}; major outage {{ bar.minutes.major_outage|minutes }}{% endif %}"
    "{% if bar.minutes.partial_outage %}; partial outage {{ bar.minutes.partial_outage|minutes }}{% endif %}"
    "{% if bar.minutes.degraded_performance %}; degraded {{ bar.minutes.degraded_performance|minutes }}{% endif %}"
    "{% if bar.minutes.under_maintenance %}; maintenance {{ bar.minutes.under_maintenance|minutes }}{% endif %}"
    "</title></rect>{% endfor %}"
)
TAG = "{% load statuspage_tags %}{% uptime_day_bars bars %}"


def test_the_tag_draws_the_same_bars_as_the_template_loop_did():
    changes = [
        (NOW - timedelta(days=60), "operational"),  # no data before this
        (NOW - timedelta(days=20, hours=3), "major_outage"),
        (NOW - timedelta(days=19, hours=1), "partial_outage"),  # across midnight
        (NOW - timedelta(days=18), "degraded_performance"),
        (NOW - timedelta(days=17, minutes=40), "under_maintenance"),
        (NOW - timedelta(days=17), "operational"),
        (NOW - timedelta(hours=2), "partial_outage"),  # still open
    ]
    bars = daily_uptime(changes, now=NOW, days=90)
    for _ in range(2):  # the second time from the remembered bars
        drawn = Template(TAG).render(Context({"bars": bars}))
        assert drawn == Template(LOOP).render(Context({"bars": bars}))
    assert drawn.count("<rect ") == 90 and 'class="b-none"' in drawn and 'class="b-major_outage"' in drawn
    assert "; partial outage 2 h 0 min</title></rect>" in drawn


def test_the_bars_say_no_data_for_days_before_the_first_status():
    drawn = Template(TAG).render(Context({"bars": daily_uptime([], now=NOW, days=3)}))
    assert drawn.count("no data") == 3
