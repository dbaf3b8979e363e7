"""Staff roles: viewer < responder < incident commander < admin, as Django groups holding permissions."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """Every capability a role can hold: the one list views, services, consumers and the API check."""

    ACCESS_PORTAL = "core.access_portal"
    RESPOND = "core.respond"
    COMMAND_INCIDENTS = "core.command_incidents"
    ADMINISTER = "core.administer"

    @property
    def label(self) -> str:
        return self.value.split(".", 1)[1].replace("_", " ")


class Role(StrEnum):
    VIEWER = "viewer"
    RESPONDER = "responder"
    INCIDENT_COMMANDER = "incident_commander"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# Each role holds its own permissions plus those of every role below it.
# Later apps add their model permissions here, so one table says who may do what.
ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.VIEWER: (Permission.ACCESS_PORTAL,),
    Role.RESPONDER: (Permission.RESPOND,),
    Role.INCIDENT_COMMANDER: (Permission.COMMAND_INCIDENTS,),
    Role.ADMIN: (Permission.ADMINISTER,),
}
ROLE_ORDER: tuple[Role, ...] = (Role.VIEWER, Role.RESPONDER, Role.INCIDENT_COMMANDER, Role.ADMIN)
# A partner organisation acts through an account named "partner:<slug>"; the colon keeps staff usernames
# (letters, digits, @.+-_) from ever colliding with one.
PARTNER_ACCOUNT_PREFIX = "partner:"


def permissions_for(role: Role) -> set[str]:
    granted: set[str] = set()
    for candidate in ROLE_ORDER:
        granted.update(str(permission) for permission in ROLE_PERMISSIONS[candidate])
        if candidate == role:
            return granted
    raise ValueError(role)


def role_of(user) -> Role | None:
    """The highest role a user holds (superusers are admins); None for non-staff."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    # A partner's account is never staff, whatever groups someone gave it.
    if is_partner_account(user):
        return None
    names = {group.name for group in user.groups.all()}
    for role in reversed(ROLE_ORDER):
        if role.value in names:
            return role
    return None


def is_partner_account(user) -> bool:
    return user.username.startswith(PARTNER_ACCOUNT_PREFIX)


def role_allows(role: Role | None, permission: Permission | str) -> bool:
    """Whether holding `role` grants `permission`, without touching the database."""
    return role is not None and str(permission) in permissions_for(role)


def install_roles() -> None:
    """Create the role groups and give each exactly its permissions. Safe to run any number of times."""
    from django.contrib.auth.models import Group, Permission

    for role in ROLE_ORDER:
        group, _ = Group.objects.get_or_create(name=role.value)
        wanted = []
        for dotted in sorted(permissions_for(role)):
            app_label, codename = dotted.split(".", 1)
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def install_roles_after_migrate(sender, **kwargs) -> None:
    # Permissions are created by another post_migrate receiver; make sure they exist first.
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=kwargs.get("using", "default"))
    install_roles()
