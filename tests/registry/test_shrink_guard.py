"""The shrink guard (issue 13, item 3; DESIGN.md "DNC registry files"): a
full file that would remove more than 20% of the numbers of an area code
holding at least 1,000 is held whole for a second compliance officer, never
half-applied; smaller area codes import as before and the audit page shows
what the file removed from them."""

import io
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from compliance.registry import storage
from compliance.registry.folders import registry_inbox_path
from compliance.registry.inbox import registry_inbox_sync, registry_upload_save
from compliance.registry.models import AreaCodeSync, ShrinkHold, SyncRun
from compliance.registry.services import (
    RegistryShrinkHeld,
    ShrinkWaiver,
    registry_file_import,
    shrink_hold_apply,
    shrink_hold_decide,
)
from tests.otp import login_with_otp
from tests.owner import app_process_env
from tests.registry.conftest import numbers_of, registry_snapshot

pytestmark = pytest.mark.django_db

BIG = [2125550000 + i for i in range(1200)]  # area code 212: above the floor of 1,000
OTHER = [3055550000, 3055550001]


@pytest.fixture(autouse=True)
def inbox_root(settings, tmp_path):
    settings.REGISTRY_INBOX_ROOT = tmp_path / "inbox"
    settings.REGISTRY_INBOX_SETTLE_SECONDS = 0
    settings.REGISTRY_SHRINK_LIMIT = 0.20
    settings.REGISTRY_SHRINK_FLOOR = 1000
    return settings.REGISTRY_INBOX_ROOT


@pytest.fixture(params=["rebuild", "in place"])
def method(request, monkeypatch):
    monkeypatch.setattr(storage, "REBUILD_MIN_SHARE", 0 if request.param == "rebuild" else 10**9)
    return request.param


@pytest.fixture
def seeded(national, write):
    return registry_file_import(source=national, paths=[write("seed.txt", BIG + OTHER)])


def dnc_import(*args) -> str:
    out = io.StringIO()
    call_command("dnc_import", *map(str, args), stdout=out)
    return out.getvalue()


def test_a_file_removing_a_quarter_of_a_big_area_code_is_held_whole_and_changes_nothing(
    national, seeded, write, method, compliance_officer
):
    before = registry_snapshot()
    synced_before = {s.area_code: s.synced_at for s in AreaCodeSync.objects.all()}
    short = write("short.txt", [*BIG[:900], 3055550009])  # 300 of 1,200 gone in 212 (25%)

    with pytest.raises(RegistryShrinkHeld) as caught:
        registry_file_import(source=national, paths=[short], by=compliance_officer)

    assert registry_snapshot() == before  # not even the 305 part
    assert {s.area_code: s.synced_at for s in AreaCodeSync.objects.all()} == synced_before
    hold = caught.value.hold
    assert hold.status == ShrinkHold.Status.PENDING and hold.uploaded_by == compliance_officer
    assert hold.area_codes == {"212": {"before": 1200, "after": 900, "removed": 300}}
    assert hold.held_run.status == SyncRun.Status.HELD and "300 of 1200" in hold.held_run.error
    (kept,) = (registry_inbox_path(national) / "pending").iterdir()
    assert kept.name == hold.file_names[0] and kept.read_bytes() == short.read_bytes()
    assert hold.history.get().history_user == compliance_officer


def test_exactly_the_limit_is_applied(national, seeded, write, method):
    run = registry_file_import(source=national, paths=[write("f.txt", BIG[:960] + OTHER)])  # 240 = 20%
    assert run.status == SyncRun.Status.SUCCEEDED and run.removed == 240
    assert not ShrinkHold.objects.exists()


def test_the_guard_protects_any_source_not_only_the_national_list(florida, write):
    registry_file_import(source=florida, paths=[write("fl.txt", BIG)])
    with pytest.raises(RegistryShrinkHeld):
        registry_file_import(source=florida, paths=[write("fl-short.txt", BIG[:10])])
    assert len(numbers_of(florida)) == 1200


def test_dnc_import_exits_with_code_3_and_says_why(national, seeded, write):
    with pytest.raises(CommandError) as caught:
        dnc_import("--source", "national", write("short.txt", BIG[:900]))
    assert caught.value.returncode == 3
    message = str(caught.value)
    assert "Held for approval" in message and "area code 212: 300 of 1200 numbers removed (25%)" in message
    assert "Nothing was imported" in message
    assert len(numbers_of(national)) == 1202


