"""manage.py export_statuspage DIR [--full]: the public status page as static files."""

from django.core.management.base import BaseCommand

from statuspage.public.export import export_statuspage


class Command(BaseCommand):
    help = (
        "Write the public status page, its /api/v2 JSON, feeds and calendar as static files into DIR (with a "
        ".gz copy of each for nginx's gzip_static). Only what changed since the last export of DIR is "
        "rendered and written; --full renders everything."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument(
            "--full", action="store_true", help="render every page again (e.g. after changing the templates)"
        )

    def handle(self, *args, directory: str, full: bool, **options):
        outcome = export_statuspage(directory, full=full)
        self.stdout.write(
            f"Exported to {directory} in {outcome.seconds:.2f} s ({'full' if outcome.full else 'incremental'}): "
            f"{len(outcome.rendered)} rendered, {len(outcome.written)} written, "
            f"{len(outcome.unchanged)} unchanged, {len(outcome.removed)} removed"
        )
