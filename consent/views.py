from django.conf import settings
from django.db import transaction
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from consent.models import OptOutVia
from consent.preferences import PreferenceLinkInvalid, preference_customer
from consent.services import consent_revoke


@require_http_methods(["GET", "POST"])
def preferences(request, token: str):
    """What the customer agreed to, in plain words, and a one-click opt-out.
    No login: the signed, expiring link is the credential."""
    try:
        customer = preference_customer(token=token)
    except PreferenceLinkInvalid:
        return render(request, "consent/preferences_invalid.html", status=404)
    numbers = [p for p in customer.phone_numbers.all() if p.number]
    opted_out = []
    if request.method == "POST":
        chosen = request.POST.get("number", "all")
        targets = [p for p in numbers if chosen == "all" or str(p.number) == chosen]
        with transaction.atomic():
            for phone in targets:
                consent_revoke(
                    number=str(phone.number),
                    via=OptOutVia.WEB,
                    by=None,
                    note="opted out on the preference page",
                    evidence={
                        "ip": request.META.get("REMOTE_ADDR", ""),
                        "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
                    },
                )
        opted_out = [str(p.number) for p in targets]
        customer = preference_customer(token=token)
        numbers = [p for p in customer.phone_numbers.all() if p.number]
    now = timezone.now()
    return render(
        request,
        "consent/preferences.html",
        {
            "customer": customer,
            "company": settings.CONSENTDESK_COMPANY_NAME,
            "numbers": [
                {
                    "phone": phone,
                    "consents": sorted(phone.consents.all(), key=lambda g: g.granted_at, reverse=True),
                }
                for phone in numbers
            ],
            "now": now,
            "opted_out": opted_out,
        },
    )
