from django.shortcuts import get_object_or_404, render

from accounts.access import role_required
from accounts.roles import COMPLIANCE_OFFICERS
from compliance.explain import decision_explain
from compliance.models import DecisionRecord


@role_required(COMPLIANCE_OFFICERS)
def dashboard(request):
    return render(request, "compliance/dashboard.html")


@role_required(COMPLIANCE_OFFICERS)
def decision_detail(request, pk: int):
    """Why one call was allowed or blocked, in plain words."""
    record = get_object_or_404(DecisionRecord.objects.select_related("actor"), pk=pk)
    return render(
        request,
        "compliance/decision.html",
        {"record": record, "explanation": decision_explain(record=record)},
    )
