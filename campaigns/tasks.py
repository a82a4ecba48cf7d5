"""Campaign work for the Celery worker (autodiscovered)."""

from campaigns.scrub import scrub_run_task

__all__ = ["scrub_run_task"]
