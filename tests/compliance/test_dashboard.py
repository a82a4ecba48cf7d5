"""The compliance officer's audit page: registry freshness per source, the
last day's decisions by reason, the latest decisions linked to their
explanations, and how far the log is sealed."""

import re
from datetime import timedelta

from django.utils import timezone
from rest_framework.test import APIClient

from compliance.decision_log import decision_log_seal
from compliance.models import JurisdictionRule
from compliance.registry.models import AreaCodeSync
from compliance.registry.services import registry_file_import, registry_source_ensure
from compliance.reports import ReportPeriod, reports_build
from compliance.retention import retention_purge
from consent.services import consent_revoke
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory
from tests.otp import login_with_otp


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
    # Texas keeps its list 92 days (the rule set's TX row), not the national 31.
    AreaCodeSync.objects.filter(source=texas).update(synced_at=timezone.now() - timedelta(days=93))

    customer = CustomerFactory(state="NY", postal_code="10001")
    PhoneNumberFactory(customer=customer, number="+12127360201")
    consent_revoke(number="+12127360201", via="api", by=manager)
    campaign = CampaignFactory(purpose="informational", dialing_mode="manual")
    blocked = _check(manager, "+12127360201", campaign)
    decision_log_seal()
    _check(manager, "+12127360201", campaign)

    login_with_otp(client, compliance_officer)
    # +1: the session's two-factor device; +2: files held by the shrink guard, removals per area code;
    # +1: the rule set in force (each source's maximum age); +1: the latest signed checkpoint;
    # +3: the decision log's watch (the last seal, the periodic tasks and, never verified yet,
    # whether a decision has waited 26 h)
    with django_assert_max_num_queries(24):
        page = client.get("/compliance/")
    assert page.status_code == 200
    html = page.content.decode()
    registry = html[html.index('id="registry"') : html.index('id="decisions"')]
    assert "National" in registry and "fresh" in registry
    assert "1 stale" in registry  # Texas: synced 93 days ago
    assert registry.count('class="max-age">31 days') == 1 and registry.count('class="max-age">92 days') == 1
    decisions = html[html.index('id="decisions"') : html.index('id="recent"')]
    assert "<strong>0</strong> allowed · <strong>2</strong> blocked" in decisions
    assert "dnc_internal" in decisions and "on the company&#x27;s do-not-call list" in decisions
    assert "sealed through position 1" in decisions and "1 decision waiting" in decisions
    assert f'href="/compliance/decisions/{blocked["decision"]}/"' in html


def test_only_compliance_officers_see_the_audit_page(client, agent, manager):
    for user in (agent, manager):
        client.force_login(user)
        assert client.get("/compliance/").status_code == 403


def test_the_audit_page_lists_area_codes_oldest_first_with_stale_ones_marked(
    client, compliance_officer, tmp_path
):
    national = registry_source_ensure(key="national")
    file = tmp_path / "national.txt"
    file.write_text("2125550000\n3055550000\n3055550001\n")
    registry_file_import(source=national, paths=[file])
    AreaCodeSync.objects.filter(area_code=212).update(synced_at=timezone.now() - timedelta(days=40))
    AreaCodeSync.objects.filter(area_code=305).update(synced_at=timezone.now() - timedelta(days=27))

    login_with_otp(client, compliance_officer)
    html = client.get("/compliance/").content.decode()

    area_codes = html[html.index('id="area-codes"') : html.index('id="purges"')]
    assert "1 stale" in area_codes
    assert area_codes.index(">212<") < area_codes.index(">305<")  # oldest first
    row_212 = area_codes[area_codes.rindex("<tr", 0, area_codes.index(">212<")) : area_codes.index(">305<")]
    assert 'class="stale"' in row_212 and "40 days" in row_212
    row_305 = area_codes[area_codes.rindex("<tr", 0, area_codes.index(">305<")) :]
    assert 'class="aging"' in row_305 and "2" in row_305


def test_the_audit_page_shows_running_syncs_with_progress_and_polls_them(client, compliance_officer):
    from compliance.registry.models import SyncRun

    source = registry_source_ensure(key="national")
    run = SyncRun.objects.create(
        source=source,
        kind=SyncRun.Kind.FULL,
        started_at=timezone.now(),
        trigger=SyncRun.Trigger.TASK,
        rows_done=2_500_000,
        rows_total=10_000_000,
        file_names=["national-2026-12-01.txt"],
    )
    login_with_otp(client, compliance_officer)

    html = client.get("/compliance/").content.decode()
    running = html[html.index('id="running-syncs"') : html.index('id="area-codes"')]
    assert 'hx-trigger="every 2s"' in running
    assert '<progress max="100" value="25">' in running and "2500000 of 10000000 lines" in running

    run.status, run.finished_at = SyncRun.Status.SUCCEEDED, timezone.now()
    run.save()
    partial = client.get("/compliance/syncs/running/").content.decode()
    assert "None right now" in partial and "hx-trigger" not in partial  # polling stops


