"""Verify names every tamper (issue 15): whoever can switch the log's
triggers off (the owner of its tables) edits, deletes, inserts or re-chains
in SQL, and `verify_decision_log` names the first broken row or checkpoint,
with the checkpoints signed outside the database: both as the nightly task
runs it and as an auditor runs it with only the public key and a copy of
the checkpoint store."""

import contextlib
import datetime as dt
import io
import shutil
import threading
from collections.abc import Callable

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command, execute_from_command_line
from django.db import connection, connections, transaction
from django.utils import timezone

from campaigns.scrub import scrub_context
from compliance import ledger
from compliance.decision_log import decision_log_purge, decision_log_seal, decision_log_verify, row_hash
from compliance.erasure import customer_erase
from compliance.ledger import Checkpoint
from compliance.models import (
    ChainVerification,
    DecisionChainLink,
    DecisionCheckpoint,
    DecisionLogPurge,
    DecisionRecord,
    TaskHeartbeat,
)
from compliance.retention import retention_purge
from compliance.services import decision_make
from compliance.tasks import decision_log_seal_task, decision_log_verify_task
from compliance.watch import SEAL_TASK
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory
from tests.owner import owner_powers, restamp

AT = dt.datetime(2026, 11, 17, 15, tzinfo=dt.UTC)
NUMBERS = [f"+1212736{n:04d}" for n in range(1, 9)]


def _decide(number: str, campaign) -> DecisionRecord:
    return decision_make(
        number=number, context=scrub_context(campaign), at=AT, kind="check", actor=None
    ).record


class _Rollback(Exception):
    pass


@pytest.fixture
def log(db):
    """Eight decisions in two seals (checkpoints #1 at position 5 and #2 at 8),
    with an id burnt between the third and fourth by a rolled-back insert, as
    a failed hand-off leaves one."""
    customer = CustomerFactory(state="NY", postal_code="10001")
    for number in NUMBERS:
        PhoneNumberFactory(customer=customer, number=number)
    campaign = CampaignFactory(purpose="marketing", dialing_mode="autodialed")
    ids = [_decide(number, campaign).pk for number in NUMBERS[:3]]
    with contextlib.suppress(_Rollback), transaction.atomic():
        burnt = _decide(NUMBERS[3], campaign).pk
        raise _Rollback
    ids += [_decide(number, campaign).pk for number in NUMBERS[3:5]]
    assert decision_log_seal() == 5
    ids += [_decide(number, campaign).pk for number in NUMBERS[5:]]
    assert decision_log_seal() == 3
    assert list(DecisionCheckpoint.objects.order_by("seq").values_list("seq", "position")) == [(1, 5), (2, 8)]
    return {"ids": ids, "burnt": burnt, "customer": customer, "campaign": campaign}


@contextlib.contextmanager
def triggers_off():
    """As the tables' owner (tests.owner: what the app's role cannot do): no append-only trigger."""
    tables = [
        "compliance_decisionrecord",
        "compliance_decisionchainlink",
        "compliance_decisioncheckpoint",
        "compliance_decisionlogpurge",
    ]
    with owner_powers() as cursor:
        # Django's foreign keys are deferred: check them now, or ALTER TABLE refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER ALL")
        try:
            yield cursor
        finally:
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER ALL")


def auditor_verify(tmp_path) -> tuple[int, str]:
    """What an auditor runs: a copy of the store, the public key file, no secret."""
    store = tmp_path / "auditor-checkpoints"
    shutil.copytree(ledger.store_dir(), store)
    public_key = tmp_path / "ledger.pub"
    public_key.write_text(ledger.public_key_pem(ledger.signing_key().public_key()))
    return _command("--checkpoints", str(store), "--public-key", str(public_key))


