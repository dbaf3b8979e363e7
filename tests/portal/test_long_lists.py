"""Lists that grow with history (issue 11): the audit log, subscribers and incidents page newest first by
keyset, a page of 50 shows 50, totals match the data, page links walk every row once, hostile cursors are
a 400, and the queries of a page do not grow with the table."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from opsportal.core.keyset import cursor_of
from opsportal.core.models import AuditEntry
from opsportal.core.selectors import audit_actions
from opsportal.incidents.models import Incident
from statuspage.models import Subscriber

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = datetime(2099, 3, 1, 12, 0, tzinfo=UTC)  # after what the personas' set-up wrote to the log


def cursor(content: bytes, name: str) -> str | None:
    rel = {"older": "next", "newer": "prev"}[name]
    found = re.search(rf'{name}=([0-9.-]+)" rel="{rel}"', content.decode())
    return found.group(1) if found else None


def shown(content: bytes, pattern: str) -> list[str]:
    return re.findall(pattern, content.decode())


def walk(client, url: str, pattern: str, **params) -> list[list[str]]:
    """Every page from the first, following "Older" links: the rows each shows."""
    pages = []
    older = None
    for _ in range(50):
        response = client.get(url, {**params, **({"older": older} if older else {})})
        assert response.status_code == 200
        pages.append(shown(response.content, pattern))
        older = cursor(response.content, "older")
        if older is None:
            return pages
    raise AssertionError("the Older links never end")


# --- the audit log ---


def audit_entries(n: int, *, same_instant: int = 0) -> None:
    # Some share one instant: the id breaks the tie, so no row is shown twice or skipped.
    AuditEntry.objects.bulk_create(
        AuditEntry(
            at=LATER + timedelta(seconds=0 if i < same_instant else i),
            actor_label="system",
            action=f"test.kind{i % 3}",
            object_repr=f"entry-{i:03d}",
        )
        for i in range(n)
    )


def test_audit_log_pages_of_50_walk_every_entry_once_newest_first(alice, client_for):
    audit_entries(120, same_instant=60)
    pages = walk(client_for(alice), "/portal/audit/", r"entry-(\d{3})")
    assert [len(p) for p in pages] == [50, 50, 20]
    everything = [int(n) for p in pages for n in p]
    assert sorted(everything) == list(range(120))  # each once
    assert everything[:60] == list(range(119, 59, -1))  # newest first


def test_audit_log_newer_link_comes_back_to_the_same_rows(alice, client_for):
    audit_entries(120)
    client = client_for(alice)
    first = client.get("/portal/audit/")
    second = client.get("/portal/audit/", {"older": cursor(first.content, "older")})
    assert cursor(first.content, "newer") is None
    back = client.get("/portal/audit/", {"newer": cursor(second.content, "newer")})
    assert shown(back.content, r"entry-\d{3}") == shown(first.content, r"entry-\d{3}")


def test_audit_log_filters_survive_paging_and_list_every_action(alice, client_for):
    audit_entries(160)
    assert {"test.kind0", "test.kind1", "test.kind2"} <= set(audit_actions())
    assert audit_actions() == sorted(set(AuditEntry.objects.values_list("action", flat=True)))
    pages = walk(client_for(alice), "/portal/audit/", r"entry-(\d{3})", action="test.kind1")
    assert sorted(int(n) for p in pages for n in p) == [i for i in range(160) if i % 3 == 1]


def test_audit_log_queries_do_not_grow_with_the_log(alice, client_for, django_assert_max_num_queries):
    client = client_for(alice)
    audit_entries(10)
    with django_assert_max_num_queries(12) as few:
        client.get("/portal/audit/")
    audit_entries(200)
    with django_assert_max_num_queries(len(few)):
        client.get("/portal/audit/")
    assert not any("COUNT(" in q["sql"] and "core_auditentry" in q["sql"] for q in few.captured_queries)


@pytest.mark.parametrize("bad", ["abc", "1.2.3", "9" * 60 + ".1", "-99999999999999999999.1", "1.", "²"])
def test_audit_log_refuses_a_cursor_it_did_not_make(alice, client_for, bad):
    for name in ("older", "newer"):
        assert client_for(alice).get("/portal/audit/", {name: bad}).status_code == 400


# --- subscribers ---


def subscribers(n: int) -> None:
    rows = []
    for i in range(n):
        kind = i % 4  # pending, active, quarantined, unsubscribed
        rows.append(
            Subscriber(
                channel=["email", "sms", "webhook"][i % 3],
                address=f"sub-{i:04d}@example.com",
                created_at=T0 + timedelta(minutes=i // 2),  # pairs share an instant
                confirmed_at=T0 if kind in (1, 2) else None,
                quarantined_at=T0 if kind == 2 else None,
                unsubscribed_at=T0 if kind == 3 else None,
            )
        )
    Subscriber.objects.bulk_create(rows)


def test_subscriber_counts_add_up_to_the_rows(alice, client_for):
    subscribers(250)
    content = client_for(alice).get("/portal/subscribers/").content.decode()
    assert "250 subscribers in all." in content
    by_status = dict(re.findall(r'data-status="(\w+)">(\d+)<', content))
    assert by_status == {"pending": "63", "active": "63", "quarantined": "62", "unsubscribed": "62"}
    by_channel = dict(re.findall(r'data-channel="(\w+)">(\d+)<', content))
    live = [i for i in range(250) if i % 4 != 3]
    assert by_channel == {
        c: str(sum(1 for i in live if i % 3 == k)) for k, c in enumerate(["email", "sms", "webhook"])
    }


def test_subscriber_pages_of_50_walk_every_row_once(alice, client_for):
    subscribers(240)
    pages = walk(client_for(alice), "/portal/subscribers/", r"sub-(\d{4})@")
    assert [len(p) for p in pages] == [50, 50, 50, 50, 40]
    assert sorted(int(n) for p in pages for n in p) == list(range(240))
    filtered = walk(
        client_for(alice), "/portal/subscribers/", r"sub-(\d{4})@", status="active", channel="sms"
    )
    assert sorted(int(n) for p in filtered for n in p) == [i for i in range(240) if i % 4 == 1 and i % 3 == 1]


def test_subscriber_page_queries_do_not_grow(alice, client_for, django_assert_max_num_queries):
    client = client_for(alice)
    subscribers(20)
    with django_assert_max_num_queries(12) as few:
        client.get("/portal/subscribers/")
    Subscriber.objects.all().delete()
    subscribers(300)
    with django_assert_max_num_queries(len(few)):
        client.get("/portal/subscribers/")


def test_subscriber_page_refuses_a_cursor_it_did_not_make(alice, client_for):
    assert client_for(alice).get("/portal/subscribers/", {"older": "x.y"}).status_code == 400


# --- the incident list ---


def incidents(n: int, **fields) -> None:
    Incident.objects.bulk_create(
        Incident(
            title=f"Incident {i:03d}",
            public_title="p",
            severity=["P1", "P2"][i % 2],
            status="resolved",
            started_at=T0 + timedelta(minutes=i // 3),
            detected_at=T0,
            **fields,
        )
        for i in range(n)
    )


def test_incident_list_shows_50_of_the_total_and_walks_every_incident_once(vera, client_for):
    incidents(130)
    client = client_for(vera)
    first = client.get("/portal/incidents/")
    assert "130 incidents" in first.content.decode()
    assert len(shown(first.content, r"Incident \d{3}")) == 50
    pages = walk(client, "/portal/incidents/", r"Incident (\d{3})")
    assert [len(p) for p in pages] == [50, 50, 30]
    assert sorted(int(n) for p in pages for n in p) == list(range(130))
    p2 = walk(client, "/portal/incidents/", r"Incident (\d{3})", severity="P2")
    assert sorted(int(n) for p in p2 for n in p) == list(range(1, 130, 2))
    assert "65 incidents" in client.get("/portal/incidents/", {"severity": "P2"}).content.decode()


def test_incident_list_queries_do_not_grow(vera, client_for, django_assert_max_num_queries):
    client = client_for(vera)
    incidents(5)
    with django_assert_max_num_queries(16) as few:
        client.get("/portal/incidents/")
    incidents(120)
    with django_assert_max_num_queries(len(few)):
        client.get("/portal/incidents/")


def test_keyset_cursor_is_the_rows_instant_and_id():
    assert cursor_of(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC), 7) == "1000005.7"
