"""The help desk's agent pages: server-rendered, HTMX for every action.

Who may do what (enforced here, not only by hiding buttons):
- agents, managers and compliance officers work tickets: read them, reply,
  add notes, assign, change status, open tickets, and apply a ticket's
  opt-out (an opt-out must be honoured whoever takes it, on any channel);
- only compliance officers and managers answer data access requests
  (the export discloses everything held about a person); only those who
  may erase through the API (compliance officers, accounts.access
  user_may_erase) erase a customer (irreversible). Others get 403.

Every write goes through helpdesk.services; a service's ValidationError is
shown next to the form that caused it, never as an error page.
"""

from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.access import access_required, role_required, user_may_erase
from accounts.audit import access_record
from accounts.roles import AGENTS, COMPLIANCE_OFFICERS, MANAGERS, has_role
from core.words import datetime_text
from customers import selectors as customer_selectors
from customers.access import user_sees_whole_customers
from customers.models import Customer, PhoneNumber
from customers.services import phone_number_mark_reassigned
from helpdesk import selectors, services
from helpdesk.export import customer_export
from helpdesk.forms import (
    CommentForm,
    CustomerSearchForm,
    QuickTicketForm,
    ReassignedForm,
    StatusForm,
    TicketCreateForm,
    TicketFilterForm,
    errors_onto,
)
from helpdesk.models import DataRequestLog, Queue, Ticket

TICKET_ROLES = (AGENTS, MANAGERS, COMPLIANCE_OFFICERS)
DATA_REQUEST_ROLES = (COMPLIANCE_OFFICERS, MANAGERS)
PAGE_SIZE = 25
MAX_PAGE = 100_000
NO_QUEUE = "There is no ticket queue yet: ask a manager to create one."
SEARCH_RESULTS_SHOWN = 20
SEARCHES_PER_MINUTE = 30  # a person types a few a minute; a script walking the alphabet is stopped


