"""Consent work run by the Celery worker on beat's schedule."""

import logging

from celery import shared_task

from consent.services import consents_expire

logger = logging.getLogger(__name__)


@shared_task(name="consent.consents_expire")
def consents_expire_task() -> int:
    """Write the expiry of every consent that passed it into its record."""
    expired = consents_expire()
    if expired:
        logger.info("consent expiry: %s consent(s) expired and recorded", expired)
    return expired
