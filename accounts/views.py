from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from accounts.roles import AGENTS, COMPLIANCE_OFFICERS, MANAGERS, has_role


@login_required
def home(request):
    """Each role lands on its own page."""
    user = request.user
    if user.is_superuser:
        return redirect("admin:index")
    if has_role(user, AGENTS):
        return redirect("agent-home")
    if has_role(user, COMPLIANCE_OFFICERS):
        return redirect("compliance-dashboard")
    if has_role(user, MANAGERS):
        return redirect("admin:campaigns_campaign_changelist")
    return render(request, "accounts/no_role.html", status=403)
