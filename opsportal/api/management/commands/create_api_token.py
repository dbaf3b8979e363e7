"""manage.py create_api_token USERNAME --scopes a,b [--name N] [--expires-days D]: prints the token once."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from opsportal.api.scopes import ALL_SCOPES
from opsportal.api.services import api_token_create
from opsportal.core.services import SYSTEM


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only this once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--scopes", required=True, help=f"comma-separated, from: {', '.join(ALL_SCOPES)}")
        parser.add_argument(
            "--name", default="", help="what will use the token (default: 'created on the command line')"
        )
        parser.add_argument("--expires-days", type=int, default=None, help="days until the token expires")

    def handle(self, *args, username, scopes, name, expires_days, **options):
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        expires_at = timezone.now() + timedelta(days=expires_days) if expires_days else None
        # Whoever can run manage.py is trusted; the audit log records the command line as 'system'.
        try:
            token, plaintext = api_token_create(
                actor=SYSTEM,
                user=user,
                name=name or "created on the command line",
                scopes=scopes,
                expires_at=expires_at,
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        self.stderr.write(
            f"Token {token.prefix}… for {username} with scopes {', '.join(token.scopes)}; "
            "store it now, it is not shown again."
        )
        self.stdout.write(plaintext)
