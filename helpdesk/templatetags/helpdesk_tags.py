"""Help-desk pieces for other apps' pages (the agent's dialer page), so
that campaigns need not import the help desk."""

from django import template
from django.utils import timezone

from helpdesk.models import Ticket
from helpdesk.selectors import ticket_list_mine

register = template.Library()


@register.inclusion_tag("helpdesk/_my_tickets.html", takes_context=True)
def my_open_tickets(context, limit: int = 10):
    """The signed-in user's open tickets, overdue first."""
    now = timezone.now()
    user = context["request"].user
    return {"tickets": list(ticket_list_mine(user=user, now=now)[:limit]), "now": now, "limit": limit}


@register.inclusion_tag("helpdesk/_quick_ticket.html")
def quick_ticket_form(customer):
    """ "The customer asked for…": opens a ticket about `customer` from the call screen."""
    return {"customer_id": customer.pk, "types": Ticket.Type.choices, "bases": Ticket.LegalBasis.choices}
