from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "opsportal.api"
    label = "api"
    verbose_name = "Partner API"

    def ready(self):
        from opsportal.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