def test_the_audit_page_shows_the_last_purge_of_each_category(client, compliance_officer):
    retention_purge(category="purge_runs", dry_run=True)
    login_with_otp(client, compliance_officer)
    html = client.get("/compliance/").content.decode()
    purges = html[html.index('id="purges"') : html.index('id="recent"')]
    assert "dry run" in purges and "0 expired" in purges
    assert "Purge run records" in purges and "purge_runs" not in purges  # the category in words


def test_the_latest_decisions_link_their_explanation_and_the_numbers_contact_record(
    client, compliance_officer, manager
):
    PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number="+12127360203")
    record_id = _check(manager, "+12127360203", CampaignFactory())["decision"]
    retention_purge(category="purge_runs", dry_run=True)
    login_with_otp(client, compliance_officer)
    client.cookies["tz"] = "America/Chicago"

    html = client.get("/compliance/").content.decode()

    recent = html[html.index('id="recent"') :]
    assert f'<a href="/compliance/decisions/{record_id}/">#{record_id}</a>' in recent
    assert '<a href="/compliance/timeline/?number=%2B12127360203"' in recent
    assert client.get("/compliance/timeline/?number=%2B12127360203").status_code == 200
    # One date format, in the viewer's zone with the zone named: "Dec 3, 2026 02:18 CST".
    main = html[html.index("<main") :]
    assert re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d\d:\d\d C[SD]T", recent)
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", main), "a date in another format"


def test_the_running_syncs_partial_is_for_compliance_officers_only(client, agent):
    client.force_login(agent)
    assert client.get("/compliance/syncs/running/").status_code == 403


def test_registry_max_age_comes_from_the_rule_set_on_the_page_report_admin_and_decision(
    client, compliance_officer, manager, tmp_path
):
    """A compliance officer shortens the national registry's limit to 30 days:
    the decision, the audit page, the freshness report, the number lookup and
    the area-code admin all apply 30, not a 31 of their own."""
    for federal in JurisdictionRule.objects.filter(jurisdiction="US"):
        federal.dnc_list_max_age_days = 30
        federal.save()
    national = registry_source_ensure(key="national")
    file = tmp_path / "national.txt"
    file.write_text("2125550000\n3055550000\n")
    registry_file_import(source=national, paths=[file])
    now = timezone.now()
    AreaCodeSync.objects.filter(area_code=212).update(synced_at=now - timedelta(days=30, hours=12))
    AreaCodeSync.objects.filter(area_code=305).update(synced_at=now - timedelta(days=25))

    campaign = CampaignFactory(purpose="marketing", dialing_mode="manual")
    assert "dnc_data_stale" in _check(manager, "+12127360201", campaign)["reasons"]
    assert "dnc_data_stale" not in _check(manager, "+13057360201", campaign)["reasons"]

    login_with_otp(client, compliance_officer)
    html = client.get("/compliance/").content.decode()
    registry = html[html.index('id="registry"') : html.index('id="decisions"')]
    assert "1 stale" in registry and 'class="max-age">30 days' in registry
    warning = html[
        html.index('id="registry-warning"') : html.index("</div>", html.index('id="registry-warning"'))
    ]
    assert "synced more than 24 days ago (blocked after 30 days)" in warning
    area_codes = html[html.index('id="area-codes"') : html.index('id="purges"')]
    row_212 = area_codes[area_codes.rindex("<tr", 0, area_codes.index(">212<")) : area_codes.index(">305<")]
    assert 'class="stale"' in row_212 and "30 days" in row_212
    row_305 = area_codes[area_codes.rindex("<tr", 0, area_codes.index(">305<")) :]
    assert 'class="aging"' in row_305

    (report,) = reports_build(period=ReportPeriod(until=now, days=30), keys=["registry_freshness"])
    (row,) = report.rows
    assert row[3] == 30 and row[-1] == 1  # max age, stale
    assert report.flagged and "212" in report.note and "(National DNC Registry 30 days)" in report.summary

    lookup = client.get("/admin/registry/registrysource/lookup/", {"number": "+12127360201"})
    assert "(older than 30 days)" in lookup.content.decode()
    stale_filter = client.get("/admin/registry/areacodesync/", {"fresh": "stale"}).content.decode()
    assert ">212<" in stale_filter and ">305<" not in stale_filter
