"""Generic webhook door (`/hooks/generic/<key>`): the documented JSON body, and the query-string form for shell
scripts and cron (GET or POST)."""

from __future__ import annotations

import pytest

from oncall.models import AlertEvent, AlertGroup, IntegrationKind


def _url(integration, query: str = "") -> str:
    return f"/hooks/generic/{integration.key}" + (f"?{query}" if query else "")


def test_generic_json_body_opens_a_group(door, generic_integration):
    body = {
        "summary": "Backup failed on db1",
        "dedup": "backup-db1",
        "severity": "warning",
        "labels": {"region": "eu"},
    }
    response = door.post_json(_url(generic_integration), body)
    assert response.status_code == 200
    group = AlertGroup.objects.get()
    assert response.json() == {
        "status": "success",
        "dedup_key": "backup-db1",
        "events": [
            {"dedup_key": "backup-db1", "action": "trigger", "outcome": "new group", "group": group.pk}
        ],
    }
    assert (group.summary, group.severity, group.labels) == (
        "Backup failed on db1",
        "warning",
        {"region": "eu"},
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_generic_query_string_trigger_then_close(door, generic_integration, method):
    send = getattr(door, method)
    response = send(_url(generic_integration, "summary=Nightly%20backup%20failed&details=exit%203"))
    assert response.status_code == 200
    assert AlertGroup.objects.get().status == "triggered"
    response = send(_url(generic_integration, "summary=Nightly%20backup%20failed&action=close"))
    assert response.json()["events"][0]["outcome"] == "resolved"
    assert AlertGroup.objects.get().status == "resolved"


def test_generic_form_post_as_curl_d_sends_it(door, generic_integration):
    response = door.post(
        _url(generic_integration),
        "summary=Disk+full&dedup=disk-db1",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert AlertGroup.objects.get().dedup_key == "disk-db1"


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("details=no+summary", "'summary' is missing or blank"),
        ("summary=x&action=explode", "'action' must be one of trigger, acknowledge, resolve or close"),
        ("summary=bell%07", "'summary' contains control characters"),
        (
            "summary=x&sumary=typo",
            "Unknown fields: sumary (known: summary, details, dedup, action, severity, source, component, labels)",
        ),
        ("summary=x&labels=a", "'labels' must be an object of strings"),
    ],
)
def test_generic_query_string_refusals_store_nothing(door, generic_integration, query, error):
    response = door.get(_url(generic_integration, query))
    assert response.status_code == 400
    assert error in response.json()["errors"]
    assert not AlertEvent.objects.exists()


def test_generic_refuses_json_and_query_together_unknown_keys_and_other_kinds(
    door, generic_integration, make_integration
):
    response = door.post_json(_url(generic_integration, "summary=x"), {"summary": "y"})
    assert response.status_code == 400
    assert door.get("/hooks/generic/" + "f" * 32 + "?summary=x").status_code == 404
    heartbeat = make_integration(IntegrationKind.HEARTBEAT)
    assert door.get(_url(heartbeat, "summary=x")).status_code == 400
    assert (
        door.post(_url(generic_integration), b"\x00\x01", content_type="application/octet-stream").status_code
        == 415
    )
    assert door.put(_url(generic_integration)).status_code == 405
    too_many = door.get(_url(generic_integration, "&".join(f"f{n}=1" for n in range(2000))))
    assert (too_many.status_code, too_many.json()["errors"]) == (
        400,
        ["The query string has too many fields"],
    )
    assert not AlertEvent.objects.exists()
