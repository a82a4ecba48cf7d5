"""Agents find a customer by name or number on the help desk (issue 16, item
7): a search never lists everyone, shows what agents may see (no email), is
capped and throttled, and costs a fixed number of queries."""

import pytest
from django.core.cache import cache

from helpdesk.views import SEARCH_RESULTS_SHOWN, SEARCHES_PER_MINUTE
from tests.factories import CustomerFactory, PhoneNumberFactory, QueueFactory, TicketFactory
from tests.otp import login_with_otp

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

URL = "/customers/"


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def grace():
    customer = CustomerFactory(
        first_name="Grace", last_name="Hughes", email="grace.hughes@example.org", state="NY"
    )
    PhoneNumberFactory(customer=customer, number="+12127360042")
    PhoneNumberFactory(customer=customer, number="+13055550199")
    return customer


@pytest.fixture
def others():
    return [
        CustomerFactory(first_name="Gregory", last_name="Hale", email="greg@example.org"),
        CustomerFactory(first_name="Ada", last_name="Hughes-Park", email="ada@example.org"),
        CustomerFactory(first_name="Zed", last_name="Zimmer", email="zed@example.org"),
    ]


def _results(page: str) -> str:
    return page[page.index('id="results"') :]


def test_without_a_query_the_page_lists_nobody(client, agent, grace, others):
    client.force_login(agent)

    page = client.get(URL).content.decode()

    assert 'name="q"' in page
    assert "Grace" not in page and "Zimmer" not in page
    assert "Type a name or a phone number" in page


def test_an_agent_finds_a_customer_by_number_in_any_format(client, agent, grace, others):
    client.force_login(agent)

    for typed in ("(212) 736-0042", "212-736-0042", "+1 212 736 0042", "(305) 555-0199"):
        results = _results(client.get(URL, {"q": typed}).content.decode())
        assert f'href="/customers/{grace.pk}/"' in results, typed
        assert "Grace Hughes" in results and "(212) 736-0042" in results and "(305) 555-0199" in results
        assert "Hale" not in results and "Zimmer" not in results


def test_an_agent_finds_customers_by_the_start_of_a_name_without_their_email(client, agent, grace, others):
    client.force_login(agent)

    by_last = _results(client.get(URL, {"q": "hugh"}).content.decode())
    by_both = _results(client.get(URL, {"q": "Grace Hug"}).content.decode())
    by_first = _results(client.get(URL, {"q": "gr"}).content.decode())

    assert "Grace Hughes" in by_last and "Ada Hughes-Park" in by_last and "Hale" not in by_last
    assert "Grace Hughes" in by_both and "Hughes-Park" not in by_both
    assert "Grace Hughes" in by_first and "Gregory Hale" in by_first and "Zimmer" not in by_first
    for page in (by_last, by_both, by_first):
        assert "@example.org" not in page
    assert f'href="/tickets/new/?customer={grace.pk}"' in by_last  # open a ticket from the result


@pytest.mark.parametrize("query", ["g", " ", "%", "__", "%%", "2125"])
def test_a_query_too_short_or_matching_anything_lists_nobody(client, agent, grace, others, query):
    client.force_login(agent)

    page = client.get(URL, {"q": query}).content.decode()

    assert "Grace" not in _results(page) and "Zimmer" not in _results(page)


@pytest.mark.parametrize("query", ["gra\x00ce", "g" * 101])
def test_a_query_with_a_nul_or_too_long_is_a_400_that_says_so(client, agent, grace, query):
    client.force_login(agent)

    answer = client.get(URL, {"q": query})

    assert answer.status_code == 400
    assert "Grace" not in _results(answer.content.decode())


def test_a_number_nobody_has_says_so(client, agent, grace):
    client.force_login(agent)

    page = client.get(URL, {"q": "(212) 736-9999"}).content.decode()

    assert "No customer has the number (212) 736-9999." in page


def test_results_are_capped_and_say_there_are_more(client, agent):
    for i in range(SEARCH_RESULTS_SHOWN + 3):
        CustomerFactory(first_name=f"Sam{i:02d}", last_name="Smith")
    client.force_login(agent)

    page = client.get(URL, {"q": "smith"}).content.decode()

    assert _results(page).count('class="customer-result"') == SEARCH_RESULTS_SHOWN
    assert f"More than {SEARCH_RESULTS_SHOWN} customers match" in page


def test_a_search_costs_a_fixed_number_of_queries(client, agent, django_assert_max_num_queries):
    for i in range(10):
        customer = CustomerFactory(first_name=f"Sam{i:02d}", last_name="Smith")
        PhoneNumberFactory(customer=customer)
        PhoneNumberFactory(customer=customer)
    client.force_login(agent)

    with django_assert_max_num_queries(6):
        assert client.get(URL, {"q": "smith"}).content.decode().count('class="customer-result"') == 10


def test_searching_faster_than_a_person_types_is_refused_for_a_minute(client, agent, manager, grace):
    client.force_login(agent)
    for _ in range(SEARCHES_PER_MINUTE):
        assert client.get(URL, {"q": "grace"}).status_code == 200

    refused = client.get(URL, {"q": "grace"})

    assert refused.status_code == 429
    assert "Too many searches" in refused.content.decode()
    assert "Grace Hughes" not in _results(refused.content.decode())
    assert client.get(URL).status_code == 200  # the empty form is no search
    client.force_login(manager)  # the limit is each user's own
    assert client.get(URL, {"q": "grace"}).status_code == 200


def test_the_search_is_for_ticket_roles_only(client, outsider, manager, compliance_officer, grace):
    assert client.get(URL, {"q": "grace"}).status_code == 302
    client.force_login(outsider)
    assert client.get(URL, {"q": "grace"}).status_code == 403
    for user in (manager, compliance_officer):
        login_with_otp(client, user)
        assert "Grace Hughes" in _results(client.get(URL, {"q": "grace"}).content.decode())


def test_htmx_typing_swaps_only_the_results(client, agent, grace):
    client.force_login(agent)

    page = client.get(URL, {"q": "grace"}, HTTP_HX_REQUEST="true").content.decode()

    assert "Grace Hughes" in page
    assert 'hx-trigger="input changed delay:' in client.get(URL).content.decode()


def test_the_ticket_pages_lead_to_the_search(client, agent):
    queue = QueueFactory(name="Customer care")
    TicketFactory(queue=queue, assignee=agent)
    client.force_login(agent)

    for url in ("/tickets/", f"/tickets/queue/{queue.pk}/", "/tickets/new/"):
        assert f'action="{URL}"' in client.get(url).content.decode(), url


# The customer page shows agents what the agent API does: no email, no purchases.


def test_the_customer_page_hides_email_and_purchases_from_agents_only(client, agent, manager, grace):
    grace.last_purchase_at = grace.created_at
    grace.save()
    client.force_login(agent)
    page = client.get(f"/customers/{grace.pk}/").content.decode()
    assert "grace.hughes@example.org" not in page and "last purchase" not in page

    login_with_otp(client, manager)
    page = client.get(f"/customers/{grace.pk}/").content.decode()
    assert "grace.hughes@example.org" in page and "last purchase" in page
