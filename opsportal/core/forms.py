"""Form helpers shared by every door: a form's data fed to a service, and the service's refusal shown on the
form that fed it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError

from opsportal.core.exceptions import Conflict


def add_service_errors(form, exc: ValidationError) -> None:
    """Field errors go next to their field (or on top when the form has no such field); others go on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def refusal_text(exc: ValidationError | Conflict) -> str:
    """What a service's refusal says, in one line, for a page with no form to put it on."""
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


class FormOutcome(NamedTuple):
    done: Any  # what the service returned; None when the form or the service refused
    status: int  # 200 done, 400 bad shape or meaning (errors on the form), 409 conflict (message on top)


def form_apply(form, apply: Callable[[dict], Any]) -> FormOutcome:
    """Run a service with a bound form's cleaned data. PermissionDenied is not caught: it is the 403 page."""
    if not form.is_valid():
        return FormOutcome(None, 400)
    try:
        return FormOutcome(apply(form.cleaned_data), 200)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return FormOutcome(None, 400)
    except Conflict as exc:
        form.add_error(None, str(exc))
        return FormOutcome(None, 409)
