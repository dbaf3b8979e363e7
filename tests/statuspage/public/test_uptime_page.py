"""The public page draws every component's 90 bars and percentage exactly as the whole uptime computation
does, on a generated history, also when its days before today come from an earlier render."""

import random
import re
from datetime import timedelta

import pytest
import time_machine
from django.template import Context, Template
from django.utils import timezone

from opsportal.core.services import SYSTEM
from statuspage import services
from statuspage.models import Component, ComponentGroup, ComponentStatusChange
from statuspage.public import cache as public_cache
from statuspage.public.page_selectors import components_with_uptime, page_time_zone
from statuspage.public.templatetags.statuspage_tags import percent
from statuspage.uptime import daily_uptime, uptime_percentage
from tests.statuspage.public.test_uptime_bars import LOOP

pytestmark = pytest.mark.django_db

# The template each row was drawn with before `{% component_row %}` (kept here as the reference).
ROW = """{% load statuspage_tags %}<li class="component">
  <div class="component-head">
    <span class="component-name">{{ row.component.name }}{% if row.component.description %} <span class="muted small">— {{ row.component.description }}</span>{% endif %}</span>
    <span class="status status-{{ row.component.status }}">{{ row.component.get_status_display }}</span>
  </div>
  <div class="uptime">
    <svg class="uptime-bars" viewBox="0 0 450 24" preserveAspectRatio="none" role="img" aria-label="{{ row.component.name }}: {{ row.uptime|percent }} uptime over the past 90 days">
      {% uptime_day_bars row.finished row.today %}
    </svg>
    <div class="uptime-legend muted small"><span>90 days ago</span><span>{{ row.uptime|percent }} uptime</span><span>Today</span></div>
  </div>
</li>
"""

STATUSES = ["degraded_performance", "partial_outage", "major_outage", "under_maintenance"]


def _history(now, *, components=6, seed=3):
    rng = random.Random(seed)
    group = ComponentGroup.objects.create(name="Checkout")
    made = []
    for n in range(components):
        created = now - timedelta(days=rng.choice([200, 120, 40]))
        component = Component.objects.create(name=f"Service {n}", group=group, position=n)
        changes = [ComponentStatusChange(component=component, status="operational", at=created)]
        for _ in range(rng.randint(5, 40)):
            began = now - timedelta(minutes=rng.randint(1, 130 * 24 * 60))
            if began > created:
                changes.append(
                    ComponentStatusChange(component=component, status=rng.choice(STATUSES), at=began)
                )
                ended = min(began + timedelta(minutes=rng.randint(5, 40 * 60)), now - timedelta(seconds=1))
                changes.append(ComponentStatusChange(component=component, status="operational", at=ended))
        ComponentStatusChange.objects.bulk_create(changes)
        made.append(component)
    return made


def _expected(component, now):
    """What the page showed before the finished days were kept: the whole history, computed whole."""
    history = list(component.status_changes.values_list("at", "status"))
    bars = daily_uptime(history, now=now, days=90, tz=page_time_zone(), start_date=component.start_date)
    drawn = Template(LOOP).render(Context({"bars": bars}))
    return drawn, percent(uptime_percentage(bars))


def _shown(client, component):
    html = client.get("/").content.decode()
    row = re.search(
        rf'aria-label="{re.escape(component.name)}: ([^"]*) uptime over the past 90 days">\s*(.*?)\s*</svg>',
        html,
        re.S,
    )
    return row.group(2), row.group(1)


@time_machine.travel("2026-11-29 15:20:00+00:00", tick=False)
def test_the_page_shows_the_bars_and_percentages_of_the_whole_computation(client):
    now = timezone.now()
    components = _history(now)
    for component in components:
        assert _shown(client, component) == _expected(component, now)
    # Later that day: a change today, and an edit of past history (a backdated outage). The page follows both,
    # its other days coming from the first render.
    with time_machine.travel(now + timedelta(hours=2), tick=False):
        services.component_set_status(actor=SYSTEM, component=components[0], status="major_outage")
        ComponentStatusChange.objects.create(
            component=components[1], status="major_outage", at=now - timedelta(days=30)
        )
        ComponentStatusChange.objects.create(
            component=components[1], status="operational", at=now - timedelta(days=29, hours=20)
        )
        public_cache.cache.clear()  # tests roll back, so no commit moved the public version
        public_cache._local.clear()
        for component in components:
            assert _shown(client, component) == _expected(component, timezone.now())


def test_the_days_before_today_are_computed_once_per_process():
    now = timezone.now()
    _history(now, components=3)
    first = components_with_uptime(now=now)
    again = components_with_uptime(now=now + timedelta(seconds=1))
    assert [r.finished for g in first for r in g.rows] == [r.finished for g in again for r in g.rows]
    assert all(a.finished is b.finished for a, b in zip(first[0].rows, again[0].rows, strict=True))


def test_the_row_tag_draws_what_the_row_template_did():
    now = timezone.now()
    components = _history(now, components=3)
    Component.objects.filter(pk=components[0].pk).update(description='Cards & "wallets" <EU>')
    Component.objects.filter(pk=components[1].pk).update(name="Search <beta> & co", status="partial_outage")
    for group in components_with_uptime(now=now):
        for row in group.rows:
            expected = Template(ROW).render(Context({"row": row}))
            assert (
                Template("{% load statuspage_tags %}{% component_row row %}").render(Context({"row": row}))
                == expected
            )
