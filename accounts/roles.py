"""The three staff roles of ConsentDesk and what each may do.

The groups are created by a migration (their names are part of the public
contract); their model permissions are kept in step with ROLE_PERMISSIONS
after every `migrate`, so a permission added here reaches every deployment.
"""

from collections.abc import Iterable

from django.contrib.auth.management import create_permissions

AGENTS = "Agents"
COMPLIANCE_OFFICERS = "Compliance officers"
MANAGERS = "Managers"
ALL_ROLES = (AGENTS, COMPLIANCE_OFFICERS, MANAGERS)

# "app_label.codename" per role. Compliance officers change rules, never history.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    AGENTS: [
        "customers.view_customer",
        "customers.view_phonenumber",
        "helpdesk.view_ticket",
        "helpdesk.add_ticket",
        "helpdesk.change_ticket",
        "helpdesk.view_comment",
        "helpdesk.add_comment",
        "helpdesk.view_ticketevent",
        "helpdesk.view_queue",
    ],
    COMPLIANCE_OFFICERS: [
        "customers.view_customer",
        "customers.view_phonenumber",
        "consent.view_consentgrant",
        "consent.view_dncrequest",
        "consent.add_dncrequest",  # opt-outs: the one change they make to records
        "consent.view_inboundmessage",
        "consent.view_suppressionentry",
        "campaigns.view_campaign",
        "campaigns.view_campaigntarget",
        "campaigns.view_callattempt",
        "compliance.view_jurisdictionrule",
        "compliance.change_jurisdictionrule",
        "compliance.add_jurisdictionrule",
        "compliance.view_decisionrecord",
        "compliance.view_retentionpolicy",
        "compliance.change_retentionpolicy",
        "compliance.view_rndpolicy",
        "compliance.change_rndpolicy",  # the company's RND policy (flag or block), with a note
        "compliance.view_rndquery",
        "compliance.view_purgerun",
        "accounts.view_trainingacknowledgement",
        "accounts.view_accesslog",  # who saw what
        "registry.view_registrysource",
        "registry.add_registrysource",
        "registry.change_registrysource",  # and upload files into its inbox
        "registry.view_syncrun",
        "registry.view_areacodesync",
        "registry.view_shrinkhold",
        "registry.change_shrinkhold",  # approve or reject a file held by the shrink guard (not their own)
        "registry.view_litigatorreview",
        "registry.change_litigatorreview",  # sign off or suppress a number flagged by a litigator list
        "django_celery_beat.view_periodictask",
        "django_celery_beat.change_periodictask",  # "run now" from the beat admin
        "django_celery_beat.view_crontabschedule",
        "django_celery_beat.view_intervalschedule",
        "helpdesk.view_ticket",
        "helpdesk.change_ticket",  # flag, move or close a ticket; history keeps every change
        "helpdesk.view_comment",
        "helpdesk.view_ticketevent",
        "helpdesk.view_queue",
        "helpdesk.view_datarequestlog",
    ],
    MANAGERS: [
        "customers.add_customer",
        "customers.change_customer",
        "customers.view_customer",
        "customers.add_phonenumber",
        "customers.change_phonenumber",
        "customers.view_phonenumber",
        "consent.add_consentgrant",
        "consent.view_consentgrant",
        "consent.add_dncrequest",
        "consent.view_dncrequest",
        "consent.view_inboundmessage",
        "consent.change_inboundmessage",
        "campaigns.add_campaign",
        "campaigns.change_campaign",
        "campaigns.view_campaign",
        "campaigns.add_campaigntarget",
        "campaigns.view_campaigntarget",
        "campaigns.view_callattempt",
        "compliance.view_jurisdictionrule",
        "accounts.add_trainingacknowledgement",
        "accounts.view_trainingacknowledgement",
        "accounts.change_trainingpolicy",
        "accounts.view_trainingpolicy",
        "helpdesk.view_ticket",
        "helpdesk.add_ticket",
        "helpdesk.change_ticket",
        "helpdesk.view_comment",
        "helpdesk.add_comment",
        "helpdesk.view_ticketevent",
        "helpdesk.view_queue",
        "helpdesk.add_queue",
        "helpdesk.change_queue",
    ],
}


_ROLES_ATTRIBUTE = "_consentdesk_roles"  # the roles read for this request, on the user object


def user_roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    cached = getattr(user, _ROLES_ATTRIBUTE, None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ALL_ROLES).values_list("name", flat=True))
        user_roles_remember(user, cached)
    return cached


def user_roles_remember(user, roles: set[str]) -> None:
    """Roles already read with the user (the API's token query), so that
    user_roles asks the database nothing more this request."""
    setattr(user, _ROLES_ATTRIBUTE, roles)


def has_role(user, *roles: str) -> bool:
    """True if the user holds any of `roles`. Superusers hold every role."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(user_roles(user) & set(roles))


def role_permissions_sync(*, apps=None, using: str = "default") -> None:
    from django.apps import apps as global_apps

    apps = apps or global_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=role)
        group.permissions.set(_permissions(permission_model, names, using))


def _permissions(permission_model, names: Iterable[str], using: str):
    wanted = [name.split(".", 1) for name in names]
    found = list(
        permission_model.objects.using(using)
        .filter(content_type__app_label__in={app for app, _ in wanted}, codename__in={c for _, c in wanted})
        .select_related("content_type")
    )
    by_name = {f"{p.content_type.app_label}.{p.codename}": p for p in found}
    missing = sorted(set(names) - set(by_name))
    if missing:
        raise LookupError(f"Role permissions name unknown permissions: {', '.join(missing)}")
    return list(by_name.values())


def sync_role_permissions_after_migrate(sender, using="default", apps=None, **kwargs) -> None:
    from django.apps import apps as global_apps

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    role_permissions_sync(using=using)
