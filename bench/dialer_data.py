"""Dialer bench data: a campaign whose targets are callable now, and agents in
bulk. Imported by bench/dialer_handoffs.py and bench/dialer_capacity.py (not
run); Django is set up by the importing script.

Targets: --targets customers (one number each) made by INSERT ... SELECT
generate_series for their own campaign, in area codes whose every zone is in
08:00-20:00 local from now until the run ends (the federal window is
08:00-21:00; an hour's margin for the states that end earlier), each with a
ZIP of its area code's state in one of those zones, so the hand-off's
candidate zones are all open. A share `blocked` of them gets a ZIP in a zone
that is outside 07:00-22:00 for the whole run instead (due now, decided and
moved on, never handed). Row k's number is +1 AAA EEE LLLL: area code
AAA = codes[k % len(codes)], m = k // len(codes), exchange B + (m // 10000)
% 80, line m % 10000, where B alternates between the campaign's two blocks
of 80 exchanges (620 and 720 for the hand-off bench, 320 and 420 for the
capacity bench: no N11, no 555, none of customers_generate.py's), so a
re-layout never meets the numbers it replaces nor another bench's. Every
exchange of both blocks is checked valid with phonenumbers: up to 800,000
rows per area code.

The layout (area codes, ZIPs, blocked share, first ids) is kept in the table
bench_dialer_layout, so a later run reuses the rows: as they are when their
places are still open (closed) for the run, else re-pointed to places open
now by one UPDATE of the numbers and one of the customers; the targets are
reset to fresh (queued, no attempts, due) and the earlier runs' attempts,
unsealed decisions and target history are deleted.
"""

import json
import time
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from rest_framework.authtoken.models import Token
from simple_history.utils import bulk_create_with_history

from accounts.models import TrainingAcknowledgement
from accounts.roles import AGENTS
from accounts.services import training_policy
from campaigns.models import Campaign
from campaigns.services import campaign_create
from compliance.jurisdictions import AREA_CODES_BY_STATE, number_place
from compliance.policy import _zone
from customers.places import zip_table

OPEN, CLOSE = 8 * 60, 20 * 60  # local minutes a place must stay within for the whole run
CLOSED_BEFORE, CLOSED_AFTER = 7 * 60, 22 * 60  # a blocked row's ZIP zone stays outside these
HANDOFF_BLOCKS, CAPACITY_BLOCKS = (620, 720), (320, 420)  # first exchanges of 80-exchange blocks
PER_AREA_CODE = 80 * 10_000


def database_check(action: str) -> str:
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or "bench" not in name:
        raise SystemExit(f"Refusing to {action} in '{name}': use a PostgreSQL database named *bench*.")
    return name


def _local_minutes(zone_name: str, at: datetime) -> int | None:
    zone = _zone(zone_name)
    if zone is None:
        return None
    local = at.astimezone(zone)
    return local.hour * 60 + local.minute


def _open_for(zones, now: datetime, minutes: float) -> bool:
    for name in zones:
        start = _local_minutes(name, now)
        if start is None or start < OPEN + 1 or start + minutes >= CLOSE:
            return False
    return True


def _closed_for(zone: str, now: datetime, minutes: float) -> bool:
    """Outside 07:00-22:00 local from now until `minutes` later (one window a day)."""
    steps = [now + timedelta(minutes=m) for m in range(0, int(minutes) + 2, 5)]
    return all(
        (m := _local_minutes(zone, at)) is not None and not CLOSED_BEFORE <= m < CLOSED_AFTER for at in steps
    )


def places_now(
    minutes: float, blocks: tuple[int, int]
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """([(area code, state, ZIP)] open for the run, [(state, ZIP)] closed for it)."""
    now = datetime.now(UTC)
    zips_by_zone: dict[tuple[str, str], str] = {}
    for zip5, (zone, state) in sorted(zip_table().items()):
        if zone and state:
            zips_by_zone.setdefault((state, zone), zip5)
    open_places = []
    for state, codes in sorted(AREA_CODES_BY_STATE.items()):
        for code in codes:
            zones = number_place(f"+1{code}{blocks[0]}0000").zones
            if not zones or not _open_for(zones, now, minutes):
                continue
            if not all(number_place(f"+1{code}{base + e}0000").valid for base in blocks for e in range(80)):
                continue
            zip5 = next((zips_by_zone[state, z] for z in zones if (state, z) in zips_by_zone), None)
            if zip5:
                open_places.append((str(code), state, zip5))
    closed = sorted(
        {(state, zip5) for (state, zone), zip5 in zips_by_zone.items() if _closed_for(zone, now, minutes)}
    )
    return open_places, closed


def _layout_table(cursor) -> None:
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS bench_dialer_layout (campaign_id bigint PRIMARY KEY, layout jsonb NOT NULL)"
    )


