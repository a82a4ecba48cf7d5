"""The dialer's tables keep one index per way they are read, and no index a
longer one already serves (each is written on every hand-off)."""

import pytest
from django.db import connection, transaction

pytestmark = pytest.mark.django_db

TABLES = ("campaigns_callattempt", "campaigns_campaigntarget")


def _indexes() -> dict[tuple[str, str], list[str]]:
    """Each index of the dialer's tables, (table, index), as its columns in order."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT t.relname, i.relname, array_agg(a.attname ORDER BY k.ord)
               FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
               CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
               WHERE t.relname = ANY(%s) AND x.indpred IS NULL GROUP BY t.relname, i.relname""",
            [list(TABLES)],
        )
        return {(table, name): columns for table, name, columns in cursor.fetchall()}


def test_no_whole_table_index_is_the_first_columns_of_another():
    indexes = _indexes()
    redundant = [
        (name, other)
        for name, columns in indexes.items()
        for other, longer in indexes.items()
        if other != name
        and other[0] == name[0]  # the same table
        and len(longer) > len(columns)
        and longer[: len(columns)] == columns
    ]
    assert redundant == []


@pytest.mark.parametrize(
    ("table", "column", "index"),
    [
        ("campaigns_callattempt", "campaign_id", "attempt_campaign_time_idx"),
        ("campaigns_callattempt", "phone_number_id", "attempt_number_time_idx"),
        ("campaigns_campaigntarget", "campaign_id", "target_unique_number_per_campaign"),
    ],
)
def test_a_lookup_by_a_foreign_key_without_its_own_index_reads_the_longer_one(table, column, index):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN SELECT id FROM {table} WHERE {column} = 1")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan


def test_target_history_is_indexed_only_the_ways_it_is_read():
    """Two history rows a hand-off: by target (its history, the purge) and by
    time, plus simple-history's own keys; not by the copied campaign, number
    or lease agent, which nothing reads history by."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT array_agg(a.attname ORDER BY a.attname) FROM pg_index x
               JOIN pg_class t ON t.oid = x.indrelid
               JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey)
               WHERE t.relname = 'campaigns_historicalcampaigntarget'"""
        )
        (columns,) = cursor.fetchone()
    assert sorted(columns) == ["history_date", "history_id", "history_user_id", "id"]
