from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "opsportal.core"
    label = "core"
    verbose_name = "opsportal core"

    def ready(self):
        from django.conf import settings

        from opsportal.core.roles import install_roles_after_migrate
        from opsportal.core.startup import log_startup_warnings

        log_startup_warnings(settings)

        # Role groups are part of the schema: they exist after every migrate, on every database.
        post_migrate.connect(install_roles_after_migrate, sender=self)

        from django.urls import register_converter

        from opsportal.core.converters import IdConverter

        # <id:...> in any URLconf: a row id bounded to the 64-bit column (a huge one is a 404, not an overflow).
        register_converter(IdConverter, "id")
