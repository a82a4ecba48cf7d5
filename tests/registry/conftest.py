from collections.abc import Iterable
from pathlib import Path

import pytest
from django.db import connection

from compliance.registry.models import RegistryNumber, RegistrySource
from compliance.registry.services import registry_source_ensure


@pytest.fixture
def national(db) -> RegistrySource:
    return registry_source_ensure(key="national")


@pytest.fixture
def florida(db) -> RegistrySource:
    return registry_source_ensure(key="state:FL")


@pytest.fixture
def write(tmp_path):
    """write("name.txt", lines or text) -> Path."""

    def _write(name: str, content: Iterable[str] | str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        else:
            path.write_text("".join(f"{line}\n" for line in content))
        return path

    return _write


def numbers_of(source: RegistrySource) -> set[int]:
    return set(RegistryNumber.objects.filter(source=source).values_list("number", flat=True))


def registry_snapshot() -> set[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT number, source_id FROM registry_number")
        return set(cursor.fetchall())


@pytest.fixture
def registry_cleanup(transactional_db):
    """Transactional tests commit: empty the (unmanaged, so not flushed) numbers table afterwards
    (DELETE: the app's role may not TRUNCATE the owner's partitions)."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM registry_number")
