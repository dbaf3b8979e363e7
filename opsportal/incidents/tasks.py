"""Incident background work: the SLA checker. Safe to run twice (events carry dedupe keys)."""

from celery import shared_task

from opsportal.incidents import selectors, sla_services


@shared_task(name="opsportal.incidents.tasks.check_sla_clocks")
def check_sla_clocks() -> int:
    written = 0
    for incident_id in selectors.incident_ids_with_running_clocks():
        written += len(sla_services.incident_check_sla(incident_id=incident_id))
    return written
