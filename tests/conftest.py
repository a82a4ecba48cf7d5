import pytest
from django.contrib.auth.models import Group
from django.db import connection

from accounts.roles import AGENTS, COMPLIANCE_OFFICERS, MANAGERS
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-staple"


def pytest_sessionstart(session):
    # The tests marked `sqlite` (portable paths) also run on SQLite: only when
    # exactly that subset is selected (`-m sqlite`, as `.ci/run` does).
    if connection.vendor == "sqlite" and session.config.getoption("markexpr") == "sqlite":
        return
    if connection.vendor != "postgresql":
        raise pytest.UsageError(
            "The suite runs on PostgreSQL: run `make test`, or set DATABASE_URL=postgres://... yourself."
        )


def _persona(username: str, role: str | None, *, staff: bool = False):
    user = UserFactory(username=username, password=PASSWORD, is_staff=staff)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def agent(db):
    return _persona("alice.agent", AGENTS)


@pytest.fixture
def compliance_officer(db):
    return _persona("carol.compliance", COMPLIANCE_OFFICERS, staff=True)


@pytest.fixture
def manager(db):
    return _persona("mike.manager", MANAGERS, staff=True)


@pytest.fixture
def outsider(db):
    return _persona("oscar.outsider", None)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", password=PASSWORD, is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    """pytest-django's admin_client, past two-factor like a real superuser."""
    from tests.otp import login_with_otp

    login_with_otp(client, admin_user)
    return client
