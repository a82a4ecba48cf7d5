"""Registry inboxes live under one root (issue 13, item 2): a source's inbox
is a folder name below REGISTRY_INBOX_ROOT, never a path; nothing outside the
root is read, moved or written, symlinks included; and a sync run's error
shows the line number and a short masked excerpt, never a file's content."""

import importlib
import logging
import os

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from compliance.registry.folders import RegistryInboxError, registry_inbox_path
from compliance.registry.formats import line_excerpt
from compliance.registry.inbox import registry_inbox_sync, registry_upload_save
from compliance.registry.models import RegistrySource, SyncRun
from compliance.registry.services import registry_source_ensure
from tests.otp import login_with_otp

pytestmark = pytest.mark.django_db

SECRET = "DB_PASSWORD=Hunter2-Sup3rSecret"


@pytest.fixture
def inbox_root(settings, tmp_path):
    settings.REGISTRY_INBOX_ROOT = tmp_path / "inbox"
    settings.REGISTRY_INBOX_SETTLE_SECONDS = 0
    settings.REGISTRY_INBOX_ROOT.mkdir()
    return settings.REGISTRY_INBOX_ROOT


@pytest.fixture
def server_file(tmp_path):
    """A file outside the inbox root, such as a server's configuration."""
    folder = tmp_path / "etc-app"
    folder.mkdir()
    path = folder / "secrets.env"
    path.write_text(f"{SECRET}\nOTHER=1\n")
    return path


@pytest.mark.parametrize(
    "value", ["/etc", "../etc", "national/../../etc", "a/b", "na tional", ".hidden", "-x", "x" * 64, "état"]
)
def test_an_inbox_is_a_folder_name_never_a_path(national, value):
    national.inbox = value
    with pytest.raises(ValidationError) as caught:
        national.full_clean()
    assert "inbox" in caught.value.message_dict


def test_a_valid_inbox_name_is_a_folder_below_the_root_and_the_default_is_the_source_key(
    national, florida, inbox_root
):
    assert registry_inbox_path(national) == inbox_root / "national"
    assert registry_inbox_path(florida) == inbox_root / "state-FL"
    national.inbox = "ftc-feed_2"
    national.full_clean()
    assert registry_inbox_path(national) == inbox_root / "ftc-feed_2"


def test_two_sources_cannot_share_an_inbox(national, florida):
    florida.inbox = "national"
    with pytest.raises(ValidationError, match="already uses the inbox folder"):
        florida.full_clean()


def test_an_inbox_set_to_another_folder_is_never_read(national, inbox_root, server_file):
    # The reported attack: the field held a path to a server folder.
    RegistrySource.objects.filter(pk=national.pk).update(inbox=str(server_file.parent))
    national.refresh_from_db()
    with pytest.raises(RegistryInboxError):
        registry_inbox_path(national)
    (report,) = registry_inbox_sync()
    assert report.error and not report.rejected and not SyncRun.objects.exists()
    assert server_file.exists() and not (server_file.parent / "rejected").exists()


def test_an_inbox_symlinked_outside_the_root_is_never_read_nor_written(national, inbox_root, server_file):
    os.symlink(server_file.parent, inbox_root / "national")
    (report,) = registry_inbox_sync()
    assert report.error and not SyncRun.objects.exists()
    assert sorted(p.name for p in server_file.parent.iterdir()) == ["secrets.env"]
    with pytest.raises(RegistryInboxError):
        registry_upload_save(source=national, name="x.txt", chunks=[b"2125550000\n"], change_list=False)
    assert sorted(p.name for p in server_file.parent.iterdir()) == ["secrets.env"]


def test_a_subfolder_symlinked_outside_the_root_is_not_used(national, inbox_root, server_file):
    inbox = inbox_root / "national"
    inbox.mkdir()
    os.symlink(server_file.parent, inbox / "rejected")
    (inbox / "bad.txt").write_text("not a number\n")
    (report,) = registry_inbox_sync()
    assert sorted(p.name for p in server_file.parent.iterdir()) == ["secrets.env"]
    assert (inbox / "bad.txt").exists()  # left where it was, not moved outside the root
    assert "outside the registry inbox root" in report.error and not SyncRun.objects.exists()


