"""manage.py load_demo: demo regions, staff, teams and components (idempotent)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from opsportal.demo.data import DEMO_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Load demo data (regions, staff, teams, components with history). Safe to run repeatedly."

    def add_arguments(self, parser):
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="load demo logins even with DEBUG off (they share a known password)",
        )

    def handle(self, *args, allow_production: bool, **options):
        if not settings.DEBUG and not allow_production:
            raise CommandError(
                "Refusing to create demo logins with a known password while DEBUG is off. "
                "Pass --allow-production if this really is a demo server."
            )
        created = demo_load()
        if any(created.values()):
            summary = ", ".join(
                f"{count} {kind.replace('_', ' ')}" for kind, count in created.items() if count
            )
            self.stdout.write(f"Demo data loaded: {summary}. Password for every demo login: {DEMO_PASSWORD}")
        else:
            self.stdout.write("Demo data already present; nothing to do.")