def _htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _page(request, tickets) -> dict:
    """One page of tickets without a COUNT(*): one row more than the page
    says whether there is a next one."""
    try:
        number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        number = 1
    if number > MAX_PAGE:  # an OFFSET past bigint is a database error, not an empty page
        raise Http404("No such page.")
    start = (number - 1) * PAGE_SIZE
    rows = list(tickets[start : start + PAGE_SIZE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "tickets": rows[:PAGE_SIZE],
        "page_number": number,
        "has_previous": number > 1,
        "has_next": len(rows) > PAGE_SIZE,
        "query": query.urlencode(),
    }


def _list(request, *, queue: Queue | None):
    now = timezone.now()
    members = list(selectors.queue_members(queue=queue)) if queue else []
    form = TicketFilterForm(request.GET or None, members=members)
    filters = form.filters(user=request.user)
    if queue is None:
        filters.pop("unassigned", None)
        filters["assignee"] = request.user
    tickets = selectors.ticket_list(now=now, queue=queue, **filters)
    return render(
        request,
        "helpdesk/ticket_list.html",
        {
            "form": form,
            "queue": queue,
            "queues": selectors.queue_list(),
            "now": now,
            **_page(request, tickets),
        },
    )


@role_required(*TICKET_ROLES)
@require_GET
def ticket_mine(request):
    """My tickets: assigned to me, open ones by due time (overdue first)."""
    queue_id = request.GET.get("queue", "")
    if queue_id.isdigit():
        return redirect("ticket-queue", queue_id=int(queue_id))
    return _list(request, queue=None)


@role_required(*TICKET_ROLES)
@require_GET
def ticket_queue(request, queue_id: int):
    return _list(request, queue=get_object_or_404(Queue, pk=queue_id))


def _ticket_or_404(ticket_id: int) -> Ticket:
    ticket = selectors.ticket_get(ticket_id=ticket_id)
    if ticket is None:
        raise Http404("No such ticket.")
    return ticket


def _ticket_context(request, ticket: Ticket, errors: dict | None = None, **extra) -> dict:
    user = request.user
    answer = (
        selectors.ticket_data_request_answer(ticket=ticket) if ticket.type in Ticket.DATA_REQUESTS else None
    )
    return {
        "ticket": ticket,
        "now": timezone.now(),
        "timeline": selectors.ticket_timeline(ticket=ticket),
        "related_calls": (
            list(selectors.ticket_related_calls(ticket=ticket))
            if ticket.type == Ticket.Type.COMPLAINT
            else []
        ),
        "opt_out_applied": (
            selectors.ticket_opt_out_applied(ticket=ticket) if ticket.type == Ticket.Type.OPT_OUT else None
        ),
        "answer": answer,
        "fulfilled": answer is not None and answer.outcome == DataRequestLog.Outcome.FULFILLED,
        "may_answer_data_requests": has_role(user, *DATA_REQUEST_ROLES),
        "may_erase": user_may_erase(user),
        "may_read_decisions": has_role(user, COMPLIANCE_OFFICERS),
        "statuses": Ticket.Status.choices,
        "errors": errors or {},
        **extra,
    }


def _ticket_response(request, ticket: Ticket, errors: dict | None = None, **extra):
    """After an action: the ticket's body for HTMX to swap in; without
    HTMX, back to the page (or the page with the error)."""
    if not _htmx(request) and not errors:
        return redirect("ticket-detail", ticket_id=ticket.pk)
    ticket = _ticket_or_404(ticket.pk)  # the service may have changed it
    template = "helpdesk/_ticket.html" if _htmx(request) else "helpdesk/ticket_detail.html"
    return render(request, template, _ticket_context(request, ticket, errors, **extra))


@role_required(*TICKET_ROLES)
@require_GET
def ticket_detail(request, ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    return render(request, "helpdesk/ticket_detail.html", _ticket_context(request, ticket))


@role_required(*TICKET_ROLES)
@require_POST
def ticket_comment_add(request, ticket_id: int):
    """A public reply to the customer or an internal note (`public`)."""
    ticket = _ticket_or_404(ticket_id)
    form = CommentForm(request.POST)
    if not form.is_valid():
        return _ticket_response(request, ticket, {"comment": "Write something first."}, draft=request.POST)
    try:
        services.ticket_comment(
            ticket=ticket, body=form.cleaned_data["body"], public=form.cleaned_data["public"], by=request.user
        )
    except ValidationError as exc:
        return _ticket_response(request, ticket, {"comment": " ".join(exc.messages)}, draft=request.POST)
    return _ticket_response(request, ticket)


@role_required(*TICKET_ROLES)
@require_POST
def ticket_assign(request, ticket_id: int):
    """Assign to me (`to=me`) or unassign (`to=nobody`)."""
    ticket = _ticket_or_404(ticket_id)
    to = request.POST.get("to")
    if to not in ("me", "nobody"):
        return _ticket_response(request, ticket, {"assign": "Choose 'assign to me' or 'unassign'."})
    try:
        services.ticket_assign(ticket=ticket, assignee=request.user if to == "me" else None, by=request.user)
    except ValidationError as exc:
        return _ticket_response(request, ticket, {"assign": " ".join(exc.messages)})
    return _ticket_response(request, ticket)


@role_required(*TICKET_ROLES)
@require_POST
def ticket_status(request, ticket_id: int):
    ticket = _ticket_or_404(ticket_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _ticket_response(request, ticket, {"status": "Choose a status."})
    try:
        services.ticket_status_set(
            ticket=ticket, status=form.cleaned_data["status"], note=form.cleaned_data["note"], by=request.user
        )
    except ValidationError as exc:
        return _ticket_response(request, ticket, {"status": " ".join(exc.messages)})
    return _ticket_response(request, ticket)


@role_required(*TICKET_ROLES)
@require_POST
def ticket_opt_out(request, ticket_id: int):
    """Any of the three roles may apply an opt-out: it must be honoured
    whoever takes it."""
    ticket = _ticket_or_404(ticket_id)
    if ticket.type != Ticket.Type.OPT_OUT:
        return _ticket_response(request, ticket, {"action": "Only an opt-out request applies an opt-out."})
    try:
        services.ticket_opt_out(ticket=ticket, by=request.user)
    except ValidationError as exc:
        return _ticket_response(request, ticket, {"action": " ".join(exc.messages)})
    return _ticket_response(request, ticket)


@role_required(*DATA_REQUEST_ROLES)
@require_POST
def ticket_export_produce(request, ticket_id: int):
    """Answer a data access request: logged as fulfilled, then readable on
    the export page and downloadable as JSON. Compliance officers and
    managers only."""
    ticket = _ticket_or_404(ticket_id)
    try:
        services.ticket_data_access(ticket=ticket, by=request.user)
    except ValidationError as exc:
        return _ticket_response(request, ticket, {"action": " ".join(exc.messages)})
    return _ticket_response(request, ticket)


def _answered_export(ticket_id: int) -> tuple[Ticket, Customer]:
    """The ticket of a data access request already answered with an export
    (reading it again is then no new disclosure to log), and its customer.
    The export is built from the data as it is now: it is never stored, so
    that an erasure leaves no copy of it behind."""
    ticket = _ticket_or_404(ticket_id)
    customer = ticket.customer
    answered = (
        ticket.type == Ticket.Type.DATA_ACCESS
        and DataRequestLog.objects.filter(
            ticket_id=ticket.pk, outcome=DataRequestLog.Outcome.FULFILLED
        ).exists()
    )
    if customer is None or not answered:
        raise Http404("Produce the export from the ticket first.")
    return ticket, customer


def _section_rows(value) -> dict:
    """An export section as a table: a list of dicts or one dict. The JSON
    download keeps ISO 8601; the page shows instants as every page does."""
    items = value if isinstance(value, list) else [value]
    headers = list(items[0]) if items else []
    rows = [[_cell(h, item[h]) for h in headers] for item in items]
    return {"headers": [h.replace("_", " ") for h in headers], "rows": rows}


def _cell(name: str, value):
    """One value in words: nested records as "key: value" pairs, instants
    (the `…_at` and `at` keys) in the site's format and the viewer's zone."""
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')}: {_cell(key, item)}" for key, item in value.items())
    if isinstance(value, list):
        return " | ".join(str(_cell(name, item)) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if (name == "at" or name.endswith("_at")) and isinstance(value, str):
        return _instant_text(value)
    return "—" if value is None else value


def _instant_text(value: str) -> str:
    """An ISO instant in words; anything else (evidence keys ending in `_at`
    hold what the caller sent: a bare date, "yesterday") as it was written."""
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        return value
    return datetime_text(instant) if timezone.is_aware(instant) else value


@role_required(*DATA_REQUEST_ROLES)
@require_GET
def ticket_export_page(request, ticket_id: int):
    ticket, customer = _answered_export(ticket_id)
    access_record(request, action="viewed data export", target=f"customer #{customer.pk}")
    export = customer_export(customer=customer)
    sections = [(name.replace("_", " ").capitalize(), _section_rows(value)) for name, value in export.items()]
    return render(
        request,
        "helpdesk/export.html",
        {"ticket": ticket, "sections": sections, "now": timezone.now()},
    )


@role_required(*DATA_REQUEST_ROLES)
@require_GET
def ticket_export_json(request, ticket_id: int):
    _ticket, customer = _answered_export(ticket_id)
    access_record(request, action="downloaded data export (JSON)", target=f"customer #{customer.pk}")
    response = JsonResponse(
        customer_export(customer=customer), json_dumps_params={"indent": 2, "ensure_ascii": False}
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@access_required(user_may_erase, "Only compliance officers erase customers.")
@require_POST
def ticket_erase(request, ticket_id: int):
    """Erase the ticket's customer: whoever the erase API lets erase
    (compliance officers); a legal hold refuses it and the page shows why."""
    ticket = _ticket_or_404(ticket_id)
    if request.POST.get("confirm") != "erase":
        return _ticket_response(request, ticket, {"action": "Tick the box to confirm the erasure."})
    try:
        services.ticket_erase(ticket=ticket, by=request.user)
    except ValidationError as exc:
        return _ticket_response(request, ticket, {"action": " ".join(exc.messages)})
    return _ticket_response(request, ticket)


@role_required(*TICKET_ROLES)
@require_http_methods(["GET", "POST"])
def ticket_new(request):
    """Open a ticket; `?customer=<id>` names the customer it is about."""
    if request.method == "POST":
        form = TicketCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            queue = data["queue"] or selectors.queue_for(ticket_type=data["type"], user=request.user)
            if queue is None:
                form.add_error("queue", NO_QUEUE)
            else:
                try:
                    ticket = services.ticket_create(
                        queue=queue,
                        subject=data["subject"],
                        description=data["description"],
                        channel=data["channel"],
                        customer=data["customer"],
                        type=data["type"],
                        priority=data["priority"],
                        legal_basis=data["legal_basis"],
                        by=request.user,
                    )
                except ValidationError as exc:
                    errors_onto(form, exc)
                else:
                    return redirect("ticket-detail", ticket_id=ticket.pk)
    else:
        initial: dict[str, int] = {}
        customer_id = request.GET.get("customer", "")
        if customer_id.isdigit():
            initial["customer"] = int(customer_id)
        form = TicketCreateForm(initial=initial)
    customer = form["customer"].value()
    customer = (
        form.fields["customer"].queryset.filter(pk=customer).first()
        if str(customer or "").isdigit()
        else None
    )
    return render(
        request,
        "helpdesk/ticket_new.html",
        {"form": form, "customer": customer, "data_requests": list(Ticket.DATA_REQUESTS)},
    )


@role_required(*TICKET_ROLES)
@require_POST
def ticket_quick(request):
    """ "The customer asked for…" from the call screen: a ticket about the
    callee, channel `agent`, in the queue its type is routed to (else the
    agent's own)."""
    form = QuickTicketForm(request.POST)
    context = {
        "form": form,
        "customer_id": request.POST.get("customer", ""),
        "types": Ticket.Type.choices,
        "bases": Ticket.LegalBasis.choices,
    }
    if not form.is_valid():
        return render(request, "helpdesk/_quick_ticket.html", context)
    data = form.cleaned_data
    queue = selectors.queue_for(ticket_type=data["type"], user=request.user)
    if queue is None:
        form.add_error(None, NO_QUEUE)
        return render(request, "helpdesk/_quick_ticket.html", context)
    try:
        ticket = services.ticket_create(
            queue=queue,
            subject=data["subject"],
            channel=Ticket.Channel.AGENT,
            customer=data["customer"],
            type=data["type"],
            legal_basis=data["legal_basis"],
            by=request.user,
        )
    except ValidationError as exc:
        errors_onto(form, exc)
        return render(request, "helpdesk/_quick_ticket.html", context)
    return render(request, "helpdesk/_quick_ticket_done.html", {"ticket": ticket})


REASSIGN_ROLES = (AGENTS, COMPLIANCE_OFFICERS)


@role_required(*TICKET_ROLES)
@require_GET
def customer_detail(request, customer_id: int):
    """A customer for the help desk: tickets, consents in plain words and
    what stops calling each number."""
    page = _customer_page(request, customer_id)  # a 404 for no such customer: nothing viewed
    access_record(request, action="viewed customer", target=f"customer #{customer_id}")
    return page


@role_required(*REASSIGN_ROLES)
@require_POST
def number_mark_reassigned(request, customer_id: int, phone_id: int):
    """Mark one of the customer's numbers as reassigned (issue 18): agents
    (the person who answered is someone else) and compliance officers (an
    RND "yes"), with a reason; the number's history keeps who and why."""
    phone = get_object_or_404(PhoneNumber, pk=phone_id, customer_id=customer_id)
    form = ReassignedForm(request.POST)
    if form.is_valid():
        try:
            phone_number_mark_reassigned(phone=phone, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc)
    if not form.is_valid():
        error = " ".join(str(message) for messages in form.errors.values() for message in messages)
        return _customer_page(request, customer_id, reassigned_errors={phone.pk: error}, status=400)
    return redirect("customer-detail", customer_id=customer_id)


def _customer_page(request, customer_id: int, *, reassigned_errors: dict | None = None, status: int = 200):
    overview = selectors.customer_overview(customer_id=customer_id, now=timezone.now())
    if overview is None:
        raise Http404("No such customer.")
    return render(
        request,
        "helpdesk/customer.html",
        {
            "overview": overview,
            "now": timezone.now(),
            "sees_whole_customer": user_sees_whole_customers(request.user),
            "may_mark_reassigned": has_role(request.user, *REASSIGN_ROLES),
            "reassigned_errors": reassigned_errors or {},
        },
        status=status,
    )


def _search_allowed(user) -> bool:
    """At most SEARCHES_PER_MINUTE searches per user and clock minute,
    counted in the cache (with several processes and no shared cache, per
    process): enough for a person, too few to walk through every name."""
    key = f"customer-search:{user.pk}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=120)
    return cache.incr(key) <= SEARCHES_PER_MINUTE


@role_required(*TICKET_ROLES)
@require_GET
def customer_search(request):
    """Find a customer by name or number, to open their page or a ticket.
    Without a query it lists nobody; results are capped, throttled per user,
    and show what agents may see (no email)."""
    form = CustomerSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    context: dict = {
        "query": query,
        "by_number": customer_selectors.customer_search_by_number(query),
        "customers": [],
        "more": False,
        "error": " ".join(message for messages in form.errors.values() for message in messages),
    }
    status = 200 if form.is_valid() else 400
    if query:
        if not _search_allowed(request.user):
            context["error"] = "Too many searches in a minute: wait a moment, then search again."
            status = 429
        else:
            try:
                found = list(customer_selectors.customer_search(query=query)[: SEARCH_RESULTS_SHOWN + 1])
            except ValidationError as exc:
                context["error"] = " ".join(exc.messages)
            else:
                context["customers"] = found[:SEARCH_RESULTS_SHOWN]
                context["more"] = len(found) > SEARCH_RESULTS_SHOWN
    context["shown"] = SEARCH_RESULTS_SHOWN
    return render(request, "helpdesk/customer_search.html", context, status=status)
