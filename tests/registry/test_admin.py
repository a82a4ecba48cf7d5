from datetime import timedelta

import pytest

from compliance.registry.models import AreaCodeSync, RegistrySource
from compliance.registry.services import registry_file_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def synced(national, write):
    return registry_file_import(source=national, paths=[write("n.txt", [3055550000, 2125550000])])


def test_registry_pages_show_sources_runs_and_area_code_ages(admin_client, synced):
    AreaCodeSync.objects.filter(area_code=212).update(synced_at=synced.started_at - timedelta(days=40))
    for url in [
        "/admin/registry/registrysource/",
        "/admin/registry/syncrun/",
        f"/admin/registry/syncrun/{synced.pk}/change/",
    ]:
        assert admin_client.get(url).status_code == 200
    page = admin_client.get("/admin/registry/areacodesync/").content.decode()
    assert "(stale)" in page
    assert "40 days" in page
    stale = admin_client.get("/admin/registry/areacodesync/?fresh=stale").content.decode()
    assert ">212<" in stale and ">305<" not in stale


def test_sync_runs_and_area_code_syncs_are_read_only_for_everyone(admin_client, synced):
    assert admin_client.get("/admin/registry/syncrun/add/").status_code == 403
    assert admin_client.post(f"/admin/registry/syncrun/{synced.pk}/change/", {"added": 0}).status_code == 403
    assert (
        admin_client.post(f"/admin/registry/syncrun/{synced.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    sync = AreaCodeSync.objects.first()
    assert (
        admin_client.post(f"/admin/registry/areacodesync/{sync.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert (
        admin_client.post(
            f"/admin/registry/registrysource/{synced.source_id}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
    synced.refresh_from_db()
    assert synced.added == 2


def test_a_source_edited_in_the_admin_keeps_history_with_the_user(admin_client, admin_user, national):
    response = admin_client.post(
        f"/admin/registry/registrysource/{national.pk}/change/", {"name": "FTC registry", "active": ""}
    )
    assert response.status_code == 302
    national.refresh_from_db()
    assert (national.name, national.active, national.kind) == ("FTC registry", False, "national")
    latest = national.history.first()
    assert latest.history_user == admin_user
    assert latest.history_change_reason == "changed in the admin"


def test_state_source_created_in_the_admin_must_name_a_state(admin_client):
    response = admin_client.post(
        "/admin/registry/registrysource/add/", {"kind": "state", "state": "", "name": "?"}
    )
    assert response.status_code == 200
    assert not RegistrySource.objects.exists()
    response = admin_client.post(
        "/admin/registry/registrysource/add/",
        {"kind": "state", "state": "LA", "name": "Louisiana", "active": "on"},
    )
    assert response.status_code == 302
    assert RegistrySource.objects.get().key == "state:LA"


def test_number_lookup_says_who_lists_a_number_and_how_fresh(admin_client, synced, florida):
    page = admin_client.get(
        "/admin/registry/registrysource/lookup/", {"number": "(305) 555-0000"}
    ).content.decode()
    assert "+13055550000 (area code 305)" in page
    assert "<strong>Yes</strong>" in page  # national
    assert "<strong>never</strong>" in page  # Florida never synced 305
    page = admin_client.get(
        "/admin/registry/registrysource/lookup/", {"number": "+44 20 7946 0000"}
    ).content.decode()
    assert "Only +1 NANP numbers" in page
    assert "Look up a number" in admin_client.get("/admin/registry/registrysource/").content.decode()


def test_the_lookup_needs_the_view_permission(client, agent):
    client.force_login(agent)
    assert client.get("/admin/registry/registrysource/lookup/").status_code in (302, 403)