def _command(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_decision_log", *args, stdout=out, stderr=err)
    except SystemExit as exit_info:
        return int(exit_info.code or 0), err.getvalue()
    return 0, out.getvalue()


def test_an_intact_log_verifies_for_the_task_and_for_an_auditor(log, tmp_path):
    result = decision_log_verify()
    assert (result.ok, result.checked, result.unsealed, result.checkpoints) == (True, 8, 0, 2)
    assert result.numbers_checked == 8
    code, out = auditor_verify(tmp_path)
    assert code == 0, out
    assert "decision log intact: 8 row(s) verified, 0 not sealed yet" in out
    assert "2 signed checkpoint(s) verified" in out and "covers position 8" in out


def _edit_row(log, cursor):
    cursor.execute(
        "UPDATE compliance_decisionrecord SET allowed = true, reasons = '[]' WHERE id = %s", [log["ids"][2]]
    )
    return f"row #{log['ids'][2]}", "its content does not match its hash"


def _edit_number(log, cursor):
    cursor.execute(
        "UPDATE compliance_decisionrecord SET phone_number = '+12127369999' WHERE id = %s", [log["ids"][3]]
    )
    return f"row #{log['ids'][3]}", "its phone number does not match its number hash"


def _rewrite_chain(log, cursor):
    """The review's attack: change a row, then recompute every hash from it on."""
    cursor.execute(
        "UPDATE compliance_decisionrecord SET allowed = true, reasons = '[]' WHERE id = %s", [log["ids"][2]]
    )
    links = list(DecisionChainLink.objects.order_by("position"))
    prev = links[1].row_hash
    for link in links[2:]:
        new = row_hash(
            DecisionRecord.objects.get(pk=link.decision_id), position=link.position, prev_hash=prev
        )
        cursor.execute(
            "UPDATE compliance_decisionchainlink SET prev_hash = %s, row_hash = %s WHERE id = %s",
            [prev, new, link.pk],
        )
        prev = new
    return "checkpoint #1", "rows up to that position were rewritten"


def _delete_tail(log, cursor):
    doomed = log["ids"][-2:]
    cursor.execute("DELETE FROM compliance_decisionchainlink WHERE decision_id = ANY(%s)", [doomed])
    cursor.execute("DELETE FROM compliance_decisionrecord WHERE id = ANY(%s)", [doomed])
    return "checkpoint #2", "its last rows were deleted"


def _delete_tail_rows_only(log, cursor):
    cursor.execute("DELETE FROM compliance_decisionrecord WHERE id = ANY(%s)", [log["ids"][-2:]])
    return f"row #{log['ids'][-2]}", "was deleted"


def _delete_middle(log, cursor):
    cursor.execute("DELETE FROM compliance_decisionchainlink WHERE decision_id = %s", [log["ids"][4]])
    cursor.execute("DELETE FROM compliance_decisionrecord WHERE id = %s", [log["ids"][4]])
    return f"row #{log['ids'][5]}", "position 5 is missing"


def _delete_middle_row_only(log, cursor):
    cursor.execute("DELETE FROM compliance_decisionrecord WHERE id = %s", [log["ids"][4]])
    return f"row #{log['ids'][4]}", "was deleted"


def _delete_oldest_rows(log, cursor):
    """The oldest rows deleted by hand look like a purge, but no purge run took them."""
    cursor.execute("DELETE FROM compliance_decisionrecord WHERE id = ANY(%s)", [log["ids"][:2]])
    return f"row #{log['ids'][0]}", "was deleted"


def _delete_oldest_rows_and_fake_a_purge(log, cursor):
    """... and a purge run forged to cover them, as only the owner could: its count is
    checked against the rows it would have taken (here one fewer than were deleted)."""
    cursor.execute("DELETE FROM compliance_decisionrecord WHERE id = ANY(%s)", [log["ids"][:3]])
    cursor.execute(
        "INSERT INTO compliance_decisionlogpurge (bound, deleted, first_id, last_id, by_role) "
        "VALUES (now(), 2, %s, %s, 'forger')",
        [log["ids"][0], log["ids"][2]],
    )
    return f"row #{log['ids'][0]}", "rows were deleted outside the purge"


def _forge_below_the_head(log, cursor):
    """A back-dated "allowed" row slipped into the id a failed hand-off left."""
    cursor.execute(
        """INSERT INTO compliance_decisionrecord (id, decided_at, recorded_at, kind, phone_number, number_hash,
               number_key_id, customer_id, campaign_id, actor_id, allowed, reasons, evidence, facts,
               ruleset_version)
           SELECT %s, decided_at - interval '1 day', recorded_at - interval '1 day', kind, phone_number,
               number_hash, number_key_id, customer_id, campaign_id, actor_id, true, '[]', evidence, facts,
               ruleset_version
           FROM compliance_decisionrecord WHERE id = %s""",
        [log["burnt"], log["ids"][2]],
    )
    return f"row #{log['burnt']}", "it was inserted afterwards"


TAMPERS: dict[str, Callable] = {
    "an edited row": _edit_row,
    "an edited number": _edit_number,
    "a rewritten chain": _rewrite_chain,
    "a deleted tail": _delete_tail,
    "a deleted tail, links kept": _delete_tail_rows_only,
    "a deleted middle row": _delete_middle,
    "a deleted middle row, link kept": _delete_middle_row_only,
    "a forged row below the head": _forge_below_the_head,
    "the oldest rows deleted by hand": _delete_oldest_rows,
    "the oldest rows deleted, a purge run forged": _delete_oldest_rows_and_fake_a_purge,
}


@pytest.mark.parametrize("tamper", TAMPERS.values(), ids=TAMPERS.keys())
def test_verify_names_the_first_broken_row_or_checkpoint(log, tamper, tmp_path):
    with triggers_off() as cursor:
        where, problem = tamper(log, cursor)
    assert not decision_log_seal()  # the seal chains none of it (None: it refuses a chain it did not make)

    result = decision_log_verify()
    assert not result.ok
    assert (result.where, problem in result.problem) == (where, True), result.problem
    code, err = _command()
    assert code == 1 and f"decision log BROKEN at {where}: " in err
    code, err = auditor_verify(tmp_path)
    assert code == 1 and f"decision log BROKEN at {where}: " in err


def test_a_changed_checkpoint_fails_its_signature(log, tmp_path):
    path = ledger.store_dir() / "000000000001.json"
    path.write_text(path.read_text().replace('"position":5', '"position":4'))
    result = decision_log_verify()
    assert (result.ok, result.where) == (False, "checkpoint #1")
    assert "signature does not verify" in result.problem
    code, err = auditor_verify(tmp_path)
    assert code == 1 and "BROKEN at checkpoint #1: its signature does not verify" in err


def test_a_checkpoint_signed_by_another_key_is_refused(log, tmp_path):
    other = tmp_path / "other.pem"
    call_command("ledger_keygen", str(other), stdout=io.StringIO())
    code, err = _command("--checkpoints", str(ledger.store_dir()), "--public-key", f"{other}.pub")
    assert code == 1 and "BROKEN at checkpoint #1: its signature does not verify" in err


def test_a_missing_checkpoint_file_is_named(log):
    (ledger.store_dir() / "000000000001.json").unlink()
    result = decision_log_verify()
    assert (result.ok, result.where) == (False, "checkpoint #1")
    assert "missing from the store" in result.problem


def test_erasing_a_number_in_the_log_keeps_it_verifiable(log):
    customer_erase(customer=log["customer"], by=None, via="command", reason="asked to be forgotten")
    assert set(DecisionRecord.objects.values_list("phone_number", flat=True)) == {"(erased)"}
    result = decision_log_verify()
    assert (result.ok, result.checked, result.numbers_checked, result.numbers_unchecked) == (True, 8, 0, 8)


def test_a_suppression_key_rotation_keeps_the_log_verifiable(log, settings):
    old = settings.SUPPRESSION_HASH_KEY
    settings.SUPPRESSION_HASH_KEY = "a-new-suppression-key-after-rotation-0123456789abcdef"
    settings.SUPPRESSION_HASH_KEYS_OLD = [old]
    _decide(NUMBERS[0], log["campaign"])  # hashed with the new key
    assert decision_log_seal() == 1
    result = decision_log_verify()
    assert (result.ok, result.checked, result.numbers_checked) == (True, 9, 9)  # each with its own key


def test_an_auditor_without_the_suppression_key_skips_the_number_check_and_says_so(log, settings, tmp_path):
    settings.SUPPRESSION_HASH_KEY = "not-the-companys-suppression-key-0123456789abcdef"
    settings.SUPPRESSION_HASH_KEYS_OLD = []
    code, out = auditor_verify(tmp_path)
    assert code == 0, out
    assert "phone numbers checked against their hashes: 0; not checked: 8" in out


def _aged(number: str, campaign, *, years: int) -> DecisionRecord:
    """A decision recorded `years` ago (re-stamped before it is sealed: the stamp is hashed)."""
    record = _decide(number, campaign)
    restamp(record.pk, timezone.now() - dt.timedelta(days=366 * years))
    return record


def test_a_retention_purge_of_the_oldest_rows_keeps_the_rest_verifiable(db):
    """The purge (the owner's function, called by the app's role) removes
    decisions past the legal minimum and keeps their links (hashes only):
    verify carries the chain through them and counts them against the purge
    runs. A row past the minimum kept by a legal hold stays between purged ones."""
    customer = CustomerFactory(state="NY", postal_code="10001")
    held = CustomerFactory(state="NY", postal_code="10001", legal_hold=True, legal_hold_reason="litigation")
    for number in NUMBERS[:4]:
        PhoneNumberFactory(customer=customer, number=number)
    PhoneNumberFactory(customer=held, number=NUMBERS[4])
    campaign = CampaignFactory(purpose="marketing", dialing_mode="autodialed")
    old = [_aged(number, campaign, years=6) for number in (NUMBERS[0], NUMBERS[4], NUMBERS[1], NUMBERS[2])]
    _decide(NUMBERS[3], campaign)
    assert decision_log_seal() == 5

    (run,) = retention_purge(category="decision_log")

    assert (run.status, run.deleted) == ("succeeded", 3)
    assert DecisionRecord.objects.filter(pk=old[1].pk).exists()  # the held customer's
    purge = DecisionLogPurge.objects.get()
    assert (purge.deleted, purge.first_id, purge.last_id) == (3, old[0].pk, old[3].pk)
    assert purge.by_role == connection.settings_dict["USER"]  # the app's role, through the door
    result = decision_log_verify()
    assert (result.ok, result.checked, result.purged) == (True, 2, 3), result.problem


def test_the_purge_function_holds_the_legal_minimum_itself(log):
    """Whatever the app asks (or a policy says), rows under 5 years stay, and
    rows past it but not yet signed into a checkpoint stay too."""
    assert decision_log_purge(log["ids"]) == 0  # recorded today
    young = _aged(NUMBERS[0], log["campaign"], years=4)
    old = _aged(NUMBERS[1], log["campaign"], years=6)
    assert decision_log_purge([young.pk, old.pk]) == 0  # not signed yet
    assert decision_log_seal() == 2
    assert decision_log_purge([young.pk, old.pk]) == 1
    assert list(DecisionRecord.objects.filter(pk__in=[young.pk, old.pk]).values_list("pk", flat=True)) == [
        young.pk
    ]
    assert decision_log_verify().ok


def test_verify_starts_from_the_checkpoint_that_holds_the_position_before_the_first_kept_link(log):
    """Were a purge to remove links too, the chain would start from a checkpoint:
    at one (#1, position 5) it verifies; anywhere else it is broken."""
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM compliance_decisionchainlink WHERE position <= 5")
        cursor.execute("DELETE FROM compliance_decisionrecord WHERE id = ANY(%s)", [log["ids"][:5]])
    result = decision_log_verify()
    assert (result.ok, result.checked) == (True, 3)
    with triggers_off() as cursor:
        cursor.execute("DELETE FROM compliance_decisionchainlink WHERE position = 6")
        cursor.execute("DELETE FROM compliance_decisionrecord WHERE id = %s", [log["ids"][5]])
    result = decision_log_verify()
    assert (result.ok, result.where) == (False, f"row #{log['ids'][6]}")
    assert "no checkpoint holds position 6" in result.problem


def test_a_seal_with_nothing_new_signs_no_checkpoint(log):
    assert decision_log_seal() == 0
    assert DecisionCheckpoint.objects.count() == 2
    assert len(list(ledger.store_dir().glob("*.json"))) == 2


def test_a_checkpoint_file_that_failed_to_write_is_written_by_the_next_seal(log):
    (ledger.store_dir() / "000000000002.json").unlink()
    decision_log_seal()
    assert (ledger.store_dir() / "000000000002.json").read_text().strip() == (
        DecisionCheckpoint.objects.get(seq=2).document
    )
    assert decision_log_verify().ok


def test_the_audit_page_shows_the_public_key_and_the_latest_checkpoint(log, client, compliance_officer):
    from tests.otp import login_with_otp

    login_with_otp(client, compliance_officer)
    html = client.get("/compliance/").content.decode()
    public_key = ledger.signing_key().public_key()
    assert ledger.key_id(public_key) in html and ledger.public_key_pem(public_key).splitlines()[1] in html
    assert "Latest checkpoint #2" in html and "signature verifies" in html


@pytest.mark.django_db(transaction=True)
def test_a_row_still_being_inserted_while_the_seal_runs_is_chained_in_id_order_later(manager):
    """Hand-offs never wait on the seal; the seal waits (briefly) for inserts in
    flight and otherwise leaves their ids for the next run, so no committed row
    ever lands below the head."""
    customer = CustomerFactory(state="NY", postal_code="10001")
    PhoneNumberFactory(customer=customer, number=NUMBERS[0])
    campaign = CampaignFactory()
    inserted, release = threading.Event(), threading.Event()
    slow: list[int] = []

    def slow_hand_off():
        try:
            with transaction.atomic():
                slow.append(_decide(NUMBERS[0], campaign).pk)
                inserted.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_hand_off)
    thread.start()
    assert inserted.wait(10)
    fast = _decide(NUMBERS[0], campaign).pk  # commits at once, with the larger id
    assert decision_log_seal(settle_timeout=0.2) is None  # the slow one is still open
    release.set()
    thread.join(10)
    assert decision_log_seal() == 2
    chained = list(DecisionChainLink.objects.order_by("position").values_list("decision_id", flat=True))
    assert chained == [slow[0], fast]
    assert decision_log_verify().ok


