"""core.prepared: a SELECT compiled once answers as the queryset itself
would, with each call's own values, on every thread's own connection."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.db.models import Count, Exists, OuterRef
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from core.prepared import PreparedSelect

pytestmark = pytest.mark.django_db

User = get_user_model()
_GROUPS = Exists(User.groups.through.objects.filter(user_id=OuterRef("user_id")))
TOKEN = PreparedSelect(
    lambda key: Token.objects.select_related("user").annotate(in_a_group=_GROUPS).filter(key=key), "key"
)


def _same(left, right) -> None:
    assert type(left) is type(right)
    assert {f.attname: getattr(left, f.attname) for f in left._meta.concrete_fields} == {
        f.attname: getattr(right, f.attname) for f in right._meta.concrete_fields
    }


def test_it_builds_what_the_queryset_builds_in_one_statement(agent, outsider):
    for user in (agent, outsider):
        key = Token.objects.create(user=user).key
        expected = Token.objects.select_related("user").annotate(in_a_group=_GROUPS).get(key=key)
        with CaptureQueriesContext(connection) as queries:
            token = TOKEN.first(key=key)
            assert token is not None
            _same(token, expected)
            _same(token.user, expected.user)  # select_related: no query of its own
            assert token.in_a_group is expected.in_a_group is (user == agent)
            assert not token._state.adding and token._state.db == "default"
        assert len(queries) == 1


def test_each_call_reads_its_own_value_and_a_missing_row_is_none(agent, manager):
    first, second = (Token.objects.create(user=user).key for user in (agent, manager))
    assert TOKEN.first(key=first).user == agent
    assert TOKEN.first(key=second).user == manager
    assert TOKEN.first(key="0" * 40) is None


def test_a_row_changed_after_compiling_is_read_as_it_is_now(agent):
    key = Token.objects.create(user=agent).key
    assert TOKEN.first(key=key).user.is_active
    User.objects.filter(pk=agent.pk).update(is_active=False)
    assert not TOKEN.first(key=key).user.is_active


@pytest.mark.django_db(transaction=True)
def test_another_thread_compiles_for_its_own_connection(agent):
    key = Token.objects.create(user=agent).key
    assert TOKEN.first(key=key) is not None  # compiled for this thread's connection
    found = []

    def other():
        try:
            found.append(TOKEN.first(key=key).user.pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert found == [agent.pk]


def test_a_value_that_is_not_one_plain_parameter_is_refused(agent):
    twice = PreparedSelect(lambda key: Token.objects.filter(key=key) | Token.objects.filter(key=key), "key")
    with pytest.raises(ValueError, match="'key' must be one plain parameter of the statement, found 2"):
        twice.first(key="x")
    counted = PreparedSelect(
        lambda name: User.objects.annotate(n=Count("groups")).filter(username=name), "name"
    )
    assert counted.first(name=agent.username).n == 1
