"""Form helpers shared by every door: a service's ValidationError shown on the form that fed it."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def add_service_errors(form, exc: ValidationError) -> None:
    """Field errors go next to their field (or on top when the form has no such field); others go on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
