"""Background help-desk work run by the Celery worker on beat's schedule."""

import logging

from celery import shared_task

from helpdesk.services import tickets_escalate

logger = logging.getLogger(__name__)


@shared_task(name="helpdesk.tickets_escalate", ignore_result=True)
def tickets_escalate_task() -> int:
    """Escalate the open tickets past their due time. Idempotent: a ticket is
    escalated once (the service claims it with a row lock and a guard)."""
    escalated = tickets_escalate()
    if escalated:
        logger.info("help desk: escalated %s overdue ticket(s)", escalated)
    return escalated