def _still_valid(layout: dict, minutes: float) -> bool:
    now = datetime.now(UTC)
    zip_zone = zip_table()
    for code, _state, zip5 in layout["places"]:
        zones = set(number_place(f"+1{code}{layout['base']}0000").zones) | {zip_zone[zip5][0]}
        if not _open_for(zones, now, minutes):
            return False
    return all(_closed_for(zip_zone[zip5][0], now, minutes) for _state, zip5 in layout["closed"])


# Row k (0-based) of a layout, in SQL: its area code index, number and ZIP.
_ROW_SQL = """
    SELECT k,
        (%(codes)s::text[])[k %% %(a)s + 1] AS code,
        k / %(a)s AS m,
        ((k::bigint * 7919) %% 1000) < %(blocked_per_mille)s AND %(c)s > 0 AS blocked
    FROM generate_series(0, %(n)s - 1) k"""
_NUMBER_SQL = "'+1' || r.code || (%(base)s + (r.m / 10000) %% 80)::text || lpad((r.m %% 10000)::text, 4, '0')"
_STATE_SQL = (
    "CASE WHEN r.blocked THEN (%(closed_states)s::text[])[r.k %% %(c)s + 1] "
    "ELSE (%(states)s::text[])[r.k %% %(a)s + 1] END"
)
_ZIP_SQL = (
    "CASE WHEN r.blocked THEN (%(closed_zips)s::text[])[r.k %% %(c)s + 1] "
    "ELSE (%(zips)s::text[])[r.k %% %(a)s + 1] END"
)


def _params(layout: dict) -> dict:
    places, closed = layout["places"], layout["closed"]
    return {
        "codes": [p[0] for p in places],
        "states": [p[1] for p in places],
        "zips": [p[2] for p in places],
        "closed_states": [c[0] for c in closed] or [""],
        "closed_zips": [c[1] for c in closed] or [""],
        "a": len(places),
        "c": len(closed),
        "n": layout["targets"],
        "blocked_per_mille": round(layout["blocked"] * 1000),
        "base": layout["base"],
        "customer0": layout["customer0"],
        "phone0": layout["phone0"],
    }


