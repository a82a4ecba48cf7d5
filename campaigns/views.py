"""The agent's dialer page: server-rendered, HTMX for every action (no reloads)."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.views.decorators.http import require_POST

from accounts.access import role_required
from accounts.roles import AGENTS
from accounts.services import training_current_until
from campaigns import dialer
from campaigns.models import CallAttempt, Campaign
from campaigns.scripts import call_text
from campaigns.selectors import calls_to_number_recent, campaign_queue_outlook
from compliance.evidence import evidence_read
from compliance.explain import REASON_TEXT, decision_explain, zoned_text
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


def callee_zones(attempt: CallAttempt) -> list[str]:
    """The callee's candidate time zones, as the hand-off's decision found them."""
    zones = []
    for zone in evidence_read(attempt.decision.evidence)["zones"]:
        try:
            ZoneInfo(zone["zone"])
        except (KeyError, TypeError, ValueError, ZoneInfoNotFoundError):
            continue
        zones.append(zone["zone"])
    return zones


def _call_context(attempt: CallAttempt) -> dict:
    phone = attempt.phone_number
    explanation = decision_explain(record=attempt.decision)
    now = timezone.now()
    zones = callee_zones(attempt)
    local_times = []
    for zone in zones:
        local = now.astimezone(ZoneInfo(zone))
        local_times.append((zone, date_format(local, "TIME_FORMAT"), date_format(local, "l")))
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
    # Every campaign and subject, each call's subject shown: beside the caps' counts
    # (this campaign's subject only) a call on another subject reads as what it is.
    history = calls_to_number_recent(phone=phone, besides=attempt, now=now)
    campaign = attempt.campaign
    return {
        "attempt": attempt,
        "customer": phone.customer,
        "disclosure": call_text(campaign.disclosure, agent=attempt.agent, customer=phone.customer),
        "script": call_text(campaign.script, agent=attempt.agent, customer=phone.customer),
        "phone": phone,
        "campaign": attempt.campaign,
        "local_times": local_times,
        "why": why,
        "history": history,
        "outcomes": OUTCOME_BUTTONS,
        "callback_zones": [(zone, f"{now.astimezone(ZoneInfo(zone)):%Z}") for zone in zones],
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
    # An open call gets an outcome, or is released on purpose, before the next one.
    open_call = dialer.open_call_of(agent=request.user)
    if open_call is not None:
        if request.POST.get("release") != str(open_call.pk):
            context = _call_context(open_call)
            context["error"] = OPEN_CALL_MESSAGE
            return render(request, "campaigns/_call.html", context)
        notes = request.POST.get("notes", "")
        if "\x00" in notes:
            return _message(request, NUL_MESSAGE, status=400)
        try:
            dialer.attempt_release(attempt=open_call, agent=request.user, note=notes)
        except dialer.ReleaseError as exc:  # released meanwhile (N pressed twice)
            return _message(request, str(exc))
    try:
        handoff = dialer.dialer_next(campaign=campaign, agent=request.user)
    except (dialer.TrainingRequired, dialer.CampaignNotCallable) as exc:
        return _message(request, str(exc))
    if handoff is None:
        return _nothing_to_call(request, campaign)
    return render(request, "campaigns/_call.html", _call_context(handoff.attempt))


def _nothing_to_call(request, campaign: Campaign):
    now = timezone.now()
    outlook = campaign_queue_outlook(campaign=campaign, now=now)
    opens = None
    if outlook.first_opens_at is not None:
        opens = zoned_text(outlook.first_opens_at, outlook.first_zone or "UTC")
        if outlook.first_zone and outlook.first_zone != "UTC":
            opens += f", {zoned_text(outlook.first_opens_at, 'UTC')}"
    blocked_by = [
        (
            "the campaign's own window"
            if w["jurisdiction"] == "campaign"
            else f"the {w['jurisdiction']} window"
        )
        + f" {w['window'] or ''} in {w['zone']}"
        for w in outlook.first_blocked_by
    ]
    return render(
        request,
        "campaigns/_nothing_to_call.html",
        {
            "outlook": outlook,
            "reasons": [(code, REASON_TEXT.get(code, code), n) for code, n in outlook.reasons],
            "opens": opens,
            "blocked_by": blocked_by,
        },
    )


OPEN_CALL_MESSAGE = (
    "This call has no outcome yet: record one, or release it without an outcome, before the next call."
)


@role_required(AGENTS)
@require_POST
def agent_release(request, attempt_id: int):
    attempt = get_object_or_404(CallAttempt.objects.filter(agent=request.user), pk=attempt_id)
    if "\x00" in request.POST.get("notes", ""):
        return _message(request, NUL_MESSAGE, status=400)
    try:
        dialer.attempt_release(attempt=attempt, agent=request.user, note=request.POST.get("notes", ""))
    except dialer.ReleaseError as exc:
        return _message(request, str(exc))
    return _message(
        request,
        f"Released {attempt.phone_number.number.as_national} without an outcome; it goes back to the queue.",
        level="info",
    )


def _callback_time(request, zones: list[str]) -> tuple[datetime, str] | None:
    """The callback time the agent typed and the callee's time zone it is
    in (one of `zones`, picked on the call card; a time with its own offset
    is shown in that zone too); None when none was given. ValueError with a
    message when unreadable or when the zone is not the callee's."""
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
    zone = request.POST.get("tz", "")
    if zone not in zones:
        raise ValueError(
            "That is an unknown time zone for this callee: give the time in "
            + (" or ".join(zones) or "the callee's zone")
            + "; reload the call and try again."
        )
    if timezone.is_naive(callback_at):
        callback_at = timezone.make_aware(callback_at, ZoneInfo(zone))
    return callback_at, zone


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
    callback_at, zone = None, None
    try:
        if any("\x00" in value for value in request.POST.values()):
            raise ValueError(NUL_MESSAGE)  # PostgreSQL cannot store one
        if outcome == "callback" and (picked := _callback_time(request, callee_zones(attempt))):
            callback_at, zone = picked
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
    except dialer.CallbackRefused as refused:
        assert zone is not None  # a refused callback had a time, in a checked zone
        context = _call_context(attempt)
        context["error"] = _refusal_text(refused, zone=zone)
        if refused.next_allowed is not None:
            local = refused.next_allowed.astimezone(ZoneInfo(zone))
            context["callback_value"] = f"{local:%Y-%m-%dT%H:%M}"
            context["callback_zone"] = zone
        return render(request, "campaigns/_call.html", context)
    except (dialer.DispositionError, ValidationError) as exc:
        context = _call_context(attempt)
        context["error"] = str(exc)
        return render(request, "campaigns/_call.html", context)
    attempt.refresh_from_db()
    callback = zoned_text(attempt.callback_at, zone) if attempt.callback_at and zone else None
    return render(request, "campaigns/_recorded.html", {"attempt": attempt, "callback": callback})


# Why a callback instant is refused, in the words of the callback picker.
CALLBACK_REFUSED_TEXT = {
    "outside_calling_hours": "outside the calling hours of the callee's zone or state, or the campaign's own",
    "restricted_day": "a Sunday or legal holiday on which the callee's state bans the call",
    "campaign_inactive": "the campaign is not active then",
}


def _refusal_text(refused: dialer.CallbackRefused, *, zone: str) -> str:
    why = "; ".join(CALLBACK_REFUSED_TEXT.get(code, code) for code in refused.reasons)
    text = f"Not scheduled: {zoned_text(refused.callback_at, zone)} is not allowed for this callee ({why})."
    if refused.next_allowed is None:
        return text + " No time opens in the next days: choose another outcome."
    return (
        text + f" The next allowed time is {zoned_text(refused.next_allowed, zone)}: it is filled in below."
    )
