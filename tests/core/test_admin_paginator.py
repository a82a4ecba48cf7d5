"""The admin's lists of big tables take PostgreSQL's row estimate instead of
count(*) when unfiltered, and count exactly when filtered."""

from core.admin import EstimatedCountPaginator
from customers.models import Customer
from tests.factories import CustomerFactory
from tests.owner import owner_powers


def test_unfiltered_big_lists_use_the_estimate_and_filtered_ones_count_exactly(db, monkeypatch):
    CustomerFactory.create_batch(30, state="NY")
    CustomerFactory.create_batch(5, state="FL")
    with owner_powers() as cursor:  # the owner's (or autovacuum's) statistics: the app's role owns no table
        cursor.execute("ANALYZE customers_customer")
    monkeypatch.setattr(EstimatedCountPaginator, "EXACT_BELOW", 10)
    # Rows added after ANALYZE are not in the estimate: proof it is not count(*).
    CustomerFactory.create_batch(3, state="FL")

    everyone = EstimatedCountPaginator(Customer.objects.order_by("-id"), 50)
    assert everyone.count == 35
    florida = EstimatedCountPaginator(Customer.objects.filter(state="FL").order_by("-id"), 50)
    assert florida.count == 8


def test_small_tables_are_counted_exactly(db):
    CustomerFactory.create_batch(3)
    with owner_powers() as cursor:  # the owner's (or autovacuum's) statistics: the app's role owns no table
        cursor.execute("ANALYZE customers_customer")
    CustomerFactory.create_batch(2)
    assert EstimatedCountPaginator(Customer.objects.order_by("-id"), 50).count == 5


def test_the_customer_list_renders_with_it(admin_client):
    CustomerFactory.create_batch(3, last_name="Okafor")
    page = admin_client.get("/admin/customers/customer/")
    assert page.status_code == 200
    assert page.content.count(b"Okafor") >= 3
