"""core.prepared: a SELECT compiled once answers as the queryset itself
would, with each call's own values, on every thread's own connection; an
INSERT compiled once writes the row save() writes."""

import dataclasses
import datetime as dt
import json
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.db.models import Count, Exists, OuterRef, signals
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from compliance.decision_log import _json_default, to_jsonable
from compliance.models import DecisionRecord
from compliance.policy import CallContext, CallFacts, ConsentFact, RegistryFact
from compliance.rnd.answers import RndAnswer
from core.prepared import PreparedInsert, PreparedSelect

pytestmark = pytest.mark.django_db

User = get_user_model()
_GROUPS = Exists(User.groups.through.objects.filter(user_id=OuterRef("user_id")))
TOKEN = PreparedSelect(
    lambda key: Token.objects.select_related("user").annotate(in_a_group=_GROUPS).filter(key=key), "key"
)


def _same(left, right) -> None:
    assert type(left) is type(right)
    assert {f.attname: getattr(left, f.attname) for f in left._meta.concrete_fields} == {
        f.attname: getattr(right, f.attname) for f in right._meta.concrete_fields
    }


def test_it_builds_what_the_queryset_builds_in_one_statement(agent, outsider):
    for user in (agent, outsider):
        key = Token.objects.create(user=user).key
        expected = Token.objects.select_related("user").annotate(in_a_group=_GROUPS).get(key=key)
        with CaptureQueriesContext(connection) as queries:
            token = TOKEN.first(key=key)
            assert token is not None
            _same(token, expected)
            _same(token.user, expected.user)  # select_related: no query of its own
            assert token.in_a_group is expected.in_a_group is (user == agent)
            assert not token._state.adding and token._state.db == "default"
        assert len(queries) == 1


def test_each_call_reads_its_own_value_and_a_missing_row_is_none(agent, manager):
    first, second = (Token.objects.create(user=user).key for user in (agent, manager))
    assert TOKEN.first(key=first).user == agent
    assert TOKEN.first(key=second).user == manager
    assert TOKEN.first(key="0" * 40) is None


def test_a_row_changed_after_compiling_is_read_as_it_is_now(agent):
    key = Token.objects.create(user=agent).key
    assert TOKEN.first(key=key).user.is_active
    User.objects.filter(pk=agent.pk).update(is_active=False)
    assert not TOKEN.first(key=key).user.is_active