def test_the_demo_key_is_created_with_a_warning_when_none_is_configured(log, settings, tmp_path, caplog):
    settings.LEDGER_KEY_PATH, settings.LEDGER_KEY_CONFIGURED = tmp_path / "var" / "ledger-key.pem", False
    key = ledger.signing_key()
    assert settings.LEDGER_KEY_PATH.exists() and "CONSENTDESK_LEDGER_KEY is not set" in caplog.text
    assert ledger.public_key_load(ledger.public_key_path(settings.LEDGER_KEY_PATH)) == key.public_key()
    settings.LEDGER_KEY_PATH, settings.LEDGER_KEY_CONFIGURED = tmp_path / "missing.pem", True
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        ledger.signing_key()


def _backdate_with_a_link(log) -> DecisionRecord:
    """With the app's privileges only (INSERT): a decision under the id a
    failed hand-off burnt, below checkpoint #1's last_id, and a link for it
    at the head, hashed as the seal would."""
    forged = DecisionRecord.objects.get(pk=log["ids"][0])
    forged.pk, forged.allowed, forged.reasons = log["burnt"], True, []
    forged.save(force_insert=True)
    forged.refresh_from_db()
    head = DecisionChainLink.objects.order_by("-position").first()
    DecisionChainLink.objects.create(
        position=head.position + 1,
        decision_id=forged.pk,
        prev_hash=head.row_hash,
        row_hash=row_hash(forged, position=head.position + 1, prev_hash=head.row_hash),
    )
    return forged


