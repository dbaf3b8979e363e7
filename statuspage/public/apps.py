from django.apps import AppConfig


class StatuspagePublicConfig(AppConfig):
    """The status page's public door: its own app so its commands, template tags and tasks are found."""

    name = "statuspage.public"
    label = "statuspage_public"
    verbose_name = "Status page (public)"
