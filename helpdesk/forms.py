"""Forms of the agent pages: they parse and validate; the services decide."""

from django import forms
from django.core.exceptions import ValidationError

from core.phones import phone_normalize
from customers.models import Customer
from customers.selectors import phone_number_get
from helpdesk.models import Queue, Ticket
from helpdesk.selectors import ALL, OPEN

STATUS_FILTERS = [(OPEN, "Open (new, open, waiting)"), (ALL, "All"), *Ticket.Status.choices]
ME, NOBODY, ANYONE = "me", "none", ""


class CustomerSearchForm(forms.Form):
    """The customer search's one field: a name or a number (NUL and overlong input refused)."""

    q = forms.CharField(max_length=100, required=False)


class TicketFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)
    type = forms.ChoiceField(choices=[("", "Any type"), *Ticket.Type.choices], required=False)
    overdue = forms.BooleanField(required=False, label="Overdue only")
    assignee = forms.ChoiceField(required=False)

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.members = {str(user.pk): user for user in members}
        self.fields["assignee"].choices = [
            (ANYONE, "Anyone"),
            (ME, "Me"),
            (NOBODY, "Nobody"),
            *[(pk, user.get_full_name() or user.username) for pk, user in self.members.items()],
        ]

    def filters(self, *, user) -> dict:
        """Keyword arguments for selectors.ticket_list (invalid input is ignored)."""
        data = self.cleaned_data if self.is_valid() else {}
        assignee = data.get("assignee", ANYONE)
        filters = {
            "status": data.get("status") or OPEN,
            "type": data.get("type", ""),
            "overdue": data.get("overdue", False),
        }
        if assignee == ME:
            filters["assignee"] = user
        elif assignee == NOBODY:
            filters["unassigned"] = True
        elif assignee in self.members:
            filters["assignee"] = self.members[assignee]
        return filters


class TicketCreateForm(forms.Form):
    customer = forms.ModelChoiceField(
        queryset=Customer.objects.filter(erased_at__isnull=True), required=False, widget=forms.HiddenInput
    )
    phone = forms.CharField(
        required=False,
        label="Customer's phone number",
        help_text="Finds the customer; leave empty for a ticket about no customer.",
    )
    queue = forms.ModelChoiceField(
        queryset=Queue.objects.order_by("name"),
        required=False,
        empty_label="By type (where this type is routed)",
        help_text="Data requests, opt-outs and complaints go to the queue that takes them.",
    )
    type = forms.ChoiceField(choices=Ticket.Type.choices)
    subject = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    channel = forms.ChoiceField(choices=Ticket.Channel.choices, label="Came in by")
    legal_basis = forms.ChoiceField(
        choices=[("", "—"), *Ticket.LegalBasis.choices],
        required=False,
        label="Legal basis",
        help_text="Data requests only: it sets the deadline.",
    )
    priority = forms.TypedChoiceField(
        choices=Ticket.Priority.choices, coerce=int, initial=Ticket.Priority.NORMAL
    )

    def clean(self):
        data = super().clean()
        if data.get("customer") is None and data.get("phone"):
            try:
                phone = phone_number_get(e164=phone_normalize(data["phone"]))
            except ValidationError as exc:
                self.add_error("phone", exc)
                return data
            if phone is None:
                self.add_error("phone", "No customer has this number.")
            else:
                data["customer"] = phone.customer
        return data


class QuickTicketForm(forms.Form):
    """ "The customer asked for…", from the call screen."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.filter(erased_at__isnull=True))
    type = forms.ChoiceField(choices=Ticket.Type.choices)
    subject = forms.CharField(max_length=200)
    legal_basis = forms.ChoiceField(choices=[("", "—"), *Ticket.LegalBasis.choices], required=False)


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea)
    public = forms.TypedChoiceField(choices=[("1", "Reply"), ("0", "Note")], coerce=lambda v: v == "1")


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices)
    note = forms.CharField(required=False, max_length=500)


def errors_onto(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: per field where the form
    has the field, otherwise as a message for the whole form."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ReassignedForm(forms.Form):
    """Why a number is marked reassigned (kept in its history)."""

    reason = forms.CharField(
        max_length=200,
        strip=True,
        help_text="E.g. the person who answered is not the customer; the RND answered yes.",
    )
