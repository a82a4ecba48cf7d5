"""Who sees a customer whole: one check for the API and the pages."""

from accounts.roles import COMPLIANCE_OFFICERS, MANAGERS, has_role


def user_sees_whole_customers(user) -> bool:
    """Managers and compliance officers (and superusers) see a customer
    whole: email, purchases, the legal-hold reason, the list of everyone.
    An agent sees who they call: name, numbers, state, and finds a customer
    by number or name only."""
    return has_role(user, MANAGERS, COMPLIANCE_OFFICERS)
