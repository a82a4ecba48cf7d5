"""Expired call attempts for the purge benchmarks (purge_throughput.py,
purge_during_handoffs.py): a paused campaign with `targets` done targets,
one decision row (the log is append-only: made once, kept across runs) and
as many attempts as asked, handed more than six years ago. Imported, not run;
Django is set up by the importing script."""

from django.db import connection

from campaigns.models import Campaign
from campaigns.services import campaign_create

HANDED = "now() - interval '6 years' - interval '1 day'"  # past both categories' 5- or 6-year policies


def campaign_ensure(*, name: str, targets: int, reason: str) -> tuple[int, int]:
    """(campaign id, decision id); its earlier attempts deleted, its targets
    made again only if there are fewer than `targets`."""
    campaign = Campaign.objects.filter(name=name).first() or campaign_create(
        fields={
            "name": name,
            "purpose": Campaign.Purpose.INFORMATIONAL,
            "dialing_mode": Campaign.DialingMode.MANUAL,
            "subject": "bench purge",
            "caller_id": "+13055550100",
            "status": Campaign.Status.PAUSED,
        },
        by=None,
        reason=reason,
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_callattempt WHERE campaign_id = %s", [campaign.pk])
        cursor.execute("SELECT count(*) FROM campaigns_campaigntarget WHERE campaign_id = %s", [campaign.pk])
        if cursor.fetchone()[0] < targets:
            cursor.execute(
                "DELETE FROM campaigns_historicalcampaigntarget WHERE campaign_id = %s", [campaign.pk]
            )
            cursor.execute("DELETE FROM campaigns_campaigntarget WHERE campaign_id = %s", [campaign.pk])
            cursor.execute(
                """INSERT INTO campaigns_campaigntarget (campaign_id, phone_number_id, status, priority,
                       attempts, next_attempt_at, blocked_reasons, created_at, updated_at)
                   SELECT %s, id, 'done', 0, 1, now() + interval '10 years', '[]', now(), now()
                   FROM customers_phonenumber p WHERE number IS NOT NULL AND NOT EXISTS (
                       -- not dialer_data.py's numbers: a new layout deletes and rewrites those
                       SELECT 1 FROM campaigns_campaigntarget t JOIN campaigns_campaign c ON c.id = t.campaign_id
                       WHERE t.phone_number_id = p.id AND c.name LIKE 'bench dialer %%')
                   ORDER BY id DESC LIMIT %s""",
                [campaign.pk, targets],
            )
        cursor.execute(
            "SELECT id FROM compliance_decisionrecord WHERE campaign_id = %s ORDER BY id LIMIT 1",
            [campaign.pk],
        )
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"""INSERT INTO compliance_decisionrecord (decided_at, recorded_at, kind, phone_number,
                       number_hash, number_key_id, customer_id, campaign_id, actor_id, allowed, reasons,
                       evidence, facts, ruleset_version)
                   VALUES ({HANDED}, now(), 'handoff', '+13055550100', repeat('0', 64), '',
                       NULL, %s, NULL, true, '[]', '{{}}', '{{}}', 'bench') RETURNING id""",
                [campaign.pk],
            )
            row = cursor.fetchone()
    return campaign.pk, row[0]


def attempts_make(cursor, *, rows: int, campaign: int, decision: int, targets: int) -> int:
    """`rows` attempts spread over the campaign's targets, 10 s apart, all
    handed before HANDED; returns how many were inserted."""
    cursor.execute(
        f"""INSERT INTO campaigns_callattempt (target_id, campaign_id, phone_number_id, subject, agent_id,
               decision_id, caller_id, handed_at, ended_at, outcome, callback_at, notes)
           SELECT t.id, %(c)s, t.phone_number_id, 'bench purge', (SELECT min(id) FROM auth_user), %(d)s,
               '+13055550100', {HANDED} - g * interval '10 seconds',
               {HANDED} - g * interval '10 seconds' + interval '40 seconds', 'no_answer', NULL, ''
           FROM generate_series(0, %(n)s - 1) g
           JOIN (SELECT id, phone_number_id, row_number() OVER (ORDER BY id) - 1 AS k
                 FROM campaigns_campaigntarget WHERE campaign_id = %(c)s) t ON t.k = g %% %(t)s""",
        {"c": campaign, "d": decision, "n": rows, "t": targets},
    )
    return cursor.rowcount
