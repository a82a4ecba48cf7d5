from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from accounts.access import role_required
from accounts.roles import COMPLIANCE_OFFICERS
from compliance.explain import REASON_TEXT, decision_explain
from compliance.models import DecisionRecord
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
