"""The help desk's part of a customer's erasure (core.erasure hook).

- Tickets about the customer keep their type, status, queue, dates and
  events for the record; their words go: the subject becomes "<type> #<id>
  (erased)", the description "(erased)", in the ticket and in its history.
  Their comments' bodies become "(erased)", history included.
- Any other ticket, comment (history included) or ticket event that mentions
  one of the person's numbers (in any common format) or email addresses has
  those occurrences redacted; the events of the customer's own tickets have
  the name redacted too.
"""

from django.db.models import Q, TextField
from django.db.models.functions import Cast

from core.erasure import TEXT_MARK, ErasureContext
from core.history import history_save
from helpdesk.models import Comment, Ticket, TicketEvent


def _mentioning(queryset, fields: tuple[str, ...], context: ErasureContext):
    terms = context.search_terms()
    if not terms:
        return queryset.none()
    condition = Q()
    for name in fields:
        for term in terms:
            condition |= Q(**{f"{name}__icontains": term})
    return queryset.filter(condition)


def _erased_subject(ticket) -> str:
    return f"{Ticket.Type(ticket.type).label} #{ticket.id} (erased)"


def _linked_tickets_blank(context: ErasureContext) -> list[int]:
    tickets = list(Ticket.objects.select_for_update().filter(customer_id=context.customer_id))
    for ticket in tickets:
        ticket.subject = _erased_subject(ticket)
        ticket.description = TEXT_MARK if ticket.description else ""
        history_save(ticket, by=context.by, reason=context.reason)
        Ticket.history.filter(id=ticket.pk).update(subject=ticket.subject, description=ticket.description)
    linked = [t.pk for t in tickets]
    for comment in Comment.objects.select_for_update().filter(ticket_id__in=linked):
        comment.body = TEXT_MARK
        history_save(comment, by=context.by, reason=context.reason)
    Comment.history.filter(ticket_id__in=linked).update(body=TEXT_MARK)
    # A ticket once linked to the customer and since moved: its history holds their words.
    for row in Ticket.history.filter(customer_id=context.customer_id).exclude(id__in=linked):
        Ticket.history.filter(history_id=row.history_id).update(
            subject=_erased_subject(row), description=TEXT_MARK if row.description else ""
        )
    return linked


def _mentions_redact(context: ErasureContext, linked: list[int]) -> None:
    for ticket in _mentioning(
        Ticket.objects.select_for_update().exclude(id__in=linked), ("subject", "description"), context
    ):
        if context.mentions(ticket.subject) or context.mentions(ticket.description):
            ticket.subject = context.redact(ticket.subject)[:200]
            ticket.description = context.redact(ticket.description)
            history_save(ticket, by=context.by, reason=context.reason)
    for row in _mentioning(
        Ticket.history.exclude(customer_id=context.customer_id), ("subject", "description"), context
    ):
        if context.mentions(row.subject) or context.mentions(row.description):
            Ticket.history.filter(history_id=row.history_id).update(
                subject=context.redact(row.subject)[:200], description=context.redact(row.description)
            )
    for comment in _mentioning(
        Comment.objects.select_for_update().exclude(ticket_id__in=linked), ("body",), context
    ):
        if context.mentions(comment.body):
            comment.body = context.redact(comment.body)
            history_save(comment, by=context.by, reason=context.reason)
    for row in _mentioning(Comment.history.exclude(ticket_id__in=linked), ("body",), context):
        if context.mentions(row.body):
            Comment.history.filter(history_id=row.history_id).update(body=context.redact(row.body))


def _events_redact(context: ErasureContext, linked: list[int]) -> None:
    events = TicketEvent.objects.annotate(data_text=Cast("data", TextField()))
    candidates = _mentioning(events, ("text", "data_text"), context) | events.filter(ticket_id__in=linked)
    for event in candidates:
        names = event.ticket_id in linked
        text = context.redact(event.text, names=names)
        data = _json_redact(event.data, context, names=names)
        if text != event.text or data != event.data:
            TicketEvent.objects.filter(pk=event.pk).update(text=text, data=data)


def _json_redact(value, context: ErasureContext, *, names: bool):
    if isinstance(value, str):
        return context.redact(value, names=names)
    if isinstance(value, list):
        return [_json_redact(v, context, names=names) for v in value]
    if isinstance(value, dict):
        return {k: _json_redact(v, context, names=names) for k, v in value.items()}
    return value


def tickets_erase(context: ErasureContext) -> None:
    linked = _linked_tickets_blank(context)
    _mentions_redact(context, linked)
    _events_redact(context, linked)
