"""core.writes.WriteBatch: the rows save() and history_save() would write,
in one statement, whichever fields each write names."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import CampaignTarget
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
