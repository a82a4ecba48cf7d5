"""What is due for the RND, sent in batches, and the commands: rnd_query
(through the configured adapter) and rnd_import (a CSV of answers, all or
nothing)."""

import datetime as dt
import subprocess
import sys
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaigns.models import CampaignTarget
from compliance.rnd.adapters import RecordedAdapter
from compliance.rnd.chain import RndEntry, rnd_ledger_append, rnd_ledger_verify
from compliance.rnd.models import RndQuery
from compliance.rnd.selectors import rnd_latest_answers
from compliance.rnd.services import rnd_query_due
from consent.models import ConsentGrant
from customers.models import Customer, PhoneNumber
from tests.factories import CampaignFactory, ConsentGrantFactory, CustomerFactory, PhoneNumberFactory
from tests.owner import app_process_env

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 2, 15, 0, tzinfo=dt.UTC)
GRANTED = dt.datetime(2024, 3, 1, 23, 30, tzinfo=dt.UTC)


class Counting(RecordedAdapter):
    def __init__(self, **kwargs):
        super().__init__(clock=lambda: NOW, **kwargs)
        self.batches: list[list] = []

    def query(self, requests):
        self.batches.append(list(requests))
        return super().query(requests)


def _target(campaign, phone):
    return CampaignTarget.objects.create(campaign=campaign, phone_number=phone, next_attempt_at=NOW)


def _answer(number, day, answer, queried_at):
    rnd_ledger_append(
        [
            RndEntry(
                number=number,
                date_sent=day,
                date_kind="consent",
                answer=answer,
                provider="recorded",
                queried_at=queried_at,
                response_sha256="0" * 64,
            )
        ]
    )


def test_consent_dates_are_due_once_per_number_and_date_unless_freshly_answered():
    campaign = CampaignFactory(purpose="marketing", dialing_mode="autodialed")
    twice = PhoneNumberFactory(number="+12125550120")
    first = ConsentGrantFactory(phone_number=twice, granted_at=GRANTED)
    ConsentGrantFactory(phone_number=twice, granted_at=GRANTED + dt.timedelta(minutes=20))  # same UTC date
    later = ConsentGrantFactory(phone_number=twice, granted_at=GRANTED + dt.timedelta(days=40))
    ConsentGrantFactory(phone_number=twice, granted_at=GRANTED, written=False)  # not relied on: marketing
    ConsentGrantFactory(
        phone_number=twice, granted_at=GRANTED, revoked_at=NOW - dt.timedelta(days=1), revoked_via="api"
    )
    fresh, stale, reassigned = (PhoneNumberFactory(number=f"+1212555012{n}") for n in (1, 2, 3))
    for phone in (fresh, stale, reassigned):
        ConsentGrantFactory(phone_number=phone, granted_at=GRANTED)
    _answer("+12125550121", GRANTED.date(), "no", NOW - dt.timedelta(days=29, hours=23))
    _answer("+12125550122", GRANTED.date(), "no", NOW - dt.timedelta(days=30))  # stale at exactly 30 x 24 h
    _answer("+12125550123", GRANTED.date(), "yes", NOW - dt.timedelta(days=400))  # a yes stays one
    for phone in (twice, fresh, stale, reassigned):
        _target(campaign, phone)
    _target(
        CampaignFactory(purpose="marketing", dialing_mode="autodialed", status="paused"), PhoneNumberFactory()
    )

    adapter = Counting(disconnects={"+12125550120": dt.date(2024, 6, 1)})
    run = rnd_query_due(adapter=adapter, at=NOW)

    sent = [(r.number, r.date_sent) for batch in adapter.batches for r in batch]
    assert sorted(sent) == [
        ("+12125550120", GRANTED.date()),
        ("+12125550120", later.granted_at.date()),
        ("+12125550122", GRANTED.date()),
    ]
    assert (run.candidates, run.due, run.sent, run.batches) == (6, 3, 3, 1)
    assert run.answers == Counter({"yes": 2, "no": 1})  # both consents predate the disconnection
    recorded = RndQuery.objects.get(phone_number="+12125550120", date_sent=GRANTED.date())
    assert (recorded.answer, recorded.date_kind, recorded.consent_id) == ("yes", "consent", first.pk)
    assert rnd_query_due(adapter=adapter, at=NOW).due == 0  # answered now
    assert rnd_ledger_verify().ok


