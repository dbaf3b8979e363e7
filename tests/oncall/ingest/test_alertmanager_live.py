"""Tier 2: a real Prometheus Alertmanager (Debian's prometheus-alertmanager) pages opsportal through both of its
doors at once: `webhook_configs` to /hooks/alertmanager/<key> and `pagerduty_configs` with `url:` set to
/v2/enqueue. An alert pushed into its API opens a group on each integration, and reaches the on-call
responder's phone through the SMS provider (a local Twilio-shaped server); ending it resolves both."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from oncall.engine import escalations_run_due
from oncall.intake import alert_events_apply_queued
from oncall.models import (
    AlertGroup,
    ContactKind,
    ContactMethod,
    EscalationLevel,
    EscalationPolicy,
    EscalationTarget,
    IntegrationKind,
    NotificationRule,
    TargetKind,
)
from opsportal.notifications.delivery import deliver_due_batches
from tests.notifications.conftest import http_sink  # noqa: F401  (the SMS provider stand-in)

ALERTMANAGER = Path("/usr/bin/prometheus-alertmanager")
DEADLINE_SECONDS = 60

pytestmark = [pytest.mark.tier2, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(check, what: str):
    """Polls `check` until it returns something truthy, or fails at the deadline."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    pytest.fail(f"gave up after {DEADLINE_SECONDS} s waiting for {what}")


def _http(method: str, url: str, body=None) -> int:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        data = json.dumps(body) if body is not None else None
        connection.request(method, parts.path, body=data, headers={"Content-Type": "application/json"})
        return connection.getresponse().status
    finally:
        connection.close()


SID, TOKEN, SENDER = "AC0123456789abcdef", "auth-token-42", "+15005550006"
ROB_PHONE = "+14165550100"


@pytest.fixture
def sms_provider(http_sink, settings):  # noqa: F811
    sink = http_sink()
    settings.WEBHOOKS_ALLOW_PRIVATE = True  # the stand-in listens on loopback
    settings.SMS_API_BASE_URL = sink.url
    settings.SMS_ACCOUNT_SID, settings.SMS_AUTH_TOKEN, settings.SMS_FROM = SID, TOKEN, SENDER
    sink.reply(
        f"/2010-04-01/Accounts/{SID}/Messages.json",
        (201, {"Content-Type": "application/json"}, json.dumps({"sid": "SM1"}).encode()),
    )
    return sink


@pytest.fixture
def rob_on_call(team, rob):
    """The webhook integration's policy pages rob, whose only rule is an SMS at once."""
    policy = EscalationPolicy.objects.create(team=team, name="Checkout on call")
    level = EscalationLevel.objects.create(policy=policy, position=0, delay_minutes=5)
    EscalationTarget.objects.create(level=level, kind=TargetKind.USER, user=rob)
    phone = ContactMethod.objects.create(
        user=rob, kind=ContactKind.SMS, address=ROB_PHONE, verified_at=timezone.now()
    )
    NotificationRule.objects.create(user=rob, contact_method=phone, delay_minutes=0)
    return policy


@pytest.fixture
def alertmanager(tmp_path, live_server, make_integration, rob_on_call):
    if not ALERTMANAGER.exists():
        if os.environ.get("CI_REQUIRE_BROWSER"):
            pytest.fail(f"{ALERTMANAGER} is missing: apt-get install prometheus-alertmanager")
        pytest.skip(f"{ALERTMANAGER} is not installed (apt-get install prometheus-alertmanager)")
    webhook = make_integration(
        IntegrationKind.ALERTMANAGER, name="Prometheus webhook", escalation_policy=rob_on_call
    )
    pagerduty = make_integration(IntegrationKind.PAGERDUTY, name="Prometheus via PagerDuty config")
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        f"""
route:
  receiver: opsportal
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: opsportal
    webhook_configs:
      - url: {live_server.url}/hooks/alertmanager/{webhook.key}
        send_resolved: true
    pagerduty_configs:
      - routing_key: {pagerduty.key}
        url: {live_server.url}/v2/enqueue
        send_resolved: true
"""
    )
    port = _free_port()
    process = subprocess.Popen(
        [
            str(ALERTMANAGER),
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # one instance: no gossip, no waiting for peers
            "--log.level=warn",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def ready():
        try:
            return _http("GET", f"{base}/-/ready") == 200
        except OSError:  # not listening yet
            if process.poll() is not None:
                pytest.fail(f"Alertmanager exited: {process.stdout.read().decode(errors='replace')}")
            return False

    try:
        _wait_for(ready, "Alertmanager to be ready")
        yield base, webhook, pagerduty
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_alertmanager_pages_through_webhook_and_pagerduty_configs(alertmanager, sms_provider):
    base, webhook, pagerduty = alertmanager
    alert = {
        "labels": {"alertname": "CheckoutDown", "service": "checkout", "severity": "critical"},
        "annotations": {"summary": "Checkout answers 503"},
        "generatorURL": "http://prometheus.example/graph",
    }
    assert _http("POST", f"{base}/api/v2/alerts", [alert]) == 200

    def opened():
        alert_events_apply_queued()  # what the worker /v2/enqueue's commit starts does in production
        if (
            AlertGroup.objects.filter(integration__in=[webhook, pagerduty])
            .values("integration")
            .distinct()
            .count()
            < 2
        ):
            return None
        return (
            AlertGroup.objects.filter(integration=webhook).first(),
            AlertGroup.objects.filter(integration=pagerduty).first(),
        )

    groups = _wait_for(opened, "a group on each integration")
    by_webhook, by_pagerduty = groups
    assert by_webhook.summary == "Checkout answers 503"
    assert by_webhook.severity == "critical"
    assert by_pagerduty.summary.startswith("[FIRING:1] CheckoutDown")
    assert by_pagerduty.labels["service"] == "checkout"  # read back from Alertmanager's text

    def texted():
        # What Celery beat does every couple of seconds in production: the escalation tick, then delivery.
        escalations_run_due()
        deliver_due_batches()
        return [
            r for r in sms_provider.requests if "Checkout answers 503" in parse_qs(r.body.decode())["Body"][0]
        ]

    [sms] = _wait_for(texted, "the page to reach rob's phone")
    form = {key: values[0] for key, values in parse_qs(sms.body.decode()).items()}
    assert form["To"] == ROB_PHONE
    assert f"reply {by_webhook.pk}a to ack" in form["Body"]

    ended = {**alert, "endsAt": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}
    assert _http("POST", f"{base}/api/v2/alerts", [ended]) == 200

    def resolved():
        alert_events_apply_queued()
        return (
            not AlertGroup.objects.filter(integration__in=[webhook, pagerduty])
            .exclude(status="resolved")
            .exists()
        )

    _wait_for(resolved, "both groups to resolve")
