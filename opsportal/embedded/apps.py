from django.apps import AppConfig


class EmbeddedConfig(AppConfig):
    """Embedded mode's runner (run_embedded): an app only so its management command is found."""

    name = "opsportal.embedded"
