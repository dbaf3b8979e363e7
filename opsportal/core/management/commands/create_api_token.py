"""manage.py create_api_token (USERNAME | --partner SLUG) --scopes a,b [--name N] [--expires-days D]:
prints the token once."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from opsportal.core.identity_selectors import partner_by_slug
from opsportal.core.identity_services import api_token_create
from opsportal.core.scopes import ALL_SCOPES, PARTNER_SCOPES
from opsportal.core.services import SYSTEM


def service_error_text(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)


class Command(BaseCommand):
    help = "Create an API token for a staff member or a partner and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="the staff member the token acts as")
        parser.add_argument("--partner", help="a partner's slug (see `manage.py partners list`) instead")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"comma-separated, from: {', '.join(ALL_SCOPES)} (partners: {', '.join(PARTNER_SCOPES)})",
        )
        parser.add_argument(
            "--name", default="", help="what will use the token (default: 'created on the command line')"
        )
        parser.add_argument("--expires-days", type=int, default=None, help="days until the token expires")

    def handle(self, *args, username, partner, scopes, name, expires_days, **options):
        if bool(username) == bool(partner):
            raise CommandError("Name a staff member (USERNAME) or a partner (--partner SLUG), not both.")
        holder = {}
        if partner:
            found = partner_by_slug(partner)
            if found is None:
                raise CommandError(f"No partner {partner!r}; `manage.py partners list` shows them.")
            holder = {"partner": found}
        else:
            User = get_user_model()
            try:
                holder = {"user": User.objects.get(username=username)}
            except User.DoesNotExist:
                raise CommandError(f"No user named {username!r}.") from None
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        # Whoever can run manage.py is trusted; the audit log records the command line as 'system'.
        try:
            token, plaintext = api_token_create(
                actor=SYSTEM,
                name=name or "created on the command line",
                scopes=scopes,
                expires_at=expires_at,
                **holder,
            )
        except ValidationError as exc:
            raise CommandError(service_error_text(exc)) from None
        self.stderr.write(
            f"Token {token.prefix}… for {token.holder} with scopes {', '.join(token.scopes)}; "
            "store it now, it is not shown again."
        )
        self.stdout.write(plaintext)
