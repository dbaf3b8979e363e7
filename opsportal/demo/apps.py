from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data (load_demo): an app only so its management command is found."""

    name = "opsportal.demo"