def _layout_new(targets: int, blocked: float, minutes: float, blocks: tuple[int, int], base: int) -> dict:
    places, closed = places_now(minutes, blocks)
    if not places:
        raise SystemExit(
            f"No US area code is in 08:00-20:00 local for the next {minutes:.0f} minutes "
            f"(now {datetime.now(UTC):%H:%M} UTC): some are from about 12:00 UTC (Puerto Rico, then Eastern "
            "from 13:00 or 14:00) to 06:00 UTC (Hawaii)."
        )
    needed = -(-targets // PER_AREA_CODE)
    if len(places) < needed:
        raise SystemExit(f"Only {len(places)} area codes are open now; {targets:,} targets need {needed}.")
    if blocked and not closed:
        raise SystemExit("No US ZIP zone is closed for the whole run now: use --blocked 0.")
    return {"targets": targets, "blocked": blocked, "base": base, "places": places, "closed": closed}


def campaign_ensure(name: str, reason: str) -> Campaign:
    return Campaign.objects.filter(name=name).first() or campaign_create(
        fields={
            "name": name,
            "purpose": Campaign.Purpose.INFORMATIONAL,
            "dialing_mode": Campaign.DialingMode.MANUAL,
            "subject": "bench dialer",
            "caller_id": "+13055550100",
            "status": Campaign.Status.ACTIVE,
        },
        by=None,
        reason=reason,
    )


def _runs_forget(cursor, campaign: int) -> None:
    """Earlier runs' attempts, unsealed decisions and target history."""
    cursor.execute("DELETE FROM campaigns_callattempt WHERE campaign_id = %s", [campaign])
    # The decision log refuses deletes of rows under the legal minimum; a
    # bench database's earlier run is the one exception: the bench runs as
    # the database's superuser, which may switch triggers off for a transaction.
    cursor.execute("SET LOCAL session_replication_role = replica")
    cursor.execute(
        "DELETE FROM compliance_decisionrecord d WHERE campaign_id = %s AND NOT EXISTS "
        "(SELECT 1 FROM compliance_decisionchainlink l WHERE l.decision_id = d.id)",
        [campaign],
    )
    cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    cursor.execute("DELETE FROM campaigns_historicalcampaigntarget WHERE campaign_id = %s", [campaign])


def _generate(cursor, campaign: int, layout: dict) -> None:
    cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM customers_customer")
    layout["customer0"] = cursor.fetchone()[0]
    cursor.execute("SELECT coalesce(max(id), 0) + 1 FROM customers_phonenumber")
    layout["phone0"] = cursor.fetchone()[0]
    params = _params(layout)
    cursor.execute(
        f"""INSERT INTO customers_customer (id, first_name, last_name, email, state, postal_code,
               last_purchase_at, last_inquiry_at, legal_hold, legal_hold_reason, erased_at, created_at,
               updated_at)
           SELECT %(customer0)s + r.k, 'Dialer', 'Bench' || r.k, 'dialer' || r.k || '@bench.invalid',
               {_STATE_SQL}, {_ZIP_SQL}, NULL, NULL, false, '', NULL, now(), now()
           FROM ({_ROW_SQL}) r""",
        params,
    )
    cursor.execute(
        f"""INSERT INTO customers_phonenumber (id, customer_id, number, kind, reassigned_at, created_at)
           SELECT %(phone0)s + r.k, %(customer0)s + r.k, {_NUMBER_SQL}, 'mobile', NULL, now()
           FROM ({_ROW_SQL}) r""",
        params,
    )
    for table in ("customers_customer", "customers_phonenumber"):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {table}))", [table]
        )
    cursor.execute(
        """INSERT INTO campaigns_campaigntarget (campaign_id, phone_number_id, status, priority, attempts,
               next_attempt_at, blocked_reasons, created_at, updated_at)
           SELECT %(campaign)s, %(phone0)s + k, 'queued', 0, 0, now() - (k %% 3600) * interval '1 second',
               '[]', now(), now()
           FROM generate_series(0, %(n)s - 1) k""",
        {**params, "campaign": campaign},
    )


def _repoint(cursor, layout: dict) -> None:
    params = _params(layout)
    cursor.execute(
        f"""UPDATE customers_phonenumber p SET number = {_NUMBER_SQL}
           FROM ({_ROW_SQL}) r WHERE p.id = %(phone0)s + r.k""",
        params,
    )
    cursor.execute(
        f"""UPDATE customers_customer c SET state = {_STATE_SQL}, postal_code = {_ZIP_SQL}
           FROM ({_ROW_SQL}) r WHERE c.id = %(customer0)s + r.k""",
        params,
    )