def test_a_back_dated_row_chained_at_the_head_is_named_and_the_seal_signs_nothing(log, caplog, tmp_path):
    forged = _backdate_with_a_link(log)
    result = decision_log_verify()
    assert (result.ok, result.where) == (False, f"row #{forged.pk}")
    assert "after checkpoint #2, which covers every decision up to" in result.problem
    assert "a back-dated row" in result.problem

    assert decision_log_seal_task() == 0
    assert decision_log_seal() is None
    assert "decision log: seal refused, the chain since the last checkpoint does not hold" in caplog.text
    assert DecisionCheckpoint.objects.count() == 2 and len(list(ledger.store_dir().glob("*.json"))) == 2
    assert not TaskHeartbeat.objects.filter(task=SEAL_TASK).exists()  # a refusing seal does not look healthy
    code, err = auditor_verify(tmp_path)
    assert code == 1 and f"decision log BROKEN at row #{forged.pk}: " in err


def test_a_later_seal_cannot_sign_over_a_back_dated_row_either(log):
    """Were a checkpoint signed over it anyway, verify still names the row."""
    forged = _backdate_with_a_link(log)
    latest = Checkpoint.parse(DecisionCheckpoint.objects.get(seq=2).document)
    head = DecisionChainLink.objects.get(decision_id=forged.pk)
    signed = ledger.checkpoint_sign(
        key=ledger.signing_key(),
        seq=3,
        position=head.position,
        last_id=forged.pk + 100,
        rows_sealed=1,
        head_hash=head.row_hash,
        at=latest.at,
        prev=latest.digest(),
    )
    ledger.store_write(signed)
    result = decision_log_verify()
    assert (result.ok, result.where) == (False, f"row #{forged.pk}")
    assert "after checkpoint #2" in result.problem


