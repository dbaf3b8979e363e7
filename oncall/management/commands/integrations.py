"""manage.py integrations list [--team SLUG] [--kind KIND] | key TEAM NAME: the doors monitoring pages through,
with their URLs and secret keys (the integration's portal page shows the same)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from oncall import alerting_selectors as selectors
from oncall.models import IntegrationKind

# Where each kind of integration is sent (oncall/ingest/urls.py). PagerDuty's key travels in the body as the
# routing_key; the others carry it in the path.
INGEST_PATHS = {
    IntegrationKind.PAGERDUTY: "/v2/enqueue",
    IntegrationKind.ALERTMANAGER: "/hooks/alertmanager/{key}",
    IntegrationKind.GENERIC: "/hooks/generic/{key}",
    IntegrationKind.HEARTBEAT: "/ping/{key}",
}


def integration_url(integration) -> str:
    return settings.PUBLIC_URL.rstrip("/") + INGEST_PATHS[integration.kind].format(key=integration.key)


class Command(BaseCommand):
    help = "List integrations (team, name, kind, URL, key), or print one integration's key."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="tab-separated: team, name, kind, URL, key")
        listing.add_argument("--team", help="a team's slug")
        listing.add_argument("--kind", choices=IntegrationKind.values)
        key = sub.add_parser("key", help="print one integration's key, for scripts")
        key.add_argument("team", help="the team's slug")
        key.add_argument("name", help="the integration's name")

    def handle(self, *args, action, **options):
        integrations = selectors.integrations()
        if action == "key":
            found = integrations.filter(team__slug=options["team"], name=options["name"]).first()
            if found is None:
                raise CommandError("No such integration; `manage.py integrations list` shows them.")
            self.stdout.write(found.key)
            return
        if options["team"]:
            integrations = integrations.filter(team__slug=options["team"])
        if options["kind"]:
            integrations = integrations.filter(kind=options["kind"])
        for integration in integrations:
            state = "" if integration.enabled else "\t(disabled)"
            self.stdout.write(
                f"{integration.team.slug}\t{integration.name}\t{integration.kind}\t"
                f"{integration_url(integration)}\t{integration.key}{state}"
            )
