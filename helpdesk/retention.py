"""The help desk's data categories for retention (core.retention).

The data request log is the consumer-request record the CCPA makes us keep
24 months; it holds no personal data. Closed tickets may be deleted after a
period (off by default), never a customer's on legal hold.

The purge deletes set-based, with no cascade emulation: a ticket's comments
(with their history), events and links to calls are deleted first, in the
same transaction.
"""

from core.retention import RetentionCategory, retention_category_register

CLOSED = ("resolved", "closed")


def _closed_not_on_hold(rows, cutoff):
    return rows.filter(status__in=CLOSED).exclude(customer__legal_hold=True)


def _ticket_dependents_delete(doomed) -> None:
    """A doomed ticket's comments (and their history), events and links to
    calls go first: they reference it, and hold its personal data too."""
    from helpdesk.models import Comment, Ticket, TicketEvent

    tickets = doomed.values("pk")
    for model in (Comment.history.model, Comment, TicketEvent, Ticket.related_attempts.through):
        rows = model._default_manager.filter(ticket_id__in=tickets)
        rows._raw_delete(rows.db)


def retention_categories_register() -> None:
    retention_category_register(
        RetentionCategory(
            key="data_request_log",
            label="Data request log (access and erasure requests)",
            model="helpdesk.DataRequestLog",
            age_field="responded_at",
            default_days=730,
            default_active=True,
            legal_minimum_days=730,
            legal_basis="CCPA 11 CCR 7101: consumer-request records 24 months",
        )
    )
    retention_category_register(
        RetentionCategory(
            key="closed_tickets",
            label="Closed help-desk tickets",
            model="helpdesk.Ticket",
            age_field="resolved_at",
            default_days=3 * 365 + 1,
            default_active=False,
            legal_basis="none of their own: opt-outs, consents and data requests are kept as their own records",
            eligible=_closed_not_on_hold,
            delete_dependents=_ticket_dependents_delete,
            also_delete_history=True,
        )
    )