def test_links_before_the_first_checkpoint_need_only_its_upper_bound(log):
    """Links that migration 0008 copied keep the old chain's order; a link
    chaining a decision above what checkpoint #1 covers is named."""
    with triggers_off() as cursor:
        cursor.execute(
            "UPDATE compliance_decisionchainlink SET decision_id = %s WHERE position = 2",
            [log["ids"][-1] + 50],
        )
    result = decision_log_verify()
    assert (result.ok, result.where) == (False, f"row #{log['ids'][-1] + 50}")
    assert "checkpoint #1 covers position 2" in result.problem


JUNK = {
    "a text seq": b'{"checkpoint":{"version":1,"seq":"x","position":1,"last_id":1,"rows_sealed":1,'
    b'"head_hash":"a","at":"x","prev":"p","key_id":"k"},"signature":"s"}',
    "a fractional seq": b'{"checkpoint":{"version":1,"seq":1.5,"position":1,"last_id":1,"rows_sealed":1,'
    b'"head_hash":"a","at":"x","prev":"p","key_id":"k"},"signature":"s"}',
    "a numeric signature": b'{"checkpoint":{"version":1,"seq":99,"position":1,"last_id":1,"rows_sealed":1,'
    b'"head_hash":"a","at":"x","prev":"p","key_id":"k"},"signature":7}',
    "not UTF-8": b"\xff\xfe",
    "a list": b"[]",
}


