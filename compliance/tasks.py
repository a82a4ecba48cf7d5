"""Background compliance work run by the Celery worker on beat's schedule."""

import logging

from celery import shared_task
from django.utils import timezone

from compliance.decision_log import decision_log_seal, decision_log_verify_record
from compliance.rnd.chain import rnd_ledger_verify
from compliance.watch import (
    SEAL_TASK,
    VERIFY_TASK,
    decision_log_watch,
    decision_log_watch_log,
    seal_heartbeat,
)

logger = logging.getLogger(__name__)


@shared_task(name=SEAL_TASK, ignore_result=True)
def decision_log_seal_task() -> int:
    """Chain the decisions committed since the last run (each row stores the
    previous row's hash). Short and lock-free for hand-offs; a second sealer
    running at the same time leaves at once. Each run that gets to seal leaves
    a heartbeat (the watch's "sealed at"; a seal that waits in vain for its
    horizon, or refuses a chain it did not make, leaves none, so it shows as
    stalled), and the first in each hour logs the watch's findings."""
    sealed = decision_log_seal()
    if sealed is None:
        return 0
    if sealed:
        logger.info("decision log: sealed %s row(s)", sealed)
    seal_heartbeat(at=timezone.now())
    return sealed


@shared_task(name=VERIFY_TASK)
def decision_log_verify_task() -> dict:
    """Recompute the whole chain, and the RND query ledger's; a broken chain
    is logged as an error (the alerting hook) and returned, so it shows in
    the task results; so is any drift of the schedule (a disabled or
    rescheduled seal, say)."""
    result = decision_log_verify_record()
    decision_log_watch_log(decision_log_watch())
    if result.ok:
        logger.info("decision log intact: %s row(s) verified, %s unsealed", result.checked, result.unsealed)
    else:
        logger.error(
            "decision log BROKEN at %s: %s (%s row(s) verified before it)",
            result.where,  # a row, or a checkpoint
            result.problem,
            result.checked,
        )
    rnd = rnd_ledger_verify()  # the RND query ledger's own chain (issue 18), on the same watch
    if rnd.ok:
        logger.info("RND query ledger intact: %s row(s) verified", rnd.checked)
    else:
        logger.error(
            "RND query ledger BROKEN at query #%s: %s (%s row(s) verified before it)",
            rnd.broken_id,
            rnd.problem,
            rnd.checked,
        )
    return {
        "ok": result.ok,
        "checked": result.checked,
        "unsealed": result.unsealed,
        "broken_id": result.broken_id,
        "problem": result.problem,
        "rnd_ledger": {
            "ok": rnd.ok,
            "checked": rnd.checked,
            "broken_id": rnd.broken_id,
            "problem": rnd.problem,
        },
    }


@shared_task(name="compliance.retention_purge")
def retention_purge_task(category: str | None = None, dry_run: bool = False) -> list[dict]:
    """Apply the active retention policies (or one category's)."""
    from compliance.retention import retention_purge

    return [
        {"category": run.category, "status": run.status, "deleted": run.deleted, "anonymised": run.anonymised}
        for run in retention_purge(category=category, dry_run=dry_run)
    ]


@shared_task(name="compliance.rnd_query_due")
def rnd_query_due_task() -> dict:
    """Send the RND queries that are due through the configured adapter
    (compliance.rnd). Idempotent: what got an answer is no longer due."""
    from compliance.rnd.adapters import adapter_configured
    from compliance.rnd.services import rnd_query_due

    run = rnd_query_due(adapter=adapter_configured())
    if run.sent:
        logger.info(
            "RND: %s due, %s sent in %s batch(es): %s", run.due, run.sent, run.batches, dict(run.answers)
        )
    return {"candidates": run.candidates, "due": run.due, "sent": run.sent, "answers": dict(run.answers)}
