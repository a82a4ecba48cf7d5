"""The pre-launch scrub tells a manager, before activating a campaign, how
many targets may be called now, later today, later or never, and why; its
answer for every target is the engine's (one `decide` per target is the
oracle here)."""

import datetime as dt
import threading
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.contrib.auth.models import Group

from accounts.roles import AGENTS
from campaigns import scrub
from campaigns.models import CallAttempt, CampaignScrub, CampaignTarget
from campaigns.services import targets_add
from compliance import jurisdictions
from compliance.erasure import customer_erase
from compliance.facts import facts_gather
from compliance.policy import PERMANENT_REASONS, TIME_REASONS, decide, next_allowed_at
from compliance.registry.models import AreaCodeSync
from compliance.registry.services import registry_file_import, registry_source_ensure
from compliance.ruleset import ruleset_current
from compliance.services import decision_make
from config.celery import app
from consent.models import DncRequest
from consent.services import consent_revoke, suppression_add
from tests.factories import (
    CampaignFactory,
    ConsentGrantFactory,
    CustomerFactory,
    PhoneNumberFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TUESDAY_EARLY = dt.datetime(2026, 11, 17, 13, 30, tzinfo=dt.UTC)  # 08:30 New York, 05:30 Los Angeles
SUNDAY_NOON = dt.datetime(2026, 11, 22, 17, 0, tzinfo=dt.UTC)  # 12:00 New York, 11:00 Texas
THANKSGIVING = dt.datetime(2026, 11, 26, 15, 0, tzinfo=dt.UTC)  # 10:00 New York, a federal holiday

CAMPAIGNS = {
    "manual marketing": {"purpose": "marketing", "dialing_mode": "manual"},
    "autodialed marketing": {"purpose": "marketing", "dialing_mode": "autodialed"},
    "autodialed informational, own window and cap": {
        "purpose": "informational",
        "dialing_mode": "autodialed",
        "window_start": dt.time(9, 0),
        "window_end": dt.time(17, 0),
        "max_attempts_per_day": 2,
    },
    "prerecorded marketing starting in two hours": {
        "purpose": "marketing",
        "dialing_mode": "prerecorded",
        "starts_in": dt.timedelta(hours=2),
    },
}


def person(number: str, state: str = "", postal_code: str = "", **customer):
    customer = CustomerFactory(state=state, postal_code=postal_code, **customer)
    return PhoneNumberFactory(customer=customer, number=number)


def consent(phone, at, *, purpose="marketing", written=True, channel="voice", **fields):
    return ConsentGrantFactory(
        phone_number=phone,
        purpose=purpose,
        written=written,
        channel=channel,
        granted_at=fields.pop("granted_at", at - dt.timedelta(days=30)),
        **fields,
    )


def mixed_targets(at):
    """About 40 numbers across every reason, places and zones."""
    day = dt.timedelta(days=1)
    phones = []
    add = phones.append
    # New York, several on one exchange (one group), with their consents.
    add(person("+12127360001", "NY", "10001"))  # no consent
    add(ok := person("+12127360002", "NY", "10001"))
    consent(ok, at)
    add(revoked := person("+12127360003", "NY", "10001"))
    consent(revoked, at)
    consent_revoke(number="+12127360003", via="api", by=None, at=at - 3 * day)
    add(expired := person("+12127360004", "NY", "10001"))
    consent(expired, at, expires_at=at - day)
    add(reassigned := person("+12127360005", "NY", "10001"))
    consent(reassigned, at)
    reassigned.reassigned_at = at - 2 * day
    reassigned.save()
    add(express := person("+12127360006", "NY", "10001"))
    consent(express, at, purpose="informational", written=False)
    add(sms_revoked := person("+12127360007", "NY", "10001"))
    consent(sms_revoked, at)  # the voice consent falls with the later SMS revocation
    consent(
        sms_revoked, at, channel="sms", granted_at=at - 5 * day, revoked_at=at - 2 * day, revoked_via="sms"
    )
    add(future := person("+12127360008", "NY", "10001"))
    consent(future, at, granted_at=at + day)
    add(dnc_only := person("+12127360009", "NY", "10001"))
    DncRequest.objects.create(number=str(dnc_only.number), source="api", requested_at=at - 400 * day)
    # Registry (national; 212 synced yesterday, 305 never): listed, with and without an EBR.
    add(person("+12127360010", "NY", "10001"))  # listed, nothing exempts
    add(person("+12127360011", "NY", "10001", last_purchase_at=at - 180 * day))  # listed, EBR
    add(person("+12127360012", "NY", "10001", last_purchase_at=at - 600 * day))  # listed, EBR over
    add(voided := person("+12127360013", "NY", "10001", last_inquiry_at=at - 30 * day))  # listed
    DncRequest.objects.create(number=str(voided.number), source="api", requested_at=at - 10 * day)
    add(ebr_reassigned := person("+12127360014", "NY", "10001", last_purchase_at=at - 60 * day))  # listed
    ebr_reassigned.reassigned_at = at - 5 * day
    ebr_reassigned.save()
    add(listed_consented := person("+12127360015", "NY", "10001"))  # listed, written consent
    consent(listed_consented, at)
    add(person("+13057360001", "FL", "33130"))  # Miami: registry data for 305 never synced
    # Florida cap: three calls on the subject in the last 24 h, from another campaign.
    add(capped := person("+12397360001", "FL", "33901"))
    consent(capped, at)
    # Places and zones.
    add(person("+14157360001", "CA", "94103"))  # Los Angeles time
    add(person("+18087360001", "HI", "96813"))  # Honolulu
    add(ny_in_ca := person("+12127360016", "CA", "94103"))  # a New York number, a California address
    consent(ny_in_ca, at)
    add(person("+18607360001", "CT", "06103"))  # Connecticut: written consent for sales
    add(ct_written := person("+18607360002", "CT", "06103"))
    consent(ct_written, at)
    add(person("+18017360001", "UT", "84101"))  # Utah: no Sunday or holiday without consent
    add(ut_consented := person("+18017360002", "UT", "84101"))
    consent(ut_consented, at)
    add(person("+14017360001", "RI", "02903"))  # Rhode Island
    add(person("+15127360001", "TX", "78701"))  # Texas (its own list, never synced)
    add(pa_listed := person("+12157360001", "PA", "19103"))  # Pennsylvania, on the state list
    consent(pa_listed, at, purpose="informational", written=False)
    add(person("+12157360002", "PA", "19103"))
    add(person("+12067360001", "WA", "98101"))
    add(person("+16717360001", "GU", "96910"))  # Guam
    add(person("+18005550123"))  # toll-free: no time zone
    add(person("+11234567890", "NY", "10001"))  # not a valid number
    add(person("+14165550123"))  # Toronto
    add(person("+12127360017", "NY", "1000"))  # a ZIP that is no ZIP
    # Erased: the customer (the number is kept only as a hash), and the hash of
    # an erased person's number now held by someone new.
    add(erased := person("+12127360018", "NY", "10001"))
    add(reused := person("+12127360019", "NY", "10001"))
    consent(reused, at)
    return phones, {
        "erased": erased,
        "reused": reused,
        "capped": capped,
        "registry_listed": [2127360010, 2127360011, 2127360012, 2127360013, 2127360014, 2127360015],
        "pa_listed": pa_listed,
    }


def registry_setup(at, tmp_path, *, national_numbers, pa_numbers):
    national = registry_source_ensure(key="national")
    pennsylvania = registry_source_ensure(key="state:PA")
    registry_source_ensure(key="state:TX")
    path = tmp_path / "national.txt"
    # Every synced area code needs a number in the file.
    path.write_text("".join(f"{n}\n" for n in [*national_numbers, 2397369999, 4157369999, 2157369999]))
    registry_file_import(source=national, paths=[path])
    pa_path = tmp_path / "pa.txt"
    pa_path.write_text("".join(f"{n}\n" for n in pa_numbers))
    registry_file_import(source=pennsylvania, paths=[pa_path])
    AreaCodeSync.objects.update(synced_at=at - dt.timedelta(days=1))


def build_campaign(kind: str, at, tmp_path):
    fields = dict(CAMPAIGNS[kind])
    starts_in = fields.pop("starts_in", None)
    campaign = CampaignFactory(
        status="draft", subject="offers", starts_at=at + starts_in if starts_in else None, **fields
    )
    phones, special = mixed_targets(at)
    registry_setup(
        at,
        tmp_path,
        national_numbers=special["registry_listed"],
        pa_numbers=[int(str(special["pa_listed"].number)[2:])],
    )
    added = targets_add(campaign=campaign, numbers=[str(p.number) for p in phones], by=None)
    assert added.added == len(phones), added
    customer_erase(customer=special["erased"].customer, by=None, via="api", reason="asked")
    suppression_add(e164=str(special["reused"].number), source="api", reason="erased before")
    other = CampaignFactory(subject="offers", purpose="marketing", dialing_mode="manual")
    agent = UserFactory(username="dialer.agent")
    agent.groups.add(Group.objects.get(name=AGENTS))
    capped = special["capped"]
    target = CampaignTarget.objects.create(campaign=other, phone_number=capped, next_attempt_at=at)
    for hours in (1, 5, 20):
        record = decision_make(
            number=str(capped.number), context=scrub.scrub_context(other), at=at, kind="check", actor=None
        ).record
        CallAttempt.objects.create(
            target=target,
            campaign=other,
            phone_number=capped,
            subject="offers",
            agent=agent,
            decision=record,
            caller_id="+12125550100",
            handed_at=at - dt.timedelta(hours=hours),
        )
    return campaign


def engine_verdicts(campaign, at, today_ends_at):
    """The oracle: facts gathered and decided for each target on its own."""
    rules = ruleset_current()
    context = scrub.scrub_context(campaign)
    verdicts = {}
    for target in CampaignTarget.objects.filter(campaign=campaign).select_related("phone_number"):
        phone = target.phone_number
        if phone.number is None:
            verdicts[target.pk] = ("never", ("customer_erased",), None)
            continue
        facts = facts_gather(number=str(phone.number), context=context, at=at, rules=rules)
        decision = decide(facts, rules)
        reasons = set(decision.reasons)
        if decision.allowed:
            klass = "now"
        elif reasons & PERMANENT_REASONS:
            klass = "never"
        elif reasons <= TIME_REASONS and (opens := next_allowed_at(facts, rules)) and opens < today_ends_at:
            klass = "later_today"
        else:
            klass = "later"
        verdicts[target.pk] = (klass, decision.reasons, scrub.rnd_status(decision, facts))
    return verdicts


@pytest.mark.sqlite
@pytest.mark.parametrize(
    "at", [TUESDAY_EARLY, SUNDAY_NOON, THANKSGIVING], ids=["tuesday", "sunday", "holiday"]
)
@pytest.mark.parametrize("kind", list(CAMPAIGNS))
def test_the_scrub_classifies_every_target_as_the_engine_decides_it(kind, at, tmp_path, monkeypatch):
    campaign = build_campaign(kind, at, tmp_path)
    assert_scrub_matches_the_engine(campaign, at, monkeypatch)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_facts_of_the_next_chunk_are_read_beside_and_agree(tmp_path, monkeypatch):
    # The worker's path: no transaction, so facts_gather_many reads the next
    # chunk on a second connection while this one is decided.
    campaign = build_campaign("autodialed marketing", TUESDAY_EARLY, tmp_path)
    threads = []
    original = scrub.facts_gather_many

    def watched(**kwargs):
        for chunk in original(**kwargs):
            threads.extend(t.name for t in threading.enumerate() if t.name.startswith("facts"))
            yield chunk

    monkeypatch.setattr(scrub, "facts_gather_many", watched)
    assert_scrub_matches_the_engine(campaign, TUESDAY_EARLY, monkeypatch)
    assert threads, "the chunks were read on the prefetching thread"


def assert_scrub_matches_the_engine(campaign, at, monkeypatch):
    today_ends_at = scrub.today_end(at)
    # Small batches and chunks, so that targets span several of each.
    monkeypatch.setattr(scrub, "FACTS_CHUNK", 5)
    result = scrub.scrub_compute(campaign=campaign, at=at, with_targets=True, batch_size=7)

    expected = engine_verdicts(campaign, at, today_ends_at)
    got = {pk: (verdict.klass, verdict.reasons, verdict.rnd) for pk, verdict in result.targets.items()}
    numbers = dict(CampaignTarget.objects.filter(campaign=campaign).values_list("pk", "phone_number__number"))
    wrong = {numbers[pk]: (got.get(pk), expected[pk]) for pk in expected if got.get(pk) != expected[pk]}
    assert not wrong, wrong
    assert result.total == len(expected)
    # The mix really is mixed, and the counts add up to it.
    assert sum(result.classes.values()) == len(expected)
    assert len({klass for klass, _reasons, _rnd in expected.values()}) >= 2
    assert result.decisions < len(expected)


def test_a_scrub_writes_no_file_and_keeps_no_number(tmp_path, settings):
    # Nothing is cached between runs: no file under VAR_DIR, and the place
    # memo of compliance.jurisdictions holds prefixes, not numbers.
    settings.VAR_DIR = tmp_path / "var"
    campaign = build_campaign("manual marketing", TUESDAY_EARLY, tmp_path)
    jurisdictions._places.clear()

    scrub.scrub_compute(campaign=campaign, at=TUESDAY_EARLY)

    assert not (tmp_path / "var").exists() or not any((tmp_path / "var").rglob("*"))
    numbers = {
        str(n)
        for n in CampaignTarget.objects.filter(campaign=campaign).values_list(
            "phone_number__number", flat=True
        )
        if n
    }
    assert jurisdictions._places, "the memo was used"
    assert not numbers & set(jurisdictions._places)


def test_the_counts_say_how_many_and_why(tmp_path):
    at = TUESDAY_EARLY
    campaign = build_campaign("manual marketing", at, tmp_path)
    summary = scrub.scrub_compute(campaign=campaign, at=at).as_json()
    assert summary["total"] == CampaignTarget.objects.filter(campaign=campaign).count()
    assert summary["reasons"]["customer_erased"] == 2
    assert summary["reasons"]["dnc_national"] == 4  # listed: no exemption, an EBR over, voided twice
    assert summary["reasons"]["dnc_state"] == 1
    assert summary["reasons"]["frequency_cap"] == 1
    assert summary["reasons"]["timezone_unknown"] >= 1  # toll-free
    assert summary["reasons"]["invalid_number"] >= 1
    assert summary["reasons"]["dnc_data_stale"] >= 1  # 305 and Texas never synced
    assert summary["reasons_by_class"]["later_today"]["outside_calling_hours"] >= 3
    assert summary["opens_by_hour"], "a manager sees when the later-today targets open"


@pytest.mark.django_db(transaction=True)
def test_a_big_campaign_is_scrubbed_by_the_worker_with_its_progress_recorded(manager, monkeypatch):
    monkeypatch.setattr(scrub, "SYNC_LIMIT", 2)
    campaign = CampaignFactory(status="draft", purpose="informational", dialing_mode="manual")
    phones = [person(f"+1212736{i:04d}", "NY", "10001") for i in range(1, 6)]
    targets_add(campaign=campaign, numbers=[str(p.number) for p in phones], by=None)

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        run = scrub.scrub_start(campaign=campaign, by=manager, at=TUESDAY_EARLY + dt.timedelta(hours=3))
        assert run.status == "pending"
        deadline = time.monotonic() + 20
        while (run := CampaignScrub.objects.get(pk=run.pk)).status in ("pending", "running"):
            assert time.monotonic() < deadline, "the worker did not finish the scrub within 20 s"
            time.sleep(0.1)

    assert run.status == "succeeded", run.error
    assert (run.rows_done, run.rows_total, run.progress_percent) == (5, 5, 100)
    assert run.result["classes"]["now"] == 5
    assert run.requested_by == manager and run.duration is not None


def test_the_scrub_counts_rnd_answers_and_the_queries_a_launch_needs(manager):
    """Issue 18: for an autodialed marketing campaign (every call relies on
    consent), what the RND query ledger holds per target: yes, a fresh no,
    no data, a stale no, never asked; the stale and unasked need a query."""
    from compliance.rnd.services import rnd_import

    at = TUESDAY_EARLY
    campaign = CampaignFactory(purpose="marketing", dialing_mode="autodialed", subject="sale", status="draft")
    granted = at - dt.timedelta(days=200)
    answers = {
        "yes": (1, "yes"),
        "no": (1, "no"),
        "no_data": (1, "no_data"),
        "stale": (40, "no"),
        "missing": None,
    }
    lines = []
    numbers = []
    for index, (_status, answer) in enumerate(answers.items()):
        number = f"+1212736{index:04d}"
        phone = PhoneNumberFactory(customer=CustomerFactory(state="NY", postal_code="10001"), number=number)
        ConsentGrantFactory(phone_number=phone, purpose="marketing", written=True, granted_at=granted)
        numbers.append(number)
        if answer is not None:
            days, value = answer
            queried = (at - dt.timedelta(days=days)).isoformat()
            lines.append(f"{number},{granted.astimezone(dt.UTC).date().isoformat()},{value},{queried}\n")
    rnd_import(data=("phone_number,date,answer,queried_at\n" + "".join(lines)).encode())
    targets_add(campaign=campaign, numbers=numbers, by=manager)
    summary = scrub.scrub_compute(campaign=campaign, at=at).as_json()
    assert summary["rnd"] == {"yes": 1, "no": 1, "no_data": 1, "stale": 1, "missing": 1}
    assert summary["rnd_queries_needed"] == 2
    assert summary["reasons"]["reassigned_number"] == 1
