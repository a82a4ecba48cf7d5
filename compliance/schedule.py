"""The periodic tasks of a deployment, created by code (`setup_periodic_tasks`).

Apps add theirs to PERIODIC_TASKS; the command replaces the whole set in one
transaction so that beat (one process per deployment) never sees half of it.
"""

from dataclasses import dataclass

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

MANAGED_PREFIX = "consentdesk: "


@dataclass(frozen=True)
class Periodic:
    name: str
    task: str
    crontab: dict  # minute, hour, day_of_week, ... as for CrontabSchedule
    description: str = ""


PERIODIC_TASKS: list[Periodic] = [
    Periodic(
        name="sync registry inboxes",
        task="compliance.registry_inbox_sync",
        crontab={"minute": "*/10"},
        description="Imports new registry files dropped in (or uploaded to) each active source's inbox.",
    ),
    Periodic(
        name="warn about aging registry data",
        task="compliance.registry_freshness_check",
        crontab={"minute": "0", "hour": "6"},
        description="Warns when a subscribed area code's registry data is six days from the maximum age the "
        "rule set gives its source (dnc_list_max_age_days), after which marketing calls to it are blocked.",
    ),
    Periodic(
        name="retention purge",
        task="compliance.retention_purge",
        crontab={"minute": "15", "hour": "2"},
        description="Deletes or anonymises data past its retention policy, in batches; records a purge run each.",
    ),
    Periodic(
        name="record consent expiry",
        task="consent.consents_expire",
        crontab={"minute": "5"},
        description="Writes each consent's expiry into its record (history) once it has passed; "
        "the engine refuses expired consents at once.",
    ),
    Periodic(
        name="seal the decision log",
        task="compliance.decision_log_seal",
        crontab={"minute": "*"},
        description="Chains the decisions committed in the last minute (hash of the row before).",
    ),
    Periodic(
        name="verify the decision log",
        task="compliance.decision_log_verify",
        crontab={"minute": "30", "hour": "3"},
        description="Recomputes the whole hash chain nightly and logs an error naming the first broken row.",
    ),
    Periodic(
        name="escalate overdue tickets",
        task="helpdesk.tickets_escalate",
        crontab={"minute": "*/15"},
        description="Escalates open tickets past their due time once: priority raised, shown first, on the timeline.",
    ),
]


@transaction.atomic
def periodic_tasks_setup(*, tasks: list[Periodic] | None = None) -> list[PeriodicTask]:
    tasks = PERIODIC_TASKS if tasks is None else tasks
    kept = []
    for spec in tasks:
        schedule, _ = CrontabSchedule.objects.get_or_create(timezone="UTC", **spec.crontab)
        periodic, _ = PeriodicTask.objects.update_or_create(
            name=MANAGED_PREFIX + spec.name,
            defaults={
                "task": spec.task,
                "crontab": schedule,
                "interval": None,
                "description": spec.description,
            },
        )
        kept.append(periodic)
    PeriodicTask.objects.filter(name__startswith=MANAGED_PREFIX).exclude(pk__in=[p.pk for p in kept]).delete()
    return kept
