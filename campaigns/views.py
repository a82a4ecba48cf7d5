"""The agent's dialer page: server-rendered, HTMX for every action (no reloads)."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
from compliance.evidence import evidence_read
from compliance.explain import decision_explain
from core.api import AwareDateTimeField
from core.parsers import NUL_MESSAGE


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
    for zone in evidence_read(attempt.decision.evidence)["zones"]:
        try:
            local = now.astimezone(ZoneInfo(zone["zone"]))
        except (KeyError, TypeError, ValueError):
            continue
        # Formatted here: the template's time filter would convert back to UTC.
        local_times.append((zone["zone"], local.strftime("%-I:%M %p"), local.strftime("%A")))
    # What decided the call (not the call itself, nor the rule set's version).
    why = [line for line in (explanation.consent, explanation.exemption, explanation.attempts) if line]
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


def _message(request, message: str, *, level: str = "error", status: int = 200):
    return render(request, "campaigns/_message.html", {"level": level, "message": message}, status=status)


@role_required(AGENTS)
@require_POST
def agent_next(request):
    campaign_id = request.POST.get("campaign", "")
    if not (campaign_id.isascii() and campaign_id.isdigit()):
        return _message(request, "Choose a campaign from the list.", status=400)
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    try:
        handoff = dialer.dialer_next(campaign=campaign, agent=request.user)
    except (dialer.TrainingRequired, dialer.CampaignNotCallable) as exc:
        return _message(request, str(exc))
    if handoff is None:
        return _message(
            request, "No number in this campaign may be called right now. Try again later.", level="info"
        )
    return render(request, "campaigns/_call.html", _call_context(handoff.attempt))


def _callback_time(request):
    """The callback time the agent typed, in their browser's time zone;
    None when none was given. ValueError with a message when unreadable."""
    try:
        callback_at = parse_datetime(request.POST.get("callback_at", "") or "")
    except ValueError as exc:  # well formed but impossible, e.g. month 13
        raise ValueError("The callback time is not a real date and time.") from exc
    if callback_at is None:
        return None
    # The API's bounds: far years overflow once converted to UTC.
    first, last = AwareDateTimeField.first_year, AwareDateTimeField.last_year
    if not first <= callback_at.year <= last:
        raise ValueError(f"Give a callback time between the years {first} and {last}.")
    if not timezone.is_naive(callback_at):
        return callback_at
    try:
        zone = ZoneInfo(request.POST.get("tz") or "UTC")
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("Your browser sent an unknown time zone; reload the page and try again.") from exc
    return timezone.make_aware(callback_at, zone)


@role_required(AGENTS)
@require_POST
def agent_dispose(request, attempt_id: int):
    # Only the agent's own attempts: anyone else's is a 404, never its screen.
    attempt = get_object_or_404(
        CallAttempt.objects.filter(agent=request.user).select_related(
            "phone_number__customer", "campaign", "decision"
        ),
        pk=attempt_id,
    )
    outcome = request.POST.get("outcome", "")
    callback_at = None
    try:
        if any("\x00" in value for value in request.POST.values()):
            raise ValueError(NUL_MESSAGE)  # PostgreSQL cannot store one
        if outcome == "callback":
            callback_at = _callback_time(request)
    except ValueError as exc:
        context = _call_context(attempt)
        context["error"] = str(exc)
        return render(request, "campaigns/_call.html", context, status=400)
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
