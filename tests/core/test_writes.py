"""core.writes.WriteBatch: the rows save() and history_save() would write,
in one statement, whichever fields each write names."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import CampaignScrub, CampaignTarget
from core.writes import WriteBatch
from tests.factories import CampaignFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


def test_updates_of_different_fields_of_one_model_each_write_only_their_fields(manager):
    campaign = CampaignFactory()
    one, two = (
        CampaignTarget.objects.create(
            campaign=campaign, phone_number=PhoneNumberFactory(), next_attempt_at=timezone.now()
        )
        for _ in range(2)
    )
    one.priority, one.attempts = 7, 3
    two.priority, two.attempts = 9, 4
    writes = WriteBatch()
    writes.save_with_history(one, by=manager, reason="both fields", update_fields=None)
    writes.save_with_history(two, by=manager, reason="priority only", update_fields=["priority"])
    with CaptureQueriesContext(connection) as queries:
        writes.run()
    assert len(queries) == 1
    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.priority, one.attempts) == (7, 3)
    assert (two.priority, two.attempts) == (9, 0)  # attempts was not among the fields written
    reasons = list(
        CampaignTarget.history.filter(id__in=[one.pk, two.pk], history_type="~").values_list(
            "id", "history_change_reason", "history_user"
        )
    )
    assert sorted(reasons) == sorted(
        [(one.pk, "both fields", manager.pk), (two.pk, "priority only", manager.pk)]
    )


def test_an_insert_with_an_expression_is_placed_by_djangos_compiler(manager):
    """A value that is an expression (here the database's clock) is not sent
    as a parameter: the batch's INSERT is the one Django compiles for it."""
    from django.db.models.functions import Now

    before = timezone.now()
    scrub = CampaignScrub(campaign=CampaignFactory(), requested_by=manager, at=Now(), today_ends_at=before)
    writes = WriteBatch()
    writes.insert(scrub)
    writes.run()
    stored = CampaignScrub.objects.get(pk=scrub.pk)
    assert stored.at >= before - dt.timedelta(seconds=1) and stored.today_ends_at == before
    assert stored.created_at == scrub.created_at  # auto_now_add: the value written is the one kept


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("update_fields", "message"),
    [([], "names no field"), (["priority", "priorty"], "no field to update named priorty")],
)
def test_an_update_naming_no_field_or_a_field_that_does_not_exist_is_refused_before_anything_is_sent(
    manager, update_fields, message
):
    """save(update_fields=...) refuses a name that is no field; a batch does
    too, on either database, rather than writing a row without the field the
    caller meant (or, for no field at all, an UPDATE PostgreSQL refuses)."""
    target = CampaignTarget.objects.create(
        campaign=CampaignFactory(), phone_number=PhoneNumberFactory(), next_attempt_at=timezone.now()
    )
    target.priority = 5
    writes = WriteBatch()
    with pytest.raises(ValueError, match=message):
        writes.save_with_history(target, by=manager, reason="typo", update_fields=update_fields)
    scrub = CampaignScrub.objects.create(
        campaign=target.campaign, requested_by=manager, at=timezone.now(), today_ends_at=timezone.now()
    )
    with pytest.raises(ValueError, match=message.replace("priorty", "requested_byy")):
        writes.update(scrub, update_fields=update_fields and ["at", "requested_byy"])
    with CaptureQueriesContext(connection) as queries:
        writes.run()
    assert len(queries) == 0
    target.refresh_from_db()
    assert target.priority == 0 and not target.history.filter(history_change_reason="typo").exists()
