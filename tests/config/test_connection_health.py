"""The kept database connection's health check (config.postgresql): it costs a
live connection no round trip, and still finds one the server has ended, so
the request after a database restart gets a new connection, not an error."""

import os
import resource
import time

import pytest
from django.db import connection, connections

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept():
    """A second connection to the test database, as a web worker keeps one between requests."""
    wrapper = connections.create_connection("default")
    wrapper.ensure_connection()
    yield wrapper
    wrapper.close()


def _last_statement(pid: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0]


def test_a_live_connection_is_found_usable_without_a_statement(kept):
    with kept.cursor() as cursor:
        cursor.execute("SELECT 'the last thing it was asked'")
    pid = kept.connection.info.backend_pid
    assert kept.is_usable()
    assert _last_statement(pid) == "SELECT 'the last thing it was asked'"  # no SELECT 1 was sent


def test_a_connection_the_server_ended_is_not_usable_and_the_next_one_works(kept):
    pid = kept.connection.info.backend_pid
    with connection.cursor() as cursor:  # as a restart or an idle timeout would end it
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        assert cursor.fetchone()[0] is True
    deadline = time.monotonic() + 5
    while kept.is_usable() and time.monotonic() < deadline:
        time.sleep(0.02)  # the server's goodbye reaches the socket
    assert not kept.is_usable()
    kept.close_if_unusable_or_obsolete()  # what Django runs when a request starts
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_on_a_descriptor_above_1023_is_checked_the_same_way():
    """A busy worker's connection can sit above select()'s limit of 1024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    spare = [os.dup(0) for _ in range(1100)]
    wrapper = connections.create_connection("default")
    try:
        wrapper.ensure_connection()
        assert wrapper.connection.fileno() > 1023
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 'still the last thing it was asked'")
        assert wrapper.is_usable()
        assert (
            _last_statement(wrapper.connection.info.backend_pid)
            == "SELECT 'still the last thing it was asked'"
        )
    finally:
        wrapper.close()
        for descriptor in spare:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_timestamps_are_read_by_the_compiled_loader_as_aware_utc_values():
    """config.postgresql reads timestamptz with psycopg's compiled loader
    (Django's own parses each one in Python: ~12 times the CPU); the values
    are the ones Django's loader gives: the instant, in datetime.timezone.utc."""
    import datetime as dt

    from psycopg import adapters, pq

    from customers.models import Customer

    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(adapters.types["timestamptz"].oid, pq.Format.TEXT)
    assert loader(adapters.types["timestamptz"].oid).__class__.__module__.startswith("psycopg_")  # compiled
    with connection.cursor() as cursor:
        # Django's create_cursor registers its own loader on a cursor whose connection's disagrees.
        used = cursor.cursor.adapters.get_loader(adapters.types["timestamptz"].oid, pq.Format.TEXT)
        assert used is loader
        cursor.execute("SELECT '2026-03-08 01:30:00.25-05'::timestamptz, NULL::timestamptz")
        instant, missing = cursor.fetchone()
    assert instant == dt.datetime(2026, 3, 8, 6, 30, 0, 250000, tzinfo=dt.UTC)
    assert instant.tzinfo is dt.UTC and missing is None
    made = Customer.objects.create(first_name="Ada", last_name="Lovelace")
    assert (
        Customer.objects.get(pk=made.pk).created_at == made.created_at
    )  # a model's field, to the microsecond
