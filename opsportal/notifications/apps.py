from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "opsportal.notifications"
    label = "notifications"