@pytest.mark.django_db(transaction=True)
def test_another_thread_compiles_for_its_own_connection(agent):
    key = Token.objects.create(user=agent).key
    assert TOKEN.first(key=key) is not None  # compiled for this thread's connection
    found = []

    def other():
        try:
            found.append(TOKEN.first(key=key).user.pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert found == [agent.pk]


def test_a_value_that_is_not_one_plain_parameter_is_refused(agent):
    twice = PreparedSelect(lambda key: Token.objects.filter(key=key) | Token.objects.filter(key=key), "key")
    with pytest.raises(ValueError, match="'key' must be one plain parameter of the statement, found 2"):
        twice.first(key="x")
    counted = PreparedSelect(
        lambda name: User.objects.annotate(n=Count("groups")).filter(username=name), "name"
    )
    assert counted.first(name=agent.username).n == 1


LOG_INSERT = PreparedInsert(DecisionRecord)


def _decision(actor, **fields) -> DecisionRecord:
    return DecisionRecord(
        decided_at=dt.datetime(2026, 11, 17, 15, tzinfo=dt.UTC),
        kind="check",
        phone_number="+12127360601",
        number_hash="ab" * 32,
        actor=actor,
        allowed=False,
        reasons=["consent_missing", "dnc_national"],
        evidence={"ruleset_version": "v1", "zones": ["America/New_York"], "nested": {"n": [1, None, 2.5]}},
        facts={"e164": None},
        ruleset_version="v1",
        **fields,
    )


def _values(record: DecisionRecord) -> dict:
    return {f.attname: getattr(record, f.attname) for f in DecisionRecord._meta.concrete_fields}


def test_an_insert_writes_and_returns_what_save_does(agent):
    by_save = _decision(agent)
    by_save.save(force_insert=True)
    prepared = _decision(agent)
    with CaptureQueriesContext(connection) as queries:
        LOG_INSERT.save(prepared)
    assert len(queries) == 1 and queries[0]["sql"].startswith('INSERT INTO "compliance_decisionrecord"')
    assert prepared.pk == by_save.pk + 1 and prepared.recorded_at is not None  # returned: pk, db_default
    assert not prepared._state.adding and prepared._state.db == "default"
    stored = DecisionRecord.objects.get(pk=prepared.pk)
    assert {**_values(stored), "id": None, "recorded_at": None} == {
        **_values(DecisionRecord.objects.get(pk=by_save.pk)),
        "id": None,
        "recorded_at": None,
    }
    assert stored.recorded_at == prepared.recorded_at and stored.actor_id == agent.pk
    again = _decision(None, number_key_id="k1")  # other values, the same columns: the same statement
    LOG_INSERT.save(again)
    assert DecisionRecord.objects.get(pk=again.pk).actor_id is None


def test_an_insert_with_a_receiver_goes_through_save_and_sends_the_signals(agent):
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((instance.pk, created))

    signals.post_save.connect(receiver, sender=DecisionRecord)
    try:
        record = _decision(agent)
        LOG_INSERT.save(record)
    finally:
        signals.post_save.disconnect(receiver, sender=DecisionRecord)
    assert seen == [(record.pk, True)]


def test_an_unsaved_related_object_is_refused_as_save_refuses_it():
    with pytest.raises(ValueError, match="unsaved related object 'actor'"):
        LOG_INSERT.save(_decision(User(username="never.saved")))


def test_facts_as_json_are_what_dataclasses_asdict_gave():
    """to_jsonable walks the dataclasses itself; the log keeps the same JSON."""
    at = dt.datetime(2026, 11, 17, 15, tzinfo=dt.UTC)
    facts = CallFacts(
        at=at,
        e164="+12127360601",
        number_valid=True,
        candidate_zones=("America/New_York",),
        candidate_states=("NY",),
        customer_id=7,
        customer_erased=False,
        consents=(ConsentFact(1, "marketing", "voice", True, at, None, None),),
        internal_dnc=False,
        dnc_requested_at=None,
        registry=(RegistryFact(source="national", listed=True, synced_at=at, sync_id=3),),
        last_purchase_at=at,
        last_inquiry_at=None,
        reassigned_at=None,
        attempts_24h_same_subject=1,
        attempts_24h_campaign=2,
        context=CallContext(
            purpose="marketing",
            dialing_mode="manual",
            subject="orders",
            campaign_id=4,
            window_start=dt.time(9),
        ),
        rnd=(RndAnswer(5, "+12127360601", at.date(), "consent", "no", at, "recorded", "", 1),),
        rnd_policy="flag",
    )
    evidence = {"consents": [2], "states": {"NY"}, "windows": [(dt.time(8), dt.time(21))], "at": at}
    for value in (facts, evidence):
        asdict = dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value
        assert to_jsonable(value) == json.loads(json.dumps(asdict, default=_json_default))


def test_ids_and_an_instant_are_swapped_wherever_they_stand(agent, outsider):
    """The hand-off's form (campaigns.dialer): ids wherever they stand, and an
    instant with offsets from it, each moved by the same offset when run."""
    since = PreparedSelect(
        lambda user_id, now: (
            User.objects.filter(pk=user_id, date_joined__gte=now - dt.timedelta(hours=1))
            .filter(pk__gte=user_id)
            .order_by()
        ),
        ids=("user_id",),
        at="now",
    )
    with transaction.atomic():
        for user in (agent, outsider):
            joined = user.date_joined
            assert since.first(user_id=user.pk, now=joined + dt.timedelta(minutes=59)).pk == user.pk
            assert since.first(user_id=user.pk, now=joined + dt.timedelta(minutes=61)) is None


def test_a_bound_statement_is_the_querysets_with_its_values_compiled_once(agent, outsider):
    """Bound.statement(): the SELECT a caller embeds (the hand-off's facts
    statement asks EXISTS of it), the queryset's own with these values."""
    joined_within = PreparedSelect(
        lambda user_id, now: User.objects.filter(pk=user_id, date_joined__gte=now - dt.timedelta(hours=1)),
        ids=("user_id",),
        at="now",
    )

    def exists(bound) -> bool:
        sql, params = bound.statement()
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS ({sql})", params)
            return cursor.fetchone()[0]

    texts = set()
    for user in (agent, outsider):
        for minutes, expected in ((59, True), (61, False)):
            bound = joined_within.bind(user_id=user.pk, now=user.date_joined + dt.timedelta(minutes=minutes))
            assert exists(bound) is bound.exists() is expected
            texts.add(bound.statement()[0])
    assert len(texts) == 1 and len({id(text) for text in texts}) == 1  # the one compiled text
    compiled = joined_within._compiled()
    assert joined_within.bind(user_id=agent.pk, now=agent.date_joined).statement()[0] is compiled.sql


def test_the_first_insert_sends_the_auto_now_value_the_instance_keeps(manager):
    """Compiling the INSERT (the first save of a thread) does not run pre_save
    again: an auto_now_add field holds the value that was written."""
    from campaigns.models import CampaignScrub
    from tests.factories import CampaignFactory

    now = dt.datetime(2026, 12, 3, 18, tzinfo=dt.UTC)
    scrub = CampaignScrub(campaign=CampaignFactory(), requested_by=manager, at=now, today_ends_at=now)
    PreparedInsert(CampaignScrub).save(scrub)  # a new PreparedInsert: compiled by this save
    assert CampaignScrub.objects.get(pk=scrub.pk).created_at == scrub.created_at
