from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "opsportal.incidents"
    label = "incidents"
