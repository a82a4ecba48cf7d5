"""The help desk's timeline source (core.timeline): every action on the
customer's tickets."""

from django.urls import reverse

from core.timeline import TimelineEntry, TimelineQuery, TimelineSource, timeline_source_register, timeline_who
from helpdesk.models import TicketEvent


def ticket_entries(query: TimelineQuery) -> list[TimelineEntry]:
    if query.customer_id is None:
        return []
    events = TicketEvent.objects.filter(query.within("at"), ticket__customer_id=query.customer_id)
    return [
        TimelineEntry(
            at=e.at,
            kind="ticket",
            title=f"Ticket #{e.ticket_id} ({e.ticket.get_type_display().lower()}): {e.get_kind_display().lower()}",
            detail=e.text,
            who=timeline_who(e.actor),
            via=e.ticket.get_channel_display(),
            link=reverse("ticket-detail", args=[e.ticket_id]),
        )
        for e in events.select_related("actor", "ticket")
    ]


def timeline_sources_register() -> None:
    timeline_source_register(
        TimelineSource(kind="ticket", label="Ticket actions", order=4, entries=ticket_entries)
    )
