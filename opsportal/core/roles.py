"""Staff roles: viewer < responder < incident commander < admin, as Django groups holding permissions.

`Permission` is the one list of what a role can hold; every check (services, views, the API, sockets) names a
member of it, never a string.
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    ACCESS_PORTAL = "core.access_portal"
    RESPOND = "core.respond"
    COMMAND_INCIDENTS = "core.command_incidents"
    ADMINISTER = "core.administer"

    @property
    def codename(self) -> str:
        return self.value.split(".", 1)[1]

    @property
    def description(self) -> str:
        return PERMISSION_DESCRIPTIONS[self]

    @property
    def label(self) -> str:
        return self.codename.replace("_", " ")


PERMISSION_DESCRIPTIONS = {
    Permission.ACCESS_PORTAL: "Can use the staff portal (viewer)",
    Permission.RESPOND: "Can act on alerts and incidents (responder)",
    Permission.COMMAND_INCIDENTS: "Can command incidents (incident commander)",
    Permission.ADMINISTER: "Can manage staff, tokens and settings (admin)",
}
# The names checks use.
ACCESS_PORTAL = Permission.ACCESS_PORTAL
RESPOND = Permission.RESPOND
COMMAND_INCIDENTS = Permission.COMMAND_INCIDENTS
ADMINISTER = Permission.ADMINISTER


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
ROLE_PERMISSIONS: dict[Role, tuple[Permission, ...]] = {
    Role.VIEWER: (ACCESS_PORTAL,),
    Role.RESPONDER: (RESPOND,),
    Role.INCIDENT_COMMANDER: (COMMAND_INCIDENTS,),
    Role.ADMIN: (ADMINISTER,),
}
ROLE_ORDER: tuple[Role, ...] = (Role.VIEWER, Role.RESPONDER, Role.INCIDENT_COMMANDER, Role.ADMIN)
# A partner organisation acts through an account named "partner:<slug>"; the colon keeps staff usernames
# (letters, digits, @.+-_) from ever colliding with one.
PARTNER_ACCOUNT_PREFIX = "partner:"


def permissions_for(role: Role) -> set[str]:
    granted: set[str] = set()
    for candidate in ROLE_ORDER:
        granted.update(ROLE_PERMISSIONS[candidate])
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
    return role_from_group_names({group.name for group in user.groups.all()})


def role_from_group_names(names: set[str]) -> Role | None:
    """The highest role among these group names (for callers that read the groups in their own query)."""
    for role in reversed(ROLE_ORDER):
        if role.value in names:
            return role
    return None


def is_partner_account(user) -> bool:
    return user.get_username().startswith(PARTNER_ACCOUNT_PREFIX)


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
