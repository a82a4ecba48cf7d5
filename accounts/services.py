"""Writes and checks of staff records: compliance training acknowledgements."""

from datetime import datetime

from django.utils import timezone

from accounts.models import TrainingAcknowledgement, TrainingPolicy
from core.history import history_save, history_user


def training_policy() -> TrainingPolicy:
    policy, _ = TrainingPolicy.objects.get_or_create(pk=1)
    return policy


def training_record(*, agent, by, at: datetime | None = None, note: str = "") -> TrainingAcknowledgement:
    ack = TrainingAcknowledgement(
        agent=agent,
        acknowledged_at=at or timezone.now(),
        recorded_by=history_user(by),
        note=note,
    )
    return history_save(ack, by=by, reason="training acknowledgement recorded")


def training_current_until(*, agent, at: datetime | None = None) -> datetime | None:
    """Until when the agent's latest acknowledgement is valid, or None when
    there is no current one."""
    latest = TrainingAcknowledgement.objects.filter(agent=agent).order_by("-acknowledged_at").first()
    if latest is None:
        return None
    until = latest.acknowledged_at + training_policy().validity
    return until if until > (at or timezone.now()) else None