@pytest.mark.parametrize("junk", JUNK.values(), ids=JUNK.keys())
def test_a_junk_file_in_the_store_is_named_and_still_recorded(log, junk, tmp_path):
    (ledger.store_dir() / "000000000099.json").write_bytes(junk)
    result = decision_log_verify()
    assert (result.ok, result.where) == (False, "the checkpoint store")
    assert "000000000099.json: not a checkpoint document" in result.problem
    code, err = _command()
    assert code == 1 and "decision log BROKEN at the checkpoint store: 000000000099.json" in err
    assert ChainVerification.objects.filter(ok=False, problem__startswith="the checkpoint store: ").exists()
    assert decision_log_verify_task()["ok"] is False  # the nightly task records it too, no crash
    code, err = auditor_verify(tmp_path)
    assert code == 1 and "decision log BROKEN at the checkpoint store: 000000000099.json" in err


@pytest.mark.parametrize(("removed", "lacking"), [((1, 2), "#1..2"), ((2,), "#2")])
def test_an_emptied_or_cut_store_is_named_against_the_databases_copies(log, removed, lacking):
    for seq in removed:
        (ledger.store_dir() / f"{seq:012d}.json").unlink()
    result = decision_log_verify()
    assert (result.ok, result.where) == (False, "the checkpoint store")
    assert f"the store lacks checkpoint(s) {lacking}" in result.problem
    code, err = _command()
    assert code == 1 and f"BROKEN at the checkpoint store: the store lacks checkpoint(s) {lacking}" in err


def test_the_audit_page_survives_an_unreadable_public_key_and_checkpoint_copy(
    log, client, compliance_officer, settings, tmp_path
):
    from tests.otp import login_with_otp

    key = tmp_path / "ledger-key.pem"
    key.write_bytes(settings.LEDGER_KEY_PATH.read_bytes())
    ledger.public_key_path(key).write_text(
        "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n"
    )
    settings.LEDGER_KEY_PATH = key
    login_with_otp(client, compliance_officer)
    answer = client.get("/compliance/")
    assert answer.status_code == 200
    assert "the public key is unreadable" in answer.content.decode()

    ledger.public_key_path(key).write_text(ledger.public_key_pem(ledger.signing_key().public_key()))
    with triggers_off() as cursor:
        cursor.execute("UPDATE compliance_decisioncheckpoint SET document = 'junk' WHERE seq = 2")
    answer = client.get("/compliance/")
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "the latest checkpoint&#x27;s copy is unreadable" in html and "signature does NOT verify" in html


@pytest.mark.parametrize(
    "args",
    [
        ("--checkpoints", "/nonexistent"),
        ("--checkpoints", "/nonexistent", "--public-key", "/nonexistent.pub"),
    ],
)
def test_a_usage_error_exits_2_so_it_is_not_taken_for_a_tamper(log, args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["manage.py", "verify_decision_log", *args])
    assert exit_info.value.code == 2
