"""A small fixed data set for the schemathesis run (scripts/schemathesis_ci.sh),
run with `manage.py shell` against its throwaway database. Prints the API
tokens of a superuser and of a trained agent (`token root <key>`, `token agent <key>`)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.roles import AGENTS
from accounts.services import training_record
from campaigns import services as campaign_services
from consent import services as consent_services
from customers import services as customer_services
from customers.models import PhoneNumber
from helpdesk import services as helpdesk_services
from helpdesk.models import Queue

User = get_user_model()
now = timezone.now()

root = User.objects.create_superuser("schemathesis-root", "root@example.com", "not-used-0123456789")
agent = User.objects.create_user("schemathesis-agent", "agent@example.com", "not-used-0123456789")
agent.groups.add(Group.objects.get(name=AGENTS))
training_record(agent=agent, by=root, at=now - timedelta(days=1))

customers = []
for i, (first, last, state, zip_code) in enumerate(
    [("Dana", "Reyes", "FL", "33101"), ("Sam", "Okafor", "NY", "10001"), ("Lee", "Park", "TX", "75201")]
):
    customers.append(
        customer_services.customer_create(
            fields={"first_name": first, "last_name": last, "state": state, "postal_code": zip_code},
            phone_numbers=[customer_services.NumberInput(f"+1212555{i:04d}", "mobile")],
            by=root,
            reason="schemathesis seed",
        )
    )
phone = PhoneNumber.objects.get(number="+12125550000")
consent_services.consent_grant(
    phone=phone,
    purpose="marketing",
    channel="voice",
    written=True,
    source="web_form",
    evidence={"disclosure_text": "I agree to receive autodialed marketing calls."},
    granted_at=now - timedelta(days=10),
    by=root,
    reason="schemathesis seed",
)
campaign = campaign_services.campaign_create(
    fields={
        "name": "Order updates",
        "purpose": "informational",
        "dialing_mode": "manual",
        "subject": "orders",
        "caller_id": "+12125550100",
        "status": "active",
    },
    by=root,
    reason="schemathesis seed",
)
campaign_services.targets_add(campaign=campaign, numbers=["+12125550001"], by=root)
queue = Queue.objects.create(name="Support", sla_hours=8)
helpdesk_services.ticket_create(
    queue=queue, subject="Where is my order?", channel="email", by=root, customer=customers[0]
)

print("token root", Token.objects.create(user=root).key)
print("token agent", Token.objects.create(user=agent).key)
