from django.apps import AppConfig


class StatuspagePublicConfig(AppConfig):
    """The status page's public door. Its own app so its commands, template tags and tasks are found, and so
    it can listen for "public content changed" without the domain importing it."""

    name = "statuspage.public"
    label = "statuspage_public"
    verbose_name = "Status page (public)"

    def ready(self):
        from opsportal.core.public_content import public_content_listen
        from statuspage.public.publishing import statuspage_changed

        public_content_listen(statuspage_changed)
