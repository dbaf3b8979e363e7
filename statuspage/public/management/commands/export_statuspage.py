"""manage.py export_statuspage DIR: the public status page as static files."""

from django.core.management.base import BaseCommand

from statuspage.public.export import export_statuspage


class Command(BaseCommand):
    help = "Write the public status page, its /api/v2 JSON, feeds and calendar as static files into DIR."

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, *args, directory: str, **options):
        written = export_statuspage(directory)
        self.stdout.write(f"Exported {len(written)} files to {directory}")
