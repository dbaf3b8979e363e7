"""manage.py run_embedded: one process serving pages, WebSockets, background work and timers."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management.base import BaseCommand

from opsportal.embedded.worker import EmbeddedWorker


class Command(BaseCommand):
    help = "Serve opsportal in embedded mode: HTTP + WebSockets (daphne), background worker and timers in-process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--worker-threads", type=int, default=2)

    def handle(self, *args, host: str, port: int, worker_threads: int, verbosity: int, **options):
        from daphne.endpoints import build_endpoint_description_strings
        from daphne.server import Server

        from opsportal.asgi import application

        logging.getLogger("daphne").setLevel(logging.WARNING)
        worker = None
        if settings.RUNNING_MODE == "embedded":
            worker = EmbeddedWorker(threads=worker_threads).start()
        else:
            self.stdout.write("Production mode: background work runs in `celery worker` and `celery beat`.")

        base = f"http://{host}:{port}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"opsportal is running ({settings.RUNNING_MODE} mode, {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})",
                    f"  Status page   {base}/",
                    f"  Staff portal  {base}/portal/",
                    f"  API docs      {base}/api/v1/docs/",
                    f"  Health        {base}/healthz   {base}/readyz",
                    "",
                ]
            )
        )
        from opsportal.demo.data import DEMO_PASSWORD, demo_logins

        logins = demo_logins()
        if logins:
            self.stdout.write(f"Demo logins (password '{DEMO_PASSWORD}'):")
            for username, role in logins:
                self.stdout.write(f"  {username:<10} {role}")
            self.stdout.write("")
        self.stdout.flush()
        try:
            Server(
                application=application,
                endpoints=build_endpoint_description_strings(host=host, port=port),
                verbosity=0,
            ).run()
        finally:
            if worker is not None:
                worker.stop()
