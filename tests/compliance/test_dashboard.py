"""The compliance officer's audit page: registry freshness per source, the
last day's decisions by reason, the latest decisions linked to their
explanations, and how far the log is sealed."""

from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from compliance.decision_log import decision_log_seal
from compliance.registry.models import AreaCodeSync
from compliance.registry.services import registry_file_import, registry_source_ensure
from consent.services import consent_revoke
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory


def _check(user, number, campaign):
    api = APIClient()
    api.force_authenticate(user)
    answer = api.post(
        "/api/v1/compliance/check/", {"phone_number": number, "campaign": campaign.pk}, format="json"
    )
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_the_audit_page_shows_freshness_reasons_and_links_to_explanations(
    client, compliance_officer, manager, tmp_path, django_assert_max_num_queries
):
    national = registry_source_ensure(key="national")
    texas = registry_source_ensure(key="state:TX")
    national_file = tmp_path / "national.txt"
    national_file.write_text("2125550000\n3055550000\n")
    registry_file_import(source=national, paths=[national_file])
    texas_file = tmp_path / "tx.txt"
    texas_file.write_text("5125550000\n")
    registry_file_import(source=texas, paths=[texas_file])
    AreaCodeSync.objects.filter(source=texas).update(synced_at=timezone.now() - timedelta(days=32))

    customer = CustomerFactory(state="NY", postal_code="10001")
    PhoneNumberFactory(customer=customer, number="+12127360201")
    consent_revoke(number="+12127360201", via="api", by=manager)
    campaign = CampaignFactory(purpose="informational", dialing_mode="manual")
    blocked = _check(manager, "+12127360201", campaign)
    decision_log_seal()
    _check(manager, "+12127360201", campaign)

    client.force_login(compliance_officer)
    with django_assert_max_num_queries(12):
        page = client.get("/compliance/")
    assert page.status_code == 200
    html = page.content.decode()
    registry = html[html.index('id="registry"') : html.index('id="decisions"')]
    assert "National" in registry and "fresh" in registry
    assert "1 stale" in registry  # Texas: synced 32 days ago
    decisions = html[html.index('id="decisions"') : html.index('id="recent"')]
    assert "<strong>0</strong> allowed · <strong>2</strong> blocked" in decisions
    assert "dnc_internal" in decisions and "on the company&#x27;s do-not-call list" in decisions
    assert "sealed through position 1" in decisions and "1 decision waiting" in decisions
    assert f'href="/compliance/decisions/{blocked["decision"]}/"' in html


def test_only_compliance_officers_see_the_audit_page(client, agent, manager):
    for user in (agent, manager):
        client.force_login(user)
        assert client.get("/compliance/").status_code == 403
