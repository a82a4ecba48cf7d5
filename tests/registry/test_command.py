import io

import pytest
from django.core.management import CommandError, call_command

from compliance.registry.models import AreaCodeSync, RegistrySource, SyncRun
from tests.registry.conftest import numbers_of, registry_snapshot

pytestmark = pytest.mark.django_db


def dnc_import(*args) -> str:
    out = io.StringIO()
    call_command("dnc_import", *map(str, args), stdout=out)
    return out.getvalue()


def test_import_creates_the_source_and_prints_the_counts(write, compliance_officer):
    output = dnc_import(
        "--source",
        "national",
        "--user",
        compliance_officer.username,
        write("f.txt", [2125550000, 3055550000]),
    )
    national = RegistrySource.objects.get(kind="national")
    assert numbers_of(national) == {2125550000, 3055550000}
    assert "2 added, 0 removed, 2 area code(s)" in output
    assert " s." in output  # the duration
    assert national.history.get().history_user == compliance_officer
    assert SyncRun.objects.get().triggered_by == compliance_officer


def test_state_source_and_change_list(write):
    dnc_import("--source", "state:FL", write("f.txt", [3055550000]))
    output = dnc_import("--source", "state:FL", "--change-list", write("c.txt", ["3055550001,2024-05-01,A"]))
    florida = RegistrySource.objects.get(kind="state", state="FL")
    assert numbers_of(florida) == {3055550000, 3055550001}
    assert "1 added, 0 removed, 1 area code(s)" in output
    assert AreaCodeSync.objects.get(source=florida, area_code=305).number_count == 2


def test_a_bad_line_exits_non_zero_naming_file_and_line_and_changes_nothing(write):
    dnc_import("--source", "national", write("f.txt", [2125550000]))
    before = registry_snapshot()
    bad = write("bad.txt", [2125550001, 2125550002, "21255500"])
    with pytest.raises(CommandError) as caught:
        dnc_import("--source", "national", bad)
    assert f"{bad}, line 3: '21255500' has 8 digits" in str(caught.value)
    assert "Nothing was imported" in str(caught.value)
    assert registry_snapshot() == before
    assert SyncRun.objects.filter(status="failed").count() == 1


def test_a_bad_source_or_user_is_refused(write):
    path = write("f.txt", [2125550000])
    with pytest.raises(CommandError, match="state:XX"):
        dnc_import("--source", "florida", path)
    with pytest.raises(CommandError, match="No active user"):
        dnc_import("--source", "national", "--user", "nobody", path)
    assert not SyncRun.objects.exists()
