from datetime import UTC, date, datetime, time, timedelta

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify

from accounts.access import role_required
from accounts.audit import access_record, access_record_many
from accounts.roles import COMPLIANCE_OFFICERS
from compliance.explain import REASON_TEXT, decision_explain
from compliance.models import DecisionRecord
from compliance.proof import Proof, attempt_proof
from compliance.registry.selectors import area_code_removals, shrink_holds_pending
from compliance.reports import PERIOD_CHOICES, ReportPeriod, report_sections, reports_build
from compliance.selectors import (
    area_code_status,
    decision_overview,
    decision_related,
    ledger_status,
    purge_runs_latest,
    registry_status,
    sync_runs_running,
)
from compliance.timeline import contact_timeline, timeline_kinds
from compliance.watch import decision_log_watch, decision_log_watch_log
from consent.selectors import consent_expiry_overview
from core.csv import csv_response
from core.phones import phone_normalize
from core.retention import retention_category


@role_required(COMPLIANCE_OFFICERS)
def dashboard(request):
    now = timezone.now()
    overview = decision_overview(now=now)
    registry = registry_status(now)
    area_codes = area_code_status(now=now, limits={status.source_id: status.limit for status in registry})
    watch = decision_log_watch(now=now)  # the latest verification comes with it
    decision_log_watch_log(watch)
    return render(
        request,
        "compliance/dashboard.html",
        {
            "registry": registry,
            "area_codes": area_codes,
            "stale_area_codes": sum(1 for status in area_codes if status.stale),
            "running": sync_runs_running(),
            "purges": [(run, _category_label(run.category)) for run in purge_runs_latest()],
            "expiry": consent_expiry_overview(now=now),
            "verification": watch.verification,
            "ledger": ledger_status(),
            "watch": watch,
            "aging": [status for status in registry if status.aging_area_codes],
            "overview": overview,
            "reasons": [(code, REASON_TEXT.get(code, code), count) for code, count in overview.reasons],
            "shrink_holds": shrink_holds_pending(),
            "removals": area_code_removals(),
            "shrink_limit_percent": round(settings.REGISTRY_SHRINK_LIMIT * 100),
        },
    )


def _category_label(key: str) -> str:
    """A retention category in words ("Call attempts (call detail records)"), its key
    when no app registers it any more."""
    category = retention_category(key)
    return category.label if category else key


@role_required(COMPLIANCE_OFFICERS)
def running_syncs(request):
    """The running registry imports, polled by the dashboard (HTMX) while any run."""
    return render(request, "compliance/_running_syncs.html", {"running": sync_runs_running()})


@role_required(COMPLIANCE_OFFICERS)
def decision_detail(request, pk: int):
    """Why one call was allowed or blocked, in plain words."""
    record = get_object_or_404(DecisionRecord.objects.select_related("actor"), pk=pk)
    access_record(request, action="viewed decision", target=f"decision #{record.pk}")
    return render(
        request,
        "compliance/decision.html",
        {
            "record": record,
            "explanation": decision_explain(record=record),
            "related": decision_related(record=record),
        },
    )


@role_required(COMPLIANCE_OFFICERS)
def attempt_proof_page(request, pk: int):
    """Why one call was allowed, at that instant: the page."""
    proof = attempt_proof(attempt_id=pk)
    access_record_many(request, action="viewed proof of call", targets=_proof_targets(pk, proof))
    return render(request, "compliance/proof.html", {"proof": proof, "base_template": "base.html"})


@role_required(COMPLIANCE_OFFICERS)
def attempt_proof_pdf(request, pk: int):
    """The same page as a PDF (WeasyPrint renders the same template on a print layout)."""
    from weasyprint import HTML

    proof = attempt_proof(attempt_id=pk)
    access_record_many(request, action="exported proof of call (PDF)", targets=_proof_targets(pk, proof))
    html = render_to_string(
        "compliance/proof.html", {"proof": proof, "base_template": "print_base.html"}, request=request
    )
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="proof-of-call-{pk}.pdf"'
    return response


def _proof_targets(attempt_id: int, proof: Proof) -> list[str]:
    """What a proof shows: the call, its decision and each consent's evidence,
    so that "who saw consent #5" finds the proofs that showed it too."""
    return [
        f"call attempt #{attempt_id}",
        f"decision #{proof.decision.pk}",
        *(f"consent #{grant.pk}" for grant in proof.consents),
    ]


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
DAY_RANGE = f"Give a date between {FIRST_DAY} and {LAST_DAY}."


def _day_field(**kwargs) -> forms.DateField:
    """A date in years the records can hold: a period around 9999-12-31 or
    0001-01-01 overflows the date arithmetic."""
    return forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MinValueValidator(FIRST_DAY, DAY_RANGE), MaxValueValidator(LAST_DAY, DAY_RANGE)],
        **kwargs,
    )


