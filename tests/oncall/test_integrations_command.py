"""manage.py integrations: the listing a newcomer copies an integration's URL and key from."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from oncall.models import Integration
from opsportal.demo.data import demo_load

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = StringIO()
    call_command("integrations", *args, stdout=out)
    return out.getvalue()


def test_integrations_list_shows_team_name_kind_url_and_key(settings):
    settings.PUBLIC_URL = "https://ops.example.com"
    demo_load()
    rows = [line.split("\t") for line in _run("list", "--team", "payments").splitlines()]
    assert {row[2] for row in rows} == {"alertmanager", "pagerduty", "heartbeat"}
    by_kind = {row[2]: row for row in rows}
    pagerduty = Integration.objects.get(team__slug="payments", kind="pagerduty")
    assert by_kind["pagerduty"][3:] == ["https://ops.example.com/v2/enqueue", pagerduty.key]
    alertmanager = Integration.objects.get(team__slug="payments", kind="alertmanager")
    assert by_kind["alertmanager"][3] == f"https://ops.example.com/hooks/alertmanager/{alertmanager.key}"
    assert len(_run("list", "--kind", "heartbeat").splitlines()) == 3


def test_integrations_key_prints_only_the_key():
    demo_load()
    pagerduty = Integration.objects.get(team__slug="payments", kind="pagerduty")
    assert _run("key", "payments", pagerduty.name).strip() == pagerduty.key
    with pytest.raises(CommandError, match="No such integration"):
        _run("key", "payments", "nothing")
