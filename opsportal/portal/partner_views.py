"""Partners on the Tokens page (admins): add an organisation with its contacts, switch it off or on, and give
it tokens. Thin: the identity services decide and audit."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from opsportal.core.forms import add_service_errors
from opsportal.core.identity_services import api_token_create, partner_create, partner_set_active
from opsportal.core.models import Partner
from opsportal.core.roles import ADMINISTER
from opsportal.portal.access import staff_required
from opsportal.portal.forms import PartnerForm, PartnerTokenForm
from opsportal.portal.views import tokens_page


@require_POST
@staff_required(ADMINISTER)
def partner_new(request):
    form = PartnerForm(request.POST)
    if form.is_valid():
        try:
            partner = partner_create(
                actor=request.user, name=form.cleaned_data["name"], contacts=form.cleaned_data["contacts"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Partner {partner.name} added; give it a token below.")
            return redirect("portal:api_tokens")
    return tokens_page(request, partner_form=form)


@require_POST
@staff_required(ADMINISTER)
def partner_active(request, partner_id: int):
    partner = get_object_or_404(Partner, pk=partner_id)
    active = request.POST.get("active") == "1"
    partner_set_active(actor=request.user, partner=partner, active=active)
    messages.success(
        request,
        f"{partner.name} is active again."
        if active
        else f"{partner.name} is switched off: its tokens stop now.",
    )
    return redirect("portal:api_tokens")


@require_POST
@staff_required(ADMINISTER)
def partner_token_new(request):
    form = PartnerTokenForm(request.POST)
    if form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        try:
            token, plaintext = api_token_create(
                actor=request.user,
                partner=form.cleaned_data["partner"],
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                expires_at=timezone.now() + timedelta(days=int(days)) if days else None,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Token “{token.name}” for {token.holder} created. Copy it now: it is shown only once.",
            )
            return tokens_page(request, created_plaintext=plaintext)
    return tokens_page(request, partner_token_form=form)
