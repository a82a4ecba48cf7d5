"""The bottom layer's registries are filled by the apps themselves (their
AppConfig.ready()): core names no app, and nothing is lost in the move."""

from core.retention import retention_categories
from core.schedule import periodic_tasks
from core.timeline import timeline_sources


def test_each_app_registers_its_periodic_tasks_with_core():
    assert {(periodic.name, periodic.task) for periodic in periodic_tasks()} == {
        ("sync registry inboxes", "compliance.registry_inbox_sync"),
        ("warn about aging registry data", "compliance.registry_freshness_check"),
        ("retention purge", "compliance.retention_purge"),
        ("record consent expiry", "consent.consents_expire"),
        ("seal the decision log", "compliance.decision_log_seal"),
        ("verify the decision log", "compliance.decision_log_verify"),
        ("query the reassigned numbers database", "compliance.rnd_query_due"),
        ("escalate overdue tickets", "helpdesk.tickets_escalate"),
    }


def test_each_app_registers_its_retention_categories_with_core():
    owners = {category.model.split(".")[0] for category in retention_categories().values()}
    assert {"customers", "consent", "compliance", "campaigns", "helpdesk"} <= owners


def test_the_contact_record_reads_calls_and_tickets_from_sources_their_apps_register():
    owners = {source.kind: source.entries.__module__ for source in timeline_sources()}
    assert owners == {
        "history": "compliance.timeline",
        "registry": "compliance.timeline",
        "rnd": "compliance.timeline",
        "decision": "compliance.timeline",
        "call": "campaigns.timeline",
        "ticket": "helpdesk.timeline",
    }
