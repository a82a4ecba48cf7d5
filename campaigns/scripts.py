"""What the agent reads on a call: the campaign's disclosure and script with
their placeholders filled for this call.

Placeholders, written in the campaign's texts as they appear here:
`{agent}` (the agent's full name, else username), `{agent_first_name}`,
`{first_name}` and `{last_name}` (the customer's), `{customer}` (the
customer's full name). Anything else in braces stays as written. A
customer's name that is missing shows as "[first name unknown]" (and so on),
so that the agent sees it rather than reading a gap."""

import re

from django.contrib.auth.models import AbstractBaseUser

from customers.models import Customer


def call_text(text: str, *, agent: AbstractBaseUser, customer: Customer | None) -> str:
    full_name = (getattr(agent, "get_full_name", lambda: "")() or "").strip()
    agent_name = full_name or agent.get_username()
    first = (customer.first_name if customer else "").strip()
    last = (customer.last_name if customer else "").strip()
    values = {
        "agent": agent_name,
        "agent_first_name": (getattr(agent, "first_name", "") or "").strip() or agent_name,
        "first_name": first or "[first name unknown]",
        "last_name": last or "[last name unknown]",
        "customer": f"{first} {last}".strip() or "[name unknown]",
    }
    # One pass: a name that itself holds "{agent}" is shown as written, not filled again.
    return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), text)


_PLACEHOLDER = re.compile(r"\{(\w+)\}")