def targets_ensure(
    campaign: Campaign,
    *,
    targets: int,
    blocked: float,
    minutes: float,
    blocks: tuple[int, int] = HANDOFF_BLOCKS,
) -> dict:
    """The campaign's `targets` fresh targets, open (or, a share `blocked`,
    closed) for the next `minutes`; returns the layout."""
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        _layout_table(cursor)
        cursor.execute("SELECT layout FROM bench_dialer_layout WHERE campaign_id = %s", [campaign.pk])
        row = cursor.fetchone()
        layout = json.loads(row[0]) if row and isinstance(row[0], str) else (row[0] if row else None)
        _runs_forget(cursor, campaign.pk)
        if layout:
            cursor.execute(
                "SELECT count(*) FROM campaigns_campaigntarget WHERE campaign_id = %s "
                "AND phone_number_id >= %s AND phone_number_id < %s",
                [campaign.pk, layout["phone0"], layout["phone0"] + layout["targets"]],
            )
            if cursor.fetchone()[0] != layout["targets"]:
                layout = None  # its rows are gone (customers_generate.py truncates): ids may be others' now
        if layout and (layout["targets"], layout["blocked"], layout["base"] in blocks) == (
            targets,
            blocked,
            True,
        ):
            if _still_valid(layout, minutes):
                action = "reused"
            else:
                other = blocks[1] if layout["base"] == blocks[0] else blocks[0]
                layout = {**_layout_new(targets, blocked, minutes, blocks, other), **_ids(layout)}
                _repoint(cursor, layout)
                action = "re-pointed to area codes open now"
        else:
            # Targets of an older layout, or of the old bench's numbers (no layout).
            cursor.execute("DELETE FROM campaigns_campaigntarget WHERE campaign_id = %s", [campaign.pk])
            if layout:
                cursor.execute(
                    "DELETE FROM customers_phonenumber WHERE id >= %s AND id < %s",
                    [layout["phone0"], layout["phone0"] + layout["targets"]],
                )
                cursor.execute(
                    "DELETE FROM customers_customer WHERE id >= %s AND id < %s",
                    [layout["customer0"], layout["customer0"] + layout["targets"]],
                )
            layout = _layout_new(targets, blocked, minutes, blocks, blocks[0])
            _generate(cursor, campaign.pk, layout)
            action = "generated"
        cursor.execute(
            """UPDATE campaigns_campaigntarget SET status = 'queued', attempts = 0, lease_agent_id = NULL,
                   lease_until = NULL, blocked_reasons = '[]',
                   next_attempt_at = now() - ((phone_number_id - %(phone0)s) %% 3600) * interval '1 second'
               WHERE campaign_id = %(campaign)s AND (status <> 'queued' OR attempts > 0
                   OR lease_until IS NOT NULL OR next_attempt_at > now() OR blocked_reasons <> '[]')""",
            {"campaign": campaign.pk, "phone0": layout["phone0"]},
        )
        reset = cursor.rowcount
        cursor.execute(
            "INSERT INTO bench_dialer_layout VALUES (%s, %s) ON CONFLICT (campaign_id) DO UPDATE "
            "SET layout = EXCLUDED.layout",
            [campaign.pk, json.dumps(layout)],
        )
    with connection.cursor() as cursor:
        for table in ("customers_customer", "customers_phonenumber", "campaigns_campaigntarget"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    codes = [p[0] for p in layout["places"]]
    print(
        f"targets: {targets:,} {action} ({reset:,} reset to fresh) in {time.perf_counter() - started:.1f} s; "
        f"{len(codes)} area codes open until the run ends ({', '.join(codes[:12])}"
        f"{', ...' if len(codes) > 12 else ''}); blocked share {blocked:g} "
        f"(ZIPs closed for the run: {len(layout['closed'])})"
    )
    return layout


def _ids(layout: dict) -> dict:
    return {"customer0": layout["customer0"], "phone0": layout["phone0"]}


def agents_ensure(count: int, prefix: str = "bench-agent") -> list[str]:
    """Tokens of `count` agents named <prefix>-0001..., made in bulk: users
    (unusable password), Agents membership, token and a current training
    acknowledgement (the hand-off refuses an agent without one)."""
    started = time.perf_counter()
    users = get_user_model().objects
    names = [f"{prefix}-{k:04d}" for k in range(1, count + 1)]
    existing = set(users.filter(username__in=names).values_list("username", flat=True))
    users.bulk_create(
        [get_user_model()(username=n, password=make_password(None)) for n in names if n not in existing]
    )
    ids = dict(users.filter(username__in=names).values_list("username", "id"))
    group = Group.objects.get(name=AGENTS)
    membership = get_user_model().groups.through
    membership.objects.bulk_create(
        [membership(user_id=pk, group_id=group.pk) for pk in ids.values()], ignore_conflicts=True
    )
    Token.objects.bulk_create(
        [Token(key=Token.generate_key(), user_id=pk) for pk in ids.values()], ignore_conflicts=True
    )
    now = datetime.now(UTC)
    current = set(
        TrainingAcknowledgement.objects.filter(
            agent_id__in=ids.values(),
            acknowledged_at__gt=now - training_policy().validity + timedelta(days=1),
        ).values_list("agent_id", flat=True)
    )
    bulk_create_with_history(
        [
            TrainingAcknowledgement(agent_id=pk, acknowledged_at=now, note="bench data")
            for pk in ids.values()
            if pk not in current
        ],
        TrainingAcknowledgement,
        default_change_reason="bench data",
    )
    tokens = dict(Token.objects.filter(user_id__in=ids.values()).values_list("user_id", "key"))
    print(
        f"agents: {count:,} ({count - len(existing):,} new, {len(current):,} already trained) "
        f"in {time.perf_counter() - started:.1f} s"
    )
    return [tokens[ids[n]] for n in names]
