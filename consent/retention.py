"""The consent app's data categories for retention (core.retention). Consent
records and DNC requests are kept at least 5 years (TSR 2024; 47 CFR
64.1200(d)); what a customer on legal hold has is never purged."""

from core.retention import FIVE_YEARS, RetentionCategory, retention_category_register

CONSENT_BASIS = "TSR 16 CFR 310.5 as amended in 2024: a complete consent record, 5 years"


def _not_on_hold(rows, cutoff):
    return rows.exclude(phone_number__customer__legal_hold=True)


def retention_categories_register() -> None:
    retention_category_register(
        RetentionCategory(
            key="consents_revoked",
            label="Revoked consent records",
            model="consent.ConsentGrant",
            age_field="revoked_at",
            default_days=FIVE_YEARS + 365,
            default_active=True,
            legal_minimum_days=FIVE_YEARS,
            legal_basis=CONSENT_BASIS,
            eligible=_not_on_hold,
        )
    )
    retention_category_register(
        RetentionCategory(
            key="consents_expired",
            label="Expired consent records",
            model="consent.ConsentGrant",
            age_field="expires_at",
            default_days=FIVE_YEARS + 365,
            default_active=True,
            legal_minimum_days=FIVE_YEARS,
            legal_basis=CONSENT_BASIS,
            # Expired and never revoked: a revoked one counts from its revocation.
            eligible=lambda rows, cutoff: _not_on_hold(rows, cutoff).filter(revoked_at__isnull=True),
        )
    )
    retention_category_register(
        RetentionCategory(
            key="dnc_requests",
            label="Company do-not-call requests",
            model="consent.DncRequest",
            age_field="requested_at",
            default_days=FIVE_YEARS,
            default_active=False,  # removing one lets the number be called again: a deliberate choice
            legal_minimum_days=FIVE_YEARS,
            legal_basis="47 CFR 64.1200(d)(6): a do-not-call request is honoured for 5 years",
        )
    )
    retention_category_register(
        RetentionCategory(
            key="inbound_messages",
            label="Inbound text messages",
            model="consent.InboundMessage",
            age_field="received_at",
            default_days=730,
            default_active=True,
            legal_basis="none beyond the opt-outs they caused, kept as DNC requests",
            also_delete_history=False,
        )
    )
