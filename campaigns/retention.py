"""The campaigns app's data categories for retention (core.retention)."""

from core.retention import FIVE_YEARS, RetentionCategory, retention_category_register


def retention_categories_register() -> None:
    retention_category_register(
        RetentionCategory(
            key="call_attempts",
            label="Call attempts (call detail records)",
            model="campaigns.CallAttempt",
            age_field="handed_at",
            default_days=FIVE_YEARS,
            default_active=True,
            legal_minimum_days=FIVE_YEARS,
            legal_basis="TSR 16 CFR 310.5 as amended in 2024 (89 FR 26760): call detail records 5 years",
            # Customers on legal hold keep everything.
            eligible=lambda rows, cutoff: rows.exclude(phone_number__customer__legal_hold=True),
            also_delete_history=False,  # not history-tracked
        )
    )
