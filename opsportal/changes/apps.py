from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "opsportal.changes"
    label = "changes"
