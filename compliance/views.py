from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.access import role_required
from accounts.roles import COMPLIANCE_OFFICERS
from compliance.explain import REASON_TEXT, decision_explain
from compliance.models import DecisionRecord
from compliance.proof import attempt_proof
from compliance.selectors import REGISTRY_MAX_AGE, REGISTRY_WARN_AGE, decision_overview, registry_status


@role_required(COMPLIANCE_OFFICERS)
def dashboard(request):
    now = timezone.now()
    overview = decision_overview(now=now)
    registry = registry_status(now)
    return render(
        request,
        "compliance/dashboard.html",
        {
            "registry": registry,
            "aging": [status for status in registry if status.aging_area_codes],
            "warn_days": REGISTRY_WARN_AGE.days,
            "max_age_days": REGISTRY_MAX_AGE.days,
            "overview": overview,
            "reasons": [(code, REASON_TEXT.get(code, code), count) for code, count in overview.reasons],
        },
    )


@role_required(COMPLIANCE_OFFICERS)
def decision_detail(request, pk: int):
    """Why one call was allowed or blocked, in plain words."""
    record = get_object_or_404(DecisionRecord.objects.select_related("actor"), pk=pk)
    return render(
        request,
        "compliance/decision.html",
        {"record": record, "explanation": decision_explain(record=record)},
    )


@role_required(COMPLIANCE_OFFICERS)
def attempt_proof_page(request, pk: int):
    """Why one call was allowed, at that instant: the page."""
    return render(
        request,
        "compliance/proof.html",
        {"proof": attempt_proof(attempt_id=pk), "base_template": "base.html"},
    )


@role_required(COMPLIANCE_OFFICERS)
def attempt_proof_pdf(request, pk: int):
    """The same page as a PDF (WeasyPrint renders the same template on a print layout)."""
    from weasyprint import HTML

    proof = attempt_proof(attempt_id=pk)
    html = render_to_string(
        "compliance/proof.html", {"proof": proof, "base_template": "print_base.html"}, request=request
    )
    pdf = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="proof-of-call-{pk}.pdf"'
    return response
