"""Alertmanager webhook door (`/hooks/alertmanager/<key>`): each alert of a notification is tracked by its
fingerprint within its group; resolved resolves; truncation is reported; a refused notification stores nothing."""

from __future__ import annotations

from oncall.models import AlertEvent, AlertGroup, IntegrationKind
from tests.oncall.ingest.payloads import alertmanager_webhook


def _url(integration) -> str:
    return f"/hooks/alertmanager/{integration.key}"


def test_alertmanager_documented_webhook_opens_a_group_per_alert(door, alertmanager_integration):
    response = door.post_json(_url(alertmanager_integration), alertmanager_webhook())
    assert response.status_code == 200
    group = AlertGroup.objects.get()
    assert response.json() == {
        "status": "success",
        "stored": 1,
        "events": [
            {
                "dedup_key": '{}:{alertname="DiskFull", service="ops-portal"}:dbaaf28f407b38e2',
                "action": "trigger",
                "outcome": "new group",
                "group": group.pk,
            }
        ],
    }
    assert group.summary == "Disk 95% full on db1"
    assert group.severity == "critical"
    assert group.labels["alertname"] == "DiskFull"
    assert group.details["generatorURL"] == "http://127.0.0.1/graph"


def test_alertmanager_resolved_resolves_only_its_own_alert(door, alertmanager_integration):
    body = alertmanager_webhook()
    second = {
        **body["alerts"][0],
        "fingerprint": "00000000000000aa",
        "labels": {"alertname": "DiskFull", "instance": "db2"},
    }
    body["alerts"].append(second)
    door.post_json(_url(alertmanager_integration), body)
    assert AlertGroup.objects.filter(status="triggered").count() == 2
    resolved = alertmanager_webhook()
    resolved["status"] = "resolved"
    resolved["alerts"][0]["status"] = "resolved"
    response = door.post_json(_url(alertmanager_integration), resolved)
    assert response.json()["events"][0]["outcome"] == "resolved"
    assert AlertGroup.objects.get(dedup_key__endswith="dbaaf28f407b38e2").status == "resolved"
    assert AlertGroup.objects.get(dedup_key__endswith="00000000000000aa").status == "triggered"


def test_alertmanager_repeat_notification_deduplicates(door, alertmanager_integration):
    for url in (_url(alertmanager_integration), _url(alertmanager_integration) + "/"):  # a trailing slash too
        assert door.post_json(url, alertmanager_webhook()).status_code == 200
    assert AlertGroup.objects.get().occurrences == 2


def test_alertmanager_truncated_alerts_are_reported_and_kept_with_each_event(door, alertmanager_integration):
    body = alertmanager_webhook()
    body["truncatedAlerts"] = 7
    response = door.post_json(_url(alertmanager_integration), body)
    assert response.json()["truncatedAlerts"] == 7
    assert response.json()["message"] == "7 alerts were truncated by Alertmanager (raise its max_alerts)"
    assert AlertEvent.objects.get().payload["truncatedAlerts"] == 7


def test_alertmanager_unknown_key_other_kind_and_disabled_are_refused(door, make_integration):
    assert door.post_json("/hooks/alertmanager/" + "0" * 32, alertmanager_webhook()).status_code == 404
    assert door.post_json("/hooks/alertmanager/" + "0" * 5000, alertmanager_webhook()).status_code == 404
    generic = make_integration(IntegrationKind.GENERIC)
    response = door.post_json(_url(generic), alertmanager_webhook())
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "errors": ["This key belongs to a Generic webhook integration; use its own URL"],
    }
    disabled = make_integration(IntegrationKind.ALERTMANAGER, enabled=False)
    response = door.post_json(_url(disabled), alertmanager_webhook())
    assert (response.status_code, response.json()["errors"]) == (403, ["This integration is disabled"])
    assert not AlertEvent.objects.exists()


def test_alertmanager_malformed_notifications_store_nothing(door, alertmanager_integration):
    url = _url(alertmanager_integration)
    bad_version = {**alertmanager_webhook(), "version": "3"}
    response = door.post_json(url, bad_version)
    assert (response.status_code, response.json()["errors"]) == (400, ["'version' must be \"4\" (got '3')"])
    one_bad = alertmanager_webhook()
    one_bad["alerts"].append({**one_bad["alerts"][0], "annotations": {"summary": "nul \x00"}})
    assert door.post_json(url, one_bad).status_code == 400
    assert door.post_json(url, "x" * (512 * 1024 + 1)).status_code == 413
    assert door.post_json(url, "<xml/>", content_type="application/xml").status_code == 415
    assert door.get(url).status_code == 405
    assert not AlertEvent.objects.exists()
