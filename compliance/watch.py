"""The watch over the decision log's schedule: a stopped seal or verify, or a
periodic task that no longer matches what `setup_periodic_tasks` defines,
shows on the audit page and in /healthz and is logged as an error.

A compliance officer may run a task now but not disable, rename, reschedule
or re-argue one (the admin leaves that to superusers); a superuser's change
is drift too, named here until `setup_periodic_tasks` puts the task back.
"""

import json
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from compliance.models import ChainVerification, DecisionRecord, TaskHeartbeat
from core.schedule import MANAGED_PREFIX, Periodic, periodic_crontab, periodic_fields, periodic_tasks

logger = logging.getLogger(__name__)

SEAL_TASK = "compliance.decision_log_seal"
VERIFY_TASK = "compliance.decision_log_verify"
# The verify runs nightly: two hours of slack before a missed night is an alert.
VERIFY_OVERDUE_AFTER = timedelta(hours=26)

# The kind of drift a differing PeriodicTask field is (the crontab's values are "schedule").
DRIFT_KIND = {
    "enabled": "disabled",
    "task": "task",
    "args": "arguments",
    "kwargs": "arguments",
    "interval": "schedule",
    "solar": "schedule",
    "clocked": "schedule",
    "one_off": "schedule",
    "start_time": "schedule",
    "expires": "schedule",
    "expire_seconds": "schedule",
    "queue": "options",
    "exchange": "options",
    "routing_key": "options",
    "priority": "options",
    "headers": "options",
}
_JSON_FIELDS = {"args", "kwargs", "headers"}
_BLANK_IS_NONE = {"queue", "exchange", "routing_key"}  # the admin's form may save "" for "none"


@dataclass(frozen=True)
class ScheduleDrift:
    """One way a registered periodic task differs from its PeriodicTask row."""

    name: str  # the registered name, e.g. "verify the decision log"
    kind: str  # missing | disabled | task | schedule | arguments | options
    expected: str
    found: str

    def __str__(self) -> str:
        return f"{self.name}: {self.kind} (expected {self.expected}, found {self.found})"


@dataclass(frozen=True)
class DecisionLogWatch:
    sealed_at: datetime | None
    verification: ChainVerification | None  # the latest verify's outcome
    verify_overdue: bool
    schedule_drift: list[ScheduleDrift]

    @property
    def verified_at(self) -> datetime | None:
        return self.verification.at if self.verification else None

    @property
    def alert(self) -> bool:
        return self.verify_overdue or bool(self.schedule_drift)

    def as_json(self, *, detail: bool = True) -> dict[str, Any]:
        """The watch as JSON; without `detail` (the public /healthz) each drift
        is named by task and kind only, not the values expected and found."""
        return {
            "sealed_at": self.sealed_at.isoformat() if self.sealed_at else None,
            "verified_at": self.verified_at.isoformat() if self.verified_at else None,
            "verify_overdue": self.verify_overdue,
            "schedule_drift": [
                asdict(drift) if detail else {"name": drift.name, "kind": drift.kind}
                for drift in self.schedule_drift
            ],
        }


def _same(field: str, expected: object, found: object) -> bool:
    if field in _JSON_FIELDS:
        try:
            return json.loads(str(found)) == json.loads(str(expected))
        except ValueError:
            return False
    if field in _BLANK_IS_NONE:
        return (found or None) == expected
    return found == expected


def _shown(field: str, value: object) -> str:
    if field == "enabled":
        return "enabled" if value else "disabled"
    return f"{field}={'none' if value is None else value}"


def _task_drift(spec: Periodic, row: PeriodicTask) -> list[ScheduleDrift]:
    differences: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for field, expected in periodic_fields(spec).items():
        found = getattr(row, field)
        if not _same(field, expected, found):
            differences[DRIFT_KIND[field]].append((_shown(field, expected), _shown(field, found)))
    crontab = periodic_crontab(spec)
    if row.crontab is None:
        differences["schedule"].append(
            (_shown("crontab", " ".join(crontab.values())), _shown("crontab", None))
        )
    else:
        for field, expected in crontab.items():
            found = str(getattr(row.crontab, field))
            if found != expected:
                differences["schedule"].append((f"crontab {field}={expected}", f"crontab {field}={found}"))
    return [
        ScheduleDrift(
            name=spec.name,
            kind=kind,
            expected="; ".join(expected for expected, _ in pairs),
            found="; ".join(found for _, found in pairs),
        )
        for kind, pairs in differences.items()
    ]


def schedule_drift(*, tasks: list[Periodic] | None = None) -> list[ScheduleDrift]:
    """How each registered periodic task's PeriodicTask row differs from what
    `setup_periodic_tasks` writes for it (one query)."""
    specs = periodic_tasks() if tasks is None else tasks
    rows = {
        row.name: row
        for row in PeriodicTask.objects.filter(
            name__in=[MANAGED_PREFIX + spec.name for spec in specs]
        ).select_related("crontab", "interval", "solar", "clocked")
    }
    drift = []
    for spec in specs:
        row = rows.get(MANAGED_PREFIX + spec.name)
        if row is None:
            drift.append(
                ScheduleDrift(
                    name=spec.name,
                    kind="missing",
                    expected=f"a task named '{MANAGED_PREFIX}{spec.name}'",
                    found="none",
                )
            )
        else:
            drift.extend(_task_drift(spec, row))
    return drift


def decision_log_watch(*, now: datetime | None = None) -> DecisionLogWatch:
    """When the seal and the verify last ran, whether the verify is overdue, and
    the schedule's drift. A log never verified is overdue once it holds a
    decision older than the verify's slack (a new deployment is not)."""
    now = now or timezone.now()
    sealed_at = TaskHeartbeat.objects.filter(task=SEAL_TASK).values_list("ran_at", flat=True).first()
    verification = ChainVerification.objects.first()  # the latest
    if verification is not None:
        overdue = now - verification.at > VERIFY_OVERDUE_AFTER
    else:
        overdue = DecisionRecord.objects.filter(recorded_at__lt=now - VERIFY_OVERDUE_AFTER).exists()
    return DecisionLogWatch(
        sealed_at=sealed_at,
        verification=verification,
        verify_overdue=overdue,
        schedule_drift=schedule_drift(),
    )


def decision_log_watch_log(watch: DecisionLogWatch) -> None:
    """The alerting hook: an error line per finding, in words that stay stable."""
    if watch.verify_overdue:
        logger.error(
            "decision log verify overdue: last verified %s (alert after %s h)",
            watch.verified_at.isoformat() if watch.verified_at else "never",
            int(VERIFY_OVERDUE_AFTER.total_seconds() // 3600),
        )
    for drift in watch.schedule_drift:
        logger.error("compliance schedule drift: %s", drift)


def task_heartbeat_record(*, task: str, at: datetime) -> datetime | None:
    """Note that `task` finished at `at`; returns when it had finished before."""
    before = TaskHeartbeat.objects.filter(task=task).values_list("ran_at", flat=True).first()
    TaskHeartbeat.objects.bulk_create(
        [TaskHeartbeat(task=task, ran_at=at)],
        update_conflicts=True,
        unique_fields=["task"],
        update_fields=["ran_at"],
    )
    return before


def seal_heartbeat(*, at: datetime) -> None:
    """Note a finished seal. The first in each clock hour also logs the watch's
    findings, so a disabled verify or a reshaped schedule is noticed without
    anyone opening the audit page (the seal runs every minute)."""
    before = task_heartbeat_record(task=SEAL_TASK, at=at)
    if before is None or _hour(before) < _hour(at):
        decision_log_watch_log(decision_log_watch(now=at))


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)