def test_batches_hold_at_most_1000():
    campaign = CampaignFactory(purpose="informational", dialing_mode="prerecorded")
    customers = Customer.objects.bulk_create(
        [Customer(first_name="A", last_name=str(n)) for n in range(1001)]
    )
    phones = PhoneNumber.objects.bulk_create(
        [PhoneNumber(customer=c, number=f"+1646555{n:04d}") for n, c in enumerate(customers)]
    )
    ConsentGrant.objects.bulk_create(
        [
            ConsentGrant(
                phone_number=p,
                purpose="informational",
                channel="voice",
                written=False,
                source="web_form",
                evidence={"disclosure_text": "ok"},
                granted_at=GRANTED,
            )
            for p in phones
        ]
    )
    CampaignTarget.objects.bulk_create(
        [CampaignTarget(campaign=campaign, phone_number=p, next_attempt_at=NOW) for p in phones]
    )
    adapter = Counting()
    adapter.batch_max = 5000  # the service's own cap holds
    run = rnd_query_due(adapter=adapter, at=NOW, batch_size=5000)
    assert [len(batch) for batch in adapter.batches] == [1000, 1]
    assert (run.sent, run.batches) == (1001, 2)
    small = Counting()
    assert rnd_query_due(adapter=small, at=NOW + dt.timedelta(days=31), batch_size=400).batches == 3
    assert [len(batch) for batch in small.batches] == [400, 400, 201]


def test_maine_marketing_numbers_are_due_with_the_latest_contact():
    campaign = CampaignFactory(purpose="marketing", dialing_mode="manual")
    by_area_code = PhoneNumberFactory(
        number="+12075550130", customer=CustomerFactory(state="NY", postal_code="10001")
    )
    by_address = PhoneNumberFactory(
        number="+12125550131",
        customer=CustomerFactory(
            state="ME", postal_code="04101", last_purchase_at=dt.datetime(2026, 5, 4, 2, tzinfo=dt.UTC)
        ),
    )
    elsewhere = PhoneNumberFactory(number="+12125550132")
    for phone in (by_area_code, by_address, elsewhere):
        _target(campaign, phone)
    _target(
        CampaignFactory(purpose="informational", dialing_mode="manual"),
        PhoneNumberFactory(number="+12075550133"),
    )
    Customer.objects.filter(pk=by_address.customer_id).update(
        created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    )

    adapter = Counting()
    rnd_query_due(adapter=adapter, at=NOW, campaign_id=campaign.pk)

    sent = sorted((r.number, r.date_sent) for batch in adapter.batches for r in batch)
    created = timezone.localdate(by_area_code.customer.created_at, dt.UTC)
    assert sent == [("+12075550130", created), ("+12125550131", dt.date(2026, 5, 4))]
    assert set(RndQuery.objects.values_list("date_kind", flat=True)) == {"contact"}


def test_latest_answers_per_number_and_date_in_one_query(django_assert_num_queries):
    _answer("+12125550140", dt.date(2024, 3, 1), "no", NOW - dt.timedelta(days=60))
    _answer("+12125550140", dt.date(2024, 3, 1), "yes", NOW - dt.timedelta(days=1))
    _answer("+12125550140", dt.date(2025, 1, 1), "no", NOW - dt.timedelta(days=1))
    _answer("+12125550140", dt.date(2024, 3, 1), "error", NOW - dt.timedelta(hours=1))
    _answer("+12125550141", dt.date(2024, 3, 1), "no", NOW + dt.timedelta(days=1))  # after `at`
    with django_assert_num_queries(1):
        found = rnd_latest_answers(numbers=["+12125550140", "+12125550141", "+12125550142"], at=NOW)
    assert list(found) == ["+12125550140"]
    assert [(a.date_sent, a.answer) for a in found["+12125550140"]] == [
        (dt.date(2025, 1, 1), "no"),
        (dt.date(2024, 3, 1), "yes"),
    ]


