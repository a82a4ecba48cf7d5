"""The admin's CSV upload of customers: a form around `customers_import`.

Wired by the customer admin at `admin/customers/customer/import/` (name
`admin:customers_customer_import`), wrapped in `admin.site.admin_view`.
"""

import io

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from consent.importer import customers_import
from customers.models import Customer

# The page lists this many errors; the counts cover them all.
ERRORS_SHOWN = 500


class CustomerImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            "UTF-8, with a header row: first_name, last_name, email, state, postal_code, phone_number, "
            "phone_kind, and optionally consent_purpose, consent_channel, consent_written, "
            "consent_source, consent_disclosure_text, consent_granted_at."
        ),
    )
    skip_invalid = forms.BooleanField(
        required=False,
        label="Skip invalid rows",
        help_text="Import the good rows and list the bad ones. Otherwise one bad row imports nothing.",
    )
    dry_run = forms.BooleanField(
        required=False, label="Validate only (dry run)", help_text="Check the whole file; write nothing."
    )


def customer_import_view(request):
    if not request.user.has_perm("customers.add_customer"):
        raise PermissionDenied("Importing customers needs permission to add customers.")
    report = None
    form = CustomerImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # Streamed: the csv reader pulls lines from the upload as it goes.
        text = io.TextIOWrapper(upload.open("rb"), encoding="utf-8-sig", newline="")
        try:
            report = customers_import(
                file=text,
                source_name=upload.name,
                by=request.user,
                skip_invalid=form.cleaned_data["skip_invalid"],
                dry_run=form.cleaned_data["dry_run"],
                consents_allowed=request.user.has_perm("consent.add_consentgrant"),
            )
        finally:
            text.detach()
    context = {
        **admin.site.each_context(request),
        "title": "Import customers",
        "opts": Customer._meta,
        "form": form,
        "report": report,
        "errors_shown": report.errors[:ERRORS_SHOWN] if report else [],
        "errors_hidden": max(0, len(report.errors) - ERRORS_SHOWN) if report else 0,
    }
    return TemplateResponse(request, "admin/consent/import_customers.html", context)
