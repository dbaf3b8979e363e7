from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IncidentsConfig(AppConfig):
    name = "opsportal.incidents"
    label = "incidents"

    def ready(self):
        # Default SLA policies exist after every migrate and every test flush; admin edits are kept.
        post_migrate.connect(ensure_default_policies, sender=self)


DEFAULT_POLICIES = [
    # severity, description, detect, respond, resolve (minutes), commander needed, post-mortem needed
    ("P0", "Total outage: checkout or payments down for most merchants", 1, 5, 60, True, True),
    ("P1", "Major degradation: a core flow failing for many merchants", 5, 15, 240, True, True),
    ("P2", "Partial impact: some merchants or a secondary feature", 15, 60, 1440, False, False),
    ("P3", "Minor: workaround exists, little merchant impact", 60, 240, 4320, False, False),
    ("P4", "Cosmetic or internal only", 240, 1440, 10080, False, False),
]


def ensure_default_policies(sender=None, using="default", **kwargs) -> None:
    from opsportal.incidents.models import SeverityPolicy

    for severity, description, detect, respond, resolve, commander, postmortem in DEFAULT_POLICIES:
        SeverityPolicy.objects.using(using).get_or_create(
            severity=severity,
            defaults={
                "description": description,
                "detect_minutes": detect,
                "respond_minutes": respond,
                "resolve_minutes": resolve,
                "requires_commander": commander,
                "requires_postmortem": postmortem,
            },
        )
