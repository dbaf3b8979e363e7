"""Contact methods and notification rules: who may manage them, addresses normalised, codes sent hashed,
rate-limited, tried at most five times and expiring after ten minutes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from oncall import contacts
from oncall.models import ContactKind, ContactMethod, NotificationRule
from opsportal.core.exceptions import Conflict
from opsportal.notifications.models import Delivery
from tests.oncall.paging.conftest import T0


def _code_sent_to(address: str) -> str:
    delivery = Delivery.objects.filter(address=address).select_related("message").latest("pk")
    assert delivery.message.kind == contacts.VERIFY_KIND
    return re.search(r"\b(\d{6})\b", delivery.message.text_body)[1]


def test_contact_method_add_normalises_addresses(rob):
    phone = contacts.contact_method_add(actor=rob, user=rob, kind="sms", address="+1 (416) 555-0100")
    email = contacts.contact_method_add(actor=rob, user=rob, kind="email", address=" Rob@Ops.EXAMPLE.com ")
    push = contacts.contact_method_add(actor=rob, user=rob, kind="push")

    assert phone.address == "+14165550100" and not phone.is_verified
    assert email.address == "Rob@ops.example.com" and not email.is_verified
    assert push.address == "" and push.is_verified  # reaches only the signed-in user: nothing to prove


@pytest.mark.parametrize(
    ("kind", "address"),
    [("sms", "416-555-0100"), ("sms", "call me"), ("email", "not-an-email"), ("fax", "1")],
)
def test_contact_method_add_refuses_bad_addresses(rob, kind, address):
    with pytest.raises(ValidationError):
        contacts.contact_method_add(actor=rob, user=rob, kind=kind, address=address)
    assert not ContactMethod.objects.exists()


def test_contact_method_add_twice_is_a_conflict(rob):
    contacts.contact_method_add(actor=rob, user=rob, kind="sms", address="+14165550100")
    with pytest.raises(Conflict):
        contacts.contact_method_add(actor=rob, user=rob, kind="sms", address="+1 416 555 0100")


def test_contact_methods_are_managed_by_their_owner_or_an_admin(rob, ana, alice, charlie):
    with pytest.raises(PermissionDenied):
        contacts.contact_method_add(actor=ana, user=rob, kind="sms", address="+14165550100")
    with pytest.raises(PermissionDenied):  # no portal role: no contact methods of their own either
        contacts.contact_method_add(actor=charlie, user=charlie, kind="push")
    method = contacts.contact_method_add(actor=alice, user=rob, kind="sms", address="+14165550100")
    with pytest.raises(PermissionDenied):
        contacts.contact_method_remove(actor=ana, method=method)
    with pytest.raises(PermissionDenied):
        contacts.notification_rule_add(actor=ana, user=rob, method=method, delay_minutes=0)
    contacts.contact_method_remove(actor=rob, method=method)
    assert not ContactMethod.objects.exists()


def test_send_code_stores_only_a_hash_and_sends_the_code(rob):
    method = contacts.contact_method_add(actor=rob, user=rob, kind="sms", address="+14165550100")
    contacts.contact_method_send_code(actor=rob, method=method)

    code = _code_sent_to("+14165550100")
    method.refresh_from_db()
    assert code not in method.verification_code_hash and len(method.verification_code_hash) == 64
    assert Delivery.objects.get(address="+14165550100").channel == "sms"

    contacts.contact_method_verify(actor=rob, method=method, code=code)
    method.refresh_from_db()
    assert method.is_verified and method.verification_code_hash == ""


def test_send_code_is_rate_limited(rob):
    method = contacts.contact_method_add(actor=rob, user=rob, kind="email", address="rob@ops.example.com")
    with time_machine.travel(T0, tick=False) as clock:
        contacts.contact_method_send_code(actor=rob, method=method)
        with pytest.raises(Conflict, match="another in"):
            contacts.contact_method_send_code(actor=rob, method=method)
        assert Delivery.objects.count() == 1
        clock.shift(timedelta(seconds=61))
        contacts.contact_method_send_code(actor=rob, method=method)
    assert Delivery.objects.count() == 2


def test_verify_allows_five_attempts_per_code(rob):
    method = contacts.contact_method_add(actor=rob, user=rob, kind="sms", address="+14165550100")
    contacts.contact_method_send_code(actor=rob, method=method)
    code = _code_sent_to("+14165550100")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(ValidationError, match=f"{left} tr"):
            contacts.contact_method_verify(actor=rob, method=method, code=wrong)
    with pytest.raises(ValidationError, match="last try"):
        contacts.contact_method_verify(actor=rob, method=method, code=wrong)
    # The right code no longer helps: the attempts are spent and counted in the database.
    with pytest.raises(ValidationError, match="Too many"):
        contacts.contact_method_verify(actor=rob, method=method, code=code)
    method.refresh_from_db()
    assert method.verification_attempts == 5 and not method.is_verified


def test_verify_refuses_an_expired_code(rob):
    method = contacts.contact_method_add(actor=rob, user=rob, kind="sms", address="+14165550100")
    with time_machine.travel(T0, tick=False) as clock:
        contacts.contact_method_send_code(actor=rob, method=method)
        code = _code_sent_to("+14165550100")
        clock.shift(contacts.CODE_TTL)
        with pytest.raises(ValidationError, match="expired"):
            contacts.contact_method_verify(actor=rob, method=method, code=code)
        # A fresh code works.
        contacts.contact_method_send_code(actor=rob, method=method)
        contacts.contact_method_verify(actor=rob, method=method, code=_code_sent_to("+14165550100"))
    method.refresh_from_db()
    assert method.is_verified


def test_verify_before_any_code_is_refused(rob):
    method = contacts.contact_method_add(actor=rob, user=rob, kind="sms", address="+14165550100")
    with pytest.raises(ValidationError, match="Ask for a code"):
        contacts.contact_method_verify(actor=rob, method=method, code="123456")


def test_push_needs_no_code(rob):
    method = contacts.contact_method_add(actor=rob, user=rob, kind="push")
    with pytest.raises(Conflict):
        contacts.contact_method_send_code(actor=rob, method=method)


def test_notification_rule_add_and_remove(rob, ana):
    method = contacts.contact_method_add(actor=rob, user=rob, kind="push")
    rule = contacts.notification_rule_add(actor=rob, user=rob, method=method, delay_minutes=0, urgency="high")
    assert list(NotificationRule.objects.values_list("delay_minutes", "urgency")) == [(0, "high")]
    with pytest.raises(Conflict):
        contacts.notification_rule_add(actor=rob, user=rob, method=method, delay_minutes=0, urgency="high")
    for bad in (-1, 241, "5", True):
        with pytest.raises(ValidationError):
            contacts.notification_rule_add(actor=rob, user=rob, method=method, delay_minutes=bad)
    with pytest.raises(ValidationError):
        contacts.notification_rule_add(actor=rob, user=rob, method=method, delay_minutes=1, urgency="urgent")
    other = contacts.contact_method_add(actor=ana, user=ana, kind="push")
    with pytest.raises(ValidationError):  # someone else's method
        contacts.notification_rule_add(actor=rob, user=rob, method=other, delay_minutes=1)
    contacts.notification_rule_remove(actor=rob, rule=rule)
    assert not NotificationRule.objects.exists()
    assert ContactMethod.objects.filter(kind=ContactKind.PUSH).count() == 2


def test_only_system_work_adds_a_method_already_verified(rob, alice):
    from opsportal.core.services import SYSTEM

    for actor in (rob, alice):  # the owner, an admin: both prove the address with its code
        with pytest.raises(PermissionDenied):
            contacts.contact_method_add(
                actor=actor, user=rob, kind="email", address="rob@ops.example.com", verified=True
            )
    method = contacts.contact_method_add(
        actor=SYSTEM, user=rob, kind="email", address="rob@ops.example.com", verified=True
    )
    assert method.is_verified