# --- commands ---------------------------------------------------------------------------

GOOD = (
    "phone_number,date,answer,queried_at\n"
    "2125550150,2024-03-01,yes,2026-10-01T10:00:00-04:00\n"
    "+12125550151,2021-01-26,no_data,2026-10-01T14:00:00+00:00\n"
    "+12125550152,2024-03-01,no,2026-10-01T14:00:00Z\n"
)


def test_rnd_import_records_every_line_and_links_the_consent(tmp_path, capsys):
    consent = ConsentGrantFactory(phone_number=PhoneNumberFactory(number="+12125550150"), granted_at=GRANTED)
    path = tmp_path / "answers.csv"
    path.write_text(GOOD)
    call_command("rnd_import", str(path))
    rows = {r.phone_number: r for r in RndQuery.objects.all()}
    assert {n: r.answer for n, r in rows.items()} == {
        "+12125550150": "yes",
        "+12125550151": "no_data",
        "+12125550152": "no",
    }
    assert (rows["+12125550150"].date_kind, rows["+12125550150"].consent_id) == ("consent", consent.pk)
    assert rows["+12125550150"].queried_at == dt.datetime(2026, 10, 1, 14, tzinfo=dt.UTC)
    assert (rows["+12125550151"].date_kind, rows["+12125550151"].provider) == ("manual", "import")
    call_command("rnd_import", str(path))  # again: nothing twice
    assert RndQuery.objects.count() == 3 and "3 already in the ledger" in capsys.readouterr().out
    assert rnd_ledger_verify().ok


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("555,2024-03-01,no,2026-10-01T10:00:00+00:00", "line 3: expected E.164 or 10 digits"),
        ("2125550153,03/01/2024,no,2026-10-01T10:00:00+00:00", "line 3: date must be YYYY-MM-DD"),
        ("2125550153,2024-03-01,maybe,2026-10-01T10:00:00+00:00", "line 3: answer must be one of"),
        ("2125550153,2024-03-01,error,2026-10-01T10:00:00+00:00", "line 3: answer must be one of"),
        ("2125550153,2024-03-01,no,2026-10-01T10:00:00", "line 3: queried_at needs an offset"),
        ("2125550153,2024-03-01,no", "line 3: expected 4 fields"),
    ],
)
def test_rnd_import_refuses_a_file_with_a_bad_line_whole(tmp_path, line, message):
    path = tmp_path / "answers.csv"
    lines = GOOD.splitlines()
    path.write_text("\n".join([lines[0], lines[1], line, lines[2]]) + "\n")
    with pytest.raises(CommandError, match=message):
        call_command("rnd_import", str(path))
    assert not RndQuery.objects.exists()


def test_rnd_import_exits_non_zero_naming_the_line(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text("phone_number,date,answer,queried_at\n2125550150,2024-13-01,yes,2026-10-01T10:00:00Z\n")
    done = subprocess.run(
        [sys.executable, "manage.py", "rnd_import", str(path)],
        env=app_process_env(),
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "line 2: date must be YYYY-MM-DD" in done.stderr and "nothing was recorded" in done.stderr


def test_rnd_query_sends_through_the_configured_adapter(settings, capsys):
    settings.RND_ADAPTER = "recorded"
    campaign = CampaignFactory(purpose="informational", dialing_mode="autodialed")
    _target(campaign, ConsentGrantFactory(purpose="informational", granted_at=GRANTED).phone_number)
    call_command("rnd_query", "--campaign", str(campaign.pk))
    assert "1 due, 1 sent in 1 batch(es); answers: no 1" in capsys.readouterr().out
    settings.RND_ADAPTER = ""
    with pytest.raises(CommandError, match="No RND adapter is configured"):
        call_command("rnd_query")
