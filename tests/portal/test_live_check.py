"""The live check schedules a durable timer for the person who asked."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from opsportal.core.models import ScheduledJob

pytestmark = pytest.mark.django_db


def test_live_check_schedules_a_timer_for_the_requester(vera, client_for):
    with time_machine.travel("2026-11-27 09:00:00+00:00", tick=False):
        response = client_for(vera).post(
            reverse("portal:live_check"), {"delay_seconds": "5"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert b"Timer set for 09:00:05" in response.content
        job = ScheduledJob.objects.get()
        assert job.task == "opsportal.portal.tasks.deliver_live_check"
        assert job.run_at == timezone.now() + timedelta(seconds=5)
        assert job.kwargs["user_id"] == vera.pk


def test_live_check_rejects_a_bad_delay_and_schedules_nothing(vera, client_for):
    response = client_for(vera).post(reverse("portal:live_check"), {"delay_seconds": "-3"})
    assert response.status_code == 400
    assert b"aria-invalid" in response.content
    assert ScheduledJob.objects.count() == 0
