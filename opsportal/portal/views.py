"""Staff portal pages: thin views over selectors and services."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from oncall.selectors import regions, teams_with_members
from opsportal.core import selectors as core_selectors
from opsportal.core.forms import add_service_errors, refusal_text
from opsportal.core.identity_selectors import api_tokens_visible_to, partners
from opsportal.core.identity_services import api_token_create, api_token_revoke
from opsportal.core.keyset import keyset_page
from opsportal.core.live import announce_authority_changed
from opsportal.core.models import ApiToken
from opsportal.core.roles import ADMINISTER, RESPOND, role_of
from opsportal.core.services import job_schedule, staff_set_role
from opsportal.incidents.selectors import IncidentFilters, incidents_list
from opsportal.portal.access import staff_required
from opsportal.portal.forms import (
    ApiTokenForm,
    LiveCheckForm,
    PartnerForm,
    PartnerTokenForm,
    StaffRoleForm,
)
from statuspage.selectors import component_groups_with_components, ungrouped_components


class PortalLogoutView(auth_views.LogoutView):
    """Signing out also closes this person's open portal sockets whose session just ended."""

    def post(self, request, *args, **kwargs):
        user_id = request.user.pk if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        if user_id is not None:
            announce_authority_changed(user_id)
        return response


@staff_required()
def home(request):
    return render(
        request,
        "portal/home.html",
        {
            "groups": component_groups_with_components(),
            "ungrouped": ungrouped_components(),
            "regions": regions(),
            "teams": teams_with_members(),
            "live_check_form": LiveCheckForm(),
            "active_incidents": incidents_list(IncidentFilters(active_only=True))[:20],
        },
    )


@require_POST
@staff_required()
def live_check(request):
    form = LiveCheckForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/_live_check.html", {"live_check_form": form}, status=400)
    now = timezone.now()
    run_at = now + timedelta(seconds=form.cleaned_data["delay_seconds"])
    job_schedule(
        task="opsportal.portal.tasks.deliver_live_check",
        run_at=run_at,
        kwargs={"user_id": request.user.pk, "requested_at": now.isoformat()},
    )
    return render(request, "portal/_live_check.html", {"live_check_form": form, "scheduled_for": run_at})


@staff_required()
def api_tokens(request):
    created_plaintext = None
    form = ApiTokenForm()
    may_create = request.user.has_perm(RESPOND)
    if request.method == "POST":
        form = ApiTokenForm(request.POST)
        if not may_create:
            messages.error(request, "Viewers cannot create API tokens; ask an admin for the responder role.")
            return redirect("portal:api_tokens")
        if form.is_valid():
            days = form.cleaned_data["expires_in_days"]
            try:
                token, created_plaintext = api_token_create(
                    actor=request.user,
                    user=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=timezone.now() + timedelta(days=int(days)) if days else None,
                    rate_limit_per_minute=form.cleaned_data["rate_limit_per_minute"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                form = ApiTokenForm()
                messages.success(
                    request, f"Token “{token.name}” created. Copy it now: it is shown only once."
                )
    return tokens_page(request, form=form, created_plaintext=created_plaintext)


def tokens_page(request, *, form=None, partner_form=None, partner_token_form=None, created_plaintext=None):
    """The Tokens page: your tokens (every token, for admins) and, for admins, partners and their tokens."""
    is_admin = request.user.has_perm(ADMINISTER)
    forms_shown = [f for f in (form, partner_form, partner_token_form) if f is not None]
    context = {
        "form": form or ApiTokenForm(),
        "tokens": api_tokens_visible_to(request.user),
        "created_plaintext": created_plaintext,
        "may_create": request.user.has_perm(RESPOND),
        "now": timezone.now(),
        "is_admin": is_admin,
    }
    if is_admin:
        context.update(
            partners=partners(),
            partner_form=partner_form or PartnerForm(),
            partner_token_form=partner_token_form or PartnerTokenForm(),
        )
    has_errors = any(f.is_bound and f.errors for f in forms_shown)
    return render(request, "portal/api_tokens.html", context, status=400 if has_errors else 200)


@require_POST
@staff_required(RESPOND)
def api_token_revoke_view(request, token_id: int):
    token = get_object_or_404(api_tokens_visible_to(request.user), pk=token_id)
    api_token_revoke(actor=request.user, token=token)
    if request.htmx:
        return render(
            request,
            "portal/_api_token_row.html",
            {"token": ApiToken.objects.get(pk=token.pk), "now": timezone.now()},
        )
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("portal:api_tokens")


@staff_required(ADMINISTER)
def staff(request):
    members = core_selectors.staff_members()
    rows = [{"user": member, "role": role_of(member)} for member in members]
    return render(request, "portal/staff.html", {"rows": rows})


@require_POST
@staff_required(ADMINISTER)
def staff_role(request, user_id: int):
    member = get_object_or_404(get_user_model(), pk=user_id, is_active=True)
    form = StaffRoleForm(request.POST)
    error = None
    if form.is_valid():
        try:
            staff_set_role(actor=request.user, user=member, role=form.cleaned_data["role"] or None)
        except ValidationError as exc:
            error = refusal_text(exc)
    else:
        error = "Choose one of the listed roles."
    member = get_user_model().objects.prefetch_related("groups").get(pk=member.pk)
    row = {"user": member, "role": role_of(member), "error": error}
    if request.htmx:
        return render(request, "portal/_staff_row.html", {"row": row}, status=400 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request,
            f"{member.get_username()} is now {row['role'].label if row['role'] else 'without access'}.",
        )
    return redirect("portal:staff")


AUDIT_PAGE = 50


@staff_required(ADMINISTER)
def audit_log(request):
    action = request.GET.get("action", "")[:80]
    actor = request.GET.get("actor", "")[:150]
    entries = core_selectors.audit_entries(action=action, actor=actor)
    # Keyset pages off the (at, id) index: the log only grows, and no page counts the whole of it (issue 11).
    page = keyset_page(
        entries, field="at", size=AUDIT_PAGE, older=request.GET.get("older"), newer=request.GET.get("newer")
    )
    filters = urlencode({key: value for key, value in (("action", action), ("actor", actor)) if value})
    return render(
        request,
        "portal/audit.html",
        {
            "page": page,
            "actions": core_selectors.audit_actions(),
            "action": action,
            "actor": actor,
            "filters": filters,
        },
    )
