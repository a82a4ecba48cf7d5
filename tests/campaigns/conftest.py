import datetime as dt

import pytest

from accounts.services import training_record
from tests.factories import CampaignFactory, CustomerFactory, PhoneNumberFactory

# Tuesday 2026-11-17 16:00 UTC: 11:00 in New York, 08:00 in Los Angeles.
TUESDAY_MORNING = dt.datetime(2026, 11, 17, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def trained_agent(agent):
    training_record(agent=agent, by=None, at=TUESDAY_MORNING - dt.timedelta(days=30))
    return agent


def ny_phone(i: int, **customer):
    customer = CustomerFactory(state="NY", postal_code="10001", **customer)
    return PhoneNumberFactory(customer=customer, number=f"+1212736{i:04d}")


@pytest.fixture
def informational_campaign(db):
    return CampaignFactory(
        name="Order updates", purpose="informational", dialing_mode="manual", subject="orders"
    )
