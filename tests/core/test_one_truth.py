"""One truth per rule (STYLE.md): a helper, a constant or a check written
once, in the module that owns it, and used everywhere else. These tests read
the application's source: a second spelling fails them."""

import ast
from pathlib import Path

from django.contrib.auth.models import AnonymousUser

from config.history import history_user
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "campaigns", "compliance", "config", "consent", "core", "customers", "helpdesk")


def app_sources():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), path.read_text()


def where(predicate) -> list[str]:
    return [name for name, text in app_sources() if predicate(text)]


def string_constants(text: str) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_the_acting_user_is_worked_out_by_one_helper(db):
    user = UserFactory()
    assert history_user(user) is user
    assert history_user(AnonymousUser()) is None
    assert history_user(None) is None
    assert where(lambda text: 'is_authenticated", False)' in text) == ["config/history.py"]
