"""Default SLA targets: P0 1/5/60 min, P1 5/15/240, P2 15/60/1440; P3 and P4 looser. Admins edit them."""

from django.db import migrations

DEFAULTS = [
    # severity, description, detect, respond, resolve (minutes), commander needed, post-mortem needed
    ("P0", "Total outage: checkout or payments down for most merchants", 1, 5, 60, True, True),
    ("P1", "Major degradation: a core flow failing for many merchants", 5, 15, 240, True, True),
    ("P2", "Partial impact: some merchants or a secondary feature", 15, 60, 1440, False, False),
    ("P3", "Minor: workaround exists, little merchant impact", 60, 240, 4320, False, False),
    ("P4", "Cosmetic or internal only", 240, 1440, 10080, False, False),
]


def create(apps, schema_editor):
    SeverityPolicy = apps.get_model("incidents", "SeverityPolicy")
    for severity, description, detect, respond, resolve, commander, postmortem in DEFAULTS:
        SeverityPolicy.objects.get_or_create(
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


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