def test_a_symlinked_file_in_an_inbox_is_ignored(national, inbox_root, server_file):
    inbox = inbox_root / "national"
    inbox.mkdir()
    os.symlink(server_file, inbox / "dnc.txt")
    (report,) = registry_inbox_sync()
    assert not report.rejected and not SyncRun.objects.exists()
    assert server_file.read_text().startswith(SECRET)


def test_a_sync_run_error_shows_the_line_number_and_a_masked_excerpt_only(national, inbox_root):
    inbox = inbox_root / "national"
    inbox.mkdir()
    (inbox / "secrets.env").write_text(f"{SECRET}\n")
    (report,) = registry_inbox_sync()
    run = SyncRun.objects.get(status=SyncRun.Status.FAILED)
    reason = (inbox / "rejected" / "secrets.env.reason.txt").read_text()
    for text in (run.error, reason, report.rejected[0][1]):
        assert "line 1" in text
        assert "Hunter" not in text and "PASSWORD" not in text and "Secret" not in text
    assert "'******************2-…'" in run.error


def test_a_change_list_field_is_masked_too(national, inbox_root):
    inbox = inbox_root / "national" / "changes"
    inbox.mkdir(parents=True)
    (inbox / "c.txt").write_text("2125550000,2026-11-01,Password123\n")
    registry_inbox_sync()
    error = SyncRun.objects.get(status=SyncRun.Status.FAILED).error
    assert "line 1" in error and "assword" not in error and "'********123'" in error


def test_the_excerpt_keeps_digits_masks_letters_and_stops_at_20_characters():
    assert line_excerpt(b"21255500") == "'21255500'"
    assert line_excerpt("2026-13-45, 12:00/x") == "'2026-13-45, 12:00/*'"
    assert line_excerpt("secret password 12345678") == "'****** ******** 1234…'"
    assert line_excerpt("\x1b[31m\u00e9t\u00e9") == "'**31****'"


def test_uploads_write_only_into_the_source_inbox(national, inbox_root, client, compliance_officer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    login_with_otp(client, compliance_officer)
    answer = client.post(
        f"/admin/registry/registrysource/{national.pk}/upload/",
        {"file": SimpleUploadedFile("../../../../tmp/evil.txt", b"2125550000\n"), "change_list": "on"},
    )
    assert answer.status_code == 302
    (written,) = (inbox_root / "national" / "changes").iterdir()
    assert written.name.endswith("-evil.txt")
    assert sorted(p.name for p in inbox_root.rglob("*") if p.is_file()) == [written.name]


def test_the_admin_refuses_an_inbox_path_and_keeps_the_old_value(national, client, compliance_officer):
    login_with_otp(client, compliance_officer)
    answer = client.post(
        f"/admin/registry/registrysource/{national.pk}/change/",
        {"name": national.name, "active": "on", "inbox": "/etc/consentdesk"},
    )
    assert answer.status_code == 200 and b"not a path" in answer.content
    national.refresh_from_db()
    assert national.inbox == ""


def test_the_migration_turns_paths_under_the_root_into_names_and_resets_the_rest(
    db, inbox_root, tmp_path, caplog
):
    migration = importlib.import_module("compliance.registry.migrations.0005_inbox_paths_to_names")
    national = registry_source_ensure(key="national")
    florida = registry_source_ensure(key="state:FL")
    texas = registry_source_ensure(key="state:TX")
    ohio = registry_source_ensure(key="state:OH")
    values = {
        national.pk: str(inbox_root / "ftc-feed"),
        florida.pk: str(tmp_path / "elsewhere" / "fl"),
        texas.pk: "tx-list",
        ohio.pk: str(inbox_root / "a" / "b"),
    }
    for pk, value in values.items():
        RegistrySource.objects.filter(pk=pk).update(inbox=value)
    with caplog.at_level(logging.WARNING, logger="compliance.registry"):
        migration.paths_to_names(apps, None)
    inboxes = dict(RegistrySource.objects.values_list("pk", "inbox"))
    assert inboxes == {national.pk: "ftc-feed", florida.pk: "", texas.pk: "tx-list", ohio.pk: ""}
    assert "reset to the default folder 'state-FL'" in caplog.text
    assert "reset to the default folder 'state-OH'" in caplog.text
