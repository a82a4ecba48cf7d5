"""The queue under concurrency, on PostgreSQL with real transactions and threads."""

import datetime as dt
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import Group
from django.db import connection, connections

from accounts.roles import AGENTS
from accounts.services import training_record
from campaigns import dialer
from campaigns.models import CallAttempt, Campaign, CampaignTarget
from consent.models import DncRequest
from consent.services import consent_grant, consent_revoke
from customers.models import Customer, PhoneNumber
from tests.campaigns.conftest import TUESDAY_MORNING
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

AGENT_COUNT = 20
TARGET_COUNT = 2000


def _agents(n):
    group = Group.objects.get(name=AGENTS)
    agents = []
    for i in range(n):
        agent = UserFactory(username=f"agent{i:02d}")
        agent.groups.add(group)
        training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=1))
        agents.append(agent)
    return agents


def _bulk_targets(campaign, count, blocked_every=4):
    """`count` NY numbers; every `blocked_every`-th is blocked, for various reasons."""
    customers = Customer.objects.bulk_create(
        [
            Customer(first_name=f"C{i}", last_name="Load", state="NY", postal_code="10001")
            for i in range(count)
        ]
    )
    phones = PhoneNumber.objects.bulk_create(
        [
            PhoneNumber(customer=c, number=f"+1212{7000000 + i:07d}", kind="mobile")
            for i, c in enumerate(customers)
        ]
    )
    blocked = set()
    for i, phone in enumerate(phones):
        if i % blocked_every:
            consent_grant(
                phone=phone,
                purpose="informational",
                channel="voice",
                written=False,
                source="verbal",
                evidence={"disclosure_text": "ok"},
                granted_at=TUESDAY_MORNING - dt.timedelta(days=9),
                by=None,
            )
            continue
        blocked.add(phone.pk)
        kind = (i // blocked_every) % 3
        if kind == 0:
            consent_revoke(number=str(phone.number), via="api", by=None)  # dnc_internal, revoked
        elif kind == 1:
            pass  # no consent at all: consent_missing for an autodialed call
        else:
            phone.customer.erased_at = TUESDAY_MORNING
            phone.customer.save()  # customer_erased
    CampaignTarget.objects.bulk_create(
        [CampaignTarget(campaign=campaign, phone_number=p, next_attempt_at=TUESDAY_MORNING) for p in phones]
    )
    return phones, blocked


def test_twenty_agents_drain_a_campaign_without_duplicates_or_blocked_numbers():
    campaign = Campaign.objects.create(
        name="Delivery updates",
        purpose="informational",
        dialing_mode="autodialed",
        subject="delivery",
        caller_id="+12125550100",
        status="active",
    )
    phones, blocked = _bulk_targets(campaign, TARGET_COUNT)
    agents = _agents(AGENT_COUNT)
    handed: list[int] = []
    lock = threading.Lock()

    def work(agent):
        try:
            mine = []
            while True:
                handoff = dialer.dialer_next(campaign=campaign, agent=agent, now=TUESDAY_MORNING)
                if handoff is None:
                    break
                mine.append(handoff.target.phone_number_id)
            with lock:
                handed.extend(mine)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=AGENT_COUNT) as pool:
        list(pool.map(work, agents))

    counts = Counter(handed)
    assert not [p for p, n in counts.items() if n > 1], "a target was handed twice"
    assert not (set(handed) & blocked), "a blocked number was handed out"
    callable_ids = {p.pk for p in phones} - blocked
    assert set(handed) == callable_ids, f"{len(callable_ids - set(handed))} callable numbers never handed"
    assert CallAttempt.objects.count() == len(callable_ids)
    assert CampaignTarget.objects.filter(status="suppressed").count() == len(blocked)
    assert len({a for a in CallAttempt.objects.values_list("agent_id", flat=True)}) > 1


@pytest.mark.parametrize("opt_out_first", [True, False])
def test_an_opt_out_racing_a_hand_off_always_wins_once_committed(opt_out_first):
    """Whatever the interleaving: if the opt-out commits before the hand-off
    commits, no attempt exists; if the hand-off commits first, the opt-out
    waits for it and then applies (no later hand-off)."""
    campaign = Campaign.objects.create(
        name="Race",
        purpose="informational",
        dialing_mode="manual",
        subject="race",
        caller_id="+12125550100",
        status="active",
    )
    customer = Customer.objects.create(first_name="R", last_name="Ace", state="NY", postal_code="10001")
    phone = PhoneNumber.objects.create(customer=customer, number="+12127369999", kind="mobile")
    CampaignTarget.objects.create(campaign=campaign, phone_number=phone, next_attempt_at=TUESDAY_MORNING)
    (agent,) = _agents(1)
    opt_out_holds_lock = threading.Event()
    release_opt_out = threading.Event()
    results = {}

    from django.db import transaction

    def opt_out():
        try:
            with transaction.atomic():
                consent_revoke(number="+12127369999", via="sms", by=None)
                opt_out_holds_lock.set()
                release_opt_out.wait(timeout=10)
            results["opt_out"] = "committed"
        finally:
            connections.close_all()

    def hand_off():
        try:
            results["handoff"] = dialer.dialer_next(campaign=campaign, agent=agent, now=TUESDAY_MORNING)
        finally:
            connections.close_all()

    if opt_out_first:
        t1 = threading.Thread(target=opt_out)
        t1.start()
        assert opt_out_holds_lock.wait(timeout=10)
        t2 = threading.Thread(target=hand_off)
        t2.start()
        t2.join(timeout=1)
        assert t2.is_alive(), "the hand-off must wait for the opt-out's lock on the number"
        release_opt_out.set()
        t1.join(timeout=10)
        t2.join(timeout=10)
        assert results["handoff"] is None
        assert not CallAttempt.objects.exists()
        assert CampaignTarget.objects.get().status == "suppressed"
    else:
        hand_off()
        assert results["handoff"] is not None
        release_opt_out.set()
        opt_out()
        # The hand-off committed first; from now on the number is never handed again.
        later = TUESDAY_MORNING + dialer.LEASE + dt.timedelta(minutes=1)
        assert dialer.dialer_next(campaign=campaign, agent=agent, now=later) is None
    assert DncRequest.objects.filter(number="+12127369999").count() == 1
    connection.close()
