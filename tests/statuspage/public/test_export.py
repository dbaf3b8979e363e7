"""Static export: every public surface as a file, and a re-export after each public change."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command

from opsportal.core.services import job_execute, jobs_claim_due
from opsportal.incidents import services as incident_services
from statuspage.models import Component
from statuspage.services import component_set_status

pytestmark = pytest.mark.django_db


def test_export_writes_the_page_json_feeds_and_assets(tmp_path, rob):
    Component.objects.create(name="Checkout")
    incident = incident_services.incident_declare(
        actor=rob, title="SECRET internal", public_title="Checkout errors", severity="P2"
    )
    incident_services.incident_post_update(
        actor=rob, incident=incident, status="investigating", body="On it."
    )
    call_command("export_statuspage", str(tmp_path))
    index = (tmp_path / "index.html").read_text()
    assert "Checkout errors" in index and "SECRET" not in index
    assert "csrf" not in index.lower()
    assert json.loads((tmp_path / "api/v2/summary.json").read_text())["components"][0]["name"] == "Checkout"
    assert (tmp_path / f"incidents/{incident.pk}/index.html").exists()
    assert (tmp_path / "history.rss").read_text().startswith("<?xml")
    assert (tmp_path / "maintenance.ics").read_text().startswith("BEGIN:VCALENDAR")
    assert (tmp_path / "static/js/status.js").exists()
    assert 'src="/static/js/status.js"' in index


def test_a_public_change_re_exports_when_an_export_dir_is_set(
    tmp_path, rob, settings, django_capture_on_commit_callbacks
):
    settings.STATUSPAGE_EXPORT_DIR = str(tmp_path)
    checkout = Component.objects.create(name="Checkout")
    with time_machine.travel("2026-11-27 14:00:00+00:00", tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            component_set_status(actor=rob, component=checkout, status="major_outage")
        traveller.shift(timedelta(seconds=1))
        for job_id in jobs_claim_due():
            job_execute(job_id=job_id)
    status = json.loads((tmp_path / "api/v2/status.json").read_text())
    assert status["status"]["indicator"] == "critical"
