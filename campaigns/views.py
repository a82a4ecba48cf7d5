"""The agent's dialer page: server-rendered, HTMX for every action (no reloads)."""

from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.roles import AGENTS
from accounts.services import training_current_until
from campaigns import dialer
from campaigns.models import CallAttempt, Campaign
from compliance.explain import decision_explain


def _active_campaigns():
    return Campaign.objects.filter(status=Campaign.Status.ACTIVE).order_by("name")


@role_required(AGENTS)
def agent_home(request):
    return render(
        request,
        "campaigns/agent_home.html",
        {
            "campaigns": _active_campaigns(),
            "trained_until": training_current_until(agent=request.user),
            "outcomes": OUTCOME_BUTTONS,
        },
    )


# (outcome, label, keyboard shortcut)
OUTCOME_BUTTONS = [
    ("connected", "Connected", "1"),
    ("no_answer", "No answer", "2"),
    ("busy", "Busy", "3"),
    ("voicemail", "Voicemail", "4"),
    ("wrong_number", "Wrong number", "5"),
    ("do_not_call", "Do not call", "D"),
]


def _call_context(attempt: CallAttempt) -> dict:
    phone = attempt.phone_number
    explanation = decision_explain(record=attempt.decision)
    now = timezone.now()
    local_times = []
    for zone in (attempt.decision.evidence or {}).get("zones") or []:
        try:
            local = now.astimezone(ZoneInfo(zone["zone"]))
        except (KeyError, TypeError, ValueError):
            continue
        # Formatted here: the template's time filter would convert back to UTC.
        local_times.append((zone["zone"], local.strftime("%-I:%M %p"), local.strftime("%A")))
    why = explanation.checks[1:-1]
    why += [
        f"{window['jurisdiction']} calling window {window['window']} in {window['zone']}"
        for window in explanation.windows
    ]
    why += [
        f"{entry['source']} registry: {entry['listed']} (synced {entry['age']} ago)"
        for entry in explanation.registry
    ]
    history = (
        CallAttempt.objects.filter(phone_number=phone)
        .exclude(pk=attempt.pk)
        .select_related("campaign", "agent")
        .order_by("-handed_at")[:5]
    )
    return {
        "attempt": attempt,
        "customer": phone.customer,
        "phone": phone,
        "campaign": attempt.campaign,
        "local_times": local_times,
        "why": why,
        "history": history,
        "outcomes": OUTCOME_BUTTONS,
    }


@role_required(AGENTS)
@require_POST
def agent_next(request):
    campaign = get_object_or_404(Campaign, pk=request.POST.get("campaign") or 0)
    try:
        handoff = dialer.dialer_next(campaign=campaign, agent=request.user)
    except dialer.TrainingRequired as exc:
        return render(request, "campaigns/_message.html", {"level": "error", "message": str(exc)})
    except dialer.CampaignNotCallable as exc:
        return render(request, "campaigns/_message.html", {"level": "error", "message": str(exc)})
    if handoff is None:
        return render(
            request,
            "campaigns/_message.html",
            {
                "level": "info",
                "message": "No number in this campaign may be called right now. Try again later.",
            },
        )
    return render(request, "campaigns/_call.html", _call_context(handoff.attempt))


@role_required(AGENTS)
@require_POST
def agent_dispose(request, attempt_id: int):
    attempt = get_object_or_404(
        CallAttempt.objects.select_related("phone_number__customer", "campaign", "decision"), pk=attempt_id
    )
    outcome = request.POST.get("outcome", "")
    callback_at = None
    if outcome == "callback":
        callback_at = parse_datetime(request.POST.get("callback_at", "") or "")
        if callback_at is not None and timezone.is_naive(callback_at):
            callback_at = timezone.make_aware(callback_at, ZoneInfo(request.POST.get("tz") or "UTC"))
    try:
        dialer.attempt_dispose(
            attempt=attempt,
            agent=request.user,
            outcome=outcome,
            callback_at=callback_at,
            notes=request.POST.get("notes", ""),
        )
    except (dialer.DispositionError, ValidationError) as exc:
        context = _call_context(attempt)
        context["error"] = str(exc)
        return render(request, "campaigns/_call.html", context)
    attempt.refresh_from_db()
    return render(request, "campaigns/_recorded.html", {"attempt": attempt})
