"""Demo staff: one user per role, with known passwords printed by seed_demo."""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from accounts.roles import AGENTS, COMPLIANCE_OFFICERS, MANAGERS


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str


DEMO_LOGINS = (
    DemoLogin("admin", "admin-demo-2026", "Superuser"),
    DemoLogin("agent", "agent-demo-2026", AGENTS),
    DemoLogin("agent2", "agent-demo-2026", AGENTS),
    DemoLogin("compliance", "compliance-demo-2026", COMPLIANCE_OFFICERS),
    DemoLogin("manager", "manager-demo-2026", MANAGERS),
)

NAMES = {
    "admin": ("Ada", "Admin"),
    "agent": ("Alex", "Agent"),
    "agent2": ("Sam", "Second-Agent"),
    "compliance": ("Chris", "Compliance"),
    "manager": ("Morgan", "Manager"),
}


def demo_users_seed() -> list[DemoLogin]:
    user_model = get_user_model()
    for login in DEMO_LOGINS:
        first, last = NAMES[login.username]
        user, _ = user_model.objects.get_or_create(username=login.username)
        user.first_name, user.last_name = first, last
        user.email = f"{login.username}@demo.consentdesk.test"
        user.is_superuser = login.role == "Superuser"
        user.is_staff = login.role in ("Superuser", COMPLIANCE_OFFICERS, MANAGERS)
        user.is_active = True
        user.set_password(login.password)
        user.save()
        if login.role != "Superuser":
            user.groups.set([Group.objects.get(name=login.role)])
    return list(DEMO_LOGINS)
