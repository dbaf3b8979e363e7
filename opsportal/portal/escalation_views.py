"""Escalation policy pages: the list, a new policy, and the policy page — its ordered levels and targets
(added and removed in place with htmx) and the dry run: who would be paged, when and how, level by level,
computed by the engine's own code. Thin: forms check shape, oncall.escalation_services decides."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from oncall import alert_selectors as selectors
from oncall import engine
from oncall import escalation_services as services
from oncall.models import EscalationPolicy
from opsportal.core.exceptions import Conflict
from opsportal.core.forms import form_apply, refusal_text
from opsportal.core.roles import RESPOND
from opsportal.portal import escalation_forms as f
from opsportal.portal.access import staff_required
from opsportal.portal.alert_views import viewer_zone


@staff_required()
def policy_list(request):
    form = f.PolicyForm()
    return render(
        request,
        "portal/escalation/list.html",
        {"policies": list(selectors.policies()), "form": form, "may_act": request.user.has_perm(RESPOND)},
    )


@require_POST
@staff_required(RESPOND)
def policy_new(request):
    form = f.PolicyForm(request.POST)

    def apply(data):
        return services.policy_create(
            actor=request.user,
            team=data["team"],
            name=data["name"],
            description=data["description"],
            repeat=data["repeat"],
            repeat_from=data["repeat_from"],
        )

    policy, status = form_apply(form, apply)
    if status == 200:
        messages.success(request, f"Policy {policy.name} created: add its levels.")
        return redirect("portal:policy_detail", policy_id=policy.pk)
    context = {"policies": list(selectors.policies()), "form": form, "may_act": True}
    return render(request, "portal/escalation/list.html", context, status=status)


# --- the policy page ------------------------------------------------------------------------------------------


def _level_rows(
    policy: EscalationPolicy, *, failed_level=None, level_form=None, target_form=None
) -> list[dict]:
    rows = []
    for number, level in enumerate(policy.levels.all(), start=1):
        failed = failed_level is not None and failed_level.pk == level.pk
        rows.append(
            {
                "number": number,
                "level": level,
                "form": level_form if failed and level_form is not None else f.LevelForm(level=level),
                "target_form": target_form
                if failed and target_form is not None
                else f.TargetForm(policy=policy, level=level),
            }
        )
    return rows


def _dry_run(request, policy: EscalationPolicy, zone: str):
    form = f.DryRunForm(request.GET if "severity" in request.GET else None, zone=zone)
    if not form.is_bound:
        return form, None, None
    if not form.is_valid():
        return form, None, None
    at = form.instant(timezone.now())
    steps = engine.escalation_dry_run(
        policy=policy, severity=form.cleaned_data["severity"], urgency=form.cleaned_data["urgency"], at=at
    )
    return form, steps, at


def _policy_context(request, policy: EscalationPolicy, **overrides) -> dict:
    zone = viewer_zone(request)
    dry_form, steps, dry_at = _dry_run(request, policy, zone)
    context = {
        "policy": policy,
        "viewer_zone": zone,
        "may_act": request.user.has_perm(RESPOND),
        "policy_form": f.PolicyForm(policy=policy),
        "levels": _level_rows(policy),
        "new_level_form": f.LevelForm(),
        "levels_error": None,
        "dry_form": dry_form,
        "dry_steps": steps,
        "dry_at": dry_at,
    }
    context.update(overrides)
    return context


@staff_required()
def policy_detail(request, policy_id: int):
    policy = selectors.policy_or_404(policy_id)
    template = "portal/escalation/detail.html"
    if request.htmx and request.GET.get("part") == "dry-run":
        template = "portal/escalation/_dry_run.html"
    return render(request, template, _policy_context(request, policy))


@require_POST
@staff_required(RESPOND)
def policy_edit(request, policy_id: int):
    policy = selectors.policy_or_404(policy_id)
    form = f.PolicyForm(request.POST, policy=policy)

    def apply(data):
        return services.policy_update(
            actor=request.user,
            policy=policy,
            name=data["name"],
            description=data["description"],
            repeat=data["repeat"],
            repeat_from=data["repeat_from"],
        )

    _, status = form_apply(form, apply)
    if status == 200:
        messages.success(request, "Policy saved.")
        return redirect("portal:policy_detail", policy_id=policy.pk)
    context = _policy_context(request, policy, policy_form=form)
    return render(request, "portal/escalation/detail.html", context, status=status)


@require_POST
@staff_required(RESPOND)
def policy_delete(request, policy_id: int):
    policy = selectors.policy_or_404(policy_id)
    try:
        services.policy_delete(actor=request.user, policy=policy)
    except (ValidationError, Conflict) as exc:
        messages.error(request, refusal_text(exc))
        return redirect("portal:policy_detail", policy_id=policy.pk)
    messages.success(request, f"Policy {policy.name} deleted.")
    return redirect("portal:policy_list")


def _levels_answer(request, policy_id: int, *, status: int = 200, **overrides):
    """After a level or target change: the levels section alone for htmx, else back to (or, on a refusal,
    the whole of) the policy page."""
    policy = selectors.policy_or_404(policy_id)
    if status == 200 and not request.htmx:
        return redirect("portal:policy_detail", policy_id=policy.pk)
    failed_level = overrides.pop("failed_level", None)
    level_form = overrides.pop("level_form", None)
    target_form = overrides.pop("target_form", None)
    context = _policy_context(
        request,
        policy,
        levels=_level_rows(policy, failed_level=failed_level, level_form=level_form, target_form=target_form),
        **overrides,
    )
    template = "portal/escalation/_levels.html" if request.htmx else "portal/escalation/detail.html"
    return render(request, template, context, status=status)


def _level_data(data: dict) -> dict:
    return {
        "delay_minutes": data["delay_minutes"],
        "round_robin": data["round_robin"],
        "severities": data["severities"],
        "urgencies": data["urgencies"],
        "time_condition": data["time_condition"],
    }


@require_POST
@staff_required(RESPOND)
def level_new(request, policy_id: int):
    policy = selectors.policy_or_404(policy_id)
    form = f.LevelForm(request.POST)
    _, status = form_apply(
        form, lambda data: services.level_create(actor=request.user, policy=policy, **_level_data(data))
    )
    if status == 200:
        return _levels_answer(request, policy.pk)
    return _levels_answer(request, policy.pk, status=status, new_level_form=form)


@require_POST
@staff_required(RESPOND)
def level_edit(request, policy_id: int, level_id: int):
    policy = selectors.policy_or_404(policy_id)
    level = selectors.level_of_policy_or_404(policy, level_id)
    form = f.LevelForm(request.POST, level=level)
    _, status = form_apply(
        form, lambda data: services.level_update(actor=request.user, level=level, **_level_data(data))
    )
    if status == 200:
        return _levels_answer(request, policy.pk)
    return _levels_answer(request, policy.pk, status=status, failed_level=level, level_form=form)


@require_POST
@staff_required(RESPOND)
def level_delete(request, policy_id: int, level_id: int):
    policy = selectors.policy_or_404(policy_id)
    level = selectors.level_of_policy_or_404(policy, level_id)
    services.level_delete(actor=request.user, level=level)
    return _levels_answer(request, policy.pk)


@require_POST
@staff_required(RESPOND)
def level_move(request, policy_id: int, level_id: int):
    policy = selectors.policy_or_404(policy_id)
    level = selectors.level_of_policy_or_404(policy, level_id)
    try:
        services.level_move(actor=request.user, level=level, direction=request.POST.get("direction", ""))
    except ValidationError as exc:
        return _levels_answer(request, policy.pk, status=400, levels_error=refusal_text(exc))
    return _levels_answer(request, policy.pk)


@require_POST
@staff_required(RESPOND)
def target_new(request, policy_id: int, level_id: int):
    policy = selectors.policy_or_404(policy_id)
    level = selectors.level_of_policy_or_404(policy, level_id)
    form = f.TargetForm(request.POST, policy=policy, level=level)

    def apply(data):
        return services.target_create(
            actor=request.user,
            level=level,
            kind=data["kind"],
            user=data.get("user"),
            schedule=data.get("schedule"),
            team=data.get("team"),
        )

    _, status = form_apply(form, apply)
    if status == 200:
        return _levels_answer(request, policy.pk)
    return _levels_answer(request, policy.pk, status=status, failed_level=level, target_form=form)


@require_POST
@staff_required(RESPOND)
def target_delete(request, policy_id: int, target_id: int):
    policy = selectors.policy_or_404(policy_id)
    target = selectors.target_of_policy_or_404(policy, target_id)
    services.target_delete(actor=request.user, target=target)
    return _levels_answer(request, policy.pk)
