"""The customers app's data category for retention (core.retention): customers
inactive for the policy's period are anonymised by the erasure service (their
numbers stay suppressed as hashes); never one on legal hold. The erasure is
the one entry point (compliance.erasure.customer_erase, `via="retention"`),
reached through core.erasure's registry: customers does not import compliance's
erasure."""

from core.erasure import customer_erase_registered
from core.retention import ANONYMISE, RetentionCategory, retention_category_register
from customers.models import Customer


def _inactive(rows, cutoff):
    return (
        rows.filter(erased_at__isnull=True, legal_hold=False)
        .exclude(last_purchase_at__gte=cutoff)
        .exclude(last_inquiry_at__gte=cutoff)
        .exclude(phone_numbers__attempts__handed_at__gte=cutoff)
        .exclude(phone_numbers__consents__granted_at__gte=cutoff)
        .distinct()
    )


def _anonymise(ids: list[int], by) -> int:
    erased = 0
    for customer in Customer.objects.filter(pk__in=ids, legal_hold=False, erased_at__isnull=True):
        customer_erase_registered(
            customer=customer, by=by, via="retention", reason="inactive past the retention period"
        )
        erased += 1
    return erased


def retention_categories_register() -> None:
    retention_category_register(
        RetentionCategory(
            key="inactive_customers",
            label="Inactive customers",
            model="customers.Customer",
            age_field="updated_at",
            actions=(ANONYMISE,),
            default_days=3 * 365,
            default_active=False,  # each business sets its own period
            legal_basis="GDPR 5(1)(e) storage limitation; no minimum",
            eligible=_inactive,
            anonymise=_anonymise,
        )
    )
