"""A responder's own contact methods and notification rules (/portal/me/contacts/): add a method, have a
code sent and enter it, pause or remove it; add and remove rules. Thin: oncall.contacts decides. With htmx the
section is swapped in place; without it every form posts and redirects back."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from oncall import contacts
from oncall.models import ContactMethod, NotificationRule
from oncall.paging import rate_limits
from opsportal.core.exceptions import Conflict
from opsportal.core.forms import form_apply
from opsportal.portal import contact_forms as f
from opsportal.portal.access import staff_required


def _context(request, **forms) -> dict:  # bound forms with errors, and a refused code's reason
    user = request.user
    methods = contacts.contact_methods_of(user)
    return {
        "methods": methods,
        "rules": contacts.notification_rules_of(user),
        "method_form": forms.get("method_form") or f.ContactMethodForm(),
        "rule_form": forms.get("rule_form") or f.RuleForm(user=user),
        "verify_forms": {
            m.pk: (
                forms["verify_form"]
                if forms.get("verify_for") == m.pk
                else f.VerifyForm(prefix=f"verify-{m.pk}")
            )
            for m in methods
        },
        "code_error_for": forms.get("code_error_for"),
        "code_error": forms.get("code_error", ""),
        "limits": {kind: rate_limits(kind) for kind in ("sms", "email", "push")},
        "code_ttl_minutes": int(contacts.CODE_TTL.total_seconds() // 60),
    }


def _page(request, status: int = 200, **forms):
    template = "portal/contacts/_section.html" if request.htmx else "portal/contacts/page.html"
    return render(request, template, _context(request, **forms), status=status)


def _done(request, text: str):
    messages.success(request, text)
    if request.htmx:
        return _page(request)
    return redirect("portal:my_contacts")


@staff_required()
def my_contacts(request):
    return _page(request)


@require_POST
@staff_required()
def method_add(request):
    form = f.ContactMethodForm(request.POST)

    def apply(data):
        return contacts.contact_method_add(
            actor=request.user,
            user=request.user,
            kind=data["kind"],
            address=data["address"],
            label=data["label"],
        )

    method, status = form_apply(form, apply)
    if status != 200:
        return _page(request, status, method_form=form)
    if method.is_verified:
        return _done(request, "In-app push added.")
    return _code(request, method, added=True)


def _own_method(request, method_id: int) -> ContactMethod:
    return get_object_or_404(ContactMethod, pk=method_id, user=request.user)


def _code(request, method: ContactMethod, *, added: bool = False):
    """Send a code; a refused resend (too soon, already verified) keeps the page and says why."""
    try:
        contacts.contact_method_send_code(actor=request.user, method=method)
    except (Conflict, ValidationError) as exc:
        error = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
        return _page(request, 409, code_error_for=method.pk, code_error=error)
    prefix = "Added. " if added else ""
    return _done(request, f"{prefix}A code is on its way to {method.address}; enter it below.")


@require_POST
@staff_required()
def method_send_code(request, method_id: int):
    return _code(request, _own_method(request, method_id))


@require_POST
@staff_required()
def method_verify(request, method_id: int):
    method = _own_method(request, method_id)
    form = f.VerifyForm(request.POST, prefix=f"verify-{method.pk}")
    _, status = form_apply(
        form,
        lambda data: contacts.contact_method_verify(actor=request.user, method=method, code=data["code"]),
    )
    if status != 200:
        return _page(request, status, verify_for=method.pk, verify_form=form)
    return _done(request, f"{method.address} is verified: it can receive pages.")


@require_POST
@staff_required()
def method_enabled(request, method_id: int):
    method = _own_method(request, method_id)
    form = f.EnabledForm(request.POST)
    form.is_valid()
    enabled = bool(form.cleaned_data.get("enabled"))
    contacts.contact_method_set_enabled(actor=request.user, method=method, enabled=enabled)
    return _done(
        request, f"{'Resumed' if enabled else 'Paused'}: {method.label or method.address or 'in-app push'}."
    )


@require_POST
@staff_required()
def method_remove(request, method_id: int):
    method = _own_method(request, method_id)
    contacts.contact_method_remove(actor=request.user, method=method)
    return _done(request, "Contact method removed, with the rules that used it.")


@require_POST
@staff_required()
def rule_add(request):
    form = f.RuleForm(request.POST, user=request.user)

    def apply(data):
        return contacts.notification_rule_add(
            actor=request.user,
            user=request.user,
            method=data["method"],
            delay_minutes=data["delay_minutes"],
            urgency=data["urgency"],
        )

    _, status = form_apply(form, apply)
    if status != 200:
        return _page(request, status, rule_form=form)
    return _done(request, "Rule added.")


@require_POST
@staff_required()
def rule_remove(request, rule_id: int):
    rule = get_object_or_404(NotificationRule, pk=rule_id, user=request.user)
    contacts.notification_rule_remove(actor=request.user, rule=rule)
    return _done(request, "Rule removed.")
