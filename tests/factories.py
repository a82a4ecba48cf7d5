import datetime

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct-horse-battery-staple")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.Customer"

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda c: f"{c.first_name}.{c.last_name}@example.com".lower())
    state = "NY"
    postal_code = "10001"


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "customers.PhoneNumber"

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"+1212555{n % 10000:04d}")
    kind = "mobile"


class ConsentGrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "consent.ConsentGrant"

    phone_number = factory.SubFactory(PhoneNumberFactory)
    purpose = "marketing"
    channel = "voice"
    written = True
    source = "web_form"
    evidence = factory.LazyFunction(
        lambda: {"disclosure_text": "I agree to receive autodialed marketing calls."}
    )
    granted_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=30))


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.Campaign"

    name = factory.Sequence(lambda n: f"Campaign {n}")
    purpose = "informational"
    dialing_mode = "manual"
    subject = "orders"
    caller_id = "+12125550100"
    status = "active"


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "helpdesk.Queue"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Queue {n}")
    sla_hours = 8


class TicketFactory(factory.django.DjangoModelFactory):
    """A bare ticket row (no timeline events): for lists. Open tickets that
    act go through helpdesk.services.ticket_create."""

    class Meta:
        model = "helpdesk.Ticket"

    queue = factory.SubFactory(QueueFactory)
    customer = factory.SubFactory(CustomerFactory)
    subject = factory.Sequence(lambda n: f"Question {n}")
    type = "question"
    channel = "email"
    due_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(hours=8))
