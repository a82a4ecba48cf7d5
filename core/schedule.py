"""The periodic tasks of a deployment, created by code (`setup_periodic_tasks`).

Apps register theirs (`periodic_task_register`, from their AppConfig.ready());
the command (compliance's setup_periodic_tasks) replaces the whole set in one
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


_PERIODIC: dict[str, Periodic] = {}


def periodic_task_register(periodic: Periodic) -> None:
    """An app's periodic task (from its AppConfig.ready()); its name is its key."""
    _PERIODIC[periodic.name] = periodic


def periodic_tasks() -> list[Periodic]:
    """Every registered periodic task, by name."""
    return [_PERIODIC[name] for name in sorted(_PERIODIC)]


def periodic_crontab(spec: Periodic) -> dict[str, str]:
    """The CrontabSchedule values `spec` runs on, in crontab's order ("*" where it gives none)."""
    return {
        "minute": "*",
        "hour": "*",
        "day_of_month": "*",
        "month_of_year": "*",
        "day_of_week": "*",
        "timezone": "UTC",
        **spec.crontab,
    }


def periodic_fields(spec: Periodic) -> dict[str, object]:
    """The PeriodicTask values `spec` defines besides its crontab: setting them
    all again puts back a task that was disabled, renamed, given arguments,
    another schedule or another queue (and the schedule watch compares them)."""
    return {
        "task": spec.task,
        "enabled": True,
        "args": "[]",
        "kwargs": "{}",
        "interval": None,
        "solar": None,
        "clocked": None,
        "one_off": False,
        "start_time": None,
        "expires": None,
        "expire_seconds": None,
        "queue": None,
        "exchange": None,
        "routing_key": None,
        "priority": None,
        "headers": "{}",
    }


@transaction.atomic
def periodic_tasks_setup(*, tasks: list[Periodic] | None = None) -> list[PeriodicTask]:
    tasks = periodic_tasks() if tasks is None else tasks
    kept = []
    for spec in tasks:
        schedule, _ = CrontabSchedule.objects.get_or_create(**periodic_crontab(spec))
        periodic, _ = PeriodicTask.objects.update_or_create(
            name=MANAGED_PREFIX + spec.name,
            defaults={**periodic_fields(spec), "crontab": schedule, "description": spec.description},
        )
        kept.append(periodic)
    PeriodicTask.objects.filter(name__startswith=MANAGED_PREFIX).exclude(pk__in=[p.pk for p in kept]).delete()
    return kept
