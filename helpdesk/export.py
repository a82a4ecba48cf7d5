"""Everything held about one customer (GDPR art. 15, CCPA 1798.110): the
answer to a data access request, as JSON-ready data. A fixed number of
queries whatever the customer has."""

from django.db.models import Q

from compliance.models import DecisionRecord
from consent.models import ConsentGrant, DncRequest, InboundMessage
from core.calls import calls_made_provider
from customers.models import Customer


def _iso(value):
    return value.isoformat() if value else None


def customer_export(*, customer: Customer) -> dict:
    numbers = [str(n) for n in customer.phone_numbers.exclude(number=None).values_list("number", flat=True)]
    phones = list(customer.phone_numbers.all())
    return {
        "customer": {
            "id": customer.pk,
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "email": customer.email,
            "state": customer.state,
            "postal_code": customer.postal_code,
            "last_purchase_at": _iso(customer.last_purchase_at),
            "last_inquiry_at": _iso(customer.last_inquiry_at),
            "created_at": _iso(customer.created_at),
        },
        "phone_numbers": [
            {"number": str(p.number) if p.number else None, "kind": p.kind, "added_at": _iso(p.created_at)}
            for p in phones
        ],
        "consents": [
            {
                "number": str(grant.phone_number.number),
                "purpose": grant.purpose,
                "channel": grant.channel,
                "written": grant.written,
                "source": grant.source,
                "evidence": grant.evidence,
                "granted_at": _iso(grant.granted_at),
                "expires_at": _iso(grant.expires_at),
                "revoked_at": _iso(grant.revoked_at),
                "revoked_via": grant.revoked_via,
            }
            for grant in ConsentGrant.objects.filter(phone_number__customer=customer)
            .select_related("phone_number")
            .order_by("granted_at")
        ],
        "do_not_call_requests": [
            {
                "number": str(r.number),
                "via": r.source,
                "reason": r.reason,
                "requested_at": _iso(r.requested_at),
            }
            for r in DncRequest.objects.filter(number__in=numbers).order_by("requested_at")
        ],
        "text_messages_received": [
            {"from": str(m.from_number), "body": m.body, "received_at": _iso(m.received_at)}
            for m in InboundMessage.objects.filter(from_number__in=numbers).order_by("received_at")
        ],
        "calls": [
            {
                "number": call.number,
                "campaign": call.campaign,
                "handed_at": _iso(call.handed_at),
                "ended_at": _iso(call.ended_at),
                "outcome": call.outcome,
                "notes": call.notes,
                "decision": call.decision_id,
            }
            for call in calls_made_provider().calls_of_customer(customer_id=customer.pk)
        ],
        "compliance_decisions": [
            {
                "id": d.pk,
                "decided_at": _iso(d.decided_at),
                "kind": d.kind,
                "allowed": d.allowed,
                "reasons": d.reasons,
            }
            for d in DecisionRecord.objects.filter(
                Q(customer_id=customer.pk) | Q(phone_number__in=numbers)
            ).order_by("id")
        ],
        "tickets": [
            {
                "id": t.pk,
                "subject": t.subject,
                "type": t.type,
                "status": t.status,
                "channel": t.channel,
                "opened_at": _iso(t.created_at),
                "replies": [{"at": _iso(c.created_at), "body": c.body} for c in t.comments.all() if c.public],
            }
            for t in customer.tickets.prefetch_related("comments").order_by("created_at")
        ],
    }
