import io
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection

from accounts.roles import AGENTS, COMPLIANCE_OFFICERS, MANAGERS
from core.db_roles import as_owner, roles_split
from tests.factories import UserFactory
from tests.owner import restamp, suite_roles_ensure

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker, django_db_keepdb):
    """pytest-django's, as the owner (tests.owner): the test database is
    created, migrated (then the app's grants) and dropped by the owner; the
    tests connect as the app's role."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock(), as_owner():
        if roles_split():
            with connection._nodb_cursor() as cursor:
                suite_roles_ensure(cursor)
        config = setup_databases(verbosity=0, interactive=False, keepdb=django_db_keepdb)
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock(), as_owner():
            teardown_databases(config, verbosity=0)


@pytest.fixture(scope="session")
def ledger_key_path(tmp_path_factory) -> Path:
    """One checkpoint signing key for the session (ledger_keygen's, as `make run` makes one)."""
    path = tmp_path_factory.mktemp("ledger") / "ledger-key.pem"
    call_command("ledger_keygen", str(path), stdout=io.StringIO())
    return path


@pytest.fixture(autouse=True)
def _ledger(ledger_key_path, settings):
    """Each test signs with the session's key into a checkpoint store of its
    own (created on first write): the database rolls back between tests, the
    store would not."""
    settings.LEDGER_KEY_PATH, settings.LEDGER_KEY_CONFIGURED = ledger_key_path, True
    settings.LEDGER_CHECKPOINT_DIR = ledger_key_path.parent / f"checkpoints-{uuid.uuid4().hex}"


@pytest.fixture
def decisions_follow_the_clock(monkeypatch):
    """The database stamps each decision's `recorded_at` (the app cannot
    back-date one), so time_machine does not move it: tests of pages that
    place decisions on a moved clock re-stamp theirs to it, as the owner with
    the log's triggers off (what the app's role cannot do)."""
    from django.utils import timezone

    from compliance import services

    append = services.decision_log_append

    def append_on_the_test_clock(**kwargs):
        record = append(**kwargs)
        restamp(record.pk, timezone.now())
        record.refresh_from_db(fields=["recorded_at"])
        return record

    monkeypatch.setattr(services, "decision_log_append", append_on_the_test_clock)


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