def test_an_area_code_under_the_floor_imports_and_the_audit_page_shows_its_removals(
    national, write, client, compliance_officer
):
    # The reported case: 810 listings, then a one-line full file.
    registry_file_import(source=national, paths=[write("seed.txt", [4155550000 + i for i in range(810)])])
    run = registry_file_import(source=national, paths=[write("one.txt", [4155550000])])
    assert run.status == SyncRun.Status.SUCCEEDED and run.removed == 809
    sync = AreaCodeSync.objects.get(area_code=415)
    assert (sync.last_full_removed, sync.last_full_before, sync.number_count) == (809, 810, 1)

    login_with_otp(client, compliance_officer)
    page = client.get("/compliance/").content.decode()
    assert "809 removed" in page and "of 810 (99%)" in page


def test_a_second_compliance_officer_approves_on_the_admin_page_and_the_sync_imports_it(
    national, seeded, write, client, compliance_officer, django_user_model, django_capture_on_commit_callbacks
):
    uploaded = registry_upload_save(
        source=national,
        name="short.txt",
        chunks=[write("s.txt", BIG[:900]).read_bytes()],
        change_list=False,
        by=compliance_officer,
    )
    (report,) = registry_inbox_sync()
    (hold,) = report.held
    assert not uploaded.exists() and not (registry_inbox_path(national) / "rejected").exists()
    assert hold.uploaded_by == compliance_officer and hold.held_run.trigger == SyncRun.Trigger.ADMIN
    assert len(numbers_of(national)) == 1202

    login_with_otp(client, compliance_officer)
    assert f"#{hold.pk} National DNC Registry" in client.get("/compliance/").content.decode()
    url = f"/admin/registry/shrinkhold/{hold.pk}/decide/"
    refused = client.post(url, {"decision": "approve", "reason": "looks fine to me"})
    assert refused.status_code == 400 and b"not the one who uploaded" in refused.content
    no_reason = client.post(url, {"decision": "approve", "reason": ""})
    assert no_reason.status_code == 400
    hold.refresh_from_db()
    assert hold.status == ShrinkHold.Status.PENDING

    second = django_user_model.objects.create_user("second-officer", password="x", is_staff=True)
    second.groups.add(*compliance_officer.groups.all())
    login_with_otp(client, second)
    with django_capture_on_commit_callbacks() as callbacks:
        answer = client.post(url, {"decision": "approve", "reason": "FTC confirmed the 212 split"})
    assert answer.status_code == 302 and len(callbacks) == 1  # the sync is queued
    hold.refresh_from_db()
    assert (hold.status, hold.decided_by, hold.reason) == ("approved", second, "FTC confirmed the 212 split")
    assert hold.history.latest().history_user == second

    (report,) = registry_inbox_sync()  # what the queued task runs
    (run,) = report.imported
    assert numbers_of(national) == set(BIG[:900] + OTHER)
    assert run.removed == 300 and "Shrink guard waived" in run.note
    hold.refresh_from_db()
    assert hold.applied_run == run
    assert (registry_inbox_path(national) / "processed" / hold.file_names[0]).exists()
    assert registry_inbox_sync()[0].imported == []  # applied once


def test_a_rejected_hold_is_never_imported(national, seeded, write, manager, superuser):
    with pytest.raises(RegistryShrinkHeld) as caught:
        registry_file_import(source=national, paths=[write("short.txt", BIG[:100])])
    hold = shrink_hold_decide(
        hold=caught.value.hold, by=superuser, approve=False, reason="truncated download"
    )
    assert hold.status == ShrinkHold.Status.REJECTED
    assert shrink_hold_apply(hold=hold) is None
    with pytest.raises(ValidationError):
        shrink_hold_decide(hold=hold, by=superuser, approve=True, reason="changed my mind")
    assert len(numbers_of(national)) == 1202


