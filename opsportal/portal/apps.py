from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "opsportal.portal"
    label = "portal"
    verbose_name = "Staff portal"