class TimelineFilter(forms.Form):
    number = forms.CharField(required=False, label="Phone number", help_text="Any common format.")
    customer = forms.IntegerField(required=False, label="Customer id", min_value=1, max_value=2**63 - 1)
    since = _day_field()
    until = _day_field(help_text="Inclusive.")
    kind = forms.MultipleChoiceField(
        required=False,
        choices=lambda: list(timeline_kinds().items()),
        widget=forms.CheckboxSelectMultiple,
        label="Show",
    )

    def clean_number(self) -> str:
        value = self.cleaned_data["number"].strip()
        return phone_normalize(value) if value else ""

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("number") and not cleaned.get("customer") and not self.errors:
            raise forms.ValidationError("Give a phone number or a customer id.")
        if cleaned.get("since") and cleaned.get("until") and cleaned["since"] > cleaned["until"]:
            raise forms.ValidationError("The start date is after the end date.")
        return cleaned

    def timeline(self):
        data = self.cleaned_data
        day = timedelta(days=1)
        since = datetime.combine(data["since"], time.min, tzinfo=UTC) if data.get("since") else None
        until = datetime.combine(data["until"] + day, time.min, tzinfo=UTC) if data.get("until") else None
        return contact_timeline(
            number=data.get("number") or None,
            customer_id=data.get("customer"),
            since=since,
            until=until,
            kinds=set(data.get("kind") or timeline_kinds()),
        )


def _subject(timeline) -> str:
    return ", ".join(timeline.numbers) or (f"customer #{timeline.customer.pk}" if timeline.customer else "?")


@role_required(COMPLIANCE_OFFICERS)
def timeline_page(request):
    """The contact record of a number or a customer, with CSV and PDF exports."""
    form = TimelineFilter(request.GET or None)
    timeline = form.timeline() if form.is_valid() else None
    export = request.GET.get("export")
    if timeline is not None:
        subject = _subject(timeline)
        access_record(request, action=f"viewed timeline{f' ({export})' if export else ''}", target=subject)
        if export == "csv":
            return _timeline_csv(timeline, subject)
        if export == "pdf":
            return _timeline_pdf(request, form, timeline, subject)
    return render(
        request,
        "compliance/timeline.html",
        {
            "form": form,
            "timeline": timeline,
            "kinds": timeline_kinds(),
            "base_template": "base.html",
            "query": request.GET.urlencode(),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _timeline_csv(timeline, subject: str) -> HttpResponse:
    return csv_response(
        filename=f"contact-record-{slugify(subject)}.csv",
        header=["at (UTC)", "kind", "what", "detail", "who", "via", "refers to", "logged at (UTC)"],
        rows=(
            [
                entry.at.isoformat(),
                entry.kind,
                entry.title,
                entry.detail,
                entry.who,
                entry.via,
                "; ".join(link.text for link in entry.links),  # the decision, campaign, sync run it names
                entry.logged_at.isoformat() if entry.logged_at else "",
            ]
            for entry in timeline.entries
        ),
    )


def _timeline_pdf(request, form, timeline, subject: str) -> HttpResponse:
    from weasyprint import HTML

    html = render_to_string(
        "compliance/timeline.html",
        {"form": form, "timeline": timeline, "kinds": timeline_kinds(), "base_template": "print_base.html"},
        request=request,
    )
    response = HttpResponse(
        HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf(),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="contact-record-{slugify(subject)}.pdf"'
    return response


class ReportFilter(forms.Form):
    days = forms.TypedChoiceField(
        choices=[(d, f"last {d} days") for d in PERIOD_CHOICES], coerce=int, initial=30, required=False
    )
    until = _day_field(help_text="Inclusive; default today.")
    report = forms.ChoiceField(required=False, choices=())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["report"].choices = [("", "all")] + [(s.key, s.title) for s in report_sections()]

    def period(self) -> ReportPeriod:
        data = self.cleaned_data
        until = (
            datetime.combine(data["until"] + timedelta(days=1), time.min, tzinfo=UTC)
            if data.get("until")
            else timezone.now()
        )
        return ReportPeriod(until=until, days=data.get("days") or 30)


@role_required(COMPLIANCE_OFFICERS)
def reports_page(request):
    """The compliance officer's reports, with charts; each exports as CSV."""
    data = request.GET.copy()
    data.setdefault("days", "30")
    form = ReportFilter(data)
    if not form.is_valid():
        return render(request, "compliance/reports.html", {"form": form, "reports": []}, status=400)
    period = form.period()
    keys = [form.cleaned_data["report"]] if form.cleaned_data.get("report") else None
    reports = reports_build(period=period, keys=keys)
    if request.GET.get("export") == "csv" and keys:
        (report,) = reports
        access_record(request, action="exported report (CSV)", target=report.title)
        return _report_csv(report, period)
    return render(request, "compliance/reports.html", {"form": form, "reports": reports, "period": period})


def _report_csv(report, period) -> HttpResponse:
    return csv_response(
        filename=f"{report.key}-{period.until:%Y%m%d}-{period.days}d.csv",
        header=report.headers,
        rows=report.rows,
    )