def test_managers_cannot_decide_holds(national, seeded, write, client, manager):
    with pytest.raises(RegistryShrinkHeld) as caught:
        registry_file_import(source=national, paths=[write("short.txt", BIG[:100])])
    client.force_login(manager)
    answer = client.post(
        f"/admin/registry/shrinkhold/{caught.value.hold.pk}/decide/", {"decision": "approve", "reason": "x"}
    )
    assert answer.status_code in (302, 403)
    assert ShrinkHold.objects.get().status == ShrinkHold.Status.PENDING


def test_approve_shrink_on_the_command_line_approves_the_pending_hold_and_imports_it(
    national, seeded, write, compliance_officer
):
    short = write("short.txt", BIG[:900])
    with pytest.raises(CommandError):
        dnc_import("--source", "national", "--user", compliance_officer.username, short)
    output = dnc_import("--source", "national", "--approve-shrink", "area code split, per FTC notice", short)
    assert "300 removed" in output and "Shrink guard waived" in output
    hold = ShrinkHold.objects.get()
    assert (hold.status, hold.reason, hold.decided_by) == (
        "approved",
        "area code split, per FTC notice",
        None,
    )
    assert hold.applied_run.status == SyncRun.Status.SUCCEEDED
    assert numbers_of(national) == set(BIG[:900] + OTHER)


def test_approve_shrink_by_the_uploader_is_refused(national, seeded, write, compliance_officer):
    short = write("short.txt", BIG[:900])
    with pytest.raises(CommandError):
        dnc_import("--source", "national", "--user", compliance_officer.username, short)
    with pytest.raises(CommandError, match="second compliance officer"):
        dnc_import(
            "--source", "national", "--user", compliance_officer.username, "--approve-shrink", "mine", short
        )
    assert len(numbers_of(national)) == 1202


def test_approve_shrink_for_a_new_file_records_the_waiver(national, seeded, write):
    run = registry_file_import(
        source=national,
        paths=[write("short.txt", BIG[:500])],
        shrink_waiver=ShrinkWaiver(reason="area code retired"),
    )
    hold = ShrinkHold.objects.get()
    assert (hold.status, hold.applied_run, hold.held_run) == ("approved", run, None)
    assert hold.area_codes == {"212": {"before": 1200, "after": 500, "removed": 700}}


def test_a_pending_file_changed_on_disk_is_not_imported(national, seeded, write, superuser):
    with pytest.raises(RegistryShrinkHeld) as caught:
        registry_file_import(source=national, paths=[write("short.txt", BIG[:900])])
    hold = caught.value.hold
    (registry_inbox_path(national) / "pending" / hold.file_names[0]).write_text("2125550000\n")
    shrink_hold_decide(hold=hold, by=superuser, approve=True, reason="ok")
    (report,) = registry_inbox_sync()
    assert not report.imported and "changed since it was held" in report.rejected[0][1]
    assert len(numbers_of(national)) == 1202


@pytest.mark.django_db(transaction=True)
def test_the_guard_reads_the_counts_streamed_beside_the_copy(national, write, registry_cleanup, caplog):
    # Outermost transaction and a sorted file: the added/removed counts come from the
    # streamed overlap, and the guard judges them before the partition is swapped.
    registry_file_import(source=national, paths=[write("seed.txt", BIG + OTHER)])
    with (
        caplog.at_level(logging.INFO, logger="compliance.registry"),
        pytest.raises(RegistryShrinkHeld) as caught,
    ):
        registry_file_import(source=national, paths=[write("short.txt", [*BIG[:900], *OTHER])])
    assert "(rebuild, diff beside the COPY) held" in caplog.text
    assert caught.value.hold.area_codes == {"212": {"before": 1200, "after": 900, "removed": 300}}
    assert numbers_of(national) == set(BIG + OTHER)


@pytest.mark.django_db(transaction=True)
def test_the_command_process_exits_with_status_3_when_a_file_is_held(
    national, write, registry_cleanup, inbox_root
):
    registry_file_import(source=national, paths=[write("seed.txt", BIG)])
    env = app_process_env(CONSENTDESK_REGISTRY_INBOX=str(inbox_root))
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "dnc_import",
            "--source",
            "national",
            str(write("short.txt", BIG[:900])),
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert "Held for approval" in done.stderr and "area code 212" in done.stderr
    assert len(numbers_of(national)) == 1200
