"""manage.py partners list | create NAME [--contact "Name <email>"]... | deactivate SLUG | activate SLUG |
add-contact SLUG "Name <email>": partner organisations from the command line (the portal's Tokens page does
the same)."""

from email.utils import parseaddr

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from opsportal.core.identity_selectors import partner_by_slug, partners
from opsportal.core.identity_services import partner_add_contact, partner_create, partner_set_active
from opsportal.core.management.commands.create_api_token import service_error_text
from opsportal.core.services import SYSTEM


def _contact(text: str) -> tuple[str, str]:
    name, email = parseaddr(text)
    if not email or "@" not in email:
        raise CommandError(f'Write a contact as "Name <email>", not {text!r}.')
    return name or email.split("@", 1)[0], email


class Command(BaseCommand):
    help = "List, create, deactivate or activate partner organisations, and add contacts."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="every partner, its state, contacts and active tokens")
        create = sub.add_parser("create", help="a new partner")
        create.add_argument("name")
        create.add_argument("--contact", action="append", default=[], help='"Name <email>"; repeatable')
        for action in ("deactivate", "activate"):
            sub.add_parser(action, help=f"{action} a partner (by slug)").add_argument("slug")
        add = sub.add_parser("add-contact", help="add a contact to a partner")
        add.add_argument("slug")
        add.add_argument("contact", help='"Name <email>"')

    def _partner(self, slug):
        partner = partner_by_slug(slug)
        if partner is None:
            raise CommandError(f"No partner {slug!r}; `manage.py partners list` shows them.")
        return partner

    def handle(self, *args, action, **options):
        try:
            if action == "list":
                for partner in partners():
                    contacts = ", ".join(str(c) for c in partner.contacts.all()) or "no contacts"
                    state = "active" if partner.is_active else "deactivated"
                    self.stdout.write(
                        f"{partner.slug}\t{partner.name}\t{state}\t{partner.active_tokens} tokens\t{contacts}"
                    )
            elif action == "create":
                contacts = [_contact(text) for text in options["contact"]]
                partner = partner_create(actor=SYSTEM, name=options["name"], contacts=contacts)
                self.stdout.write(partner.slug)
                self.stderr.write(
                    f"Partner {partner.name} created; give it a token with "
                    f"`manage.py create_api_token --partner {partner.slug} --scopes statuspage:read`."
                )
            elif action in ("deactivate", "activate"):
                partner = self._partner(options["slug"])
                partner_set_active(actor=SYSTEM, partner=partner, active=action == "activate")
                self.stdout.write(f"{partner.slug} {action}d")
            elif action == "add-contact":
                name, email = _contact(options["contact"])
                partner_add_contact(
                    actor=SYSTEM, partner=self._partner(options["slug"]), name=name, email=email
                )
                self.stdout.write(f"{email} added")
        except ValidationError as exc:
            raise CommandError(service_error_text(exc)) from None
