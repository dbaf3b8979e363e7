"""form_apply: a form's data fed to a service; what the service refuses shows on the form with the right code."""

import pytest
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError

from opsportal.core.exceptions import Conflict
from opsportal.core.forms import form_apply


class TitleForm(forms.Form):
    title = forms.CharField(max_length=20)


def test_form_apply_returns_what_the_service_did():
    outcome = form_apply(TitleForm({"title": "Checkout down"}), lambda data: f"Saved {data['title']}.")
    assert outcome == ("Saved Checkout down.", 200)


def test_form_apply_refuses_a_badly_shaped_form_without_calling_the_service():
    called = []
    form = TitleForm({"title": ""})
    assert form_apply(form, called.append) == (None, 400)
    assert called == []
    assert "title" in form.errors


def test_form_apply_puts_the_services_field_error_next_to_its_field():
    def refuse(data):
        raise ValidationError({"title": "That title is taken."})

    form = TitleForm({"title": "Checkout down"})
    assert form_apply(form, refuse) == (None, 400)
    assert form.errors["title"] == ["That title is taken."]


def test_form_apply_answers_409_with_the_conflicts_message_on_top():
    def clash(data):
        raise Conflict("INC-7 is closed; reopen it first.")

    form = TitleForm({"title": "Checkout down"})
    assert form_apply(form, clash) == (None, 409)
    assert form.non_field_errors() == ["INC-7 is closed; reopen it first."]


def test_form_apply_lets_permission_denied_through_to_the_403_page():
    def deny(data):
        raise PermissionDenied

    with pytest.raises(PermissionDenied):
        form_apply(TitleForm({"title": "Checkout down"}), deny)


def test_refusal_text_reads_validation_errors_and_conflicts_in_one_line():
    from opsportal.core.forms import refusal_text

    assert refusal_text(ValidationError({"status": "Unknown status.", "at": "In the future."})) == (
        "Unknown status. In the future."
    )
    assert refusal_text(Conflict("INC-7 is closed; reopen it first.")) == "INC-7 is closed; reopen it first."
